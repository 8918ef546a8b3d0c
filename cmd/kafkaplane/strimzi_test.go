package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"

	"github.com/kafkaplane/kafkaplane/strimzi"
	"github.com/kafkaplane/kafkaplane/strimzi/k8sdouble"
)

const kubeNS = "kafka"

// withStrimzi points serve at the API double through a kubeconfig file, as
// an operator outside the cluster would run it.
func withStrimzi(t testing.TB, srv *k8sdouble.Server) func(*Main) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: double
  cluster:
    server: %s
contexts:
- name: double
  context:
    cluster: double
    user: test
current-context: double
users:
- name: test
  user:
    token: test-token
`, srv.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(m *Main) {
		m.BrokerRuntime = "strimzi"
		m.Strimzi.Kubeconfig = path
		m.Strimzi.Namespace = kubeNS
		m.Strimzi.Poll = 5 * time.Millisecond
	}
}

// operationSteps returns the newest operation of the instance as
// "STATE" and its steps as "NAME[broker] STATUS".
func operationSteps(t *testing.T, m *Main, id string) (state string, steps []string, errInfo string) {
	t.Helper()
	tc := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	r := tc.call(t, "2019-09-16", "ListInstanceOperations", map[string]string{"InstanceId": id})
	if r.code != "" {
		t.Fatalf("ListInstanceOperations: %s %s", r.code, r.msg)
	}
	ops := lcArray(r.body, "Operations", "OperationVO")
	if len(ops) == 0 {
		t.Fatal("no operations")
	}
	op := ops[0]
	for _, st := range lcArray(op, "Steps", "StepVO") {
		name := lcStr(st, "StepName")
		if b := fmt.Sprint(lcGet(st, "BrokerId")); name == "ROLL_BROKER" {
			name += "[" + b + "]"
		}
		steps = append(steps, name+" "+lcStr(st, "StepStatus"))
	}
	return lcStr(op, "OperationState"), steps, lcStr(op, "ErrorInfo", "ErrorCode") + ": " + lcStr(op, "ErrorInfo", "ErrorString")
}

func kafkaField(srv *k8sdouble.Server, id string, path ...string) any {
	var cur any = map[string]any(srv.Get("kafkas", kubeNS, strimzi.ClusterName(id)))
	for _, p := range path {
		m, _ := cur.(map[string]any)
		cur = m[p]
	}
	return cur
}

func restarts(srv *k8sdouble.Server) []string {
	var out []string
	for _, e := range srv.Events() {
		if strings.HasPrefix(e, "restart ") {
			out = append(out, strings.Fields(e)[2])
		}
	}
	return out
}

// TestStrimziStartUpgradeThroughSDK drives the Strimzi runtime as a user
// does: the official SDK starts an instance (a Kafka resource appears, its
// listener becomes the EndPoint), makes topics, and upgrades it; the
// upgrade follows Strimzi's roll pod by pod and ends with the metadata
// version.
func TestStrimziStartUpgradeThroughSDK(t *testing.T) {
	srv := k8sdouble.Start(k8sdouble.Options{})
	defer srv.Close()
	m := startMain(t, withStrimzi(t, srv))
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")

	name := strimzi.ClusterName(id)
	if v := kafkaField(srv, id, "spec", "kafka", "version"); v != "4.0.0" {
		t.Fatalf("spec.kafka.version = %v", v)
	}
	vo := describe(t, c, id)
	if want := name + "-kafka-bootstrap.kafka.svc:9092"; vo.EndPoint != want || vo.DomainEndpoint != want {
		t.Errorf("EndPoint %q DomainEndpoint %q, want %q", vo.EndPoint, vo.DomainEndpoint, want)
	}

	ct := alikafka.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.Remark, ct.PartitionNum = id, "orders", "order events", "6"
	if _, err := c.CreateTopic(ct); err != nil {
		t.Fatal(err)
	}
	mp := alikafka.CreateModifyPartitionNumRequest()
	mp.InstanceId, mp.Topic, mp.AddPartitionNum = id, "orders", "2"
	if _, err := c.ModifyPartitionNum(mp); err != nil {
		t.Fatal(err)
	}
	topic := srv.Get("kafkatopics", kubeNS, strimzi.TopicResourceName(name, "orders"))
	if spec, _ := topic["spec"].(map[string]any); spec["partitions"] != float64(8) || spec["topicName"] != "orders" {
		t.Errorf("KafkaTopic spec = %v", topic["spec"])
	}
	dt := alikafka.CreateDeleteTopicRequest()
	dt.InstanceId, dt.Topic = id, "orders"
	if _, err := c.DeleteTopic(dt); err != nil {
		t.Fatal(err)
	}
	if srv.Get("kafkatopics", kubeNS, strimzi.TopicResourceName(name, "orders")) != nil {
		t.Error("KafkaTopic left after DeleteTopic")
	}

	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	vo = waitStatus(t, c, id, 5)
	if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" || vo.ViewInstanceStatusCode != 2 {
		t.Fatalf("after upgrade %+v", vo)
	}
	state, steps, _ := operationSteps(t, m, id)
	want := []string{"INITIALIZE_UPDATE COMPLETE", "ROLL_BROKER[0] COMPLETE", "ROLL_BROKER[1] COMPLETE", "ROLL_BROKER[2] COMPLETE", "FINALIZE_UPDATE COMPLETE"}
	if state != "COMPLETE" || strings.Join(steps, ",") != strings.Join(want, ",") {
		t.Errorf("operation %s steps %v, want COMPLETE %v", state, steps, want)
	}
	if v, mv := kafkaField(srv, id, "status", "kafkaVersion"), kafkaField(srv, id, "status", "kafkaMetadataVersion"); v != "4.1.0" || mv != "4.1-IV1" {
		t.Errorf("status kafkaVersion %v kafkaMetadataVersion %v", v, mv)
	}
	if mv := kafkaField(srv, id, "spec", "kafka", "metadataVersion"); mv != "4.1" {
		t.Errorf("spec metadataVersion %v", mv)
	}
	pod := func(i int) string { return kubeNS + "/" + strimzi.PodName(id, int32(i)) }
	if got, want := restarts(srv), []string{pod(0), pod(1), pod(2)}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pods restarted %v, want each once in order %v", got, want)
	}
}

// TestStrimziUpgradeFailsWithCondition: an error condition Strimzi sets
// during the roll fails the operation with Strimzi's message, and the
// instance shows the failed upgrade (5 / 102) on its old version.
func TestStrimziUpgradeFailsWithCondition(t *testing.T) {
	srv := k8sdouble.Start(k8sdouble.Options{})
	defer srv.Close()
	m := startMain(t, withStrimzi(t, srv))
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")
	msg := "Pod " + strimzi.PodName(id, 1) + " is not ready after the restart: under-replicated partitions"
	srv.Fail(kubeNS, strimzi.ClusterName(id), "FatalProblem", msg, 1)
	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for describe(t, c, id).ViewInstanceStatusCode != 102 {
		if time.Now().After(deadline) {
			t.Fatalf("instance never showed the failed upgrade: %+v", describe(t, c, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
	vo := describe(t, c, id)
	if vo.ServiceStatus != 5 || vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "0.10.2" {
		t.Errorf("after failed upgrade %+v", vo)
	}
	state, steps, errInfo := operationSteps(t, m, id)
	if state != "FAILED" || !strings.HasPrefix(errInfo, "ROLL_BROKER_FAILED: ") || !strings.Contains(errInfo, "NotReady (FatalProblem): "+msg) {
		t.Errorf("operation %s error %q", state, errInfo)
	}
	if want := "INITIALIZE_UPDATE COMPLETE,ROLL_BROKER[0] COMPLETE,ROLL_BROKER[1] FAILED,ROLL_BROKER[2] PENDING,FINALIZE_UPDATE PENDING"; strings.Join(steps, ",") != want {
		t.Errorf("steps %v, want %s", steps, want)
	}
}

// TestStrimziControlPlaneRestartMidUpgrade stops kafkaplane after it asked
// Strimzi for the new version; Strimzi rolls on without it. The restarted
// process resumes the operation, finds the pods rolled, and finishes with
// the metadata version, without asking for any pod to roll again.
func TestStrimziControlPlaneRestartMidUpgrade(t *testing.T) {
	srv := k8sdouble.Start(k8sdouble.Options{})
	defer srv.Close()
	dir := t.TempDir()
	opts := []func(*Main){withStrimzi(t, srv), func(m *Main) { m.DataDir = dir }}
	m := startMain(t, opts...)
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")
	name := strimzi.ClusterName(id)

	srv.Hold(kubeNS, name, true)
	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for kafkaField(srv, id, "spec", "kafka", "version") != "4.1.0" {
		if time.Now().After(deadline) {
			t.Fatal("the version was never patched")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, steps, _ := operationSteps(t, m, id); len(steps) < 2 || steps[1] != "ROLL_BROKER[0] IN_PROGRESS" {
		t.Fatalf("steps before the stop: %v", steps)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Strimzi rolls every pod while kafkaplane is down.
	srv.Hold(kubeNS, name, false)
	for kafkaField(srv, id, "status", "kafkaVersion") != "4.1.0" {
		if time.Now().After(deadline) {
			t.Fatal("the double never finished the roll")
		}
		time.Sleep(5 * time.Millisecond)
	}

	m2 := startMain(t, opts...)
	c2 := kafkaClient(t, m2.ListenAddr())
	vo := waitStatus(t, c2, id, 5)
	if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" {
		t.Fatalf("after resumed upgrade %+v", vo)
	}
	state, steps, _ := operationSteps(t, m2, id)
	if state != "COMPLETE" {
		t.Errorf("operation %s steps %v", state, steps)
	}
	if mv := kafkaField(srv, id, "status", "kafkaMetadataVersion"); mv != "4.1-IV1" {
		t.Errorf("kafkaMetadataVersion %v", mv)
	}
	if got := restarts(srv); len(got) != 3 {
		t.Errorf("pods restarted %v, want each once", got)
	}
	if v := kafkaField(srv, id, "spec", "kafka", "version"); v != "4.1.0" {
		t.Errorf("spec.kafka.version after restart = %v", v)
	}
}

// TestServeFlagsStrimzi: the Strimzi settings parse from flags, the DSN
// may come from KAFKAPLANE_DB (so that deploy/ keeps it out of the
// command line), and a version map that leaves a catalogue version out
// stops serve before anything starts.
func TestServeFlagsStrimzi(t *testing.T) {
	t.Setenv("KAFKAPLANE_DB", "postgres://u:p@db:5432/kp")
	m := NewMain()
	if err := m.ParseFlags([]string{"--broker-runtime", "strimzi", "--kube-namespace", "brokers", "--strimzi-poll", "1s"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if m.DSN != "postgres://u:p@db:5432/kp" || m.Strimzi.Namespace != "brokers" || m.Strimzi.Poll != time.Second {
		t.Errorf("parsed DSN %q namespace %q poll %s", m.DSN, m.Strimzi.Namespace, m.Strimzi.Poll)
	}
	m = NewMain()
	if err := m.ParseFlags([]string{"--db", "postgres://flag/x"}, io.Discard); err != nil || m.DSN != "postgres://flag/x" {
		t.Errorf("--db over the environment: %q %v", m.DSN, err)
	}
	for _, tc := range []struct{ args, want string }{
		{"--strimzi-versions 2.2.0=4.1.0/4.1", "catalogue version 0.10.2 has no Kafka version"},
		{"--strimzi-versions 0.10.2=4.0.0", "want ALIKAFKA_VERSION=KAFKA_VERSION/METADATA_VERSION"},
		{"--kube-namespace Bad_NS", "--kube-namespace"},
	} {
		m := NewMain()
		m.DataDir = t.TempDir()
		if err := m.ParseFlags(append([]string{"--broker-runtime", "strimzi"}, strings.Fields(tc.args)...), io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want %q", tc.args, err, tc.want)
		}
	}
}
