package kafkaplane

import (
	"context"
	"errors"
	"time"
)

// Spec describes the brokers of one instance as the control plane wants
// them.
type Spec struct {
	InstanceID string
	// Version is the open-source version (0.10.2, 2.2.0) and Minor the
	// internal minor version of the instance.
	Version string
	Minor   string
	// BrokerVersions overrides Version per broker id. The control plane
	// sets it when it restarts mid-roll: brokers already rolled come back on
	// the target version, the others on the source version.
	BrokerVersions map[int32]string
	// Ports are the loopback ports of brokers 0, 1, 2…; their count is the
	// number of brokers.
	Ports []int
	// Config is the instance's AllConfig (kafka.log.retention.hours,
	// kafka.message.max.bytes, …).
	Config map[string]string
	// SaslPorts and SslPorts are the SASL_PLAINTEXT and SASL_SSL ports of
	// brokers 0, 1, 2…; empty when the instance has no such endpoint.
	SaslPorts []int
	SslPorts  []int
	// Security is the instance's data-plane security at start; later
	// changes go through ApplySecurity. Start of an instance that is
	// already running leaves its security as it is.
	Security Security
}

// VersionOf returns the version broker id runs under s.
func (s Spec) VersionOf(id int32) string {
	if v, ok := s.BrokerVersions[id]; ok && v != "" {
		return v
	}
	return s.Version
}

// BrokerStatus is what a runtime reports about one broker.
type BrokerStatus struct {
	ID      int32
	Addr    string // host:port clients connect to
	Version string
	Up      bool
}

// TopicSpec is a topic to create on an instance's brokers.
type TopicSpec struct {
	Name       string
	Partitions int32
	// Configs are topic-level configs, e.g. cleanup.policy=compact.
	Configs map[string]string
}

// TopicState is a topic as an instance's brokers hold it.
type TopicState struct {
	Name       string
	Partitions []PartitionState // ordered by partition
}

// PartitionState is one partition's log: the offset of its first record,
// the offset the next record will get, and when its last record was
// appended (zero when it has none).
type PartitionState struct {
	Partition  int32
	LogStart   int64
	HighWater  int64
	LastAppend time.Time
}

// Errors of a Runtime's calls, for the control plane to map to its own.
var (
	// ErrNotStarted reports an instance whose brokers are not running.
	ErrNotStarted = errors.New("broker: instance is not started")
	// ErrTopicExists reports a topic that is already on the brokers.
	ErrTopicExists = errors.New("broker: topic already exists")
	// ErrTopicNotFound reports a topic that is not on the brokers.
	ErrTopicNotFound = errors.New("broker: topic does not exist")
	// ErrPartitionLimit reports an addition of partitions that would take
	// a topic past the most allowed.
	ErrPartitionLimit = errors.New("broker: too many partitions")
	// ErrInvalidSecurity wraps every reason a Security value is refused;
	// the running instance keeps its previous security then.
	ErrInvalidSecurity = errors.New("broker: invalid security")
	// ErrInvalidConfig reports a config name or value the brokers refuse.
	ErrInvalidConfig = errors.New("broker: invalid config")
	// ErrGroupActive reports a consumer group with members, whose offsets
	// only its members may change.
	ErrGroupActive = errors.New("broker: consumer group is active")
	// ErrUnsupported reports a call the runtime cannot carry out (the
	// strimzi runtime reads no records, groups or client addresses).
	ErrUnsupported = errors.New("broker: the runtime does not support this call")
)

