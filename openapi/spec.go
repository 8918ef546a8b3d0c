package openapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// registerSpec adds UpgradePostPayOrder, the specification change of a
// pay-as-you-go instance.
func (s *Instances) registerSpec(g *Registry) {
	g.Add(kafkaAction(Action{
		Name: "UpgradePostPayOrder", RAMAction: "alikafka:UpgradePostPayOrder", Resource: instanceARN, QPS: 2,
		Params: []Param{
			{Name: "InstanceId", Required: true, MaxLen: maxIDLen},
			{Name: "DiskSize", Kind: Integer, Min: minDiskSize, Max: maxDiskSize},
			{Name: "IoMax", Kind: Integer, Min: minIoMax, Max: maxIoMax},
			{Name: "IoMaxSpec"},
			{Name: "SpecType", Enum: []string{"normal", "professional", "professionalForHighRead"}},
			{Name: "EipModel", Kind: Boolean},
			{Name: "EipMax", Kind: Integer, Min: 0, Max: maxIoMax},
			{Name: "PartitionNum", Kind: Integer, Min: 0, Max: maxPartitionQuota},
			{Name: "TopicQuota", Kind: Integer, Min: minTopicQuota, Max: maxTopicQuota},
			// Serverless instances are not served.
			{Name: "ServerlessConfig", Validate: notServed("Serverless instances are not served")},
		},
		Handler: s.upgradePostPayOrder,
	}))
}

// upgradePostPayOrder changes a running pay-as-you-go instance's
// specification. The change applies at once (kafkaplane's brokers have no
// disk or bandwidth to resize), so GetInstanceList shows the new values
// and ServiceStatus 5 when the call returns. Disk size, I/O and EIP
// bandwidth and the bought partitions and topics may only grow; a
// PartitionNum or TopicQuota of 0 leaves them as they are, as Terraform
// sends 0 for an unset partition_num. EipModel true makes the instance
// reachable from the internet (DeployType 4), false VPC only (5).
func (s *Instances) upgradePostPayOrder(ctx context.Context, r *Request) (Object, error) {
	for k := range r.Params {
		if strings.HasPrefix(k, "ServerlessConfig.") {
			return nil, apierr.Invalid("ServerlessConfig", "kafkaplane does not support it: Serverless instances are not served.")
		}
	}
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.PaidType != 1 {
			return apierr.InstanceStatus.Errorf("The instance %s is a subscription instance; UpgradePostPayOrder changes pay-as-you-go instances.", inst.ID)
		}
		if inst.ServiceStatus != kafkaplane.ServiceStatusRunning {
			return statusError(inst, "UpgradePostPayOrder")
		}
		grow := func(name string, cur *int, zeroKeeps bool) error {
			if !r.Has(name) {
				return nil
			}
			n := r.Int(name, 0)
			if n == 0 && zeroKeeps {
				return nil
			}
			if n < *cur {
				return apierr.Invalid(name, fmt.Sprintf("It may only grow: the instance has %d.", *cur))
			}
			*cur = n
			return nil
		}
		for _, f := range []struct {
			name      string
			cur       *int
			zeroKeeps bool
		}{
			{"DiskSize", &inst.DiskSize, false},
			{"IoMax", &inst.IoMax, false},
			{"EipMax", &inst.EipMax, false},
			{"PartitionNum", &inst.PartitionNum, true},
			{"TopicQuota", &inst.TopicQuota, true},
		} {
			if err := grow(f.name, f.cur, f.zeroKeeps); err != nil {
				return err
			}
		}
		if v := r.String("IoMaxSpec"); v != "" {
			inst.IoMaxSpec = v
		}
		if v := r.String("SpecType"); v != "" {
			inst.SpecType = v
		}
		if r.Has("EipModel") {
			inst.DeployType = 5
			if r.Bool("EipModel", false) {
				inst.DeployType = 4
			}
		}
		return nil
	})
	return Object{}, err
}
