package kafkaplane

import (
	"context"
	"time"
)

// Topic is a topic of an instance as alikafka's console keeps it. Its
// partitions and records live on the instance's brokers; the store keeps
// what the API shows besides: remark, flags, tags and creation time.
type Topic struct {
	InstanceID   string
	Name         string
	Remark       string
	PartitionNum int32
	// CompactTopic selects log compaction (cleanup.policy=compact)
	// instead of deletion by retention; LocalTopic is alikafka's local
	// storage flag, kept and shown.
	CompactTopic bool
	LocalTopic   bool
	// Config holds the topic configs CreateTopic was given, as strings
	// (TopicConfig); nil when none were.
	Config      map[string]string
	Tags        []Tag
	CreateTime  time.Time
	ModifyIndex int64
}

// ConsumerGroup is a consumer group registered on an instance through the
// API, as alikafka requires before a group may consume.
type ConsumerGroup struct {
	InstanceID  string
	ConsumerID  string
	Remark      string
	Tags        []Tag
	CreateTime  time.Time
	ModifyIndex int64
}

// TopicService stores the topics and consumer groups of instances. Rows
// are keyed by instance id, which is unique across accounts; callers
// check that the instance belongs to the caller first.
type TopicService interface {
	// CreateTopic stores a new topic with ModifyIndex 1; CodeAlreadyExists
	// when the instance has one of that name. A limit above zero caps the
	// instance's topics: CodeLimitExceeded when it already has limit,
	// decided atomically with the insert.
	CreateTopic(ctx context.Context, t *Topic, limit int) error
	// FindTopic returns a topic, or CodeNotFound.
	FindTopic(ctx context.Context, instanceID, name string) (*Topic, error)
	// ListTopics lists an instance's topics, oldest first.
	ListTopics(ctx context.Context, instanceID string) ([]*Topic, error)
	// UpdateTopic writes t (Remark, PartitionNum, Tags, Config) with
	// compare-and-set on ModifyIndex: CodeConflict when it changed since
	// it was read, CodeNotFound when it is gone.
	UpdateTopic(ctx context.Context, t *Topic) error
	// DeleteTopic removes a topic, or returns CodeNotFound.
	DeleteTopic(ctx context.Context, instanceID, name string) error

	// CreateConsumerGroup stores a new group with ModifyIndex 1;
	// CodeAlreadyExists when the instance has one of that id. A limit above
	// zero caps the instance's groups as CreateTopic's caps topics.
	CreateConsumerGroup(ctx context.Context, g *ConsumerGroup, limit int) error
	// FindConsumerGroup returns a group, or CodeNotFound.
	FindConsumerGroup(ctx context.Context, instanceID, consumerID string) (*ConsumerGroup, error)
	// ListConsumerGroups lists an instance's groups, oldest first.
	ListConsumerGroups(ctx context.Context, instanceID string) ([]*ConsumerGroup, error)
	// UpdateConsumerGroup writes g (Remark, Tags) with compare-and-set on
	// ModifyIndex: CodeConflict when it changed since it was read,
	// CodeNotFound when it is gone.
	UpdateConsumerGroup(ctx context.Context, g *ConsumerGroup) error
	// DeleteConsumerGroup removes a group, or returns CodeNotFound.
	DeleteConsumerGroup(ctx context.Context, instanceID, consumerID string) error
}
