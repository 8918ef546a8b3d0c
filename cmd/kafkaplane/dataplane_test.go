package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// portBlock returns the first of 41 loopback ports for one test's brokers,
// all bindable a moment ago. The block is drawn at random from below the
// kernel's ephemeral range: ports there are not handed to the outgoing
// connections of tests running alongside, which could otherwise take a
// broker's port between its allocation and its bind, or while it restarts.
func portBlock(t testing.TB) int {
	t.Helper()
	const size = 41
	lo, hi := 20000, ephemeralPortsFrom()
	for range 100 {
		base := lo + rand.IntN(hi-lo-size)
		if blockBindable(base, size) {
			return base
		}
	}
	t.Fatalf("no block of %d bindable ports in %d-%d", size, lo, hi)
	return 0
}

// ephemeralPortsFrom is where the kernel's ephemeral port range starts.
func ephemeralPortsFrom() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 21000 {
				return n
			}
		}
	}
	return 32768
}

func blockBindable(base, size int) bool {
	for port := base; port < base+size; port++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// withKafka runs real brokers, on a port block of this test's own.
func withKafka(t testing.TB) func(*Main) {
	base := portBlock(t)
	return func(m *Main) {
		m.BrokerRuntime = "kafka"
		m.PortMin, m.PortMax = base, base+40
	}
}

func seeds(endpoint string) []string { return strings.Split(endpoint, ",") }

func kgoClient(t testing.TB, endpoint string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds(endpoint)...), kgo.MetadataMinAge(250 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// guessVersions asks every broker for its ApiVersions and returns
// kversion's guess of the release for each.
func guessVersions(t testing.TB, endpoint string) []string {
	t.Helper()
	var out []string
	for _, addr := range seeds(endpoint) {
		cl := kgoClient(t, addr)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		vs, err := kadm.NewClient(cl).ApiVersions(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs.Sorted() {
			if v.NodeID >= 0 && v.Err == nil {
				out = append(out, kversion.FromApiVersionsResponse(v.Raw()).VersionGuess())
				break
			}
		}
	}
	return out
}

func produce(t testing.TB, cl *kgo.Client, topic, prefix string, n int, headers bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}
		if headers {
			r.Headers = []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}
		}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %s-%d: %v", prefix, i, err)
		}
	}
}

