package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// BenchmarkPipelineVsBareHandler measures signed GetAllInstanceIdList
// requests through the whole pipeline (parse, V1 verify, persisted nonce,
// throttle, handler over SQLite, JSON) against a bare net/http handler that
// returns the same bytes, over the same kind of keep-alive loopback
// connections. It reports both throughputs and their ratio from one run.
func BenchmarkPipelineVsBareHandler(b *testing.B) {
	m := startMain(b, func(m *Main) { m.QPS = map[string]float64{"GetAllInstanceIdList": 0} })
	const workers = 4
	n := max(b.N, 200)

	// Signed requests are made before timing: clients sign, the server
	// verifies, and only the server is being measured.
	now := time.Now()
	urls := make([]string, n)
	for i := range urls {
		p := url.Values{"Action": {"GetAllInstanceIdList"}, "Version": {"2019-09-16"}, "Format": {"JSON"}, "RegionId": {testRegion}, "SignatureType": {""}}
		rpcsig.SignV1("POST", p, testKeyID, testKeySecret, now, fmt.Sprintf("bench-%d-%d", now.UnixNano(), i))
		urls[i] = "/?" + p.Encode()
	}
	first, err := http.Post(m.URL()+"/?"+"x=1", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	first.Body.Close()
	sample, _ := http.NewRequest("POST", m.URL()+urls[0], nil)
	resp, err := http.DefaultClient.Do(sample)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("pipeline answered %d: %s", resp.StatusCode, body)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Write(body)
	}))
	defer bare.Close()

	run := func(base string, urls []string) time.Duration {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if int(i) >= len(urls) {
						return
					}
					resp, err := client.Post(base+urls[i], "application/x-www-form-urlencoded", nil)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("HTTP %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// The two servers take turns in chunks, so that whatever else the
	// machine does slows both alike.
	const chunks = 10
	var tPipeline, tBare time.Duration
	work := urls[1:]
	b.ResetTimer()
	for c := 0; c < chunks; c++ {
		part := work[c*len(work)/chunks : (c+1)*len(work)/chunks]
		tPipeline += run(m.URL(), part)
		tBare += run(bare.URL, part)
	}
	b.StopTimer()
	pipeline := float64(len(work)) / tPipeline.Seconds()
	baseline := float64(len(work)) / tBare.Seconds()
	b.ReportMetric(pipeline, "pipeline-req/s")
	b.ReportMetric(baseline, "bare-req/s")
	b.ReportMetric(pipeline/baseline, "ratio")
}
