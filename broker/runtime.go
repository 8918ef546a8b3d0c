package broker

import "github.com/kafkaplane/kafkaplane"

// The runtime interface and the data it exchanges belong to the domain
// (package kafkaplane); these names keep the broker package's spelling.
type (
	// Runtime runs the Kafka brokers behind instances.
	Runtime = kafkaplane.Runtime
	// Spec describes the brokers of one instance.
	Spec = kafkaplane.Spec
	// BrokerStatus is what a runtime reports about one broker.
	BrokerStatus = kafkaplane.BrokerStatus
	// TopicSpec is a topic to create on an instance's brokers.
	TopicSpec = kafkaplane.TopicSpec
	// TopicState is a topic as an instance's brokers hold it.
	TopicState = kafkaplane.TopicState
	// PartitionState is one partition's log.
	PartitionState = kafkaplane.PartitionState
	// UpgradeFinalizer is a Runtime with work of its own after the last
	// broker rolled.
	UpgradeFinalizer = kafkaplane.UpgradeFinalizer
	// EndpointReporter is a Runtime that observes its instances' endpoints.
	EndpointReporter = kafkaplane.EndpointReporter
	// FaultInjector is a Runtime whose restarts are real faults.
	FaultInjector = kafkaplane.FaultInjector
)

// Errors of the runtime's calls.
var (
	ErrNotStarted      = kafkaplane.ErrNotStarted
	ErrTopicExists     = kafkaplane.ErrTopicExists
	ErrTopicNotFound   = kafkaplane.ErrTopicNotFound
	ErrPartitionLimit  = kafkaplane.ErrPartitionLimit
	ErrInvalidSecurity = kafkaplane.ErrInvalidSecurity
	ErrInvalidConfig   = kafkaplane.ErrInvalidConfig
	ErrGroupActive     = kafkaplane.ErrGroupActive
	ErrUnsupported     = kafkaplane.ErrUnsupported
)

// The data of the topic, group and observation calls.
type (
	TopicPartition = kafkaplane.TopicPartition
	GroupState     = kafkaplane.GroupState
	GroupMember    = kafkaplane.GroupMember
	GroupOffset    = kafkaplane.GroupOffset
	OffsetReset    = kafkaplane.OffsetReset
	RecordQuery    = kafkaplane.RecordQuery
	Record         = kafkaplane.Record
	ClientSeen     = kafkaplane.ClientSeen
	Rebalance      = kafkaplane.Rebalance
	Observations   = kafkaplane.Observations
)

// Offset positions and client roles of the data calls.
const (
	LatestOffset   = kafkaplane.LatestOffset
	EarliestOffset = kafkaplane.EarliestOffset
	RoleProducer   = kafkaplane.RoleProducer
	RoleConsumer   = kafkaplane.RoleConsumer
)
