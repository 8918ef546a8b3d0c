package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/kafkaplane/kafkaplane/jobs"
)

// TestOrderActions drives the purchase, conversion and specification
// actions the way a user meets them: the V3 SDK for those only the newest
// SDK knows, the legacy typed client for the rest.
func TestOrderActions(t *testing.T) {
	m := startMain(t, func(m *Main) {
		// Room above the published 2/s for a test that calls faster.
		m.QPS = map[string]float64{}
		for _, a := range []string{"CreatePostPayInstance", "CreatePrePayInstance", "CreatePostPayOrder", "StartInstance",
			"UpgradePostPayOrder", "DowngradePostPayOrder", "UpgradePrePayOrder", "DowngradePrePayOrder", "ConvertPostPayOrder"} {
			m.QPS[a] = 1000
		}
	})
	c := kafkaClient(t, m.ListenAddr())
	v3 := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	models := newestModels(t)
	call := func(action string, p map[string]string) result {
		t.Helper()
		return v3.call(t, "2019-09-16", action, p)
	}
	must := func(action string, p map[string]string) map[string]any {
		t.Helper()
		r := call(action, p)
		if r.code != "" {
			t.Fatalf("%s: %s %s", action, r.code, r.msg)
		}
		if missing := missingNewest(models[action], r.body, action); len(missing) > 0 {
			t.Errorf("the answer lacks fields of the newest SDK's model: %s", strings.Join(missing, ", "))
		}
		return r.body
	}

	// CreatePostPayInstance answers the id and a numeric order id.
	// (The generic legacy client keeps the JSON types; the V3 SDK passes
	// numbers through as text.)
	raw := legacyClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	r := raw.call(t, "2019-09-16", "CreatePostPayInstance", map[string]string{"DeployType": "5", "SpecType": "professional", "PartitionNum": "50"})
	data, _ := r.body["Data"].(map[string]any)
	newID, _ := data["InstanceId"].(string)
	if _, isNum := data["OrderId"].(float64); !isNum || newID == "" {
		t.Fatalf("CreatePostPayInstance: %+v", r)
	}
	vo := describe(t, c, newID)
	if vo.PaidType != 1 || vo.SpecType != "professional" || vo.DiskSize != 500 || vo.ServiceStatus != 0 {
		t.Fatalf("bought instance %+v", vo)
	}
	body := must("CreatePrePayInstance", map[string]string{"Duration": "3", "DiskSize": "900"})
	data, _ = body["Data"].(map[string]any)
	if vo := describe(t, c, data["InstanceId"].(string)); vo.PaidType != 0 || vo.DiskSize != 900 {
		t.Fatalf("subscription instance %+v", vo)
	}
	for _, bad := range []struct {
		action string
		params map[string]string
		code   string
	}{
		{"CreatePostPayInstance", map[string]string{"DeployType": "5", "PaidType": "3"}, "InvalidPaidType"},
		{"CreatePostPayInstance", map[string]string{"DeployType": "5", "ServerlessConfig": `{"ReservedPublishCapacity":60}`}, "InvalidServerlessConfig"},
		{"CreatePrePayInstance", map[string]string{"ConfluentConfig.KafkaCU": "4"}, "InvalidConfluentConfig"},
		{"CreatePostPayInstance", map[string]string{}, "MissingDeployType"},
	} {
		if r := call(bad.action, bad.params); r.code != bad.code {
			t.Errorf("%s %v: %q, want %s", bad.action, bad.params, r.code, bad.code)
		}
	}

	id := createRunning(t, c, "2.2.0")
	grow := map[string]string{"InstanceId": id, "DiskSize": "1200", "TopicQuota": "200", "EipModel": "true", "EipMax": "10"}
	must("UpgradePostPayOrder", grow)
	waitStatus(t, c, id, 5)
	if vo := describe(t, c, id); vo.DiskSize != 1200 || vo.TopicNumLimit != 200 || vo.DeployType != 4 || vo.ServiceStatus != 5 {
		t.Fatalf("after UpgradePostPayOrder %+v", vo)
	}
	if r := call("DowngradePostPayOrder", map[string]string{"InstanceId": id, "DiskSize": "1500"}); r.code != "InvalidDiskSize" {
		t.Fatalf("downgrade that grows: %+v", r)
	}
	if r := call("UpgradePrePayOrder", map[string]string{"InstanceId": id, "DiskSize": "1500"}); r.code != "BIZ_INSTANCE_STATUS_ERROR" {
		t.Fatalf("UpgradePrePayOrder on a pay-as-you-go instance: %+v", r)
	}
	must("DowngradePostPayOrder", map[string]string{"InstanceId": id, "DiskSize": "800", "TopicQuota": "60", "EipModel": "false"})
	waitStatus(t, c, id, 5)
	if vo := describe(t, c, id); vo.DiskSize != 800 || vo.TopicNumLimit != 60 || vo.DeployType != 5 {
		t.Fatalf("after DowngradePostPayOrder %+v", vo)
	}

	// ConvertPostPayOrder, as Terraform sends it (InstanceId only), then
	// the subscription actions.
	conv := alikafka.CreateConvertPostPayOrderRequest()
	conv.InstanceId = id
	cr, err := c.ConvertPostPayOrder(conv)
	if err != nil || cr.OrderId == "" {
		t.Fatalf("ConvertPostPayOrder: %v %+v", err, cr)
	}
	if vo := describe(t, c, id); vo.PaidType != 0 {
		t.Fatalf("after ConvertPostPayOrder PaidType %d", vo.PaidType)
	}
	if _, err := c.ConvertPostPayOrder(conv); err == nil {
		t.Fatal("second ConvertPostPayOrder accepted")
	}
	up := alikafka.CreateUpgradePrePayOrderRequest()
	up.InstanceId, up.DiskSize, up.PaidType = id, "1000", "0"
	if _, err := c.UpgradePrePayOrder(up); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, id, 5)
	up.ConfluentConfig.KafkaCU = "4"
	if _, err := c.UpgradePrePayOrder(up); err == nil {
		t.Fatal("UpgradePrePayOrder with ConfluentConfig.KafkaCU accepted")
	}
	body = must("DowngradePrePayOrder", map[string]string{"InstanceId": id, "DiskSize": "700"})
	waitStatus(t, c, id, 5)
	if body["OrderId"] == "" || body["OrderId"] == nil {
		t.Fatalf("DowngradePrePayOrder answer %v", body)
	}
	if vo := describe(t, c, id); vo.DiskSize != 700 {
		t.Fatalf("after DowngradePrePayOrder DiskSize %d", vo.DiskSize)
	}

	// ChangeResourceGroup: the answer's Success is a number, which the
	// legacy model decodes as int64.
	crg := alikafka.CreateChangeResourceGroupRequest()
	crg.ResourceId, crg.NewResourceGroupId = id, "rg-new"
	rr, err := c.ChangeResourceGroup(crg)
	if err != nil || rr.NewResourceGroupId != "rg-new" || rr.Success != 1 || rr.Code != 200 {
		t.Fatalf("ChangeResourceGroup: %v %+v", err, rr)
	}
	list := alikafka.CreateGetInstanceListRequest()
	list.ResourceGroupId = "rg-new"
	lr, err := c.GetInstanceList(list)
	if err != nil || len(lr.InstanceList.InstanceVO) != 1 || lr.InstanceList.InstanceVO[0].InstanceId != id {
		t.Fatalf("GetInstanceList(ResourceGroupId): %v %+v", err, lr)
	}

	// User-defined security groups.
	must("AddUserDefinedSg", map[string]string{"InstanceId": id, "SgIdList": `["sg-a","sg-b"]`})
	must("DeleteUserDefinedSg", map[string]string{"InstanceId": id, "SgIdList": `["sg-a"]`})
	if r := call("DeleteUserDefinedSg", map[string]string{"InstanceId": id, "SgIdList": `["sg-a"]`}); r.code != "InvalidSgIdList" {
		t.Fatalf("deleting a group the instance lacks: %+v", r)
	}
	if r := call("AddUserDefinedSg", map[string]string{"InstanceId": id, "SgIdList": `["default"]`}); r.code != "InvalidSgIdList" {
		t.Fatalf("a malformed group id: %+v", r)
	}
	sgs := func() string {
		r := call("GetInstanceList", map[string]string{"InstanceId.1": id})
		vos := r.body["InstanceList"].(map[string]any)["InstanceVO"].([]any)
		return fmt.Sprint(vos[0].(map[string]any)["KafkaplaneUserDefinedSgIds"])
	}
	if got := sgs(); got != "[sg-b]" {
		t.Fatalf("user-defined groups %s", got)
	}
	must("ModifyUserDefinedSg", map[string]string{"InstanceId": id, "SgIdList": `["sg-c","sg-d"]`})
	if got := sgs(); got != "[sg-c sg-d]" {
		t.Fatalf("after ModifyUserDefinedSg %s", got)
	}
}

