package broker_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRollUnderLoadSCRAM rolls 0.10.2 to 2.2.0 while a SCRAM producer
// (idempotent, acks=all) and a SCRAM group consumer work through the
// SASL_PLAINTEXT listener with ACLs enforced: every reconnect logs in
// again, and the security set at start holds on every restarted broker.
func TestRollUnderLoadSCRAM(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	const id, topic, group = "alikafka_post-rollsasl", "roll", "roll-g"
	acls := []broker.ACL{
		{Principal: "User:app", ResourceType: broker.ResourceTopic, ResourceName: "ro", PatternType: broker.PatternPrefixed, Operation: broker.OpWrite, Permission: broker.Allow},
		{Principal: "User:app", ResourceType: broker.ResourceTopic, ResourceName: topic, PatternType: broker.PatternLiteral, Operation: broker.OpRead, Permission: broker.Allow},
		{Principal: "User:app", ResourceType: broker.ResourceGroup, ResourceName: group, PatternType: broker.PatternLiteral, Operation: broker.OpRead, Permission: broker.Allow},
		{Principal: "User:app", ResourceType: broker.ResourceCluster, Operation: broker.OpIdempotentWrite, Permission: broker.Allow},
	}
	sec := broker.Security{ACLEnabled: true, ACLs: acls,
		Users: []broker.SaslUser{mustUser(t, "app", "app-secret", broker.MechanismScramSHA256)}}
	si := startSecure(t, k, id, "0.10.2", sec)
	createTopic(t, si.plain, "0.10.2", topic, 6)
	login := kgo.SASL(saslMechanism(broker.MechanismScramSHA256, "app", "app-secret"))

	prod := newClient(t, si.sasl, login, kgo.RecordDeliveryTimeout(60*time.Second), kgo.ProducerLinger(0))
	var (
		mu       sync.Mutex
		acked    = map[int]bool{}
		lat      []time.Duration
		rollLat  []time.Duration
		errs     []error
		rolling  atomic.Bool
		wg       sync.WaitGroup
		seq      int
		stopProd = make(chan struct{})
		prodDone = make(chan struct{})
	)
	go func() {
		defer close(prodDone)
		tick := time.NewTicker(2 * time.Millisecond) // about 500 records/s
		defer tick.Stop()
		for {
			select {
			case <-stopProd:
				return
			case <-tick.C:
			}
			n := seq
			seq++
			start, during := time.Now(), rolling.Load()
			wg.Add(1)
			prod.Produce(context.Background(), &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(n))}, func(_ *kgo.Record, err error) {
				defer wg.Done()
				d := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				acked[n] = true
				lat = append(lat, d)
				if during {
					rollLat = append(rollLat, d)
				}
			})
		}
	}()

	cons := newClient(t, si.sasl, login, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	var (
		cmu      sync.Mutex
		seen     = map[string]int{}
		consErrs int
		consDone = make(chan struct{})
		cctx, cc = context.WithCancel(context.Background())
	)
	go func() {
		defer close(consDone)
		for cctx.Err() == nil {
			fs := cons.PollFetches(cctx)
			if fs.IsClientClosed() {
				return
			}
			cmu.Lock()
			fs.EachError(func(tp string, p int32, err error) {
				if cctx.Err() == nil {
					consErrs++
					t.Logf("consumer error %s/%d: %v", tp, p, err)
				}
			})
			fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
			cmu.Unlock()
		}
	}()

	time.Sleep(time.Second)
	rolling.Store(true)
	took := rollInstance(t, k, id, "2.2.0", 500*time.Millisecond)
	rolling.Store(false)
	time.Sleep(time.Second)
	close(stopProd)
	<-prodDone
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := prod.Flush(wctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	mu.Lock()
	nAcked := len(acked)
	mu.Unlock()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		cmu.Lock()
		n := len(seen)
		cmu.Unlock()
		if n >= nAcked {
			break
		}
	}
	cc()
	<-consDone

	// The log, read back over SASL too, holds every acknowledged record
	// exactly once.
	inLog := map[string]int{}
	for _, r := range consumeAll(t, si.sasl, topic, nAcked, login) {
		inLog[string(r.Value)]++
	}
	var missing, dups, consMissing int
	cmu.Lock()
	for n := range acked {
		switch c := inLog[strconv.Itoa(n)]; {
		case c == 0:
			missing++
		case c > 1:
			dups++
		}
		if seen[strconv.Itoa(n)] == 0 {
			consMissing++
		}
	}
	cmu.Unlock()
	t.Logf("roll took %v; sent %d, acked %d, produce errors %d; produce p99 %v, during roll p99 %v max %v (n=%d)",
		took, seq, nAcked, len(errs), percentile(lat, 0.99), percentile(rollLat, 0.99), percentile(rollLat, 1), len(rollLat))
	t.Logf("log: missing %d, duplicated %d; group consumer: missing %d, errors %d", missing, dups, consMissing, consErrs)
	for i, err := range errs {
		if i < 5 {
			t.Logf("produce error: %v", err)
		}
	}
	if len(errs) > 0 || missing > 0 || dups > 0 || consMissing > 0 {
		t.Fatal("roll under SCRAM was not clean")
	}
	if p99 := percentile(rollLat, 0.99); p99 > time.Second {
		t.Errorf("produce p99 during roll %v > 1s", p99)
	}
	st, _ := k.Status(context.Background(), id)
	for _, b := range st {
		if b.Version != "2.2.0" || !b.Up {
			t.Fatalf("after roll: %+v", b)
		}
	}
}
