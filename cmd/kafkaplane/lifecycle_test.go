package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

// lcFastQPS lifts the 2/s quotas of the actions these tests call in quick
// succession, so that the tests exercise behaviour rather than throttling.
func lcFastQPS(m *Main) {
	m.QPS = map[string]float64{
		"CreatePostPayOrder":     1000,
		"CreatePrePayOrder":      1000,
		"StartInstance":          1000,
		"UpgradeInstanceVersion": 1000,
		"UpdateInstanceConfig":   1000,
		"ReleaseInstance":        1000,
	}
}

// lcRegionClient is kafkaClient for another region of the same account.
func lcRegionClient(t testing.TB, addr, region string) *alikafka.Client {
	t.Helper()
	c, err := alikafka.NewClientWithAccessKey(region, testKeyID, testKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = addr
	c.GetConfig().Scheme = "HTTP"
	return c
}

// lcTea is the darabonba client, which reaches the extension actions and
// the InstanceVO fields the legacy SDK's structs leave out.
func lcTea(m *Main, region string) teaClient {
	return teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: region}
}

type lcTag struct{ key, value string }

// lcOrder buys a pay-as-you-go instance and returns its order and instance
// ids, found the way Terraform finds them: GetInstanceList by OrderId.
func lcOrder(t testing.TB, c *alikafka.Client, rg string, tags ...lcTag) (orderID, id string) {
	t.Helper()
	req := alikafka.CreateCreatePostPayOrderRequest()
	req.DeployType, req.DiskSize, req.DiskType = "5", "500", "1"
	req.IoMaxSpec, req.SpecType = "alikafka.hw.2xlarge", "normal"
	req.ResourceGroupId = rg
	if len(tags) > 0 {
		ts := make([]alikafka.CreatePostPayOrderTag, 0, len(tags))
		for _, tg := range tags {
			ts = append(ts, alikafka.CreatePostPayOrderTag{Key: tg.key, Value: tg.value})
		}
		req.Tag = &ts
	}
	resp, err := c.CreatePostPayOrder(req)
	if err != nil {
		t.Fatalf("CreatePostPayOrder: %v", err)
	}
	ids := lcList(t, c, func(r *alikafka.GetInstanceListRequest) { r.OrderId = resp.OrderId })
	if len(ids) != 1 {
		t.Fatalf("GetInstanceList(OrderId %s) = %v, want one instance", resp.OrderId, ids)
	}
	return resp.OrderId, ids[0]
}

// lcStart deploys a bought instance on version without waiting for it.
func lcStart(c *alikafka.Client, id, version string) error {
	req := alikafka.CreateStartInstanceRequest()
	req.InstanceId, req.VpcId, req.VSwitchId, req.ZoneId = id, "vpc-test", "vsw-test", "zonei"
	req.ServiceVersion, req.Name = version, "lifecycle"
	_, err := c.StartInstance(req)
	return err
}

// lcRunning buys and starts an instance on version and waits for Running.
func lcRunning(t testing.TB, c *alikafka.Client, version string) string {
	t.Helper()
	_, id := lcOrder(t, c, "")
	if err := lcStart(c, id, version); err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	waitStatus(t, c, id, 5)
	return id
}

// lcList returns the ids GetInstanceList answers for the filters set by
// with, sorted so that results compare regardless of creation order.
func lcList(t testing.TB, c *alikafka.Client, with func(*alikafka.GetInstanceListRequest)) []string {
	t.Helper()
	req := alikafka.CreateGetInstanceListRequest()
	with(req)
	resp, err := c.GetInstanceList(req)
	if err != nil {
		t.Fatalf("GetInstanceList: %v", err)
	}
	ids := []string{}
	for _, vo := range resp.InstanceList.InstanceVO {
		ids = append(ids, vo.InstanceId)
	}
	slices.Sort(ids)
	return ids
}

func lcSorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// lcAllIDs is GetAllInstanceIdList through the typed client, as region →
// sorted ids.
func lcAllIDs(t testing.TB, c *alikafka.Client) map[string][]string {
	t.Helper()
	resp, err := c.GetAllInstanceIdList(alikafka.CreateGetAllInstanceIdListRequest())
	if err != nil {
		t.Fatalf("GetAllInstanceIdList: %v", err)
	}
	out := map[string][]string{}
	for region, v := range resp.InstanceIds {
		list, ok := v.([]any)
		if !ok {
			t.Fatalf("InstanceIds[%s] is %T, want an array", region, v)
		}
		for _, id := range list {
			out[region] = append(out[region], fmt.Sprint(id))
		}
		slices.Sort(out[region])
	}
	return out
}