// TestSpecChangeIsAnOperation: a specification change is accepted as a
// durable operation. While no worker runs it the instance shows
// ServiceStatus 11 / ViewInstanceStatusCode 7 with its old sizes and takes
// no other change; a worker started afterwards (as after a restart)
// finishes it and the instance is Running with the new sizes.
func TestSpecChangeIsAnOperation(t *testing.T) {
	m := startMain(t, func(m *Main) { m.QPS = map[string]float64{"UpgradePostPayOrder": 1000, "StartInstance": 1000} })
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	m.Worker.Close()

	up := alikafka.CreateUpgradePostPayOrderRequest()
	up.InstanceId, up.DiskSize, up.PartitionNum = id, "1000", "100"
	if _, err := c.UpgradePostPayOrder(up); err != nil {
		t.Fatal(err)
	}
	vo := describe(t, c, id)
	if vo.ServiceStatus != 11 || vo.ViewInstanceStatusCode != 7 || vo.DiskSize != 500 {
		t.Fatalf("while changing: ServiceStatus %d, ViewInstanceStatusCode %d, DiskSize %d", vo.ServiceStatus, vo.ViewInstanceStatusCode, vo.DiskSize)
	}
	up.DiskSize = "1200"
	if _, err := c.UpgradePostPayOrder(up); err == nil || !strings.Contains(err.Error(), "BIZ_INSTANCE_STATUS_ERROR") {
		t.Fatalf("a second change while changing: %v", err)
	}
	stop := alikafka.CreateStopInstanceRequest()
	stop.InstanceId = id
	if _, err := c.StopInstance(stop); err == nil || !strings.Contains(err.Error(), "BIZ_INSTANCE_STATUS_ERROR") {
		t.Fatalf("StopInstance while changing: %v", err)
	}
	raw := legacyClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	ops := func() []any {
		r := raw.call(t, "2019-09-16", "ListInstanceOperations", map[string]string{"InstanceId": id})
		l, _ := r.body["Operations"].(map[string]any)["OperationVO"].([]any)
		return l
	}
	if op := fmt.Sprint(ops()[0]); !strings.Contains(op, "OperationState:PENDING") || !strings.Contains(op, "OperationType:CHANGE_SPECIFICATION") {
		t.Fatalf("newest operation %s", op)
	}

	w := jobs.New(jobs.Config{Instances: m.DB, Operations: m.DB, Runtime: m.Runtime, Owner: m.WorkerID, Logger: m.Logger})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	vo = waitStatus(t, c, id, 5)
	if vo.DiskSize != 1000 || vo.ViewInstanceStatusCode != 2 {
		t.Fatalf("after the change: %+v", vo)
	}
	q := alikafka.CreateGetQuotaTipRequest()
	q.InstanceId = id
	if qr, err := c.GetQuotaTip(q); err != nil || qr.QuotaData.PartitionNumOfBuy != 100 {
		t.Fatalf("GetQuotaTip after the change: %v %+v", err, qr)
	}
	op := fmt.Sprint(ops()[0])
	for _, want := range []string{"OperationState:COMPLETE", "StepName:CHECK_BROKERS StepStatus:COMPLETE", "StepName:FINALIZE_SPEC StepStatus:COMPLETE"} {
		if !strings.Contains(op, want) {
			t.Errorf("finished operation lacks %q: %s", want, op)
		}
	}
}
