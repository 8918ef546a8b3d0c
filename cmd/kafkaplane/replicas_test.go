package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// replicaPostgres returns the URL of a fresh schema in the PostgreSQL of
// KAFKAPLANE_TEST_POSTGRES_URL, dropped when the test ends.
func replicaPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("KAFKAPLANE_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("KAFKAPLANE_TEST_POSTGRES_URL is not set; run eval \"$(scripts/postgres.sh start)\" to include PostgreSQL")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 6)
	rand.Read(b)
	schema := "replicas_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// replica is one `kafkaplane serve` process of the test.
type replica struct {
	t       *testing.T
	bin     string
	addr    string
	dataDir string
	args    []string
	env     []string
	cmd     *exec.Cmd
}

func (r *replica) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, append([]string{"serve", "--addr", r.addr, "--data-dir", r.dataDir}, r.args...)...)
	r.cmd.Env = append(os.Environ(), r.env...)
	r.cmd.Stderr = io.Discard
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	waitHealthy(r.t, "http://"+r.addr)
}

func (r *replica) signal(sig syscall.Signal) {
	r.cmd.Process.Signal(sig)
	r.cmd.Wait()
}

// health returns /healthz's data plane line.
func (r *replica) health() string {
	resp, err := http.Get("http://" + r.addr + "/healthz")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "data plane: ") {
			return line
		}
	}
	return string(b)
}

