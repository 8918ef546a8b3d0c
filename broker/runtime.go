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
)

// Errors of the runtime's calls.
var (
	ErrNotStarted      = kafkaplane.ErrNotStarted
	ErrTopicExists     = kafkaplane.ErrTopicExists
	ErrTopicNotFound   = kafkaplane.ErrTopicNotFound
	ErrPartitionLimit  = kafkaplane.ErrPartitionLimit
	ErrInvalidSecurity = kafkaplane.ErrInvalidSecurity
)
