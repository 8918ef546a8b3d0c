package openapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/kafkaplane/kafkaplane"
)

// What GetRiskList counts as a risk, from the instance's real state:
// partitions at riskPartitionPercent of the partition quota or more, logs
// at riskDiskPercent of the bought disk or more, and consumer groups
// riskLagMessages or more behind the ends of the logs.
const (
	riskPartitionPercent = 80
	riskDiskPercent      = 80
	riskLagMessages      = 1000
	defaultRiskPage      = 20
)

// risk is one finding of GetRiskList.
type risk struct {
	name, kind, grade string
	level             int
	value, threshold  string
	tips              string
	relations         []string
}

// risks computes the instance's risks now.
func (s *Instances) risks(ctx context.Context, inst *kafkaplane.Instance) ([]risk, error) {
	var out []risk
	q, err := s.quotaOf(ctx, inst)
	if err != nil {
		return nil, err
	}
	if q.partitionQuota > 0 && q.partitionUsed*100 >= q.partitionQuota*riskPartitionPercent {
		out = append(out, risk{
			name: "PartitionQuota", kind: "partition", grade: "warning", level: 2,
			value: strconv.Itoa(q.partitionUsed), threshold: strconv.Itoa(q.partitionQuota),
			tips: fmt.Sprintf("%d of %d partitions are used; buy more partitions or delete topics.", q.partitionUsed, q.partitionQuota),
		})
	}
	used, err := s.Runtime.DiskUsed(ctx, inst.ID)
	if err != nil {
		return nil, brokerError(inst, "", err)
	}
	if bought := int64(inst.DiskSize) << 30; bought > 0 && used*100 >= bought*riskDiskPercent {
		out = append(out, risk{
			name: "DiskUsage", kind: "disk", grade: "critical", level: 3,
			value: strconv.FormatInt(used, 10), threshold: strconv.FormatInt(bought, 10),
			tips: fmt.Sprintf("The logs take %d%% of the %d GB disk; shorten retention or grow the disk.", used*100/bought, inst.DiskSize),
		})
	}
	groups, err := s.Runtime.Groups(ctx, inst.ID)
	if err != nil {
		return nil, brokerError(inst, "", err)
	}
	for _, g := range groups {
		var lag int64
		var topics []string
		for _, o := range g.Offsets {
			if d := o.LogEnd - o.Committed; d > 0 {
				lag += d
				if !slices.Contains(topics, o.Topic) {
					topics = append(topics, o.Topic)
				}
			}
		}
		if lag >= riskLagMessages {
			out = append(out, risk{
				name: "ConsumerLag", kind: "group", grade: "warning", level: 2,
				value: strconv.FormatInt(lag, 10), threshold: strconv.Itoa(riskLagMessages),
				tips:      fmt.Sprintf("The consumer group %s is %d messages behind.", g.Name, lag),
				relations: append([]string{g.Name}, topics...),
			})
		}
	}
	return out, nil
}

// getRiskList reports the risks risks finds, paged by StartIndex (0-based)
// and PageSize. They are computed at the call, so CreateTime,
// ModifiedTime and LastAlarmTime are the call's time.
func (s *Instances) getRiskList(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.serving(ctx, r)
	if err != nil {
		return nil, err
	}
	all, err := s.risks(ctx, inst)
	if err != nil {
		return nil, err
	}
	from := min(r.Int("StartIndex", 0), len(all))
	to := min(from+r.Int("PageSize", defaultRiskPage), len(all))
	now := s.now().UnixMilli()
	vos := make([]Object, 0, to-from)
	for _, k := range all[from:to] {
		rel := k.relations
		if rel == nil {
			rel = []string{}
		}
		vos = append(vos, Object{
			{"InstanceId", inst.ID},
			{"Name", k.name},
			{"Type", k.kind},
			{"GradeType", k.grade},
			{"LevelType", k.level},
			{"Health", false},
			{"Status", 1},
			{"Value", k.value},
			{"ReportType", k.name},
			{"ReportValue", k.threshold},
			{"ReportTips", k.tips},
			{"RelationList", rel},
			{"Owner", inst.AccountID},
			{"CreateTime", now},
			{"ModifiedTime", now},
			{"LastAlarmTime", now},
		})
	}
	return Object{{"Data", Object{{"Total", len(all)}, {"RiskList", vos}}}}, nil
}
