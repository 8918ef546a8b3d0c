package main

import (
	"context"
	"strings"
	"testing"

	"github.com/kafkaplane/kafkaplane/openapi"
)

// TestDataDirInUse: a second process on a data dir in use refuses to start
// and says why, since the worker id, nonce log and SQLite database there
// belong to one process.
func TestDataDirInUse(t *testing.T) {
	m := startMain(t)
	second := NewMain()
	second.Addr, second.DataDir, second.BrokerRuntime = "127.0.0.1:0", m.DataDir, "fake"
	second.RootAccessKeyID, second.RootAccessKeySecret = testKeyID, testKeySecret
	err := second.Open(context.Background())
	if err == nil {
		second.Close()
		t.Fatal("second process on one data dir started")
	}
	if !strings.Contains(err.Error(), "in use by another kafkaplane process") || !strings.Contains(err.Error(), "--broker-data-dir") {
		t.Fatalf("error %q does not say that the data dir is in use and what to do", err)
	}
	// The first one is unaffected.
	if code, body := httpGet(t, m.URL()+"/healthz"); code != 200 || !strings.Contains(body, "data plane: owner "+m.WorkerID) {
		t.Fatalf("/healthz of the first process: %d %q", code, body)
	}
}

// TestStandbyActionsRegistered: every action a standby serves itself is an
// alikafka action of the registry, so a renamed action cannot silently
// drop out of the table.
func TestStandbyActionsRegistered(t *testing.T) {
	g := openapi.NewRegistry()
	(&openapi.Instances{}).Register(g)
	known := map[string]bool{}
	for _, a := range g.Actions() {
		if a.Product == "alikafka" {
			known[a.Name] = true
		}
	}
	for name := range standbyActions {
		if !known[name] {
			t.Errorf("standbyActions lists %s, which is not an alikafka action", name)
		}
	}
}
