package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// BenchmarkGatewayExternal measures what a client sees: signed V1
// GetInstanceList calls (one instance stored, SQLite, throttling raised)
// from this process to `kafkaplane serve` running as a separate process,
// against a separate bare net/http process (testdata/bare) that answers the
// same bytes. The same client code drives both: 8 goroutines over
// keep-alive loopback connections, each request signed afresh (new nonce
// and timestamp, as an SDK does). The sides take turns in slices so that
// whatever else the machine does slows both alike; the load generator's
// own CPU competes with both servers the same way.
//
//	go test ./cmd/kafkaplane -run x -bench GatewayExternal -benchtime 20000x -count 3
//
// It reports each side's req/s, their ratio, and each side's p50/p99
// latency. KAFKAPLANE_BENCH_PPROF=ADDR also starts the server with
// --pprof ADDR for profiling while the benchmark runs.
func BenchmarkGatewayExternal(b *testing.B) {
	const workers = 8
	dir := b.TempDir()
	bin := buildBinary(b, dir, "kafkaplane", ".")
	bareBin := buildBinary(b, dir, "bare", "./testdata/bare")

	addr := loopbackAddr(b)
	args := []string{"serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data"),
		"--broker-runtime", "fake", "--qps", "GetInstanceList=1000000"}
	if p := os.Getenv("KAFKAPLANE_BENCH_PPROF"); p != "" {
		args = append(args, "--pprof", p)
	}
	srv := exec.Command(bin, args...)
	srv.Env = append(os.Environ(), "KAFKAPLANE_ROOT_ACCESS_KEY_ID="+testKeyID, "KAFKAPLANE_ROOT_ACCESS_KEY_SECRET="+testKeySecret)
	// The request log goes to a file, as it would to a journal.
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	srv.Stdout, srv.Stderr = logFile, logFile
	startProcess(b, srv)
	base := "http://" + addr
	waitHTTP(b, base+"/healthz")

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	signer := newBenchSigner()
	if _, err := signer.call(client, base, url.Values{"Action": {"CreatePostPayOrder"}, "DeployType": {"5"},
		"DiskSize": {"500"}, "DiskType": {"1"}, "IoMaxSpec": {"alikafka.hw.2xlarge"}}); err != nil {
		b.Fatal(err)
	}
	query := url.Values{"Action": {"GetInstanceList"}}
	body, err := signer.call(client, base, query)
	if err != nil {
		b.Fatal(err)
	}
	var list struct {
		InstanceList struct{ InstanceVO []json.RawMessage }
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.InstanceList.InstanceVO) != 1 {
		b.Fatalf("GetInstanceList answered %s (%v)", body, err)
	}
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		b.Fatal(err)
	}
	bareAddr := loopbackAddr(b)
	startProcess(b, exec.Command(bareBin, bareAddr, bodyFile))
	bareBase := "http://" + bareAddr
	waitHTTP(b, bareBase+"/")

	n := max(b.N, 4000)
	const slices = 50
	var gw, bare benchSide
	b.ResetTimer()
	for s := 0; s < slices; s++ {
		part := (s+1)*n/slices - s*n/slices
		gw.run(b, client, signer, base, query, part, workers)
		bare.run(b, client, signer, bareBase, query, part, workers)
	}
	b.StopTimer()
	b.ReportMetric(gw.rate(), "gateway-req/s")
	b.ReportMetric(bare.rate(), "bare-req/s")
	b.ReportMetric(gw.rate()/bare.rate(), "ratio")
	b.ReportMetric(gw.percentile(0.50), "gateway-p50-µs")
	b.ReportMetric(gw.percentile(0.99), "gateway-p99-µs")
	b.ReportMetric(bare.percentile(0.50), "bare-p50-µs")
	b.ReportMetric(bare.percentile(0.99), "bare-p99-µs")
}

// benchSide accumulates one server's time and latencies over its slices.
type benchSide struct {
	elapsed   time.Duration
	requests  int
	latencies []time.Duration
}

func (s *benchSide) run(b *testing.B, client *http.Client, signer *benchSigner, base string, query url.Values, n, workers int) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if int(i) >= n {
					return
				}
				t := time.Now()
				if _, err := signer.call(client, base, query); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	s.elapsed += time.Since(start)
	s.requests += n
	s.latencies = append(s.latencies, lat...)
}

func (s *benchSide) rate() float64 { return float64(s.requests) / s.elapsed.Seconds() }

// percentile returns the q-quantile latency in microseconds.
func (s *benchSide) percentile(q float64) float64 {
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	return float64(l[int(q*float64(len(l)-1))].Microseconds())
}

// benchSigner signs requests as the legacy SDK does: V1, every parameter
// in the query, a fresh nonce and timestamp per request.
type benchSigner struct {
	prefix string
	seq    atomic.Uint64
}

func newBenchSigner() *benchSigner { return &benchSigner{prefix: rand.Text()[:10]} }

func (s *benchSigner) call(client *http.Client, base string, query url.Values) ([]byte, error) {
	p := url.Values{"Version": {"2019-09-16"}, "Format": {"JSON"}, "RegionId": {testRegion}}
	for k, v := range query {
		p[k] = v
	}
	rpcsig.SignV1("POST", p, testKeyID, testKeySecret, time.Now(), fmt.Sprintf("%s-%d", s.prefix, s.seq.Add(1)))
	resp, err := client.Post(base+"/?"+p.Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return body, nil
}

// buildBinary builds the package at pkg into dir/name.
func buildBinary(b *testing.B, dir, name, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// startProcess starts cmd and stops it when the benchmark ends.
func startProcess(b *testing.B, cmd *exec.Cmd) {
	b.Helper()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// loopbackAddr returns a loopback address that was free a moment ago.
func loopbackAddr(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP waits until url answers at all.
func waitHTTP(b *testing.B, u string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return
		}
		if ctx.Err() != nil {
			b.Fatalf("%s did not answer: %v", u, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