// Runtime runs the Kafka brokers behind instances; the broker package
// implements it. Implementations must be safe for concurrent use; calls
// for one instance are serialised by the control plane.
type Runtime interface {
	// Start brings up every broker of spec.InstanceID (idempotent: brokers
	// already up are left as they are) with the data kept from any earlier
	// run, and returns their addresses.
	Start(ctx context.Context, spec Spec) ([]BrokerStatus, error)
	// Stop takes the instance's brokers down and keeps their data.
	Stop(ctx context.Context, instanceID string) error
	// Destroy stops the brokers and removes the instance's data.
	Destroy(ctx context.Context, instanceID string) error
	// Status reports the instance's brokers; an instance that is not
	// started has none.
	Status(ctx context.Context, instanceID string) ([]BrokerStatus, error)
	// RestartBroker rolls one broker onto version: it stops accepting and
	// drops the broker's client connections, moves partition leadership
	// off it, switches it to version and brings it back. It returns once
	// the broker listens again.
	RestartBroker(ctx context.Context, instanceID string, brokerID int32, version string) error
	// CheckBroker verifies a broker as a client would: an ApiVersions
	// version guess equals version, metadata lists the broker, and every
	// partition has a leader. It returns nil when healthy.
	CheckBroker(ctx context.Context, instanceID string, brokerID int32, version string) error
	// ApplySecurity replaces the running instance's Security while
	// clients stay connected: allowlist changes apply to new connections,
	// ACL changes to the next request of every connection, user changes
	// to the next login. An invalid value (ErrInvalidSecurity) changes
	// nothing; ErrNotStarted when the brokers are not running.
	ApplySecurity(ctx context.Context, instanceID string, sec Security) error
	// ApplyConfig applies AllConfig to the running brokers.
	ApplyConfig(ctx context.Context, instanceID string, config map[string]string) error
	// RollOrder returns the order in which brokers are restarted during an
	// upgrade, sorted by coordinator load: the brokers coordinating the
	// fewest consumer groups first, and the controller last among equals.
	RollOrder(ctx context.Context, instanceID string) ([]int32, error)
	// CreateTopic creates a topic on the instance's brokers: ErrTopicExists
	// when it is there, ErrNotStarted when the brokers are not running.
	CreateTopic(ctx context.Context, instanceID string, t TopicSpec) error
	// DeleteTopic deletes a topic and its records: ErrTopicNotFound when
	// it is not there, ErrNotStarted when the brokers are not running.
	DeleteTopic(ctx context.Context, instanceID, topic string) error
	// CreatePartitions grows a topic to total partitions: ErrTopicNotFound
	// when it is not there, ErrNotStarted when the brokers are not running.
	CreatePartitions(ctx context.Context, instanceID, topic string, total int32) error
	// AddPartitions adds add partitions to a topic and returns its new
	// count. Reading the count and growing it are one step, so concurrent
	// additions all count. ErrPartitionLimit (changing nothing) when the
	// topic would have more than max; ErrTopicNotFound and ErrNotStarted
	// as CreatePartitions.
	AddPartitions(ctx context.Context, instanceID, topic string, add, max int32) (total int32, err error)
	// SetTopicConfig sets one topic-level config (retention.ms, …) on
	// the running brokers and returns the value they hold afterwards:
	// ErrInvalidConfig when the brokers refuse the name or the value,
	// ErrTopicNotFound and ErrNotStarted as CreatePartitions.
	SetTopicConfig(ctx context.Context, instanceID, topic, name, value string) (string, error)
	// Groups describes the consumer groups the brokers hold, ordered by
	// name: state, members and committed offsets with the log end of
	// each partition. ErrNotStarted when the brokers are not running.
	Groups(ctx context.Context, instanceID string) ([]GroupState, error)
	// ConsumedTimes returns, for each of offsets, when the record before
	// its committed offset (the last one the group consumed) was written;
	// partitions without such a record are left out.
	ConsumedTimes(ctx context.Context, instanceID string, offsets []GroupOffset) (map[TopicPartition]time.Time, error)
	// ResetOffsets commits new offsets for a group that has no members,
	// as Kafka's offset reset tool does: ErrGroupActive (changing
	// nothing) while members are joined. It returns the offsets written.
	ResetOffsets(ctx context.Context, instanceID, group string, r OffsetReset) ([]GroupOffset, error)
	// ReadRecords reads records of one topic from the brokers as a
	// consumer would; see RecordQuery. ErrTopicNotFound when the topic or
	// partition is not there.
	ReadRecords(ctx context.Context, instanceID string, q RecordQuery) ([]Record, error)
	// Observed returns what the instance's fronts saw of its clients
	// since its brokers started: the addresses of producers and group
	// members, and the groups' rebalances, each within a bounded window.
	Observed(ctx context.Context, instanceID string) (Observations, error)
	// DiskUsed is how many bytes the instance's logs take on disk.
	DiskUsed(ctx context.Context, instanceID string) (int64, error)
	// Topics describes the instance's topics with their partitions' logs,
	// ordered by name; the brokers' internal topics (__consumer_offsets
	// and the like) are left out. ErrNotStarted when the brokers are not
	// running.
	Topics(ctx context.Context, instanceID string) ([]TopicState, error)
	// Close stops every instance's brokers and keeps their data.
	Close() error
}

// UpgradeFinalizer is a Runtime whose upgrades end with work of their own
// after the last broker rolled (Strimzi's metadata version bump). The
// upgrade's FINALIZE_UPDATE step calls it, with retries, before it
// records the new version; runtimes without it finish at once.
type UpgradeFinalizer interface {
	FinalizeUpgrade(ctx context.Context, instanceID, version string) error
}

// EndpointReporter is a Runtime whose instances' endpoints are not the
// instance's broker ports on the advertised host but what the runtime
// last observed (Strimzi's listener status). Endpoint must not block.
type EndpointReporter interface {
	Endpoint(instanceID string) (bootstrap string, ok bool)
}

// FaultInjector is a Runtime whose RestartBroker really restarts a broker
// that already runs the version asked for, cutting its clients off, so
// that FailoverTest can take a broker down. Runtimes without it refuse
// FailoverTest rather than report a fault that did not happen.
type FaultInjector interface {
	InjectsFaults()
}

// RuntimeWrapper is a Runtime that adds behaviour to another one (the
// server's runtime that puts the stored security into every Spec).
type RuntimeWrapper interface {
	Unwrap() Runtime
}

// RuntimeAs finds an optional interface (UpgradeFinalizer,
// EndpointReporter, FaultInjector…) on rt or on a runtime it wraps. Every
// lookup of an optional interface goes through it, so that wrapping a
// runtime never hides what the runtime can do.
func RuntimeAs[T any](rt Runtime) (T, bool) {
	for rt != nil {
		if v, ok := rt.(T); ok {
			return v, true
		}
		w, ok := rt.(RuntimeWrapper)
		if !ok {
			break
		}
		rt = w.Unwrap()
	}
	var zero T
	return zero, false
}
