package kafkaplane

import "time"

// The data the runtime exchanges about an instance's topics, consumer
// groups and clients (Runtime.Groups, ResetOffsets, ReadRecords,
// Observed).

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// GroupState is a consumer group as the brokers hold it.
type GroupState struct {
	Name string
	// State is Kafka's group state: Empty, Stable, PreparingRebalance,
	// CompletingRebalance or Dead.
	State   string
	Members []GroupMember
	// Offsets are the group's committed offsets, ordered by topic and
	// partition.
	Offsets []GroupOffset
}

// GroupMember is one member of a consumer group.
type GroupMember struct {
	MemberID   string
	ClientID   string
	ClientHost string
	Assigned   []TopicPartition
}

// GroupOffset is a group's committed offset of one partition and the end
// of that partition's log: their difference is the group's lag.
type GroupOffset struct {
	Topic     string
	Partition int32
	Committed int64
	LogEnd    int64
}

// Active reports whether the group has members, so that only they may
// commit its offsets.
func (g GroupState) Active() bool { return len(g.Members) > 0 }

// Offset positions that OffsetReset.At takes besides a time.
const (
	LatestOffset   int64 = -1
	EarliestOffset int64 = -2
)

// OffsetReset says where ResetOffsets moves a group.
type OffsetReset struct {
	// Topics are the topics to reset; none means every topic the group
	// has committed offsets for.
	Topics []string
	// Offsets, when set, are the new offsets of single partitions of
	// Topics[0]; each is held to the partition's log (below its start it
	// becomes the start, past its end the end), as Kafka's reset tool
	// does.
	Offsets map[int32]int64
	// At is used when Offsets is nil: LatestOffset, EarliestOffset, or a
	// Unix time in milliseconds, meaning the first record written at or
	// after it (the log end when there is none).
	At int64
}

// RecordQuery selects records of one topic.
type RecordQuery struct {
	Topic string
	// ByTime reads, from every partition, the records from the first one
	// written at or after At (Unix milliseconds). Otherwise the records
	// of Partition from Offset are read.
	ByTime    bool
	At        int64
	Partition int32
	Offset    int64
	// Max is the most records read from each partition.
	Max int
}

// Record is one record read from the brokers.
type Record struct {
	Topic         string
	Partition     int32
	Offset        int64
	Timestamp     time.Time
	LogAppendTime bool
	// Key is nil for a record without a key.
	Key   []byte
	Value []byte
}

// Roles of ClientSeen.
const (
	RoleProducer = "producer"
	RoleConsumer = "consumer"
)

// ClientSeen is one client address the fronts saw in a role: a producer
// writing to topic Name, or a consumer group member (Group) subscribing to
// topic Name.
type ClientSeen struct {
	IP    string
	Role  string
	Name  string // the topic
	Group string // the consumer's group; empty for producers
	// Count is how many requests of the role were seen from IP for Name
	// (the runtime may sample produce requests).
	Count       int64
	First, Last time.Time
}

// Rebalance is one generation of a consumer group as the fronts saw it
// form: from the first JoinGroup of the round to the last answer.
type Rebalance struct {
	Group      string
	Generation int32
	Started    time.Time
	Finished   time.Time
	Success    bool
	// Reason says what started the round: a member that joined without
	// an id (a new member) or one that rejoined.
	Reason string
}

// Observations is what the fronts saw of an instance's clients.
type Observations struct {
	Clients    []ClientSeen // ordered by Last, newest first
	Rebalances []Rebalance  // ordered by Started, newest first
	// Forgotten reports that entries were dropped to stay within the
	// bounds, so older clients or rebalances may be missing.
	Forgotten bool
}
