package broker

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Idempotent producers across a restart of the storage engine.
//
// The storage engine keeps the sequence numbers of idempotent producers
// (which batches of a producer it already holds) in memory and writes them
// out only when it is closed in an orderly way. After a crash it comes back
// with the records but without that state, and takes the first batch of
// every producer with whatever sequence it carries. A client whose produce
// request was written but whose answer was lost in the crash retries the
// batch with the same sequence, and without the state the batch would be
// written a second time.
//
// A Kafka broker does not lose that state: it rebuilds it from the log when
// it starts. The front does the same. When an instance starts on existing
// data, rebuildProducerState reads the tail of every partition and keeps,
// per producer and partition, the epoch and the last producerBatchesKept
// batches (first and last sequence, base offset). A produce request whose
// batch repeats one of them — same producer id, epoch and sequence range —
// is answered by the front with success and the batch's original base
// offset and is not handed to storage, which is what Kafka answers a
// duplicate. Any other batch goes to storage, which then accepts the
// producer's next sequence as a fresh start. docs/dataplane-durability.md
// describes the rules and the bounds.

const (
	// producerBatchesKept is how many batches per producer and partition
	// are remembered; Kafka keeps five, the most an idempotent producer
	// may have in flight to one partition.
	producerBatchesKept = 5
	// recoverTailBatches and recoverTailBytes bound the work of the
	// rebuild per partition: it reads back from the end of the log until
	// it has seen this many batches or bytes, or reached the log start.
	// Only batches in flight at a crash can be retried, at most five per
	// producer, so 250 batches cover 50 producers writing to one
	// partition at the moment of the crash, and 4 MiB four batches of the
	// largest size clients send by default (1 MB).
	recoverTailBatches = 250
	recoverTailBytes   = 4 << 20
	// recoverFirstStep is how many offsets back the first read of a
	// partition starts; each further read goes four times as far back.
	recoverFirstStep = 64
)

// producerKey names one producer's state on one partition.
type producerKey struct {
	topic     string
	partition int32
	pid       int64
}

// producerBatch is one batch of an idempotent producer found in the log.
type producerBatch struct {
	firstSeq, lastSeq int32
	baseOffset        int64
}

// producerState is a producer's epoch on a partition and its last batches
// of that epoch, oldest first.
type producerState struct {
	epoch   int16
	batches []producerBatch
}

// recoveredProducers is the producer state rebuilt from the logs when an
// instance started on existing data. It is built before any client is
// served and never changes afterwards, so it is read without locking.
type recoveredProducers struct {
	m map[producerKey]*producerState
}

// add records a batch; batches must come in log order.
func (r *recoveredProducers) add(topic string, partition int32, h batchHeader) {
	if h.producerID < 0 || h.control {
		return
	}
	k := producerKey{topic, partition, h.producerID}
	st := r.m[k]
	switch {
	case st == nil:
		st = &producerState{epoch: h.epoch}
		r.m[k] = st
	case h.epoch > st.epoch:
		// A new epoch restarts the producer's sequences.
		st.epoch, st.batches = h.epoch, st.batches[:0]
	case h.epoch < st.epoch:
		return
	}
	st.batches = append(st.batches, producerBatch{h.firstSeq, h.lastSeq(), h.baseOffset})
	if n := len(st.batches); n > producerBatchesKept {
		st.batches = slices.Delete(st.batches, 0, n-producerBatchesKept)
	}
}

// duplicate returns the base offset at which the batch described by h was
// already written, if it repeats one of the remembered batches.
func (r *recoveredProducers) duplicate(topic string, partition int32, h batchHeader) (int64, bool) {
	if r == nil || h.producerID < 0 {
		return 0, false
	}
	st := r.m[producerKey{topic, partition, h.producerID}]
	if st == nil || st.epoch != h.epoch {
		return 0, false
	}
	last := h.lastSeq()
	for _, b := range st.batches {
		if b.firstSeq == h.firstSeq && b.lastSeq == last {
			return b.baseOffset, true
		}
	}
	return 0, false
}

// batchHeader is the part of a v2 record batch header producer state is
// made of.
type batchHeader struct {
	baseOffset      int64
	length          int // whole batch, header included
	producerID      int64
	epoch           int16
	firstSeq        int32
	lastOffsetDelta int32
	control         bool
}

// lastSeq is the sequence of the batch's last record. Sequences run up to
// MaxInt32 and go on at 0, as Kafka counts them.
func (h batchHeader) lastSeq() int32 {
	if h.firstSeq > math.MaxInt32-h.lastOffsetDelta {
		return h.lastOffsetDelta - (math.MaxInt32 - h.firstSeq) - 1
	}
	return h.firstSeq + h.lastOffsetDelta
}

// recordBatchHeaderSize is the fixed part of a v2 record batch up to and
// including the record count.
const recordBatchHeaderSize = 61

