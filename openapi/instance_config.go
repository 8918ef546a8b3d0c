package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// AllConfig: the broker settings an instance accepts and how a change
// reaches its brokers.

// configRules are the AllConfig keys an instance accepts and their ranges
// (alikafka's UpdateInstanceConfig documentation).
var configRules = map[string]func(string) error{
	"kafka.log.retention.hours":       intRange(24, 480),
	"kafka.message.max.bytes":         intRange(1048576, 10485760),
	"kafka.offsets.retention.minutes": intRange(1440, 43200),
	"enable.vpc_sasl_ssl":             boolValue,
	"enable.acl":                      boolValue,
	"enable.compact":                  boolValue,
	"enable.tiered":                   boolValue,
	"auto.create.topics.enable":       boolValue,
	"num.partitions":                  intRange(1, 360),
}

func intRange(lo, hi int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be an integer from %d to %d", lo, hi)
		}
		return nil
	}
}

func boolValue(v string) error {
	if v != "true" && v != "false" {
		return errors.New("must be true or false")
	}
	return nil
}

// parseConfig reads a Config JSON object whose values may be strings,
// numbers or booleans, and checks every key against configRules.
func parseConfig(doc string) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, apierr.Invalid("Config", "It must be a JSON object.")
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		var v string
		switch x := raw[k].(type) {
		case string:
			v = x
		case bool:
			v = strconv.FormatBool(x)
		case float64:
			v = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return nil, apierr.Invalid("Config", fmt.Sprintf("The value of %s must be a string, number or boolean.", k))
		}
		rule, ok := configRules[k]
		if !ok {
			return nil, apierr.Invalid("Config", fmt.Sprintf("%s is not a configurable key.", k))
		}
		if err := rule(v); err != nil {
			return nil, apierr.Invalid("Config", fmt.Sprintf("%s %v.", k, err))
		}
		out[k] = v
	}
	return out, nil
}

// withDefaults fills the keys alikafka always reports in AllConfig.
func withDefaults(c map[string]string) map[string]string {
	out := map[string]string{
		"enable.vpc_sasl_ssl":       "false",
		"kafka.log.retention.hours": "72",
		"enable.acl":                "false",
		"kafka.message.max.bytes":   "1048576",
	}
	maps.Copy(out, c)
	return out
}

// updateInstanceConfig merges Config into AllConfig.
func (s *Instances) updateInstanceConfig(ctx context.Context, r *Request) (Object, error) {
	cfg, err := parseConfig(r.String("Config"))
	if err != nil {
		return nil, err
	}
	return Object{}, s.applyConfig(ctx, r, "UpdateInstanceConfig", cfg)
}

// applyConfig merges cfg into a running instance's AllConfig. The stored
// config is the truth: it is written first, then whatever is stored is
// applied to the brokers under a per-instance lock, so concurrent calls
// leave the brokers with the same config as the row.
func (s *Instances) applyConfig(ctx context.Context, r *Request, action string, cfg map[string]string) error {
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.ServiceStatus != kafkaplane.ServiceStatusRunning {
			return statusError(inst, action)
		}
		inst.Config = mergeConfig(inst.Config, cfg)
		return nil
	})
	if err != nil {
		return err
	}
	unlock := s.lockApply(r.String("InstanceId"))
	defer unlock()
	stored, err := s.find(ctx, r)
	if err != nil {
		return err
	}
	if err := s.Runtime.ApplyConfig(ctx, stored.ID, stored.Config); err != nil {
		return err
	}
	// enable.acl opens the SASL_PLAINTEXT endpoint and turns ACLs on; it
	// is the one key of AllConfig the brokers' security depends on.
	if _, acl := cfg["enable.acl"]; !acl || s.Security == nil {
		return nil
	}
	return s.applySecurityLocked(ctx, stored)
}
