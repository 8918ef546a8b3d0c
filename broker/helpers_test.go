package broker_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// freePorts returns n loopback ports that were free a moment ago, drawn
// at random from below the kernel's ephemeral range so that no outgoing
// connection of a test running alongside can take one while a broker is
// restarting or between tests that reuse them.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	lo, hi := 20000, 32768
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > lo+1000 {
				hi = v
			}
		}
	}
next:
	for range 100 {
		base := lo + rand.IntN(hi-lo-n)
		ports := make([]int, 0, n)
		for port := base; port < base+n; port++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				continue next
			}
			ln.Close()
			ports = append(ports, port)
		}
		return ports
	}
	t.Fatalf("no %d free ports in %d-%d", n, lo, hi)
	return nil
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("BROKER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

func newRuntime(t testing.TB, dir string) *broker.Kafka {
	t.Helper()
	k, err := broker.NewKafka(broker.KafkaConfig{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func startInstance(t testing.TB, k *broker.Kafka, id, version string, ports []int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := k.Start(ctx, broker.Spec{InstanceID: id, Version: version, Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, b := range st {
		addrs = append(addrs, b.Addr)
	}
	return addrs
}

func versionOf(v string) *kversion.Versions {
	if v == "0.10.2" {
		return kversion.V0_10_2()
	}
	return kversion.V2_2_0()
}

func newClient(t testing.TB, addrs []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{
		kgo.SeedBrokers(addrs...),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.RetryTimeout(20 * time.Second),
	}
	if os.Getenv("BROKER_TEST_KGO_LOG") != "" {
		base = append(base, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, func() string { return time.Now().Format("15:04:05.000000 ") })))
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t testing.TB, addrs []string, version, topic string, partitions int32) {
	t.Helper()
	cl := newClient(t, addrs, kgo.MaxVersions(versionOf(version)))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
	// Wait until every partition has a leader as seen through the front.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		md, err := kadm.NewClient(cl).Metadata(ctx, topic)
		if err == nil {
			td := md.Topics[topic]
			if td.Err == nil && len(td.Partitions) == int(partitions) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("topic %s never got leaders", topic)
}

// produceN produces n records "prefix-i" synchronously.
func produceN(t testing.TB, cl *kgo.Client, topic, prefix string, n int, headers bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for i := range n {
		r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}
		if headers {
			r.Headers = []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}
		}
		recs = append(recs, r)
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consumeAll reads topic from the start until want records arrived.
func consumeAll(t testing.TB, addrs []string, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addrs, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)...)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s", len(out), want, topic)
		}
		fs.EachError(func(tp string, p int32, err error) {
			if !strings.Contains(err.Error(), "context") {
				t.Logf("fetch error %s/%d: %v", tp, p, err)
			}
		})
		out = append(out, fs.Records()...)
	}
	return out
}
