package broker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AllConfig: which of the instance's settings reach the brokers, and how.

// brokerConfigs maps the instance's AllConfig onto storage broker
// configs. Keys it does not know are ignored: AllConfig carries console
// settings that have no broker meaning.
func brokerConfigs(all map[string]string) (map[string]string, error) {
	out := map[string]string{}
	if v, ok := all["kafka.log.retention.hours"]; ok && v != "" {
		h, err := strconv.ParseInt(v, 10, 64)
		if err != nil || h <= 0 {
			return nil, fmt.Errorf("broker: kafka.log.retention.hours %q is not a positive integer", v)
		}
		out["log.retention.ms"] = strconv.FormatInt(h*3600*1000, 10)
	}
	if v, ok := all["kafka.message.max.bytes"]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("broker: kafka.message.max.bytes %q is not a positive integer", v)
		}
		out["message.max.bytes"] = strconv.FormatInt(n, 10)
	}
	return out, nil
}

// defaultAutoPartitions is the partition count of an automatically
// created topic when AllConfig has no num.partitions; it equals the
// control plane's CreateTopic default.
const defaultAutoPartitions = 12

func autoCreatePartitions(all map[string]string) int32 {
	if n, err := strconv.ParseInt(all["num.partitions"], 10, 32); err == nil && n > 0 {
		return int32(n)
	}
	return defaultAutoPartitions
}

func autoCreate(all map[string]string) bool {
	for _, k := range []string{"kafka.auto.create.topics.enable", "auto.create.topics.enable"} {
		if b, err := strconv.ParseBool(all[k]); err == nil && b {
			return true
		}
	}
	return false
}

// ApplyConfig applies AllConfig to the running brokers as cluster-wide
// broker configs.
func (k *Kafka) ApplyConfig(ctx context.Context, instanceID string, config map[string]string) error {
	bcfg, err := brokerConfigs(config)
	if err != nil {
		return err
	}
	inst, err := k.get(instanceID)
	if err != nil {
		return err
	}
	inst.setAutoCreate(config)
	if len(bcfg) == 0 {
		return nil
	}
	inst.rollMu.Lock()
	defer inst.rollMu.Unlock()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.Version = 0
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeBroker
	res.ResourceName = "" // cluster-wide default, so every broker gets it
	for _, name := range slices.Sorted(maps.Keys(bcfg)) {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name = name
		c.Op = kmsg.IncrementalAlterConfigOpSet
		v := bcfg[name]
		c.Value = &v
		res.Configs = append(res.Configs, c)
	}
	req.Resources = append(req.Resources, res)
	resp, err := roundTrip(ctx, inst.upstream[0], req)
	if err != nil {
		return fmt.Errorf("broker: apply config: %w", err)
	}
	for _, r := range resp.(*kmsg.IncrementalAlterConfigsResponse).Resources {
		if r.ErrorCode != 0 {
			return fmt.Errorf("broker: apply config: %w: %s", kerr.ErrorForCode(r.ErrorCode), deref(r.ErrorMessage))
		}
	}
	return nil
}
