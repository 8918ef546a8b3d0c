package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// syncBuffer is a log sink that tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// kafkaPorts gives the test a block of size bindable loopback ports below
// the kernel's ephemeral range.
func kafkaPorts(t testing.TB, size int) func(*Main) {
	t.Helper()
	lo, hi := 20000, ephemeralPortsFrom()
	for range 100 {
		base := lo + rand.IntN(hi-lo-size)
		if blockBindable(base, size) {
			return func(m *Main) {
				m.BrokerRuntime = "kafka"
				m.PortMin, m.PortMax = base, base+size-1
			}
		}
	}
	t.Fatalf("no block of %d bindable ports", size)
	return nil
}

func inDir(dir string) func(*Main) { return func(m *Main) { m.DataDir = dir } }

func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue returns the text after name on its sample line in /metrics.
func metricValue(t testing.TB, m *Main, name string) string {
	t.Helper()
	_, body := httpGet(t, m.URL()+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return ""
}

// brokersAnswer reports whether every broker of endpoint answers a Kafka
// client's ApiVersions request.
func brokersAnswer(endpoint string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds(endpoint)...), kgo.RetryTimeout(time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	vs, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, v := range vs.Sorted() {
		if v.NodeID < 0 {
			continue
		}
		if v.Err != nil {
			return fmt.Errorf("broker %d: %w", v.NodeID, v.Err)
		}
		n++
	}
	if n != len(seeds(endpoint)) {
		return fmt.Errorf("%d of %d brokers answered", n, len(seeds(endpoint)))
	}
	return nil
}

// TestRestoreRetriesHeldPort holds one broker port of a running instance
// with another socket across a restart: the service starts anyway, reports
// itself degraded with the instance on /healthz and in the metric, logs
// why, keeps the instance Running in GetInstanceList, and once the port is
// free the brokers come back on their own with every record.
func TestRestoreRetriesHeldPort(t *testing.T) {
	dir := t.TempDir()
	ports := kafkaPorts(t, 12)
	m1 := startMain(t, ports, inDir(dir))
	c := kafkaClient(t, m1.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	endpoint := describe(t, c, id).EndPoint
	cl := kgoClient(t, endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, "orders", "before", 50, false)
	cl.Close()
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}

	held, err := net.Listen("tcp", seeds(endpoint)[1])
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	logs := &syncBuffer{}
	m2 := startMain(t, ports, inDir(dir), func(m *Main) { m.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	code, body := httpGet(t, m2.URL()+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "degraded") || !strings.Contains(body, id) {
		t.Fatalf("/healthz with a held port: %d %q", code, body)
	}
	if v := metricValue(t, m2, "kafkaplane_dataplane_down_instances"); v != "1" {
		t.Fatalf("kafkaplane_dataplane_down_instances %s, want 1", v)
	}
	if !strings.Contains(logs.String(), "address already in use") {
		t.Fatalf("no log line gives the cause:\n%s", logs.String())
	}
	c = kafkaClient(t, m2.ListenAddr())
	if vo := describe(t, c, id); vo.ServiceStatus != 5 {
		t.Fatalf("ServiceStatus %d while the brokers are down, want 5", vo.ServiceStatus)
	}

	held.Close()
	released := time.Now()
	deadline := released.Add(30 * time.Second)
	for {
		code, body = httpGet(t, m2.URL()+"/healthz")
		if code == http.StatusOK && brokersAnswer(endpoint) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("brokers not back 30 s after the port was released: /healthz %d %q; %v", code, body, brokersAnswer(endpoint))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("brokers answered %v after the port was released", time.Since(released).Round(time.Millisecond))
	if v := metricValue(t, m2, "kafkaplane_dataplane_down_instances"); v != "0" {
		t.Fatalf("kafkaplane_dataplane_down_instances %s after recovery, want 0", v)
	}
	recs := consumeAll(t, endpoint, "orders", 50)
	seen := map[string]bool{}
	for _, r := range recs {
		seen[string(r.Value)] = true
	}
	if len(seen) != 50 {
		t.Fatalf("%d distinct records after the restore, want 50", len(seen))
	}
}

// TestRestartThirtyInstances restarts a service with 30 running instances
// three times and waits until every broker answers a Kafka client.
func TestRestartThirtyInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 90 brokers")
	}
	const n = 30
	dir := t.TempDir()
	// Each instance holds a PLAINTEXT and a SASL_PLAINTEXT port per broker.
	opts := []func(*Main){kafkaPorts(t, 6*n+6), inDir(dir), lcFastQPS}
	m := startMain(t, opts...)
	c := kafkaClient(t, m.ListenAddr())
	var endpoints []string
	for range n {
		id := createRunning(t, c, "2.2.0")
		endpoints = append(endpoints, describe(t, c, id).EndPoint)
	}
	for round := 1; round <= 3; round++ {
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		m = startMain(t, opts...)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last time.Duration
		failed := map[string]error{}
		for _, ep := range endpoints {
			wg.Go(func() {
				deadline := time.Now().Add(60 * time.Second)
				for {
					err := brokersAnswer(ep)
					if err == nil {
						mu.Lock()
						last = max(last, time.Since(start))
						mu.Unlock()
						return
					}
					if time.Now().After(deadline) {
						mu.Lock()
						failed[ep] = err
						mu.Unlock()
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		if len(failed) > 0 {
			t.Fatalf("restart %d: %d instances do not answer: %v", round, len(failed), failed)
		}
		if code, body := httpGet(t, m.URL()+"/healthz"); code != http.StatusOK {
			t.Fatalf("restart %d: /healthz %d %q", round, code, body)
		}
		t.Logf("restart %d: all %d brokers answered %v after start", round, 3*n, last.Round(time.Millisecond))
	}
}

// TestKeeperRestartsLostBrokers takes the brokers of a Running instance
// away while the service runs (as a failed roll or a crashed data plane
// would) and refuses their start for a while: the service reports the
// instance down and starts its brokers once it can.
func TestKeeperRestartsLostBrokers(t *testing.T) {
	var refuse atomic.Bool
	m := startMain(t)
	fake := m.Runtime.(*broker.Fake)
	fake.FailOn = func(call string) error {
		if refuse.Load() && strings.HasPrefix(call, "start ") {
			return errors.New("simulated: address already in use")
		}
		return nil
	}
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	refuse.Store(true)
	if err := fake.Stop(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	waitHealth := func(wantCode int, wantIn string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body := httpGet(t, m.URL()+"/healthz")
			if code == wantCode && strings.Contains(body, wantIn) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/healthz %d %q, want %d with %q", code, body, wantCode, wantIn)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitHealth(http.StatusServiceUnavailable, id+": simulated: address already in use")
	if v := metricValue(t, m, "kafkaplane_dataplane_down_instances"); v != "1" {
		t.Fatalf("kafkaplane_dataplane_down_instances %s, want 1", v)
	}
	refuse.Store(false)
	waitHealth(http.StatusOK, "ok")
	st, err := fake.Status(context.Background(), id)
	if err != nil || len(st) != 3 || !st[0].Up {
		t.Fatalf("brokers after recovery: %+v %v", st, err)
	}
}
