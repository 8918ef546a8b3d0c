package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/sqlstore"
)

// kafkaClient is the legacy SDK's typed alikafka client against addr.
func kafkaClient(t testing.TB, addr string) *alikafka.Client {
	t.Helper()
	c, err := alikafka.NewClientWithAccessKey(testRegion, testKeyID, testKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = addr
	c.GetConfig().Scheme = "HTTP"
	return c
}

// createRunning replays Terraform's create flow and returns the instance id.
func createRunning(t testing.TB, c *alikafka.Client, version string) string {
	t.Helper()
	order := alikafka.CreateCreatePostPayOrderRequest()
	order.DeployType = "5"
	order.DiskSize = "500"
	order.DiskType = "1"
	order.IoMaxSpec = "alikafka.hw.2xlarge"
	order.SpecType = "normal"
	or, err := c.CreatePostPayOrder(order)
	if err != nil {
		t.Fatal(err)
	}
	list := alikafka.CreateGetInstanceListRequest()
	list.OrderId = or.OrderId
	lr, err := c.GetInstanceList(list)
	if err != nil || len(lr.InstanceList.InstanceVO) != 1 {
		t.Fatalf("GetInstanceList(OrderId): %v %+v", err, lr)
	}
	id := lr.InstanceList.InstanceVO[0].InstanceId
	if !strings.HasPrefix(id, "alikafka_post-cn-") || lr.InstanceList.InstanceVO[0].ServiceStatus != 0 {
		t.Fatalf("new instance %+v", lr.InstanceList.InstanceVO[0])
	}
	start := alikafka.CreateStartInstanceRequest()
	start.InstanceId, start.VpcId, start.VSwitchId, start.ZoneId = id, "vpc-test", "vsw-test", "zonei"
	start.ServiceVersion = version
	start.Name = "orders"
	if _, err := c.StartInstance(start); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, id, 5)
	return id
}

func describe(t testing.TB, c *alikafka.Client, id string) alikafka.InstanceVO {
	t.Helper()
	req := alikafka.CreateGetInstanceListRequest()
	req.InstanceId = &[]string{id}
	resp, err := c.GetInstanceList(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.InstanceList.InstanceVO) != 1 {
		t.Fatalf("instance %s not listed", id)
	}
	return resp.InstanceList.InstanceVO[0]
}

