package broker

import (
	"context"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func benchPorts(b *testing.B, n int) []int {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
		defer ln.Close()
	}
	return ports
}

func benchStart(b *testing.B, k *Kafka, id, version string) (*instance, []string) {
	st, err := k.Start(context.Background(), Spec{InstanceID: id, Version: version, Ports: benchPorts(b, 3)})
	if err != nil {
		b.Fatal(err)
	}
	var addrs []string
	for _, s := range st {
		addrs = append(addrs, s.Addr)
	}
	inst, _ := k.get(id)
	return inst, addrs
}

func benchTopic(b *testing.B, addrs []string, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 6, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
}

// produceMB writes mb megabytes of 1 KiB records and returns MB/s.
func produceMB(b *testing.B, addrs []string, topic string, mb int) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.MaxBufferedRecords(64<<10))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	val := []byte(strings.Repeat("x", 1024))
	n := mb << 10
	start := time.Now()
	for range n {
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	return float64(mb) / time.Since(start).Seconds()
}

func benchMB(def int) int {
	if n, err := strconv.Atoi(os.Getenv("BROKER_BENCH_MB")); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkProduceThroughput compares produce throughput through the
// front with throughput straight to the storage engine, in the same run.
func BenchmarkProduceThroughput(b *testing.B) {
	k, err := NewKafka(KafkaConfig{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	inst, addrs := benchStart(b, k, "bench-tp", "2.2.0")
	benchTopic(b, addrs, "front")
	benchTopic(b, addrs, "direct")
	mb := benchMB(64)
	// Both sides write into the same storage engine, whose heap grows
	// with every record, so each iteration alternates them in slices
	// (and which side goes first): whichever ran second would otherwise
	// pay for the garbage collector's larger heap alone.
	const slices = 8
	chunk := max(1, mb/slices)
	var frontSecs, directSecs float64
	var total int
	for b.Loop() {
		for i := range slices {
			if i%2 == 0 {
				directSecs += float64(chunk) / produceMB(b, inst.upstream, "direct", chunk)
				frontSecs += float64(chunk) / produceMB(b, addrs, "front", chunk)
			} else {
				frontSecs += float64(chunk) / produceMB(b, addrs, "front", chunk)
				directSecs += float64(chunk) / produceMB(b, inst.upstream, "direct", chunk)
			}
			total += chunk
		}
	}
	front, direct := float64(total)/frontSecs, float64(total)/directSecs
	b.ReportMetric(front, "front-MB/s")
	b.ReportMetric(direct, "direct-MB/s")
	b.ReportMetric(front/direct, "ratio")
}

// BenchmarkUpgrade measures a 0.10.2 → 2.2.0 roll of three brokers with
// BROKER_BENCH_MB (default 64) stored, and for comparison a full stop and
// start of the instance, which reloads the stored data.
func BenchmarkUpgrade(b *testing.B) {
	mb := benchMB(64)
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		k, err := NewKafka(KafkaConfig{DataDir: dir, LeaderRebalanceDelay: -1})
		if err != nil {
			b.Fatal(err)
		}
		st, err := k.Start(context.Background(), Spec{InstanceID: "bench-up", Version: "0.10.2", Ports: benchPorts(b, 3)})
		if err != nil {
			b.Fatal(err)
		}
		var addrs []string
		for _, s := range st {
			addrs = append(addrs, s.Addr)
		}
		benchTopic(b, addrs, "data")
		produceMB(b, addrs, "data", mb)
		ctx := context.Background()
		b.StartTimer()
		start := time.Now()
		order, err := k.RollOrder(ctx, "bench-up")
		if err != nil {
			b.Fatal(err)
		}
		for _, id := range order {
			if err := k.RestartBroker(ctx, "bench-up", id, "2.2.0"); err != nil {
				b.Fatal(err)
			}
			if err := k.CheckBroker(ctx, "bench-up", id, "2.2.0"); err != nil {
				b.Fatal(err)
			}
		}
		roll := time.Since(start)
		b.StopTimer()
		k.Stop(ctx, "bench-up")
		start = time.Now()
		if _, err := k.Start(ctx, Spec{InstanceID: "bench-up", Version: "2.2.0", Ports: []int{statusPort(st[0]), statusPort(st[1]), statusPort(st[2])}}); err != nil {
			b.Fatal(err)
		}
		reload := time.Since(start)
		k.Close()
		b.ReportMetric(float64(roll.Milliseconds()), "roll-ms")
		b.ReportMetric(float64(reload.Milliseconds()), "cold-start-ms")
		b.ReportMetric(float64(mb), "MB-stored")
		b.StartTimer()
	}
}

func statusPort(s BrokerStatus) int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

func rssBytes() float64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	pages, _ := strconv.Atoi(f[1])
	return float64(pages * os.Getpagesize())
}

// BenchmarkIdleInstance reports what an idle started instance costs: RSS
// and goroutines, averaged over ten instances.
func BenchmarkIdleInstance(b *testing.B) {
	const n = 10
	for b.Loop() {
		b.StopTimer()
		k, err := NewKafka(KafkaConfig{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		debug.FreeOSMemory()
		g0, rss0 := runtime.NumGoroutine(), rssBytes()
		b.StartTimer()
		for i := range n {
			if _, err := k.Start(context.Background(), Spec{InstanceID: "idle-" + strconv.Itoa(i), Version: "2.2.0", Ports: benchPorts(b, 3)}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		time.Sleep(200 * time.Millisecond)
		runtime.GC()
		debug.FreeOSMemory()
		g1, rss1 := runtime.NumGoroutine(), rssBytes()
		b.ReportMetric(float64(g1-g0)/n, "goroutines/instance")
		b.ReportMetric((rss1-rss0)/n/(1<<20), "MiB-RSS/instance")
		k.Close()
		b.StartTimer()
	}
}