// parseBatchHeader reads the header of the v2 record batch at the start
// of b without decoding its records.
func parseBatchHeader(b []byte) (batchHeader, bool) {
	if len(b) < recordBatchHeaderSize || int8(b[16]) != 2 {
		return batchHeader{}, false
	}
	length := int32(binary.BigEndian.Uint32(b[8:12]))
	n := 12 + int(length)
	if length < recordBatchHeaderSize-12 || n > len(b) {
		return batchHeader{}, false
	}
	var rb kmsg.RecordBatch
	if err := rb.UnsafeReadFrom(b[:n]); err != nil {
		return batchHeader{}, false
	}
	return batchHeader{
		baseOffset:      rb.FirstOffset,
		length:          n,
		producerID:      rb.ProducerID,
		epoch:           rb.ProducerEpoch,
		firstSeq:        rb.FirstSequence,
		lastOffsetDelta: rb.LastOffsetDelta,
		control:         uint16(rb.Attributes)&0x0020 != 0,
	}, true
}

// rebuildProducerState reads the tail of every partition of the instance's
// storage and returns the producer state found there.
func (i *instance) rebuildProducerState(ctx context.Context) (*recoveredProducers, error) {
	meta, err := i.storageMetadata(ctx)
	if err != nil {
		return nil, err
	}
	byLeader := map[int32][]topicPartition{}
	for _, t := range meta.Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		for _, p := range t.Partitions {
			if p.ErrorCode == 0 && p.Leader >= 0 && int(p.Leader) < len(i.upstream) {
				byLeader[p.Leader] = append(byLeader[p.Leader], topicPartition{*t.Topic, p.Partition})
			}
		}
	}
	rec := &recoveredProducers{m: map[producerKey]*producerState{}}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	// Storage nodes are read side by side. A partition that cannot be
	// read is left out with a warning rather than keeping the whole
	// instance down: its producers are then treated as storage alone
	// treats them.
	for node, tps := range byLeader {
		wg.Go(func() {
			addr := i.upstream[node]
			starts, err := listOffsets(ctx, addr, tps, -2)
			if err != nil {
				i.log.Warn("rebuild producer state", "node", node, "err", err)
				return
			}
			ends, err := listOffsets(ctx, addr, tps, -1)
			if err != nil {
				i.log.Warn("rebuild producer state", "node", node, "err", err)
				return
			}
			for _, tp := range tps {
				start, okS := starts[tp]
				end, okE := ends[tp]
				if !okS || !okE || end <= start {
					continue
				}
				hs, err := readTail(ctx, addr, tp, start, end)
				if err != nil {
					i.log.Warn("rebuild producer state", "topic", tp.topic, "partition", tp.partition, "err", err)
					continue
				}
				mu.Lock()
				for _, h := range hs {
					rec.add(tp.topic, tp.partition, h)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return rec, nil
}

// readTail returns the headers of the last batches of a partition whose
// log spans [start, end), in log order, within the recoverTail bounds.
func readTail(ctx context.Context, addr string, tp topicPartition, start, end int64) ([]batchHeader, error) {
	var (
		out   []batchHeader
		bytes int
		upTo  = end // what is read already starts here
		step  = int64(recoverFirstStep)
	)
	for upTo > start && len(out) < recoverTailBatches && bytes < recoverTailBytes {
		from := max(start, upTo-step)
		step *= 4
		var part []batchHeader
		for at := from; at < upTo; {
			hs, n, err := fetchBatches(ctx, addr, tp, at)
			if err != nil {
				return nil, err
			}
			bytes += n
			progressed := false
			for _, h := range hs {
				next := h.baseOffset + int64(h.lastOffsetDelta) + 1
				if next <= at {
					continue // the batch holding at began before it
				}
				if h.baseOffset >= upTo {
					break
				}
				part = append(part, h)
				at, progressed = next, true
			}
			if !progressed {
				break // nothing more is readable here (e.g. a gap)
			}
			if bytes >= recoverTailBytes {
				// Out of budget: what was read is kept. Skipping the
				// batches between here and the later ones read before
				// only means remembering some older batches too, each
				// still a true duplicate if it comes again.
				break
			}
		}
		// Batches read in an earlier round may straddle from; keep one copy.
		if len(out) > 0 && len(part) > 0 && part[len(part)-1].baseOffset >= out[0].baseOffset {
			part = slices.DeleteFunc(part, func(h batchHeader) bool { return h.baseOffset >= out[0].baseOffset })
		}
		out = append(part, out...)
		upTo = from
	}
	return out, nil
}

// fetchBatches reads the batches of one partition from offset at and
// returns their headers and the number of bytes read.
func fetchBatches(ctx context.Context, addr string, tp topicPartition, at int64) ([]batchHeader, int, error) {
	req := kmsg.NewPtrFetchRequest()
	req.Version = 4
	req.ReplicaID = -1
	req.MaxWaitMillis = 0
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = tp.topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = tp.partition
	rp.FetchOffset = at
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := roundTrip(ctx, addr, req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch %s/%d at %d: %w", tp.topic, tp.partition, at, err)
	}
	var out []batchHeader
	n := 0
	for _, t := range resp.(*kmsg.FetchResponse).Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return nil, 0, fmt.Errorf("fetch %s/%d at %d: error code %d", tp.topic, tp.partition, at, p.ErrorCode)
			}
			b := p.RecordBatches
			n += len(b)
			for len(b) > 0 {
				h, ok := parseBatchHeader(b)
				if !ok {
					break // a partial batch at the end of the response
				}
				out = append(out, h)
				b = b[h.length:]
			}
		}
	}
	return out, n, nil
}

// listOffsets asks storage node addr for the earliest (-2) or latest (-1)
// offset of each partition.
func listOffsets(ctx context.Context, addr string, tps []topicPartition, ts int64) (map[topicPartition]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = 1
	req.ReplicaID = -1
	idx := map[string]int{}
	for _, tp := range tps {
		i, ok := idx[tp.topic]
		if !ok {
			i = len(req.Topics)
			idx[tp.topic] = i
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = tp.topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = tp.partition
		rp.Timestamp = ts
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	resp, err := roundTrip(ctx, addr, req)
	if err != nil {
		return nil, fmt.Errorf("list offsets: %w", err)
	}
	out := map[topicPartition]int64{}
	for _, t := range resp.(*kmsg.ListOffsetsResponse).Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode == 0 {
				out[topicPartition{t.Topic, p.Partition}] = p.Offset
			}
		}
	}
	return out, nil
}

// answerDuplicates handles a Produce v3+ request on an instance that has
// recovered producer state: partitions whose batch repeats a recovered
// batch are answered by the front with the original base offset, the
// rest go to storage. ok is false when the request holds no duplicate, so
// the caller forwards it unchanged.
func (pc *proxyConn) answerDuplicates(h requestHeader, body []byte, rec *recoveredProducers) (p pending, send bool, out []byte, ok bool) {
	req := kmsg.NewPtrProduceRequest()
	req.Version = h.version
	if req.IsFlexible() {
		return p, false, nil, false // no broker version the front speaks has these
	}
	// The decoded request aliases the frame, which is not reused: the
	// records are not copied.
	if err := req.UnsafeReadFrom(body); err != nil {
		return p, false, nil, false // storage answers what it cannot read
	}
	type dup struct {
		topic     string
		partition int32
		offset    int64
	}
	var dups []dup
	kept := 0
	for ti := range req.Topics {
		t := &req.Topics[ti]
		ps := t.Partitions[:0]
		for _, rp := range t.Partitions {
			if bh, ok := parseBatchHeader(rp.Records); ok && t.Topic != "" {
				if off, ok := rec.duplicate(t.Topic, rp.Partition, bh); ok {
					dups = append(dups, dup{t.Topic, rp.Partition, off})
					continue
				}
			}
			ps = append(ps, rp)
		}
		t.Partitions = ps
		kept += len(ps)
	}
	if len(dups) == 0 {
		return p, false, nil, false
	}
	pc.b.inst.log.Info("answered a duplicate produce from recovered producer state",
		"broker", pc.b.id, "partitions", len(dups))
	p.corr = h.corr
	version := h.version
	finish := func(resp *kmsg.ProduceResponse) []byte {
		for _, d := range dups {
			ti := slices.IndexFunc(resp.Topics, func(t kmsg.ProduceResponseTopic) bool { return t.Topic == d.topic })
			if ti < 0 {
				rt := kmsg.NewProduceResponseTopic()
				rt.Topic = d.topic
				resp.Topics = append(resp.Topics, rt)
				ti = len(resp.Topics) - 1
			}
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = d.partition
			rp.BaseOffset = d.offset
			resp.Topics[ti].Partitions = append(resp.Topics[ti].Partitions, rp)
		}
		resp.Version = version
		return resp.AppendTo(nil)
	}
	if kept == 0 {
		if req.Acks == 0 {
			return p, false, nil, true
		}
		p.local = finish(kmsg.NewPtrProduceResponse())
		return p, false, nil, true
	}
	req.Topics = slices.DeleteFunc(req.Topics, func(t kmsg.ProduceRequestTopic) bool { return len(t.Partitions) == 0 })
	out = appendRequestFrame(nil, 0, h.version, h.corr, h.clientID, req.AppendTo(nil))
	if req.Acks == 0 {
		return p, true, out, true
	}
	p.upstream, p.produce = true, true
	p.convert = func(b []byte) ([]byte, error) {
		resp := kmsg.NewPtrProduceResponse()
		resp.Version = version
		if err := resp.ReadFrom(b); err != nil {
			return nil, err
		}
		return finish(resp), nil
	}
	return p, true, out, true
}