// waitStatus polls GetInstanceList as Terraform does until ServiceStatus is
// want.
func waitStatus(t testing.TB, c *alikafka.Client, id string, want int) alikafka.InstanceVO {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		vo := describe(t, c, id)
		if vo.ServiceStatus == want {
			return vo
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s: ServiceStatus %d, want %d", id, vo.ServiceStatus, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func upgrade(c *alikafka.Client, id, target string) error {
	req := alikafka.CreateUpgradeInstanceVersionRequest()
	req.InstanceId, req.TargetVersion = id, target
	_, err := c.UpgradeInstanceVersion(req)
	return err
}

func errCode(err error) string {
	if se, ok := err.(*sdkerrors.ServerError); ok {
		return se.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestTerraformUpgradeFlow replays the alicloud provider's flow through the
// legacy Go SDK: create, start, wait for 5, upgrade, see the instance leave
// 5, wait for 5, read Current2OpenSourceVersion.
func TestTerraformUpgradeFlow(t *testing.T) {
	m := startMain(t, func(m *Main) { m.FakeStepDelay = 20 * time.Millisecond })
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")
	vo := describe(t, c, id)
	if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "0.10.2" || vo.ViewInstanceStatusCode != 2 || vo.EndPoint == "" || vo.CreateTime == 0 {
		t.Fatalf("running instance %+v", vo)
	}
	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	if vo := describe(t, c, id); vo.ServiceStatus == 5 {
		t.Fatalf("ServiceStatus is 5 right after UpgradeInstanceVersion")
	}
	vo = waitStatus(t, c, id, 5)
	if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" || vo.ViewInstanceStatusCode != 2 {
		t.Fatalf("after upgrade %+v", vo)
	}
	// Terraform treats ONS_INIT_ENV_ERROR as "no need to update version".
	if got := errCode(upgrade(c, id, "2.2.0")); got != "ONS_INIT_ENV_ERROR" {
		t.Errorf("second upgrade: %s", got)
	}
	// The third call within a second would be throttled (2 QPS).
	time.Sleep(600 * time.Millisecond)
	if got := errCode(upgrade(c, id, "0.10.2")); got != kafkaplane.CodeDowngrade {
		t.Errorf("downgrade: %s", got)
	}
}

// TestUpgradeRefusalsChangeNothing checks every refusal through the SDK
// and that the instance is untouched afterwards.
func TestUpgradeRefusalsChangeNothing(t *testing.T) {
	m := startMain(t, func(m *Main) { m.QPS = map[string]float64{"UpgradeInstanceVersion": 1000} })
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	before := describe(t, c, id)
	for _, tt := range []struct{ instance, target, code string }{
		{"alikafka_post-cn-doesnotexist", "2.2.0", kafkaplane.CodeInstanceNotFound},
		{id, "0.10.2", kafkaplane.CodeDowngrade},
		{id, "9.9.9", kafkaplane.CodeInvalidTarget},
		{id, "2.2.0", kafkaplane.CodeNothingToUpgrade},
		{id, "", "MissingTargetVersion"},
	} {
		if got := errCode(upgrade(c, tt.instance, tt.target)); got != tt.code {
			t.Errorf("UpgradeInstanceVersion(%s, %q) = %s, want %s", tt.instance, tt.target, got, tt.code)
		}
	}
	// Another region does not see the instance.
	other, _ := alikafka.NewClientWithAccessKey("cn-beijing", testKeyID, testKeySecret)
	other.Domain = m.ListenAddr()
	other.GetConfig().Scheme = "HTTP"
	if got := errCode(upgrade(other, id, "2.2.0")); got != kafkaplane.CodeInstanceNotFound {
		t.Errorf("from another region: %s", got)
	}
	if after := describe(t, c, id); !reflect.DeepEqual(after, before) {
		t.Errorf("refusals changed the instance:\n%+v\n%+v", before, after)
	}
}

// TestConcurrentUpgradeOneWins fires 100 UpgradeInstanceVersion calls at
// one instance at once: exactly one is accepted.
func TestConcurrentUpgradeOneWins(t *testing.T) {
	m := startMain(t, func(m *Main) {
		m.QPS = map[string]float64{"UpgradeInstanceVersion": 100000}
		m.FakeStepDelay = 200 * time.Millisecond
	})
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := errCode(upgrade(c, id, "2.2.0"))
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[""] != 1 || codes[kafkaplane.CodeInstanceStatus] != 99 {
		t.Fatalf("results %v: want 1 accepted and 99 %s", codes, kafkaplane.CodeInstanceStatus)
	}
	waitStatus(t, c, id, 5)
}

// TestKillDuringUpgrade SIGKILLs a real kafkaplane process during each step
// of an upgrade, restarts it on the same data dir and sees the operation
// complete with no instance left upgrading.
func TestKillDuringUpgrade(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	start := serveProcess(t, addr, dataDir, "--broker-runtime", "fake", "--fake-broker-delay", "300ms")
	cmd := start()
	c := kafkaClient(t, addr)
	id := createRunning(t, c, "0.10.2")
	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	// Steps: INITIALIZE_UPDATE, three broker rolls, FINALIZE_UPDATE; each
	// simulated restart takes 300 ms. Kill once inside each of the first
	// four steps.
	for step := 0; step < 4; step++ {
		time.Sleep(150 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cmd = start()
	}
	vo := waitStatus(t, c, id, 5)
	if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" || vo.ViewInstanceStatusCode != 2 {
		t.Fatalf("after kills: %+v", vo)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	// The operation was resumed after the kills, not run once from the
	// start: it was claimed more than once and every step is complete.
	db, err := sqlstore.Open(context.Background(), filepath.Join(dataDir, "kafkaplane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ops, err := db.FindOperations(context.Background(), kafkaplane.OperationFilter{InstanceID: id})
	if err != nil || len(ops) == 0 {
		t.Fatalf("operations: %v %d", err, len(ops))
	}
	op := ops[0]
	if op.Type != kafkaplane.OperationUpgradeInstanceVersion || op.State != kafkaplane.OperationComplete || op.Attempts < 2 {
		t.Fatalf("operation %s %s attempts %d", op.Type, op.State, op.Attempts)
	}
	for _, st := range op.Steps {
		if st.Status != kafkaplane.StepComplete {
			t.Errorf("step %s is %s", st.Name, st.Status)
		}
	}
	t.Logf("upgrade claimed %d times across 4 SIGKILLs", op.Attempts)
}

// serveProcess builds the kafkaplane binary and returns a function that
// starts `kafkaplane serve` on addr and dataDir as a separate process and
// waits until it is healthy, so tests can SIGKILL it.
func serveProcess(t testing.TB, addr, dataDir string, args ...string) func() *exec.Cmd {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kafkaplane")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return func() *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data-dir", dataDir}, args...)...)
		cmd.Env = append(os.Environ(), "KAFKAPLANE_ROOT_ACCESS_KEY_ID="+testKeyID, "KAFKAPLANE_ROOT_ACCESS_KEY_SECRET="+testKeySecret)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitHealthy(t, "http://"+addr)
		return cmd
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	m := startMain(t)
	addr := m.ListenAddr()
	m.Close()
	return addr
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", base)
}
