package broker

import (
	"context"
	"encoding/binary"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// route decides what happens to one client request: answered by the
// front (p.local), forwarded unchanged (send with out == nil), forwarded
// translated (send with out holding the new frame), or refused by closing
// the connection as a real broker of that version would.
func (pc *proxyConn) route(h requestHeader, frame []byte) (p pending, send bool, out []byte) {
	p.corr = h.corr
	v := pc.ver
	body := frame[h.bodyAt:]

	if h.key == kmsg.ApiVersions.Int16() { // answered from the broker's own table
		if h.version > v.maxVersion(h.key) || h.version < 0 {
			p.local = unsupportedApiVersionsBody()
		} else {
			p.local = v.apiVersionsBody(h.version)
		}
		return p, false, nil
	}
	if max := v.maxVersion(h.key); max < 0 || h.version > max || h.version < 0 {
		p.closeConn = true
		return p, false, nil
	}

	switch h.key {
	case kmsg.Produce.Int16():
		pc.observeProduce(h, body)
		if h.version < 3 {
			return pc.legacyProduce(h, body)
		}
		if rec := pc.b.inst.recovered; rec != nil {
			if p, send, out, ok := pc.answerDuplicates(h, body, rec); ok {
				return p, send, out
			}
		}
		p.upstream = produceAcks(body) != 0
		p.produce = p.upstream
		return p, true, nil
	case kmsg.Fetch.Int16():
		if h.version < 4 {
			return pc.legacyFetch(h, body)
		}
	case kmsg.Metadata.Int16(): // brokers must be the front's addresses
		if pc.b.inst.autoTopics.Load() {
			pc.autoCreateTopics(h, body)
		}
		p.convert = pc.rewriteMetadata(h.version)
	case kmsg.FindCoordinator.Int16(): // same
		p.convert = pc.rewriteFindCoordinator(h.version)
	case kmsg.JoinGroup.Int16(): // the fronts record members and rebalances
		p.convert = pc.observeJoin(h, body)
	case kmsg.OffsetForLeaderEpoch.Int16(): // the storage engine only knows v3+
		return pc.offsetForLeaderEpoch(h, body)
	}
	p.upstream = true
	return p, true, nil
}

// produceAcks reads the acks field of a Produce v3+ body (after its
// transactional id) without decoding the records, so pass-through produce
// stays cheap.
func produceAcks(body []byte) int16 {
	if len(body) < 2 {
		return -1
	}
	n := int16(binary.BigEndian.Uint16(body))
	if n > 0 {
		if len(body) < 2+int(n) {
			return -1
		}
		body = body[2+int(n):]
	} else {
		body = body[2:]
	}
	if len(body) < 2 {
		return -1
	}
	return int16(binary.BigEndian.Uint16(body))
}

// legacyProduce up-converts Produce v0–v2 (message sets) into Produce v3
// (record batches) for the storage engine and the answer back.
func (pc *proxyConn) legacyProduce(h requestHeader, body []byte) (pending, bool, []byte) {
	p := pending{corr: h.corr}
	req := kmsg.NewPtrProduceRequest()
	req.Version = h.version
	if err := req.ReadFrom(body); err != nil {
		p.closeConn = true
		return p, false, nil
	}
	type failed struct {
		topic     string
		partition int32
	}
	var fails []failed
	now := time.Now().UnixMilli()
	kept := 0
	for ti := range req.Topics {
		t := &req.Topics[ti]
		ps := t.Partitions[:0]
		for _, rp := range t.Partitions {
			batch, err := messageSetToBatch(rp.Records, now)
			if err != nil {
				fails = append(fails, failed{t.Topic, rp.Partition})
				continue
			}
			rp.Records = batch
			ps = append(ps, rp)
		}
		t.Partitions = ps
		kept += len(ps)
	}
	clientVersion := h.version
	finish := func(resp *kmsg.ProduceResponse) []byte {
		for _, f := range fails {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = f.topic
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = f.partition
			rp.ErrorCode = kerr.CorruptMessage.Code
			rp.BaseOffset = -1
			rt.Partitions = append(rt.Partitions, rp)
			resp.Topics = append(resp.Topics, rt)
		}
		resp.Version = clientVersion
		return resp.AppendTo(nil)
	}
	if kept == 0 {
		if req.Acks == 0 {
			return p, false, nil
		}
		p.local = finish(kmsg.NewPtrProduceResponse())
		return p, false, nil
	}
	req.Version = 3
	req.TransactionID = nil
	out := appendRequestFrame(nil, 0, 3, h.corr, h.clientID, req.AppendTo(nil))
	if req.Acks == 0 {
		return p, true, out
	}
	p.upstream, p.produce = true, true
	p.convert = func(b []byte) ([]byte, error) {
		resp := kmsg.NewPtrProduceResponse()
		resp.Version = 3
		if err := resp.ReadFrom(b); err != nil {
			return nil, err
		}
		return finish(resp), nil
	}
	return p, true, out
}

// legacyFetch turns Fetch v0–v3 into Fetch v4 and down-converts the
// returned record batches into message sets: magic 0 for v0–v1, magic 1
// for v2–v3, as the broker of that era would have stored them.
func (pc *proxyConn) legacyFetch(h requestHeader, body []byte) (pending, bool, []byte) {
	p := pending{corr: h.corr}
	req := kmsg.NewPtrFetchRequest()
	req.Version = h.version
	if err := req.ReadFrom(body); err != nil {
		p.closeConn = true
		return p, false, nil
	}
	type tp struct {
		t string
		p int32
	}
	type want struct {
		offset   int64
		maxBytes int32
	}
	wants := map[tp]want{}
	for _, t := range req.Topics {
		for _, rp := range t.Partitions {
			wants[tp{t.Topic, rp.Partition}] = want{rp.FetchOffset, rp.PartitionMaxBytes}
		}
	}
	if h.version < 3 {
		req.MaxBytes = math.MaxInt32 // no response limit before v3
	}
	reqMaxBytes := req.MaxBytes
	req.Version = 4
	req.IsolationLevel = 0
	req.ReplicaID = -1
	out := appendRequestFrame(nil, 1, 4, h.corr, h.clientID, req.AppendTo(nil))
	magic := int8(0)
	if h.version >= 2 {
		magic = 1
	}
	clientVersion := h.version
	p.upstream = true
	p.convert = func(b []byte) ([]byte, error) {
		resp := kmsg.NewPtrFetchResponse()
		resp.Version = 4
		if err := resp.ReadFrom(b); err != nil {
			return nil, err
		}
		// Down-converted sets can outgrow the compressed batches the
		// storage engine sized its answer by, so the v3 response limit is
		// applied again here; like a real broker, the first non-empty
		// partition always gets at least one message.
		budget := int64(math.MaxInt64)
		if clientVersion >= 3 {
			budget = int64(reqMaxBytes)
		}
		for ti := range resp.Topics {
			t := &resp.Topics[ti]
			for pi := range t.Partitions {
				rp := &t.Partitions[pi]
				w := wants[tp{t.Topic, rp.Partition}]
				if len(rp.RecordBatches) == 0 {
					continue
				}
				if budget <= 0 {
					rp.RecordBatches = nil
					continue
				}
				rp.RecordBatches = batchesToMessageSet(rp.RecordBatches, w.offset, magic, int32(min(int64(w.maxBytes), budget)))
				budget -= int64(len(rp.RecordBatches))
			}
		}
		resp.Version = clientVersion
		return resp.AppendTo(nil), nil
	}
	return p, true, out
}

// rewriteMetadata replaces the storage engine's node addresses with the
// front's, leaves out brokers that are down, and marks partitions led by
// a down broker leaderless, as a real cluster reports them.
func (pc *proxyConn) rewriteMetadata(version int16) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) {
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = version
		if err := resp.ReadFrom(b); err != nil {
			return nil, err
		}
		inst := pc.b.inst
		brokers := resp.Brokers[:0]
		firstUp := int32(-1)
		for _, rb := range resp.Brokers {
			fb := inst.front(rb.NodeID)
			if fb == nil || !fb.up.Load() {
				continue
			}
			if firstUp < 0 || rb.NodeID < firstUp {
				firstUp = rb.NodeID
			}
			rb.Host, rb.Port = fb.host, int32(fb.portFor(pc.kind))
			brokers = append(brokers, rb)
		}
		resp.Brokers = brokers
		if fb := inst.front(resp.ControllerID); fb == nil || !fb.up.Load() {
			resp.ControllerID = firstUp
		}
		// While some brokers of the instance still run a release whose
		// Metadata has no leader epochs, the others report none either.
		// Otherwise a client that learned an epoch from a new broker and
		// next asks an old one sees the epoch vanish, which clients such
		// as franz-go take for a leaderless partition: they keep the
		// stale leader and wait out a metadata back-off, stalling
		// producers for the rest of the roll.
		hideEpochs := version >= 7 && inst.mixedLeaderEpochs()
		for ti := range resp.Topics {
			t := &resp.Topics[ti]
			for pi := range t.Partitions {
				rp := &t.Partitions[pi]
				if hideEpochs {
					rp.LeaderEpoch = -1
				}
				if rp.ErrorCode != 0 {
					continue
				}
				if fb := inst.front(rp.Leader); fb == nil || !fb.up.Load() {
					rp.ErrorCode = kerr.LeaderNotAvailable.Code
					rp.Leader = -1
				}
				isr := rp.ISR[:0]
				for _, id := range rp.ISR {
					if fb := inst.front(id); fb != nil && fb.up.Load() {
						isr = append(isr, id)
					}
				}
				rp.ISR = isr
			}
		}
		return resp.AppendTo(nil), nil
	}
}

