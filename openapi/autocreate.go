package openapi

import (
	"context"
	"maps"
	"strconv"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Automatic topic creation is two AllConfig keys, so that the brokers get
// it the way they get every other setting (UpdateInstanceConfig and
// EnableAutoTopicCreation write the same keys):
//
//   - auto.create.topics.enable: whether a Kafka client's metadata request
//     for an unknown topic creates it (AutoCreateTopicEnable);
//   - num.partitions: the partitions such a topic gets
//     (DefaultPartitionNum), defaultPartitions when unset.
const (
	configAutoCreateTopics = "auto.create.topics.enable"
	configNumPartitions    = "num.partitions"
)

func autoCreateTopics(inst *kafkaplane.Instance) bool {
	return inst.Config[configAutoCreateTopics] == "true"
}

func defaultPartitionNum(inst *kafkaplane.Instance) int {
	if n, err := strconv.Atoi(inst.Config[configNumPartitions]); err == nil && n > 0 {
		return n
	}
	return defaultPartitions
}

// registerAutoCreate adds EnableAutoTopicCreation and
// EnableAutoGroupCreation.
func (s *Instances) registerAutoCreate(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true}
	// The RAM actions are unpublished and follow the product's naming
	// (docs/alikafka-actions.md); 20/s as published.
	g.Add(kafkaAction(Action{
		Name: "EnableAutoTopicCreation", RAMAction: "alikafka:UpdateInstance", Resource: instanceARN, QPS: 20,
		Params: []Param{
			instanceID,
			{Name: "Operate", Required: true, Enum: []string{"enable", "disable", "updatePartition"}},
			{Name: "PartitionNum", Kind: Integer, Min: 1, Max: maxPartitions},
			{Name: "UpdatePartition", Kind: Boolean},
		},
		Handler: s.enableAutoTopicCreation,
	}))
	g.Add(kafkaAction(Action{
		Name: "EnableAutoGroupCreation", RAMAction: "alikafka:UpdateInstance", Resource: instanceARN, QPS: 20,
		Params: []Param{
			instanceID,
			{Name: "Enable", Kind: Boolean, Required: true},
		},
		Handler: s.enableAutoGroupCreation,
	}))
}

// enableAutoTopicCreation switches automatic topic creation on or off, or
// (updatePartition) sets the partitions of automatically created topics.
// Like UpdateInstanceConfig it writes AllConfig and applies it to the
// brokers.
func (s *Instances) enableAutoTopicCreation(ctx context.Context, r *Request) (Object, error) {
	cfg := map[string]string{}
	switch r.String("Operate") {
	case "enable":
		cfg[configAutoCreateTopics] = "true"
	case "disable":
		cfg[configAutoCreateTopics] = "false"
	case "updatePartition":
		if !r.Has("PartitionNum") {
			return nil, apierr.Missing("PartitionNum")
		}
		cfg[configNumPartitions] = strconv.Itoa(r.Int("PartitionNum", 0))
	}
	return Object{}, s.applyConfig(ctx, r, "EnableAutoTopicCreation", cfg)
}

// enableAutoGroupCreation sets AutoCreateGroupEnable. kafkaplane's
// brokers accept every consumer group either way (groups are records of
// the API); with the switch off, GetConsumerList shows only the groups
// made through CreateConsumerGroup, as it always does.
func (s *Instances) enableAutoGroupCreation(ctx context.Context, r *Request) (Object, error) {
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.ServiceStatus != kafkaplane.ServiceStatusRunning {
			return statusError(inst, "EnableAutoGroupCreation")
		}
		inst.AutoCreateGroup = r.Bool("Enable", false)
		return nil
	})
	return Object{}, err
}

// mergeConfig returns c with cfg's keys set.
func mergeConfig(c, cfg map[string]string) map[string]string {
	merged := maps.Clone(c)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, cfg)
	return merged
}
