package openapi

import (
	"context"

	"github.com/kafkaplane/kafkaplane"
)

// Quota figures of an instance (GetQuotaTip). The formulas are in
// docs/quotas.md ("GetQuotaTip"):
//
//   - the instance is in the partition model (IsPartitionBuy 1) when it
//     was ordered with PartitionNum, and then PartitionNumOfBuy is that
//     number; ordered with the older TopicQuota it is in the topic model
//     (0) and PartitionNumOfBuy is 0;
//   - TopicQuota = baseTopicQuota + PartitionNumOfBuy, the relation
//     alikafka's console and Terraform's tests show;
//   - TopicNumOfBuy is the ordered TopicQuota in the topic model and
//     TopicQuota in the partition model;
//   - PartitionQuota = TopicQuota, and the group quota is
//     groupsPerTopic × TopicQuota;
//   - used figures count what the instance has now: its topics (those
//     made through the API and those Kafka clients made), their
//     partitions as the brokers report them, and its consumer groups; left
//     = quota − used, never below 0.
const baseTopicQuota = 1000

// quota is one instance's GetQuotaTip figures.
type quota struct {
	isPartitionBuy                      int
	partitionNumOfBuy, topicNumOfBuy    int
	topicQuota, partitionQuota, groups  int
	topicUsed, partitionUsed, groupUsed int
}

func (s *Instances) quotaOf(ctx context.Context, inst *kafkaplane.Instance) (quota, error) {
	var q quota
	if inst.PartitionNum > 0 {
		q.isPartitionBuy, q.partitionNumOfBuy = 1, inst.PartitionNum
	}
	q.topicQuota = baseTopicQuota + q.partitionNumOfBuy
	q.topicNumOfBuy = q.topicQuota
	if q.isPartitionBuy == 0 {
		q.topicNumOfBuy = inst.TopicQuota
	}
	q.partitionQuota, q.groups = q.topicQuota, groupsPerTopic*q.topicQuota
	if s.Topics == nil {
		return q, nil
	}
	views, err := s.topicViews(ctx, inst)
	if err != nil {
		return q, err
	}
	q.topicUsed = len(views)
	for _, v := range views {
		q.partitionUsed += topicPartitions(v)
	}
	groups, err := s.Topics.ListConsumerGroups(ctx, inst.ID)
	if err != nil {
		return q, err
	}
	q.groupUsed = len(groups)
	return q, nil
}

func (s *Instances) getQuotaTip(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	q, err := s.quotaOf(ctx, inst)
	if err != nil {
		return nil, err
	}
	return Object{{"QuotaData", Object{
		{"TopicQuota", q.topicQuota},
		{"TopicNumOfBuy", q.topicNumOfBuy},
		{"TopicUsed", q.topicUsed},
		{"TopicLeft", max(0, q.topicQuota-q.topicUsed)},
		{"PartitionNumOfBuy", q.partitionNumOfBuy},
		// The newest SDK reads PartitionQuota, the legacy Go SDK the
		// misspelt PartitionQuata: both carry the figure.
		{"PartitionQuota", q.partitionQuota},
		{"PartitionQuata", q.partitionQuota},
		{"PartitionUsed", q.partitionUsed},
		{"PartitionLeft", max(0, q.partitionQuota-q.partitionUsed)},
		{"GroupUsed", q.groupUsed},
		{"GroupLeft", max(0, q.groups-q.groupUsed)},
		{"IsPartitionBuy", q.isPartitionBuy},
	}}}, nil
}