// replayAcross forwards each request to first, then sends the very same
// request (method, URI, headers, Host and body) to second, and answers with
// second's response: one signed request presented to two replicas.
func replayAcross(t *testing.T, first, second string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		send := func(target string) *http.Response {
			out, _ := http.NewRequest(r.Method, "http://"+target+r.URL.RequestURI(), strings.NewReader(string(body)))
			out.Header = r.Header.Clone()
			out.Host = r.Host
			resp, err := http.DefaultTransport.RoundTrip(out)
			if err != nil {
				t.Errorf("replay: %v", err)
				return nil
			}
			return resp
		}
		if resp := send(first); resp != nil {
			if resp.StatusCode != 200 {
				t.Errorf("first delivery to %s: HTTP %d", first, resp.StatusCode)
			}
			resp.Body.Close()
		}
		resp := send(second)
		if resp == nil {
			http.Error(w, "replay failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestReplicasOnPostgres runs two `kafkaplane serve` processes on one
// PostgreSQL, each with its own data dir and one shared broker data dir,
// and drives them alternately through the official SDKs: the second is a
// standby that serves store actions and refuses data plane work; a nonce
// used on one is refused by the other; RAM changes on one bind the other
// at once; a throttling burst split over both admits what one GCRA
// allows; and when the owner is SIGKILLed in the middle of a roll, the
// standby takes the data plane over and completes the upgrade with every
// record kept.
func TestReplicasOnPostgres(t *testing.T) {
	dsn := replicaPostgres(t)
	bin := filepath.Join(t.TempDir(), "kafkaplane")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	brokers := t.TempDir()
	base := portBlock(t)
	const throttled = "GetAllInstanceIdList"
	const qps = 3
	args := []string{"--db", dsn, "--broker-data-dir", brokers,
		"--broker-ports", fmt.Sprintf("%d-%d", base, base+40), "--qps", fmt.Sprintf("%s=%d", throttled, qps)}
	env := []string{"KAFKAPLANE_ROOT_ACCESS_KEY_ID=" + testKeyID, "KAFKAPLANE_ROOT_ACCESS_KEY_SECRET=" + testKeySecret}
	a := &replica{t: t, bin: bin, addr: freeAddr(t), dataDir: t.TempDir(), args: args, env: env}
	a.start()
	defer func() { a.cmd.Process.Kill(); a.cmd.Wait() }()
	ownerA := a.health()
	if !strings.HasPrefix(ownerA, "data plane: owner worker-") {
		t.Fatalf("first replica: %q, want the data plane owner", ownerA)
	}
	idA := strings.TrimPrefix(ownerA, "data plane: owner ")
	// Every replica seals secrets with the same key.
	env = append(env, "KAFKAPLANE_SECRETS_KEY_FILE="+filepath.Join(a.dataDir, "secrets.key"))
	b := &replica{t: t, bin: bin, addr: freeAddr(t), dataDir: t.TempDir(), args: args, env: env}
	b.start()
	defer func() { b.cmd.Process.Kill(); b.cmd.Wait() }()
	if got, want := b.health(), "data plane: standby (owner "+idA+" at "+a.addr+", lease until "; !strings.HasPrefix(got, want) {
		t.Fatalf("second replica: %q, want %q…", got, want)
	}

	ca, cb := kafkaClient(t, a.addr), kafkaClient(t, b.addr)
	la := legacyClient{addr: a.addr, id: testKeyID, secret: testKeySecret, region: testRegion}
	lb := legacyClient{addr: b.addr, id: testKeyID, secret: testKeySecret, region: testRegion}

	// Ordered and started on the standby, deployed by the owner's worker.
	id := createRunning(t, cb, "0.10.2")
	endpoint := describe(t, ca, id).EndPoint
	// Data plane work on the standby is refused, retryably, before
	// anything changes; the owner serves it.
	topic := map[string]string{"InstanceId": id, "Topic": "orders", "Remark": "orders", "PartitionNum": "3"}
	if res := lb.call(t, "2019-09-16", "CreateTopic", topic); res.status != 503 || res.code != "ServiceUnavailable" || !strings.Contains(res.msg, idA) {
		t.Fatalf("CreateTopic on the standby: %d %s %q", res.status, res.code, res.msg)
	}
	if res := la.call(t, "2019-09-16", "CreateTopic", topic); res.status != 200 {
		t.Fatalf("CreateTopic on the owner: %d %s %s", res.status, res.code, res.msg)
	}

	// A nonce used on one replica is refused by the other.
	replay := replayAcross(t, a.addr, b.addr)
	for _, c := range []client{legacyClient{addr: replay, id: testKeyID, secret: testKeySecret, region: testRegion},
		teaClient{addr: replay, id: testKeyID, secret: testKeySecret, region: testRegion}} {
		if res := c.call(t, "2019-09-16", "GetInstanceList", nil); res.code != "SignatureNonceUsed" {
			t.Errorf("%s: request replayed on the other replica: %d %s, want SignatureNonceUsed", c.name(), res.status, res.code)
		}
	}

	// A RAM change on one replica binds the other at once.
	ramA := func(action string, p map[string]string) result {
		res := la.call(t, "2015-05-01", action, p)
		if res.status != 200 {
			t.Fatalf("%s on the owner: %d %s %s", action, res.status, res.code, res.msg)
		}
		return res
	}
	ramA("CreateUser", map[string]string{"UserName": "alice"})
	key := ramA("CreateAccessKey", map[string]string{"UserName": "alice"}).body["AccessKey"].(map[string]any)
	alice := legacyClient{addr: b.addr, id: key["AccessKeyId"].(string), secret: key["AccessKeySecret"].(string), region: testRegion}
	list := map[string]string{"InstanceId.1": id}
	if res := alice.call(t, "2019-09-16", "GetInstanceList", list); res.code != "Forbidden.RAM" {
		t.Fatalf("alice without a policy on the standby: %d %s", res.status, res.code)
	}
	ramA("AttachPolicyToUser", map[string]string{"UserName": "alice", "PolicyType": "System", "PolicyName": "AliyunKafkaReadOnlyAccess"})
	if res := alice.call(t, "2019-09-16", "GetInstanceList", list); res.status != 200 {
		t.Fatalf("alice after the attachment on the other replica: %d %s", res.status, res.code)
	}
	ramA("UpdateAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": key["AccessKeyId"].(string), "Status": "Inactive"})
	if res := alice.call(t, "2019-09-16", "GetInstanceList", list); res.code != "InvalidAccessKeyId.Inactive" {
		t.Fatalf("alice's key disabled on the other replica: %d %s", res.status, res.code)
	}

	// A burst split over both replicas admits what one GCRA allows: the
	// burst (qps requests), plus one per interval that passed while the
	// burst was answered.
	const burst = 30
	var mu sync.Mutex
	admitted := 0
	var wg sync.WaitGroup
	began := time.Now()
	for i := range burst {
		c := []legacyClient{la, lb}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := c.call(t, "2019-09-16", throttled, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case res.status == 200:
				admitted++
			case res.code != "Throttling.User":
				t.Errorf("%s: %d %s", throttled, res.status, res.code)
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	bound := qps + int(math.Floor(took.Seconds()*qps))
	t.Logf("burst of %d split over two replicas in %v: %d admitted (GCRA bound %d)", burst, took, admitted, bound)
	if admitted < qps || admitted > bound {
		t.Fatalf("burst over two replicas admitted %d, want %d…%d", admitted, qps, bound)
	}

	// Records written before the roll must survive the takeover.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prod := kgoClient(t, endpoint, kgo.RequiredAcks(kgo.AllISRAcks()))
	const records = 200
	for i := range records {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: fmt.Appendf(nil, "r-%04d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	// The upgrade is accepted by the standby and rolled by the owner; the
	// owner is SIGKILLed once a broker is rolled and before the last.
	if err := upgrade(cb, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	rolled := func(op map[string]any) int {
		n := 0
		for _, st := range op["Steps"].(map[string]any)["StepVO"].([]any) {
			st := st.(map[string]any)
			if st["StepName"] == "ROLL_BROKER" && st["StepStatus"] == "COMPLETE" {
				n++
			}
		}
		return n
	}
	operation := func(c legacyClient) map[string]any {
		res := c.call(t, "2019-09-16", "ListInstanceOperations", map[string]string{"InstanceId": id})
		if res.status != 200 {
			t.Fatalf("ListInstanceOperations: %d %s", res.status, res.code)
		}
		return res.body["Operations"].(map[string]any)["OperationVO"].([]any)[0].(map[string]any)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		op := operation(lb)
		if op["OperationState"] == "COMPLETE" || rolled(op) == 3 {
			t.Fatalf("the roll finished before the owner could be killed: %v", op)
		}
		if rolled(op) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no broker rolled in a minute: %v", op)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.signal(syscall.SIGKILL)
	killed := time.Now()

	// The standby takes the lease over, restarts the brokers on their
	// per-broker versions and completes the roll.
	idB := ""
	var vo alikafka.InstanceVO
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if h := b.health(); strings.HasPrefix(h, "data plane: owner ") {
			idB = strings.TrimPrefix(h, "data plane: owner ")
		}
		vo = describe(t, cb, id)
		if vo.ServiceStatus == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upgrade not completed by the standby 90 s after the owner died: %+v, %s", vo, b.health())
		}
	}
	t.Logf("standby %s completed the upgrade %v after the owner was killed", idB, time.Since(killed).Round(time.Millisecond))
	if idB == "" || idB == idA {
		t.Fatalf("data plane owner after the takeover: %q (was %s)", idB, idA)
	}
	if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" || vo.ViewInstanceStatusCode != 2 {
		t.Fatalf("after the takeover: %+v", vo)
	}
	op := operation(lb)
	if op["OperationState"] != "COMPLETE" || rolled(op) != 3 || op["Attempts"].(float64) < 2 {
		t.Fatalf("operation after the takeover: %v", op)
	}
	for _, st := range op["Steps"].(map[string]any)["StepVO"].([]any) {
		if st := st.(map[string]any); st["StepStatus"] != "COMPLETE" {
			t.Errorf("step %v is %v", st["StepName"], st["StepStatus"])
		}
	}
	// The brokers the new owner runs hold every record once, and every
	// broker answers on the target version.
	cons := kgoClient(t, endpoint, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]int{}
	for len(seen) < records && ctx.Err() == nil {
		cons.PollFetches(ctx).EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
	}

	for v, n := range seen {
		if n != 1 {
			t.Errorf("record %s read %d times", v, n)
		}
	}
	if len(seen) != records {
		t.Fatalf("%d of %d records after the takeover", len(seen), records)
	}
	if _, err := kadm.NewClient(kgoClient(t, endpoint)).ListBrokers(ctx); err != nil {
		t.Fatal(err)
	}

	// The killed replica comes back as a standby of the new owner, and a
	// clean stop of the owner hands the data plane over at once.
	a.start()
	if got, want := a.health(), "data plane: standby (owner "+idB+" at "+b.addr; !strings.HasPrefix(got, want) {
		t.Fatalf("restarted replica: %q, want %q…", got, want)
	}
	b.signal(syscall.SIGTERM)
	for deadline := time.Now().Add(30 * time.Second); a.health() != "data plane: owner "+idA; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after a clean stop of the owner: %q", a.health())
		}
	}
	if vo := describe(t, ca, id); vo.ServiceStatus != 5 {
		t.Fatalf("after the handover: %+v", vo)
	}
	if _, err := kadm.NewClient(kgoClient(t, endpoint)).ListBrokers(ctx); err != nil {
		t.Fatalf("brokers after the handover: %v", err)
	}
}