// lcGet walks a decoded JSON body along path.
func lcGet(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func lcStr(v any, path ...string) string {
	got := lcGet(v, path...)
	if got == nil {
		return ""
	}
	return fmt.Sprint(got)
}

// lcInt reads a JSON number whichever way the client decoded it.
func lcInt(v any, path ...string) int64 {
	n, _ := strconv.ParseInt(lcStr(v, path...), 10, 64)
	return n
}

func lcArray(v any, path ...string) []any {
	a, _ := lcGet(v, path...).([]any)
	return a
}

// lcRawVO reads one InstanceVO as JSON through the darabonba client, for
// the kafkaplane extension fields.
func lcRawVO(t testing.TB, tc teaClient, id string) map[string]any {
	t.Helper()
	r := tc.call(t, "2019-09-16", "GetInstanceList", map[string]string{"InstanceId.1": id})
	if r.code != "" {
		t.Fatalf("GetInstanceList: %s %s", r.code, r.msg)
	}
	vos := lcArray(r.body, "InstanceList", "InstanceVO")
	if len(vos) != 1 {
		t.Fatalf("GetInstanceList(%s): %d instances", id, len(vos))
	}
	vo, _ := vos[0].(map[string]any)
	return vo
}

// lcMinor returns the instance's minor version and the latest minor of its
// version, as the extension fields show them.
func lcMinor(t testing.TB, tc teaClient, id string) (minor, latest string) {
	t.Helper()
	vo := lcRawVO(t, tc, id)
	return lcStr(vo, "KafkaplaneMinorVersion"), lcStr(vo, "KafkaplaneLatestMinorVersion")
}

// lcUpgradable lists GetUpgradableVersions' TargetVersion entries.
func lcUpgradable(t testing.TB, tc teaClient, id string) (versions []string, body map[string]any) {
	t.Helper()
	r := tc.call(t, "2019-09-16", "GetUpgradableVersions", map[string]string{"InstanceId": id})
	if r.code != "" {
		t.Fatalf("GetUpgradableVersions: %s %s", r.code, r.msg)
	}
	versions = []string{}
	for _, vo := range lcArray(r.body, "UpgradableVersions", "UpgradableVersionVO") {
		versions = append(versions, lcStr(vo, "TargetVersion"))
	}
	return versions, r.body
}

func lcWantCode(t testing.TB, what string, err error, want string) {
	t.Helper()
	if got := errCode(err); got != want {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// TestLifecycle walks instances through every lifecycle action through the
// legacy SDK's typed client, checking filters, regions, refusals and the
// fields Terraform reads.
func TestLifecycle(t *testing.T) {
	m := startMain(t, lcFastQPS, func(m *Main) {
		// Long enough to see ServiceStatus 1 right after StartInstance,
		// short enough to keep the test fast.
		m.FakeStepDelay = 100 * time.Millisecond
	})
	c := kafkaClient(t, m.ListenAddr())
	began := time.Now()

	orderA, a := lcOrder(t, c, "rg-a", lcTag{"env", "prod"}, lcTag{"team", "core"})
	orderB, b := lcOrder(t, c, "rg-b", lcTag{"env", "dev"})
	_, x := lcOrder(t, c, "")

	t.Run("create", func(t *testing.T) {
		if orderA == orderB || orderA == "" {
			t.Errorf("order ids %q and %q", orderA, orderB)
		}
		for _, id := range []string{a, b, x} {
			if !strings.HasPrefix(id, "alikafka_post-cn-") || len(id) <= len("alikafka_post-cn-") {
				t.Errorf("instance id %q does not look like alikafka_post-cn-…", id)
			}
		}
		vo := describe(t, c, a)
		if vo.ServiceStatus != 0 || vo.ViewInstanceStatusCode != 0 || vo.PaidType != 1 {
			t.Errorf("bought instance: ServiceStatus %d, view %d, PaidType %d; want 0, 0, 1", vo.ServiceStatus, vo.ViewInstanceStatusCode, vo.PaidType)
		}
		if vo.EndPoint != "" {
			t.Errorf("a pending instance has EndPoint %q", vo.EndPoint)
		}
		if vo.ResourceGroupId != "rg-a" || vo.RegionId != testRegion {
			t.Errorf("ResourceGroupId %q RegionId %q", vo.ResourceGroupId, vo.RegionId)
		}
		tags := map[string]string{}
		for _, tg := range vo.Tags.TagVO {
			tags[tg.Key] = tg.Value
		}
		if !reflect.DeepEqual(tags, map[string]string{"env": "prod", "team": "core"}) {
			t.Errorf("Tags %v", vo.Tags.TagVO)
		}
		// CreateTime is epoch milliseconds: seconds would be ~1000× smaller.
		if ct := time.UnixMilli(vo.CreateTime); ct.Before(began.Add(-5*time.Second)) || ct.After(time.Now().Add(5*time.Second)) {
			t.Errorf("CreateTime %d (%v) is not epoch ms near now", vo.CreateTime, ct)
		}
	})

	t.Run("start", func(t *testing.T) {
		if err := lcStart(c, a, "2.2.0"); err != nil {
			t.Fatalf("StartInstance: %v", err)
		}
		// The start is asynchronous: the call returns while brokers deploy.
		if vo := describe(t, c, a); vo.ServiceStatus != 1 || vo.ViewInstanceStatusCode != 1 {
			t.Errorf("right after StartInstance: ServiceStatus %d view %d, want 1 and 1", vo.ServiceStatus, vo.ViewInstanceStatusCode)
		}
		vo := waitStatus(t, c, a, 5)
		if vo.ViewInstanceStatusCode != 2 {
			t.Errorf("running instance has ViewInstanceStatusCode %d, want 2", vo.ViewInstanceStatusCode)
		}
		if n := len(strings.Split(vo.EndPoint, ",")); vo.EndPoint == "" || n != 3 {
			t.Errorf("EndPoint %q: want 3 addresses", vo.EndPoint)
		}
		if n := len(strings.Split(vo.DomainEndpoint, ",")); vo.DomainEndpoint == "" || n != 3 {
			t.Errorf("DomainEndpoint %q: want 3 addresses", vo.DomainEndpoint)
		}
		if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" {
			t.Errorf("Current2OpenSourceVersion %q", vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion)
		}
		if vo.Name != "lifecycle" || vo.VpcId != "vpc-test" || vo.ZoneId != "zonei" {
			t.Errorf("Name %q VpcId %q ZoneId %q", vo.Name, vo.VpcId, vo.ZoneId)
		}
		// A second StartInstance on a running instance is a status error.
		lcWantCode(t, "StartInstance again", lcStart(c, a, "2.2.0"), kafkaplane.CodeInstanceStatus)
	})

	t.Run("filters", func(t *testing.T) {
		tag := func(key, value string) func(*alikafka.GetInstanceListRequest) {
			return func(r *alikafka.GetInstanceListRequest) {
				r.Tag = &[]alikafka.GetInstanceListTag{{Key: key, Value: value}}
			}
		}
		for _, tt := range []struct {
			name string
			with func(*alikafka.GetInstanceListRequest)
			want []string
		}{
			{"none", func(*alikafka.GetInstanceListRequest) {}, lcSorted(a, b, x)},
			{"InstanceId.N", func(r *alikafka.GetInstanceListRequest) { r.InstanceId = &[]string{a, x} }, lcSorted(a, x)},
			{"unknown InstanceId", func(r *alikafka.GetInstanceListRequest) { r.InstanceId = &[]string{"alikafka_post-cn-nosuchinstance"} }, []string{}},
			{"OrderId", func(r *alikafka.GetInstanceListRequest) { r.OrderId = orderB }, []string{b}},
			{"Tag key only", tag("env", ""), lcSorted(a, b)},
			{"Tag key only, one holder", tag("team", ""), []string{a}},
			{"Tag key and value", tag("env", "dev"), []string{b}},
			{"Tag value mismatch", tag("team", "edge"), []string{}},
			{"two tags", func(r *alikafka.GetInstanceListRequest) {
				r.Tag = &[]alikafka.GetInstanceListTag{{Key: "env", Value: "prod"}, {Key: "team"}}
			}, []string{a}},
			{"ResourceGroupId", func(r *alikafka.GetInstanceListRequest) { r.ResourceGroupId = "rg-a" }, []string{a}},
			{"ResourceGroupId and Tag", func(r *alikafka.GetInstanceListRequest) {
				r.ResourceGroupId = "rg-b"
				r.Tag = &[]alikafka.GetInstanceListTag{{Key: "team"}}
			}, []string{}},
		} {
			if got := lcList(t, c, tt.with); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
	})

	t.Run("regions", func(t *testing.T) {
		bj := lcRegionClient(t, m.ListenAddr(), "cn-beijing")
		y := lcRunning(t, bj, "0.10.2")
		if !strings.HasPrefix(y, "alikafka_post-cn-") {
			t.Errorf("cn-beijing instance id %q", y)
		}
		want := map[string][]string{testRegion: lcSorted(a, b, x), "cn-beijing": {y}}
		if got := lcAllIDs(t, c); !reflect.DeepEqual(got, want) {
			t.Errorf("GetAllInstanceIdList = %v, want %v", got, want)
		}
		// The instance belongs to its region: cn-hangzhou does not see it.
		if got := lcList(t, c, func(r *alikafka.GetInstanceListRequest) { r.InstanceId = &[]string{y} }); len(got) != 0 {
			t.Errorf("GetInstanceList from cn-hangzhou found %v", got)
		}
		lcWantCode(t, "UpgradeInstanceVersion from cn-hangzhou", upgrade(c, y, "2.2.0"), kafkaplane.CodeInstanceNotFound)
		if got := lcList(t, bj, func(*alikafka.GetInstanceListRequest) {}); !reflect.DeepEqual(got, []string{y}) {
			t.Errorf("GetInstanceList from cn-beijing = %v, want [%s]", got, y)
		}
		if vo := describe(t, bj, y); vo.ServiceStatus != 5 || vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "0.10.2" {
			t.Errorf("cn-beijing instance after the refused call: %d %q", vo.ServiceStatus, vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion)
		}
	})

	t.Run("ModifyInstanceName", func(t *testing.T) {
		rename := func(id, name string) error {
			req := alikafka.CreateModifyInstanceNameRequest()
			req.InstanceId, req.InstanceName = id, name
			_, err := c.ModifyInstanceName(req)
			return err
		}
		if err := rename(a, "orders-eu_2"); err != nil {
			t.Fatalf("ModifyInstanceName: %v", err)
		}
		if vo := describe(t, c, a); vo.Name != "orders-eu_2" {
			t.Errorf("Name %q after rename", vo.Name)
		}
		for _, bad := range []string{"ab", "has space", "dot.ted", strings.Repeat("n", 65)} {
			lcWantCode(t, fmt.Sprintf("ModifyInstanceName(%q)", bad), rename(a, bad), "InvalidInstanceName")
		}
		lcWantCode(t, "ModifyInstanceName of an unknown instance", rename("alikafka_post-cn-nosuchinstance", "valid-name"), kafkaplane.CodeInstanceNotFound)
		if vo := describe(t, c, a); vo.Name != "orders-eu_2" {
			t.Errorf("refused renames changed the name to %q", vo.Name)
		}
	})

	t.Run("UpdateInstanceConfig", func(t *testing.T) {
		update := func(cfg string) error {
			req := alikafka.CreateUpdateInstanceConfigRequest()
			req.InstanceId, req.Config = a, cfg
			_, err := c.UpdateInstanceConfig(req)
			return err
		}
		if err := update(`{"kafka.log.retention.hours":"100"}`); err != nil {
			t.Fatalf("UpdateInstanceConfig: %v", err)
		}
		before := describe(t, c, a)
		var all map[string]string
		if err := json.Unmarshal([]byte(before.AllConfig), &all); err != nil {
			t.Fatalf("AllConfig %q: %v", before.AllConfig, err)
		}
		if all["kafka.log.retention.hours"] != "100" || before.MsgRetain != 100 {
			t.Errorf("AllConfig %s MsgRetain %d after setting retention to 100", before.AllConfig, before.MsgRetain)
		}
		// Keys the update did not name keep their values.
		if all["kafka.message.max.bytes"] != "1048576" {
			t.Errorf("AllConfig %s lost kafka.message.max.bytes", before.AllConfig)
		}
		for _, cfg := range []string{
			`{"kafka.log.retention.hours":"23"}`,
			`{"kafka.log.retention.hours":"481"}`,
			`{"kafka.message.max.bytes":"1"}`,
			`{"no.such.key":"1"}`,
			// One bad key refuses the whole update, the good key included.
			`{"kafka.log.retention.hours":"200","no.such.key":"1"}`,
			`not json`,
		} {
			lcWantCode(t, "UpdateInstanceConfig "+cfg, update(cfg), "InvalidConfig")
		}
		if after := describe(t, c, a); !reflect.DeepEqual(after, before) {
			t.Errorf("refused updates changed the instance:\n%+v\n%+v", before, after)
		}
	})

	t.Run("stop and reopen", func(t *testing.T) {
		stop := alikafka.CreateStopInstanceRequest()
		stop.InstanceId = a
		if _, err := c.StopInstance(stop); err != nil {
			t.Fatalf("StopInstance: %v", err)
		}
		vo := describe(t, c, a)
		if vo.ServiceStatus != 15 || vo.ViewInstanceStatusCode != 3 {
			t.Errorf("stopped: ServiceStatus %d view %d, want 15 and 3", vo.ServiceStatus, vo.ViewInstanceStatusCode)
		}
		lcWantCode(t, "UpgradeInstanceVersion of a stopped instance", upgrade(c, a, "2.2.0"), kafkaplane.CodeInstanceStatus)
		_, err := c.StopInstance(stop)
		lcWantCode(t, "StopInstance of a stopped instance", err, kafkaplane.CodeInstanceStatus)
		if after := describe(t, c, a); !reflect.DeepEqual(after, vo) {
			t.Errorf("refusals changed the stopped instance:\n%+v\n%+v", vo, after)
		}

		reopen := alikafka.CreateReopenInstanceRequest()
		reopen.InstanceId = a
		if _, err := c.ReopenInstance(reopen); err != nil {
			t.Fatalf("ReopenInstance: %v", err)
		}
		vo = describe(t, c, a)
		if vo.ServiceStatus != 5 || vo.ViewInstanceStatusCode != 2 {
			t.Errorf("reopened: ServiceStatus %d view %d, want 5 and 2", vo.ServiceStatus, vo.ViewInstanceStatusCode)
		}
		_, err = c.ReopenInstance(reopen)
		lcWantCode(t, "ReopenInstance of a running instance", err, kafkaplane.CodeInstanceStatus)
	})

	t.Run("release and delete", func(t *testing.T) {
		del := alikafka.CreateDeleteInstanceRequest()
		del.InstanceId = a
		_, err := c.DeleteInstance(del)
		lcWantCode(t, "DeleteInstance of a running instance", err, kafkaplane.CodeInstanceStatus)
		if vo := describe(t, c, a); vo.ServiceStatus != 5 {
			t.Errorf("refused DeleteInstance left ServiceStatus %d", vo.ServiceStatus)
		}

		rel := alikafka.CreateReleaseInstanceRequest()
		rel.InstanceId = a
		if _, err := c.ReleaseInstance(rel); err != nil {
			t.Fatalf("ReleaseInstance: %v", err)
		}
		vo := describe(t, c, a)
		if vo.ServiceStatus != 15 || vo.ViewInstanceStatusCode != 6 {
			t.Errorf("released: ServiceStatus %d view %d, want 15 and 6", vo.ServiceStatus, vo.ViewInstanceStatusCode)
		}
		lcWantCode(t, "UpgradeInstanceVersion of a released instance", upgrade(c, a, "2.2.0"), kafkaplane.CodeInstanceStatus)

		if _, err := c.DeleteInstance(del); err != nil {
			t.Fatalf("DeleteInstance: %v", err)
		}
		if got := lcList(t, c, func(r *alikafka.GetInstanceListRequest) { r.InstanceId = &[]string{a} }); len(got) != 0 {
			t.Errorf("deleted instance still listed: %v", got)
		}
		if got := lcList(t, c, func(r *alikafka.GetInstanceListRequest) { r.OrderId = orderA }); len(got) != 0 {
			t.Errorf("deleted instance still found by OrderId: %v", got)
		}
		if got := lcAllIDs(t, c)[testRegion]; slices.Contains(got, a) {
			t.Errorf("GetAllInstanceIdList still lists the deleted instance: %v", got)
		}
		_, err = c.DeleteInstance(del)
		lcWantCode(t, "DeleteInstance again", err, kafkaplane.CodeInstanceNotFound)
	})

	t.Run("prepay", func(t *testing.T) {
		req := alikafka.CreateCreatePrePayOrderRequest()
		req.DeployType, req.DiskSize, req.DiskType = "5", "500", "1"
		req.IoMaxSpec, req.SpecType = "alikafka.hw.2xlarge", "normal"
		resp, err := c.CreatePrePayOrder(req)
		if err != nil {
			t.Fatalf("CreatePrePayOrder: %v", err)
		}
		ids := lcList(t, c, func(r *alikafka.GetInstanceListRequest) { r.OrderId = resp.OrderId })
		if len(ids) != 1 || !strings.HasPrefix(ids[0], "alikafka_pre-cn-") {
			t.Fatalf("prepaid order %s: instances %v", resp.OrderId, ids)
		}
		p := ids[0]
		if vo := describe(t, c, p); vo.ServiceStatus != 0 || vo.PaidType != 0 {
			t.Errorf("prepaid instance: ServiceStatus %d PaidType %d, want 0 and 0", vo.ServiceStatus, vo.PaidType)
		}
		if err := lcStart(c, p, "2.2.0"); err != nil {
			t.Fatalf("StartInstance: %v", err)
		}
		before := waitStatus(t, c, p, 5)
		stop := alikafka.CreateStopInstanceRequest()
		stop.InstanceId = p
		_, err = c.StopInstance(stop)
		lcWantCode(t, "StopInstance of a subscription instance", err, kafkaplane.CodeInstanceStatus)
		rel := alikafka.CreateReleaseInstanceRequest()
		rel.InstanceId = p
		_, err = c.ReleaseInstance(rel)
		lcWantCode(t, "ReleaseInstance of a subscription instance", err, kafkaplane.CodeInstanceStatus)
		if after := describe(t, c, p); !reflect.DeepEqual(after, before) {
			t.Errorf("refusals changed the prepaid instance:\n%+v\n%+v", before, after)
		}
	})
}

// lcCatalogue writes a catalogue with the given minors of 0.10.2 and 2.2.0
// and returns its path.
func lcCatalogue(t testing.TB, dir, name string, minors0102, minors220 []string) string {
	t.Helper()
	c := kafkaplane.VersionCatalogue{
		Versions: []kafkaplane.OpenSourceVersion{
			{Version: "0.10.2", Minors: minors0102},
			{Version: "2.2.0", Minors: minors220},
		},
		Upgrades: map[string][]string{"0.10.2": {"2.2.0"}},
		Default:  "2.2.0",
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCatalogueRestart publishes new minor versions by restarting on the
// same data dir with a newer catalogue: existing instances stay on their
// minor and may then be upgraded to the new one, new instances start on it.
func TestCatalogueRestart(t *testing.T) {
	dataDir, catDir := t.TempDir(), t.TempDir()
	oldCat := lcCatalogue(t, catDir, "old.json", []string{"0.10.2-a", "0.10.2-b"}, []string{"2.2.0-a", "2.2.0-b"})
	newCat := lcCatalogue(t, catDir, "new.json", []string{"0.10.2-a", "0.10.2-b", "0.10.2-c"}, []string{"2.2.0-a", "2.2.0-b", "2.2.0-c"})
	on := func(path string) func(*Main) {
		return func(m *Main) { m.DataDir, m.CataloguePath = dataDir, path }
	}

	m1 := startMain(t, lcFastQPS, on(oldCat))
	c1, tc1 := kafkaClient(t, m1.ListenAddr()), lcTea(m1, testRegion)
	x := lcRunning(t, c1, "2.2.0")
	y := lcRunning(t, c1, "0.10.2")
	w := lcRunning(t, c1, "0.10.2")
	if minor, latest := lcMinor(t, tc1, x); minor != "2.2.0-b" || latest != "2.2.0-b" {
		t.Errorf("new 2.2.0 instance on %q (latest %q), want 2.2.0-b", minor, latest)
	}
	if minor, _ := lcMinor(t, tc1, y); minor != "0.10.2-b" {
		t.Errorf("new 0.10.2 instance on %q, want 0.10.2-b", minor)
	}
	lcWantCode(t, "UpgradeInstanceVersion 2.2.0 on the latest minor", upgrade(c1, x, "2.2.0"), kafkaplane.CodeNothingToUpgrade)
	if got, _ := lcUpgradable(t, tc1, x); len(got) != 0 {
		t.Errorf("GetUpgradableVersions on the latest 2.2.0 minor = %v, want none", got)
	}
	if err := m1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	m2 := startMain(t, lcFastQPS, on(newCat))
	c2, tc2 := kafkaClient(t, m2.ListenAddr()), lcTea(m2, testRegion)

	t.Run("existing instance keeps its minor", func(t *testing.T) {
		vo := describe(t, c2, x)
		if vo.ServiceStatus != 5 || vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" {
			t.Errorf("after restart: ServiceStatus %d version %q", vo.ServiceStatus, vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion)
		}
		if minor, latest := lcMinor(t, tc2, x); minor != "2.2.0-b" || latest != "2.2.0-c" {
			t.Errorf("after restart: minor %q latest %q, want 2.2.0-b and 2.2.0-c", minor, latest)
		}
		got, body := lcUpgradable(t, tc2, x)
		if !reflect.DeepEqual(got, []string{"2.2.0"}) {
			t.Errorf("GetUpgradableVersions = %v, want [2.2.0]", got)
		}
		if lcStr(body, "CurrentMinorVersion") != "2.2.0-b" || lcStr(body, "LatestMinorVersion") != "2.2.0-c" {
			t.Errorf("GetUpgradableVersions body %v", body)
		}
	})

	t.Run("same version moves to the new minor", func(t *testing.T) {
		if err := upgrade(c2, x, "2.2.0"); err != nil {
			t.Fatalf("UpgradeInstanceVersion 2.2.0: %v", err)
		}
		vo := waitStatus(t, c2, x, 5)
		if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" || vo.ViewInstanceStatusCode != 2 {
			t.Errorf("after the minor upgrade %+v", vo)
		}
		if minor, _ := lcMinor(t, tc2, x); minor != "2.2.0-c" {
			t.Errorf("upgraded to %q, want 2.2.0-c", minor)
		}
		lcWantCode(t, "a second UpgradeInstanceVersion 2.2.0", upgrade(c2, x, "2.2.0"), kafkaplane.CodeNothingToUpgrade)
	})

	t.Run("new instance starts on the new minor", func(t *testing.T) {
		z := lcRunning(t, c2, "2.2.0")
		if minor, latest := lcMinor(t, tc2, z); minor != "2.2.0-c" || latest != "2.2.0-c" {
			t.Errorf("new instance on %q (latest %q), want 2.2.0-c", minor, latest)
		}
	})

	t.Run("0.10.2 not latest to 0.10.2", func(t *testing.T) {
		got, _ := lcUpgradable(t, tc2, y)
		if !reflect.DeepEqual(got, []string{"0.10.2", "2.2.0"}) {
			t.Errorf("GetUpgradableVersions = %v, want [0.10.2 2.2.0]", got)
		}
		if err := upgrade(c2, y, "0.10.2"); err != nil {
			t.Fatalf("UpgradeInstanceVersion 0.10.2: %v", err)
		}
		vo := waitStatus(t, c2, y, 5)
		if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "0.10.2" {
			t.Errorf("version %q after a minor upgrade, want 0.10.2", vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion)
		}
		if minor, _ := lcMinor(t, tc2, y); minor != "0.10.2-c" {
			t.Errorf("upgraded to %q, want 0.10.2-c", minor)
		}
	})

	t.Run("0.10.2 not latest to 2.2.0", func(t *testing.T) {
		if err := upgrade(c2, w, "2.2.0"); err != nil {
			t.Fatalf("UpgradeInstanceVersion 2.2.0: %v", err)
		}
		vo := waitStatus(t, c2, w, 5)
		if vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion != "2.2.0" {
			t.Errorf("version %q after a major upgrade, want 2.2.0", vo.UpgradeServiceDetailInfo.Current2OpenSourceVersion)
		}
		if minor, _ := lcMinor(t, tc2, w); minor != "2.2.0-c" {
			t.Errorf("upgraded to %q, want 2.2.0-c", minor)
		}
	})
}

// TestOperationsExtension checks the kafkaplane extension actions through
// the darabonba client: the operation records of a start and an upgrade,
// describing one, and the versions an instance may upgrade to.
func TestOperationsExtension(t *testing.T) {
	m := startMain(t, lcFastQPS)
	c, tc := kafkaClient(t, m.ListenAddr()), lcTea(m, testRegion)
	cat := kafkaplane.DefaultVersionCatalogue()
	id := lcRunning(t, c, "0.10.2")

	t.Run("GetUpgradableVersions", func(t *testing.T) {
		got, body := lcUpgradable(t, tc, id)
		if !reflect.DeepEqual(got, []string{"2.2.0"}) {
			t.Errorf("0.10.2 on its latest minor may upgrade to %v, want only 2.2.0", got)
		}
		vos := lcArray(body, "UpgradableVersions", "UpgradableVersionVO")
		if len(vos) == 1 && lcStr(vos[0], "TargetMinorVersion") != cat.LatestMinor("2.2.0") {
			t.Errorf("TargetMinorVersion %q, want %q", lcStr(vos[0], "TargetMinorVersion"), cat.LatestMinor("2.2.0"))
		}
		if lcStr(body, "CurrentVersion") != "0.10.2" || lcStr(body, "CurrentMinorVersion") != cat.LatestMinor("0.10.2") {
			t.Errorf("current version in %v", body)
		}
		r := tc.call(t, "2019-09-16", "GetUpgradableVersions", map[string]string{"InstanceId": "alikafka_post-cn-nosuchinstance"})
		if r.code != kafkaplane.CodeInstanceNotFound {
			t.Errorf("unknown instance: %q", r.code)
		}
	})

	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatalf("UpgradeInstanceVersion: %v", err)
	}
	waitStatus(t, c, id, 5)

	r := tc.call(t, "2019-09-16", "ListInstanceOperations", map[string]string{"InstanceId": id})
	if r.code != "" {
		t.Fatalf("ListInstanceOperations: %s %s", r.code, r.msg)
	}
	ops := lcArray(r.body, "Operations", "OperationVO")
	if len(ops) != 2 {
		t.Fatalf("ListInstanceOperations: %d operations, want 2: %v", len(ops), r.body)
	}

	t.Run("ListInstanceOperations", func(t *testing.T) {
		up, start := ops[0], ops[1]
		if lcStr(up, "OperationType") != "UPGRADE_INSTANCE_VERSION" || lcStr(start, "OperationType") != "START_INSTANCE" {
			t.Fatalf("operations %q, %q: want the upgrade first, then the start", lcStr(up, "OperationType"), lcStr(start, "OperationType"))
		}
		for _, op := range ops {
			if lcStr(op, "OperationState") != "COMPLETE" || lcStr(op, "InstanceId") != id || lcStr(op, "RegionId") != testRegion {
				t.Errorf("operation %s: state %q instance %q region %q", lcStr(op, "OperationId"), lcStr(op, "OperationState"), lcStr(op, "InstanceId"), lcStr(op, "RegionId"))
			}
			if !strings.HasPrefix(lcStr(op, "OperationId"), "op-") {
				t.Errorf("OperationId %q", lcStr(op, "OperationId"))
			}
			if lcStr(op, "ErrorInfo", "ErrorCode") != "" {
				t.Errorf("operation %s carries error %v", lcStr(op, "OperationId"), lcGet(op, "ErrorInfo"))
			}
			for _, st := range lcArray(op, "Steps", "StepVO") {
				if lcStr(st, "StepStatus") != "COMPLETE" {
					t.Errorf("%s step %s is %s", lcStr(op, "OperationType"), lcStr(st, "StepName"), lcStr(st, "StepStatus"))
				}
			}
		}
		// Newest first: the upgrade was created after the start.
		if upAt, startAt := lcInt(up, "CreateTime"), lcInt(start, "CreateTime"); upAt < startAt || startAt == 0 {
			t.Errorf("CreateTime upgrade %v, start %v", upAt, startAt)
		}

		if lcStr(up, "SourceVersion") != "0.10.2" || lcStr(up, "TargetVersion") != "2.2.0" ||
			lcStr(up, "SourceMinorVersion") != cat.LatestMinor("0.10.2") || lcStr(up, "TargetMinorVersion") != cat.LatestMinor("2.2.0") {
			t.Errorf("upgrade versions: %s %s → %s %s", lcStr(up, "SourceVersion"), lcStr(up, "SourceMinorVersion"), lcStr(up, "TargetVersion"), lcStr(up, "TargetMinorVersion"))
		}
		var names []string
		var brokers []string
		for _, st := range lcArray(up, "Steps", "StepVO") {
			names = append(names, lcStr(st, "StepName"))
			if lcStr(st, "StepName") == "ROLL_BROKER" {
				brokers = append(brokers, lcStr(st, "BrokerId"))
			} else if lcGet(st, "BrokerId") != nil {
				t.Errorf("step %s has BrokerId %v", lcStr(st, "StepName"), lcGet(st, "BrokerId"))
			}
		}
		if want := []string{"INITIALIZE_UPDATE", "ROLL_BROKER", "ROLL_BROKER", "ROLL_BROKER", "FINALIZE_UPDATE"}; !reflect.DeepEqual(names, want) {
			t.Errorf("upgrade steps %v, want %v", names, want)
		}
		// The roll order depends on which broker is the controller; every
		// broker is rolled exactly once.
		slices.Sort(brokers)
		if !reflect.DeepEqual(brokers, []string{"0", "1", "2"}) {
			t.Errorf("rolled brokers %v, want 0, 1 and 2", brokers)
		}
		if lcStr(start, "TargetVersion") != "0.10.2" || len(lcArray(start, "Steps", "StepVO")) == 0 {
			t.Errorf("start operation %v", start)
		}
	})

	t.Run("DescribeInstanceOperation", func(t *testing.T) {
		for _, op := range ops {
			opID := lcStr(op, "OperationId")
			r := tc.call(t, "2019-09-16", "DescribeInstanceOperation", map[string]string{"OperationId": opID})
			if r.code != "" {
				t.Fatalf("DescribeInstanceOperation(%s): %s %s", opID, r.code, r.msg)
			}
			if got := lcGet(r.body, "Operation"); !reflect.DeepEqual(got, op) {
				t.Errorf("DescribeInstanceOperation(%s) =\n%v\nListInstanceOperations has\n%v", opID, got, op)
			}
		}
		r := tc.call(t, "2019-09-16", "DescribeInstanceOperation", map[string]string{"OperationId": "op-doesnotexist"})
		if r.status != 404 || r.code != kafkaplane.CodeOperationNotFound {
			t.Errorf("unknown operation: HTTP %d %q, want 404 %s", r.status, r.code, kafkaplane.CodeOperationNotFound)
		}
		// An operation belongs to its instance's region.
		other := lcTea(m, "cn-beijing")
		r = other.call(t, "2019-09-16", "DescribeInstanceOperation", map[string]string{"OperationId": lcStr(ops[0], "OperationId")})
		if r.status != 404 || r.code != kafkaplane.CodeOperationNotFound {
			t.Errorf("operation from another region: HTTP %d %q, want 404 %s", r.status, r.code, kafkaplane.CodeOperationNotFound)
		}
	})

	t.Run("GetUpgradableVersions after the upgrade", func(t *testing.T) {
		if got, _ := lcUpgradable(t, tc, id); len(got) != 0 {
			t.Errorf("2.2.0 on its latest minor may upgrade to %v, want none", got)
		}
	})
}

// TestConcurrentConfigUpdates sends 20 UpdateInstanceConfig calls at once:
// each is a merge, so all succeed, and the brokers end with exactly the
// config the instance row holds.
func TestConcurrentConfigUpdates(t *testing.T) {
	m := startMain(t, func(m *Main) { m.QPS = map[string]float64{"UpdateInstanceConfig": 1000} })
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(h int) {
			defer wg.Done()
			req := alikafka.CreateUpdateInstanceConfigRequest()
			req.InstanceId = id
			req.Config = fmt.Sprintf(`{"kafka.log.retention.hours":"%d"}`, 24+h)
			_, err := c.UpdateInstanceConfig(req)
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateInstanceConfig: %v", err)
		}
	}
	inst, err := m.DB.FindInstance(context.Background(), m.AccountID, testRegion, id)
	if err != nil {
		t.Fatal(err)
	}
	fake := m.Runtime.(*broker.Fake)
	if got := fake.Config(id); !maps.Equal(got, inst.Config) {
		t.Errorf("brokers have %v, the instance row %v", got, inst.Config)
	}
}
