package strimzi

import (
	"context"
	"fmt"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// The topic data, consumer group and client observation calls need a Kafka
// client of the cluster and a view of its connections, which this runtime
// does not have yet (docs/strimzi.md, what is not done). They answer
// kafkaplane.ErrUnsupported rather than empty data, which would read as
// "no records, no groups, no clients".

func unsupported(call string) error {
	return fmt.Errorf("%w: the strimzi runtime does not serve %s", kafkaplane.ErrUnsupported, call)
}

// SetTopicConfig implements kafkaplane.Runtime.
func (r *Runtime) SetTopicConfig(context.Context, string, string, string, string) (string, error) {
	return "", unsupported("topic configs")
}

// Groups implements kafkaplane.Runtime.
func (r *Runtime) Groups(context.Context, string) ([]kafkaplane.GroupState, error) {
	return nil, unsupported("consumer groups")
}

// ConsumedTimes implements kafkaplane.Runtime.
func (r *Runtime) ConsumedTimes(context.Context, string, []kafkaplane.GroupOffset) (map[kafkaplane.TopicPartition]time.Time, error) {
	return nil, unsupported("consumed records")
}

// ResetOffsets implements kafkaplane.Runtime.
func (r *Runtime) ResetOffsets(context.Context, string, string, kafkaplane.OffsetReset) ([]kafkaplane.GroupOffset, error) {
	return nil, unsupported("offset resets")
}

// ReadRecords implements kafkaplane.Runtime.
func (r *Runtime) ReadRecords(context.Context, string, kafkaplane.RecordQuery) ([]kafkaplane.Record, error) {
	return nil, unsupported("records")
}

// Observed implements kafkaplane.Runtime.
func (r *Runtime) Observed(context.Context, string) (kafkaplane.Observations, error) {
	return kafkaplane.Observations{}, unsupported("client observations")
}

// DiskUsed implements kafkaplane.Runtime.
func (r *Runtime) DiskUsed(context.Context, string) (int64, error) {
	return 0, unsupported("disk usage")
}