// rewriteFindCoordinator points clients at the front; a coordinator that
// is restarting is reported unavailable so clients retry, which is what
// they see from a real cluster while the coordinator moves.
func (pc *proxyConn) rewriteFindCoordinator(version int16) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) {
		resp := kmsg.NewPtrFindCoordinatorResponse()
		resp.Version = version
		if err := resp.ReadFrom(b); err != nil {
			return nil, err
		}
		if resp.ErrorCode == 0 {
			fb := pc.b.inst.front(resp.NodeID)
			if fb == nil || !fb.up.Load() {
				resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				resp.NodeID, resp.Host, resp.Port = -1, "", -1
			} else {
				resp.Host, resp.Port = fb.host, int32(fb.portFor(pc.kind))
			}
		}
		return resp.AppendTo(nil), nil
	}
}

// offsetForLeaderEpoch forwards OffsetForLeaderEpoch v0–v2 as v3 and
// corrects the storage engine's answer for an epoch older than the
// current one that has no later batches yet (it says -1/-1, which clients
// take as data loss). The log is never truncated, so the end of such an
// epoch is the high watermark.
func (pc *proxyConn) offsetForLeaderEpoch(h requestHeader, body []byte) (pending, bool, []byte) {
	p := pending{corr: h.corr}
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.Version = h.version
	if err := req.ReadFrom(body); err != nil {
		p.closeConn = true
		return p, false, nil
	}
	type tp struct {
		t string
		p int32
	}
	asked := map[tp]int32{}
	for _, t := range req.Topics {
		for _, rp := range t.Partitions {
			asked[tp{t.Topic, rp.Partition}] = rp.LeaderEpoch
		}
	}
	req.Version = 3
	req.ReplicaID = -1
	out := appendRequestFrame(nil, req.Key(), req.Version, h.corr, h.clientID, req.AppendTo(nil))
	clientVersion := h.version
	cluster := pc.b.inst.cluster
	p.upstream = true
	p.convert = func(b []byte) ([]byte, error) {
		resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
		resp.Version = 3
		if err := resp.ReadFrom(b); err != nil {
			return nil, err
		}
		for ti := range resp.Topics {
			t := &resp.Topics[ti]
			for pi := range t.Partitions {
				rp := &t.Partitions[pi]
				if rp.ErrorCode != 0 || rp.EndOffset != -1 {
					continue
				}
				epoch := asked[tp{t.Topic, rp.Partition}]
				info := cluster.PartitionInfo(t.Topic, rp.Partition)
				if info != nil && epoch >= 0 && epoch < info.Epoch {
					rp.LeaderEpoch = epoch
					rp.EndOffset = info.HighWatermark
				}
			}
		}
		resp.Version = clientVersion
		return resp.AppendTo(nil), nil
	}
	return p, true, out
}

