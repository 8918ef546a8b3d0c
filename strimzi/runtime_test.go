package strimzi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/strimzi"
	"github.com/kafkaplane/kafkaplane/strimzi/k8sdouble"
)

const ns = "kafka"

func newRuntime(t *testing.T) (*strimzi.Runtime, *k8sdouble.Server) {
	t.Helper()
	srv := k8sdouble.Start(k8sdouble.Options{})
	t.Cleanup(srv.Close)
	client, err := dynamic.NewForConfig(&rest.Config{Host: srv.URL, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := strimzi.New(strimzi.Config{Client: client, Namespace: ns, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return rt, srv
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const inst = "alikafka_post-cn-abc123"

func start(t *testing.T, rt *strimzi.Runtime, version string) []broker.BrokerStatus {
	t.Helper()
	st, err := rt.Start(ctxT(t), broker.Spec{InstanceID: inst, Version: version, Ports: []int{1, 2, 3},
		Config: map[string]string{"kafka.log.retention.hours": "72"}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return st
}

func TestStartCreatesClusterAndReportsListener(t *testing.T) {
	rt, srv := newRuntime(t)
	st := start(t, rt, "0.10.2")
	if len(st) != 3 {
		t.Fatalf("statuses = %+v", st)
	}
	for i, b := range st {
		if b.ID != int32(i) || !b.Up || b.Version != "0.10.2" {
			t.Errorf("broker %d = %+v", i, b)
		}
	}
	if want := "alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-0.alikafka-post-cn-abc123-kafka-brokers.kafka.svc:9092"; st[0].Addr != want {
		t.Errorf("addr = %q, want %q", st[0].Addr, want)
	}
	bs, ok := rt.Endpoint(inst)
	if want := "alikafka-post-cn-abc123-kafka-bootstrap.kafka.svc:9092"; !ok || bs != want {
		t.Errorf("endpoint = %q %v, want %q", bs, ok, want)
	}
	k := srv.Get("kafkas", ns, "alikafka-post-cn-abc123")
	spec := k["spec"].(map[string]any)["kafka"].(map[string]any)
	if spec["version"] != "4.0.0" || spec["metadataVersion"] != "4.0" {
		t.Errorf("spec.kafka = %v", spec)
	}
	if cfg := spec["config"].(map[string]any); cfg["log.retention.hours"] != "72" {
		t.Errorf("config = %v", cfg)
	}
	// Start again is idempotent and changes nothing.
	before := k["metadata"].(map[string]any)["generation"]
	start(t, rt, "0.10.2")
	if g := srv.Get("kafkas", ns, "alikafka-post-cn-abc123")["metadata"].(map[string]any)["generation"]; g != before {
		t.Errorf("generation %v → %v on a second Start", before, g)
	}
}

func TestUpgradeFollowsStrimziRoll(t *testing.T) {
	rt, srv := newRuntime(t)
	start(t, rt, "0.10.2")
	ctx := ctxT(t)
	revs := map[int32]string{}
	for id := int32(0); id < 3; id++ {
		revs[id] = podRevision(srv, id)
	}
	order, err := rt.RollOrder(ctx, inst)
	if err != nil || fmt.Sprint(order) != "[0 1 2]" {
		t.Fatalf("RollOrder = %v, %v", order, err)
	}
	eventsBefore := len(srv.Events())
	for _, id := range order {
		if err := rt.RestartBroker(ctx, inst, id, "2.2.0"); err != nil {
			t.Fatalf("RestartBroker %d: %v", id, err)
		}
		if err := rt.CheckBroker(ctx, inst, id, "2.2.0"); err != nil {
			t.Fatalf("CheckBroker %d: %v", id, err)
		}
		if r := podRevision(srv, id); r == revs[id] || r == "" {
			t.Errorf("pod %d revision %q did not change from %q", id, r, revs[id])
		}
		// The metadata version stays until the roll is over.
		if m := kafkaSpec(srv)["metadataVersion"]; m != "4.0" {
			t.Errorf("metadataVersion during roll = %v", m)
		}
	}
	// Strimzi rolled one pod at a time: every restart is followed by that
	// pod's ready before the next restart.
	var roll []string
	for _, e := range srv.Events()[eventsBefore:] {
		roll = append(roll, strings.Fields(e)[0]+" "+strings.Fields(e)[2])
	}
	want := []string{"restart kafka/alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-0", "ready kafka/alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-0",
		"restart kafka/alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-1", "ready kafka/alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-1",
		"restart kafka/alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-2", "ready kafka/alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-2"}
	if strings.Join(roll, "\n") != strings.Join(want, "\n") {
		t.Errorf("roll events:\n%s\nwant:\n%s", strings.Join(roll, "\n"), strings.Join(want, "\n"))
	}
	if err := rt.FinalizeUpgrade(ctx, inst, "2.2.0"); err != nil {
		t.Fatalf("FinalizeUpgrade: %v", err)
	}
	k := srv.Get("kafkas", ns, "alikafka-post-cn-abc123")
	st := k["status"].(map[string]any)
	if m := kafkaSpec(srv)["metadataVersion"]; m != "4.1" || st["kafkaVersion"] != "4.1.0" || st["kafkaMetadataVersion"] != "4.1-IV1" {
		t.Errorf("after finalize: spec metadata %v, status %v", m, st)
	}
	if st["observedGeneration"] != k["metadata"].(map[string]any)["generation"] {
		t.Errorf("observedGeneration %v, generation %v", st["observedGeneration"], k["metadata"].(map[string]any)["generation"])
	}
	// Every step is an observation: running them again changes nothing.
	gen := k["metadata"].(map[string]any)["generation"]
	if err := rt.RestartBroker(ctx, inst, 1, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	if err := rt.FinalizeUpgrade(ctx, inst, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	if g := srv.Get("kafkas", ns, "alikafka-post-cn-abc123")["metadata"].(map[string]any)["generation"]; g != gen {
		t.Errorf("repeated steps moved generation %v → %v", gen, g)
	}
	st2, err := rt.Status(ctx, inst)
	if err != nil || len(st2) != 3 || st2[2].Version != "2.2.0" {
		t.Errorf("Status = %+v, %v", st2, err)
	}
}

func TestUpgradeFailsWithStrimziCondition(t *testing.T) {
	rt, srv := newRuntime(t)
	start(t, rt, "0.10.2")
	ctx := ctxT(t)
	srv.Fail(ns, "alikafka-post-cn-abc123", "KafkaUpgradeException", "Kafka version 4.1.0 cannot be rolled: broker 1 has under-replicated partitions", 1)
	if err := rt.RestartBroker(ctx, inst, 0, "2.2.0"); err != nil {
		t.Fatalf("broker 0: %v", err)
	}
	err := rt.RestartBroker(ctx, inst, 1, "2.2.0")
	if err == nil || !strings.Contains(err.Error(), "NotReady (KafkaUpgradeException): Kafka version 4.1.0 cannot be rolled: broker 1 has under-replicated partitions") {
		t.Fatalf("broker 1: %v", err)
	}
	if err := rt.CheckBroker(ctx, inst, 0, "2.2.0"); err != nil {
		t.Errorf("CheckBroker of the rolled broker: %v", err)
	}
	if err := rt.CheckBroker(ctx, inst, 1, "2.2.0"); err == nil {
		t.Error("CheckBroker passed for a broker Strimzi did not roll")
	}
	if err := rt.FinalizeUpgrade(ctx, inst, "2.2.0"); err == nil {
		t.Error("FinalizeUpgrade passed while Strimzi reports an error")
	}
}

func TestUnsupportedVersionIsStrimziError(t *testing.T) {
	srv := k8sdouble.Start(k8sdouble.Options{SupportedVersions: []string{"4.1.0"}})
	defer srv.Close()
	client, _ := dynamic.NewForConfig(&rest.Config{Host: srv.URL, QPS: -1})
	rt, _ := strimzi.New(strimzi.Config{Client: client, Namespace: ns, PollInterval: 5 * time.Millisecond})
	_, err := rt.Start(ctxT(t), broker.Spec{InstanceID: inst, Version: "0.10.2", Ports: []int{1, 2, 3}})
	if err == nil || !strings.Contains(err.Error(), "Unsupported Kafka.spec.kafka.version: 4.0.0") {
		t.Fatalf("Start = %v", err)
	}
	if _, err := rt.Start(ctxT(t), broker.Spec{InstanceID: inst, Version: "9.9.9", Ports: []int{1}}); err == nil || !strings.Contains(err.Error(), "no Kafka version") {
		t.Fatalf("Start unmapped = %v", err)
	}
}

func TestStopStartDestroy(t *testing.T) {
	rt, srv := newRuntime(t)
	start(t, rt, "0.10.2")
	ctx := ctxT(t)
	if _, err := rt.Topics(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if err := rt.Stop(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if n := srv.Get("kafkanodepools", ns, "alikafka-post-cn-abc123-brokers")["spec"].(map[string]any)["replicas"]; n != float64(0) {
		t.Errorf("replicas after Stop = %v", n)
	}
	if _, err := rt.Topics(ctx, inst); !errors.Is(err, broker.ErrNotStarted) {
		t.Errorf("Topics after Stop = %v", err)
	}
	st, err := rt.Status(ctx, inst)
	if err != nil || len(st) != 0 {
		t.Errorf("Status after Stop = %v, %v", st, err)
	}
	if st := start(t, rt, "0.10.2"); len(st) != 3 {
		t.Errorf("restart: %+v", st)
	}
	if err := rt.Destroy(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if srv.Get("kafkas", ns, "alikafka-post-cn-abc123") != nil || srv.Get("kafkanodepools", ns, "alikafka-post-cn-abc123-brokers") != nil {
		t.Error("resources left after Destroy")
	}
	if err := rt.Destroy(ctx, inst); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestTopicResources(t *testing.T) {
	rt, srv := newRuntime(t)
	ctx := ctxT(t)
	if err := rt.CreateTopic(ctx, inst, broker.TopicSpec{Name: "orders", Partitions: 3}); !errors.Is(err, broker.ErrNotStarted) {
		t.Fatalf("CreateTopic before start = %v", err)
	}
	start(t, rt, "0.10.2")
	if err := rt.CreateTopic(ctx, inst, broker.TopicSpec{Name: "orders", Partitions: 3, Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
		t.Fatal(err)
	}
	if err := rt.CreateTopic(ctx, inst, broker.TopicSpec{Name: "orders", Partitions: 3}); !errors.Is(err, broker.ErrTopicExists) {
		t.Fatalf("second CreateTopic = %v", err)
	}
	if err := rt.CreateTopic(ctx, inst, broker.TopicSpec{Name: "Orders_v2", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	obj := srv.Get("kafkatopics", ns, strimzi.TopicResourceName("alikafka-post-cn-abc123", "Orders_v2"))
	if obj == nil || obj["spec"].(map[string]any)["topicName"] != "Orders_v2" {
		t.Fatalf("KafkaTopic for Orders_v2 = %v", obj)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rt.AddPartitions(ctx, inst, "orders", 2, 360); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := rt.AddPartitions(ctx, inst, "orders", 400, 360); !errors.Is(err, broker.ErrPartitionLimit) {
		t.Errorf("AddPartitions past the limit = %v", err)
	}
	if _, err := rt.AddPartitions(ctx, inst, "nope", 1, 360); !errors.Is(err, broker.ErrTopicNotFound) {
		t.Errorf("AddPartitions on a missing topic = %v", err)
	}
	ts, err := rt.Topics(ctx, inst)
	if err != nil || len(ts) != 2 || ts[0].Name != "Orders_v2" || ts[1].Name != "orders" || len(ts[1].Partitions) != 13 {
		t.Fatalf("Topics = %+v, %v", ts, err)
	}
	if err := rt.DeleteTopic(ctx, inst, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := rt.DeleteTopic(ctx, inst, "orders"); !errors.Is(err, broker.ErrTopicNotFound) {
		t.Errorf("second DeleteTopic = %v", err)
	}
}

func TestUserResources(t *testing.T) {
	rt, srv := newRuntime(t)
	ctx := ctxT(t)
	start(t, rt, "0.10.2")
	u := strimzi.UserSpec{Name: "alice", ACLs: []strimzi.ACL{{ResourceType: "topic", Name: "orders", Operations: []string{"Read", "Describe"}}}}
	if err := rt.EnsureUser(ctx, inst, u); err != nil {
		t.Fatal(err)
	}
	u.ACLs = append(u.ACLs, strimzi.ACL{ResourceType: "group", Name: "app-", PatternType: "prefix", Operations: []string{"Read"}})
	if err := rt.EnsureUser(ctx, inst, u); err != nil {
		t.Fatal(err)
	}
	obj := srv.Get("kafkausers", ns, "alice")
	acls := obj["spec"].(map[string]any)["authorization"].(map[string]any)["acls"].([]any)
	if len(acls) != 2 || obj["status"].(map[string]any)["username"] != "alice" {
		t.Errorf("KafkaUser = %v", obj)
	}
	if err := rt.EnsureUser(ctx, "alikafka_post-cn-other", u); !errors.Is(err, broker.ErrNotStarted) {
		t.Errorf("user of an instance that is not started = %v", err)
	}
	if err := rt.EnsureUser(ctx, inst, strimzi.UserSpec{Name: "Bad_Name"}); err == nil {
		t.Error("invalid user name accepted")
	}
	if err := rt.DeleteUser(ctx, inst, "alice"); err != nil {
		t.Fatal(err)
	}
	if srv.Get("kafkausers", ns, "alice") != nil {
		t.Error("KafkaUser left after DeleteUser")
	}
}

func podRevision(srv *k8sdouble.Server, id int32) string {
	p := srv.Get("pods", ns, fmt.Sprintf("alikafka-post-cn-abc123-alikafka-post-cn-abc123-brokers-%d", id))
	if p == nil {
		return ""
	}
	a, _ := p["metadata"].(map[string]any)["annotations"].(map[string]any)
	s, _ := a["strimzi.io/revision"].(string)
	return s
}

func kafkaSpec(srv *k8sdouble.Server) map[string]any {
	return srv.Get("kafkas", ns, "alikafka-post-cn-abc123")["spec"].(map[string]any)["kafka"].(map[string]any)
}

// TestStartLeavesRunningClusterToStrimzi: for a cluster that exists as
// wanted and that Strimzi has reconciled, Start reports the pods as they
// are instead of waiting for a pod Strimzi is bringing back; the
// data-plane check calls Start for such instances and must not hang on
// them.
func TestStartLeavesRunningClusterToStrimzi(t *testing.T) {
	rt, srv := newRuntime(t)
	start(t, rt, "0.10.2")
	srv.Hold(ns, "alikafka-post-cn-abc123", true)
	srv.SetPodReady(ns, strimzi.PodName(inst, 1), false)
	st := start(t, rt, "0.10.2")
	if len(st) != 3 || !st[0].Up || st[1].Up || !st[2].Up {
		t.Fatalf("statuses = %+v", st)
	}
	srv.Hold(ns, "alikafka-post-cn-abc123", false)
}
