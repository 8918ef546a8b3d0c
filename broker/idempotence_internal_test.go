package broker

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRecoveredProducerRules checks the table against Kafka's rules: five
// batches per producer and partition, a newer epoch starts over, an older
// one is ignored, and a duplicate must match producer, epoch and both ends
// of the sequence range.
func TestRecoveredProducerRules(t *testing.T) {
	rec := &recoveredProducers{m: map[producerKey]*producerState{}}
	batch := func(pid int64, epoch int16, seq, n int32, off int64) batchHeader {
		return batchHeader{baseOffset: off, producerID: pid, epoch: epoch, firstSeq: seq, lastOffsetDelta: n - 1}
	}
	for i := range int32(7) { // batches of 2 records at seq 0, 2, …, 12
		rec.add("t", 0, batch(1, 0, 2*i, 2, int64(10*i)))
	}
	rec.add("t", 0, batchHeader{producerID: 1, epoch: 0, firstSeq: 99, control: true})
	rec.add("t", 0, batchHeader{producerID: -1, firstSeq: 0}) // not idempotent
	for _, c := range []struct {
		h    batchHeader
		off  int64
		want bool
	}{
		{batch(1, 0, 0, 2, 0), 0, false},   // fell out of the last five
		{batch(1, 0, 2, 2, 0), 0, false},   // so did this one
		{batch(1, 0, 4, 2, 0), 20, true},   // oldest of the five
		{batch(1, 0, 12, 2, 0), 60, true},  // newest
		{batch(1, 0, 12, 1, 0), 0, false},  // same start, other length
		{batch(1, 1, 12, 2, 0), 0, false},  // other epoch
		{batch(2, 0, 12, 2, 0), 0, false},  // other producer
		{batch(-1, 0, 12, 2, 0), 0, false}, // no producer
	} {
		off, ok := rec.duplicate("t", 0, c.h)
		if ok != c.want || (ok && off != c.off) {
			t.Errorf("duplicate(%+v) = %d, %v; want %d, %v", c.h, off, ok, c.off, c.want)
		}
	}
	if _, ok := rec.duplicate("t", 1, batch(1, 0, 12, 2, 0)); ok {
		t.Error("a batch matched on another partition")
	}
	rec.add("t", 0, batch(1, 3, 0, 1, 100)) // new epoch: earlier batches go
	rec.add("t", 0, batch(1, 2, 5, 1, 101)) // older epoch: ignored
	if _, ok := rec.duplicate("t", 0, batch(1, 0, 12, 2, 0)); ok {
		t.Error("a batch of a replaced epoch still matched")
	}
	if off, ok := rec.duplicate("t", 0, batch(1, 3, 0, 1, 0)); !ok || off != 100 {
		t.Errorf("batch of the new epoch: %d, %v", off, ok)
	}
	if got := batch(1, 0, math.MaxInt32-1, 3, 0).lastSeq(); got != 0 {
		t.Errorf("last sequence across the wrap = %d, want 0", got)
	}
	if got := batch(1, 0, math.MaxInt32-1, 2, 0).lastSeq(); got != math.MaxInt32 {
		t.Errorf("last sequence at the top = %d, want MaxInt32", got)
	}
}

// BenchmarkDuplicateCheck is the front's added work per Produce request
// while an instance has recovered producer state and the request is not a
// retry: decoding a 16 KB request's batch headers and looking them up.
func BenchmarkDuplicateCheck(b *testing.B) {
	rec := &recoveredProducers{m: map[producerKey]*producerState{}}
	for pid := range int64(100) {
		for i := range int32(5) {
			rec.add("bench", 0, batchHeader{producerID: pid, firstSeq: 10 * i, lastOffsetDelta: 9, baseOffset: int64(i)})
		}
	}
	rb := kmsg.RecordBatch{Magic: 2, ProducerID: 7, FirstSequence: 1000, LastOffsetDelta: 99, NumRecords: 100,
		Records: make([]byte, 16<<10)}
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	req := kmsg.NewPtrProduceRequest()
	req.Version = 7
	req.Acks = -1
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "bench"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = raw
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	body := req.AppendTo(nil)
	h := requestHeader{key: 0, version: 7, corr: 1}
	pc := &proxyConn{}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, _, ok := pc.answerDuplicates(h, body, rec); ok {
			b.Fatal("not a duplicate")
		}
	}
}