// autoCreateTopics creates the topics a Metadata request names that do
// not exist yet, with the instance's default partition count, before the
// request goes on to storage. It runs only while AllConfig enables
// automatic creation, and only for requests that allow it (always before
// Metadata v4, which has no such flag). Failures are left for the
// forwarded request to report as an unknown topic.
func (pc *proxyConn) autoCreateTopics(h requestHeader, body []byte) {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = h.version
	if err := req.ReadFrom(body); err != nil || (h.version >= 4 && !req.AllowAutoTopicCreation) {
		return
	}
	inst := pc.b.inst
	create := kmsg.NewPtrCreateTopicsRequest()
	create.Version = 4 // the newest non-flexible version; it takes replication factor -1
	create.TimeoutMillis = 5000
	for _, t := range req.Topics {
		if t.Topic == nil || checkTopicName(*t.Topic) != nil {
			continue
		}
		ct := kmsg.NewCreateTopicsRequestTopic()
		ct.Topic = *t.Topic
		ct.NumPartitions = inst.autoPartitions.Load()
		ct.ReplicationFactor = -1
		create.Topics = append(create.Topics, ct)
	}
	if len(create.Topics) == 0 || len(inst.upstream) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Only the storage controller creates topics; the request goes to
	// each node in turn until one is not NOT_CONTROLLER.
	for _, addr := range inst.upstream {
		resp, err := roundTrip(ctx, addr, create)
		if err != nil {
			inst.log.Warn("automatic topic creation failed", "err", err)
			return
		}
		notController := false
		for _, t := range resp.(*kmsg.CreateTopicsResponse).Topics {
			switch t.ErrorCode {
			case 0:
				inst.log.Info("topic created automatically", "topic", t.Topic, "partitions", inst.autoPartitions.Load())
			case kerr.NotController.Code:
				notController = true
			}
		}
		if !notController {
			return
		}
	}
}
