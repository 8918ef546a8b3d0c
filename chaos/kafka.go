package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// dataTopic is the topic the producers write to.
const dataTopic = "chaos-data"

// traffic is a franz-go producer (acks=all) writing sequenced records and
// a group consumer reading them, on one instance's brokers. A client made
// while any broker runs 0.10.2 cannot be idempotent (0.10.2 has no
// InitProducerId) and stays so; once every broker offers InitProducerId,
// traffic replaces it with a fresh client, which is idempotent, so that
// exactly-once is checked from then on.
type traffic struct {
	endpoint  string
	prod      *kgo.Client // guarded by mu once the run started
	idem      bool        // whether prod is the idempotent replacement
	idemSince time.Time   // when it took over
	retired   []*kgo.Client
	cons      *kgo.Client

	mu       sync.Mutex
	acked    map[string]bool
	sentAt   map[string]time.Time
	ackedAt  map[string]time.Time
	produced int
	failures int
	firstErr []string
	consumed int

	stop chan struct{}
	wg   sync.WaitGroup
}

func clientOpts(endpoint string, opts ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(strings.Split(endpoint, ",")...), kgo.MetadataMinAge(250 * time.Millisecond)}, opts...)
}

// startTraffic begins producing rate records a second to dataTopic and
// consuming them.
func startTraffic(endpoint string, rate int) (*traffic, error) {
	prod, err := kgo.NewClient(clientOpts(endpoint, kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(60*time.Second), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		return nil, err
	}
	cons, err := kgo.NewClient(clientOpts(endpoint, kgo.ConsumeTopics(dataTopic), kgo.ConsumerGroup("chaos-g"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		prod.Close()
		return nil, err
	}
	t := &traffic{endpoint: endpoint, prod: prod, cons: cons, acked: map[string]bool{}, sentAt: map[string]time.Time{}, ackedAt: map[string]time.Time{}, stop: make(chan struct{})}
	t.wg.Add(3)
	go t.produce(rate)
	go t.consume()
	go t.watchIdempotence()
	return t, nil
}

// watchIdempotence swaps in an idempotent producer once every broker of
// the instance answers ApiVersions with InitProducerId.
func (t *traffic) watchIdempotence() {
	defer t.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		if !t.brokersOfferIdempotence() {
			continue
		}
		prod, err := kgo.NewClient(clientOpts(t.endpoint, kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.RecordDeliveryTimeout(60*time.Second), kgo.ProducerLinger(5*time.Millisecond))...)
		if err != nil {
			continue
		}
		t.mu.Lock()
		t.retired = append(t.retired, t.prod)
		t.prod, t.idem, t.idemSince = prod, true, time.Now()
		t.mu.Unlock()
		return
	}
}

// brokersOfferIdempotence asks every broker for its API versions.
func (t *traffic) brokersOfferIdempotence() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(clientOpts(t.endpoint)...)
	if err != nil {
		return false
	}
	defer cl.Close()
	vs, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil || len(vs) < 3 {
		return false
	}
	for _, v := range vs {
		if v.Err != nil {
			return false
		}
		if _, _, ok := v.KeyVersions(kmsg.InitProducerID.Int16()); !ok {
			return false
		}
	}
	return true
}

func (t *traffic) produce(rate int) {
	defer t.wg.Done()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		v := fmt.Sprintf("rec-%08d", i)
		t.mu.Lock()
		t.produced++
		t.sentAt[v] = time.Now()
		prod := t.prod
		t.mu.Unlock()
		prod.Produce(context.Background(), &kgo.Record{Topic: dataTopic, Key: []byte(v), Value: []byte(v)}, func(_ *kgo.Record, err error) {
			t.mu.Lock()
			defer t.mu.Unlock()
			if err != nil {
				if t.failures++; len(t.firstErr) < 3 {
					t.firstErr = append(t.firstErr, fmt.Sprintf("%s: %v", v, err))
				}
				return
			}
			t.acked[v] = true
			t.ackedAt[v] = time.Now()
		})
	}
}

func (t *traffic) consume() {
	defer t.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-t.stop; cancel() }()
	for ctx.Err() == nil {
		fs := t.cons.PollFetches(ctx)
		n := 0
		fs.EachRecord(func(*kgo.Record) { n++ })
		t.mu.Lock()
		t.consumed += n
		t.mu.Unlock()
	}
}

// finish stops the clients after every produced record was answered.
func (t *traffic) finish() {
	close(t.stop)
	t.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t.mu.Lock()
	clients := append(t.retired, t.prod)
	t.mu.Unlock()
	for _, cl := range clients {
		_ = cl.Flush(ctx)
		cl.Close()
	}
	t.cons.Close()
}

// readBack reads dataTopic from the start to its end offsets with a fresh
// client and counts each value, noting where its copies are and whether
// any copy was written by an idempotent producer (a producer id).
func readBack(endpoint string) (seen map[string]int, where map[string][]string, idem map[string]bool, total int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adminCl, err := kgo.NewClient(clientOpts(endpoint)...)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	defer adminCl.Close()
	ends, err := kadm.NewClient(adminCl).ListEndOffsets(ctx, dataTopic)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	if err := ends.Error(); err != nil {
		return nil, nil, nil, 0, err
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		want[o.Partition] = o.Offset
		total += int(o.Offset)
	})
	cl, err := kgo.NewClient(clientOpts(endpoint, kgo.ConsumeTopics(dataTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	defer cl.Close()
	seen, where, idem = map[string]int{}, map[string][]string{}, map[string]bool{}
	got := map[int32]int64{}
	done := func() bool {
		for p, end := range want {
			if got[p] < end {
				return false
			}
		}
		return true
	}
	for !done() {
		if ctx.Err() != nil {
			return seen, where, idem, total, fmt.Errorf("read back: reached %v of end offsets %v", got, want)
		}
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			where[string(r.Value)] = append(where[string(r.Value)], fmt.Sprintf("%d/%d", r.Partition, r.Offset))
			if r.ProducerID >= 0 {
				idem[string(r.Value)] = true
			}
			got[r.Partition] = r.Offset + 1
		})
	}
	return seen, where, idem, total, nil
}
