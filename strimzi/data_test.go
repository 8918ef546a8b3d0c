package strimzi

import (
	"context"
	"errors"
	"testing"

	"github.com/kafkaplane/kafkaplane"
)

// TestDataCallsUnsupported: the calls this runtime cannot carry out say so,
// rather than answer empty data, and FailoverTest is not offered a runtime
// whose restarts on the same version restart nothing.
func TestDataCallsUnsupported(t *testing.T) {
	r := &Runtime{}
	ctx := context.Background()
	_, e1 := r.SetTopicConfig(ctx, "i", "t", "retention.ms", "1")
	_, e2 := r.Groups(ctx, "i")
	_, e3 := r.ConsumedTimes(ctx, "i", nil)
	_, e4 := r.ResetOffsets(ctx, "i", "g", kafkaplane.OffsetReset{})
	_, e5 := r.ReadRecords(ctx, "i", kafkaplane.RecordQuery{Topic: "t"})
	_, e6 := r.Observed(ctx, "i")
	_, e7 := r.DiskUsed(ctx, "i")
	for i, err := range []error{e1, e2, e3, e4, e5, e6, e7} {
		if !errors.Is(err, kafkaplane.ErrUnsupported) {
			t.Errorf("call %d: %v, want ErrUnsupported", i+1, err)
		}
	}
	if _, ok := any(r).(kafkaplane.FaultInjector); ok {
		t.Error("the strimzi runtime claims to inject faults")
	}
}
