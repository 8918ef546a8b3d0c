package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dataTopic is the topic the producers write to.
const dataTopic = "chaos-data"

// traffic is an idempotent franz-go producer (acks=all) writing sequenced
// records and a group consumer reading them, on one instance's brokers.
type traffic struct {
	endpoint string
	prod     *kgo.Client
	cons     *kgo.Client

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
	t.wg.Add(2)
	go t.produce(rate)
	go t.consume()
	return t, nil
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
		t.mu.Unlock()
		t.prod.Produce(context.Background(), &kgo.Record{Topic: dataTopic, Key: []byte(v), Value: []byte(v)}, func(_ *kgo.Record, err error) {
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
	_ = t.prod.Flush(ctx)
	t.prod.Close()
	t.cons.Close()
}

// readBack reads dataTopic from the start to its end offsets with a fresh
// client and counts each value, noting where its copies are.
func readBack(endpoint string) (seen map[string]int, where map[string][]string, total int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adminCl, err := kgo.NewClient(clientOpts(endpoint)...)
	if err != nil {
		return nil, nil, 0, err
	}
	defer adminCl.Close()
	ends, err := kadm.NewClient(adminCl).ListEndOffsets(ctx, dataTopic)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := ends.Error(); err != nil {
		return nil, nil, 0, err
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		want[o.Partition] = o.Offset
		total += int(o.Offset)
	})
	cl, err := kgo.NewClient(clientOpts(endpoint, kgo.ConsumeTopics(dataTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return nil, nil, 0, err
	}
	defer cl.Close()
	seen, where = map[string]int{}, map[string][]string{}
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
			return seen, where, total, fmt.Errorf("read back: reached %v of end offsets %v", got, want)
		}
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			where[string(r.Value)] = append(where[string(r.Value)], fmt.Sprintf("%d/%d", r.Partition, r.Offset))
			got[r.Partition] = r.Offset + 1
		})
	}
	return seen, where, total, nil
}
