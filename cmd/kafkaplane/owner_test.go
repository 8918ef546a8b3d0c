package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/openapi"
	"github.com/kafkaplane/kafkaplane/sqlstore"
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

// TestDataPlaneLeaseLost: a process whose data plane lease another process
// took stops its brokers and worker and refuses data plane work as a
// standby; once the lease is free again it takes it back and starts the
// brokers from the store.
func TestDataPlaneLeaseLost(t *testing.T) {
	m := startMain(t)
	la := legacyClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	id := createRunning(t, kafkaClient(t, m.ListenAddr()), "2.2.0")
	other, err := sqlstore.Open(context.Background(), filepath.Join(m.DataDir, "kafkaplane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// Another process takes the lease, as after a renewal that did not
	// reach the store in time.
	if _, ok, err := other.AcquireDataPlane(context.Background(), "worker-other", "127.0.0.1:1", time.Now().Add(time.Hour), time.Hour); err != nil || !ok {
		t.Fatalf("take the lease: %v %v", ok, err)
	}
	waitHealth := func(prefix string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			_, body := httpGet(t, m.URL()+"/healthz")
			if strings.Contains(body, "\n"+prefix) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/healthz %q, want a line %q…", body, prefix)
			}
		}
	}
	waitHealth("data plane: standby (owner worker-other at 127.0.0.1:1, lease until ")
	if st, err := m.owner.runtime().Status(context.Background(), id); err != nil || len(st) != 0 {
		t.Fatalf("brokers of a demoted process: %v %v", st, err)
	}
	topic := map[string]string{"InstanceId": id, "Topic": "orders", "Remark": "orders", "PartitionNum": "3"}
	if res := la.call(t, "2019-09-16", "CreateTopic", topic); res.status != 503 || res.code != "ServiceUnavailable" || !strings.Contains(res.msg, "worker-other") {
		t.Fatalf("CreateTopic on a standby: %d %s %q", res.status, res.code, res.msg)
	}
	if res := la.call(t, "2019-09-16", "GetInstanceList", nil); res.status != 200 {
		t.Fatalf("GetInstanceList on a standby: %d %s", res.status, res.code)
	}
	// The lease is released: the process takes it back and restores the
	// brokers before it serves data plane work again.
	if err := other.ReleaseDataPlane(context.Background(), "worker-other"); err != nil {
		t.Fatal(err)
	}
	waitHealth("data plane: owner " + m.WorkerID)
	if st, err := m.owner.runtime().Status(context.Background(), id); err != nil || len(st) != 3 {
		t.Fatalf("brokers after taking the lease back: %v %v", st, err)
	}
	if res := la.call(t, "2019-09-16", "CreateTopic", topic); res.status != 200 {
		t.Fatalf("CreateTopic on the owner again: %d %s %s", res.status, res.code, res.msg)
	}
}