// consumeAll reads topic from the start until want records arrived.
func consumeAll(t testing.TB, endpoint, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := kgoClient(t, endpoint, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	if len(out) != want {
		t.Fatalf("consumed %d records of %s, want %d", len(out), topic, want)
	}
	return out
}

// TestDataPlaneThroughAPI starts a 0.10.2 instance through the API and
// uses it with real Kafka clients, then upgrades it to 2.2.0 through the API
// and checks that the old records are still there and headers now work.
func TestDataPlaneThroughAPI(t *testing.T) {
	m := startMain(t, withKafka(t))
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")
	vo := describe(t, c, id)
	endpoint := vo.EndPoint
	if len(seeds(endpoint)) != 3 || vo.DomainEndpoint == "" {
		t.Fatalf("EndPoint %q DomainEndpoint %q", endpoint, vo.DomainEndpoint)
	}
	for i, g := range guessVersions(t, endpoint) {
		if g != "v0.10.2" {
			t.Fatalf("broker %d answers as %s, want v0.10.2", i, g)
		}
	}

	// franz-go pinned to 0.10.2: topic through the admin API, produce,
	// consume.
	old := kgoClient(t, endpoint, kgo.MaxVersions(kversion.V0_10_2()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(old).CreateTopic(ctx, 3, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	produce(t, old, "orders", "v0102", 60, false)

	// sarama configured for 0.10.2 produces and consumes; headers are
	// impossible on 0.10.2.
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V0_10_2_0
	cfg.Producer.Return.Successes = true
	sp, err := sarama.NewSyncProducer(seeds(endpoint), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if _, _, err := sp.SendMessage(&sarama.ProducerMessage{Topic: "orders", Value: sarama.StringEncoder(fmt.Sprintf("sarama-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := sp.SendMessage(&sarama.ProducerMessage{Topic: "orders", Value: sarama.StringEncoder("h"),
		Headers: []sarama.RecordHeader{{Key: []byte("h"), Value: []byte("v")}}}); err == nil {
		t.Fatal("a header-carrying produce succeeded against 0.10.2")
	}
	sp.Close()
	consumeAll(t, endpoint, "orders", 100, kgo.MaxVersions(kversion.V0_10_2()))
	if path, err := exec.LookPath("kcat"); err == nil {
		out, err := exec.Command(path, "-b", endpoint, "-L", "-X", "broker.version.fallback=0.10.2").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "3 brokers") || !strings.Contains(string(out), `topic "orders"`) {
			t.Fatalf("kcat -L: %v\n%s", err, out)
		}
	}

	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	vo = waitStatus(t, c, id, 5)
	if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" || vo.EndPoint != endpoint {
		t.Fatalf("after upgrade %+v", vo)
	}
	for i, g := range guessVersions(t, endpoint) {
		if !strings.HasPrefix(g, "v2.2") {
			t.Fatalf("broker %d answers as %s after the upgrade", i, g)
		}
	}
	produce(t, kgoClient(t, endpoint), "orders", "v220", 20, true)
	recs := consumeAll(t, endpoint, "orders", 120)
	withHeaders := 0
	for _, r := range recs {
		if len(r.Headers) == 1 {
			withHeaders++
		}
	}
	if withHeaders != 20 {
		t.Errorf("%d records carry headers, want 20", withHeaders)
	}
}

// TestRollUnderLoadThroughAPI keeps an idempotent producer (acks=all) and a
// group consumer running while UpgradeInstanceVersion rolls the brokers:
// every acknowledged record is in the log exactly once and the consumer sees
// each exactly once, in order per partition.
func TestRollUnderLoadThroughAPI(t *testing.T) { rollWith(t, withKafka(t)) }

func rollWith(t *testing.T, opts ...func(*Main)) {
	underLoad(t, func(m *Main, c *alikafka.Client, id string) {
		if err := upgrade(c, id, "2.2.0"); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, c, id, 5)
	}, opts...)
}

// underLoad runs an idempotent producer and a group consumer on a 0.10.2
// instance while disrupt runs, and requires every acknowledged record to
// be in the log once and consumed once, without rewinds.
func underLoad(t *testing.T, disrupt func(m *Main, c *alikafka.Client, id string), opts ...func(*Main)) {
	m := startMain(t, opts...)
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")
	endpoint := describe(t, c, id).EndPoint
	admin := kadm.NewClient(kgoClient(t, endpoint))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := admin.CreateTopic(ctx, 6, 1, nil, "roll"); err != nil {
		t.Fatal(err)
	}

	// Uncapped franz-go negotiates per broker: it talks 0.10.2 to the old
	// brokers and 2.2.0 to the rolled ones.
	prod := kgoClient(t, endpoint, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(60*time.Second))
	cons := kgoClient(t, endpoint, kgo.ConsumeTopics("roll"), kgo.ConsumerGroup("roll-g"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))

	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		failures  int
		latencies []time.Duration
		seen      = map[string]int{}
		lastOff   = map[int32]int64{}
		rewinds   int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // ~400 records/s
		defer wg.Done()
		tick := time.NewTicker(2500 * time.Microsecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			v := fmt.Sprintf("r-%06d", i)
			start := time.Now()
			prod.Produce(ctx, &kgo.Record{Topic: "roll", Value: []byte(v)}, func(r *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if failures++; failures <= 3 {
						t.Logf("produce %s failed: %v", v, err)
					}
					return
				}
				acked[v] = true
				latencies = append(latencies, time.Since(start))
			})
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
			fs := cons.PollFetches(pctx)
			pcancel()
			fs.EachRecord(func(r *kgo.Record) {
				mu.Lock()
				seen[string(r.Value)]++
				if last, ok := lastOff[r.Partition]; ok && r.Offset <= last {
					rewinds++
				}
				lastOff[r.Partition] = r.Offset
				mu.Unlock()
			})
		}
	}()

	time.Sleep(time.Second)
	rollStart := time.Now()
	disrupt(m, c, id)
	rollTime := time.Since(rollStart)
	// Keep producing for a second after the roll, and until the run has
	// carried enough records to mean something on a loaded machine.
	time.Sleep(time.Second)
	for enough := time.Now().Add(30 * time.Second); time.Now().Before(enough); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 1000 {
			break
		}
	}
	close(stop)
	wg.Wait()
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Drain what the consumer has not seen yet.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		missing := 0
		for v := range acked {
			if seen[v] == 0 {
				missing++
			}
		}
		mu.Unlock()
		if missing == 0 {
			break
		}
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		cons.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			mu.Lock()
			seen[string(r.Value)]++
			mu.Unlock()
		})
		pcancel()
	}

	mu.Lock()
	defer mu.Unlock()
	log := consumeAll(t, endpoint, "roll", countLog(t, admin))
	inLog := map[string]int{}
	for _, r := range log {
		inLog[string(r.Value)]++
	}
	lost, dupLog, dupSeen, unseen := 0, 0, 0, 0
	for v := range acked {
		switch n := inLog[v]; {
		case n == 0:
			lost++
		case n > 1:
			dupLog++
		}
		switch n := seen[v]; {
		case n == 0:
			unseen++
		case n > 1:
			dupSeen++
		}
	}
	p99, maxLat := percentile(latencies, 0.99), percentile(latencies, 1)
	t.Logf("disruption through the API took %v; %d acked, %d produce errors, p99 %v, max %v", rollTime, len(acked), failures, p99, maxLat)
	if len(acked) < 1000 || lost > 0 || dupLog > 0 || dupSeen > 0 || unseen > 0 || rewinds > 0 {
		t.Errorf("acked %d: lost %d, duplicated in log %d, consumed twice %d, never consumed %d, rewinds %d",
			len(acked), lost, dupLog, dupSeen, unseen, rewinds)
	}
}

func countLog(t testing.TB, admin *kadm.Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := admin.ListEndOffsets(ctx, "roll")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ends.Each(func(o kadm.ListedOffset) { n += int(o.Offset) })
	return n
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	i := int(p*float64(len(s))) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}
