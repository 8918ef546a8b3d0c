package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHealthAndMetrics checks /healthz and that /metrics counts requests by
// action and code and records their latency.
func TestHealthAndMetrics(t *testing.T) {
	m := startMain(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\ndata plane: owner "+m.WorkerID+"\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	c := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	c.call(t, "2019-09-16", "GetAllInstanceIdList", nil)
	c.call(t, "2019-09-16", "UpgradeInstanceVersion", map[string]string{"InstanceId": "alikafka_post-cn-none", "TargetVersion": "2.2.0"})
	_, body := get("/metrics")
	for _, want := range []string{
		`kafkaplane_api_requests_total{action="GetAllInstanceIdList",code="200"} 1`,
		`kafkaplane_api_requests_total{action="UpgradeInstanceVersion",code="BIZ_INSTANCE_NOT_FOUND"} 1`,
		`kafkaplane_api_request_duration_seconds_count{action="GetAllInstanceIdList"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, _ := get("/nosuchpath"); code != 404 {
		t.Errorf("unknown path answered %d", code)
	}
}

// TestOperationStepMetric: every step the worker finishes is counted by
// name and final status, so a start shows its one DEPLOY_BROKERS step.
func TestOperationStepMetric(t *testing.T) {
	w := newWorld(t)
	w.instance()
	resp, err := http.Get(w.m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := `kafkaplane_operation_steps_total{status="COMPLETE",step="DEPLOY_BROKERS"} 1`
	if !strings.Contains(string(b), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
