package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// TestAuthzPolicyChangesApplyAtOnce: every change to what governs a user
// (a policy deleted and re-created under the same name with another
// document, a detach and re-attach, a group membership, a group's policy)
// is in force from the next request.
func TestAuthzPolicyChangesApplyAtOnce(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	rename := func(name string) map[string]string {
		return map[string]string{"InstanceId": id, "InstanceName": name}
	}
	onlyGetUser := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GetUser","Resource":"*"}]}`

	u := w.user("changing")
	w.ram("CreatePolicy", map[string]string{"PolicyName": "shifting", "PolicyDocument": allowAllKafka})
	attach := map[string]string{"UserName": "changing", "PolicyType": "Custom", "PolicyName": "shifting"}
	w.ram("AttachPolicyToUser", attach)
	ok(t, "rename under alikafka:*", u.tea(t, false, alikafkaVersion, "ModifyInstanceName", rename("first-name")))

	// Deleted and re-created with the same name: only the new document
	// counts.
	w.ram("DetachPolicyFromUser", attach)
	w.ram("DeletePolicy", map[string]string{"PolicyName": "shifting"})
	w.ram("CreatePolicy", map[string]string{"PolicyName": "shifting", "PolicyDocument": onlyGetUser})
	w.ram("AttachPolicyToUser", attach)
	wantDenied(t, "rename after re-creation", u.tea(t, false, alikafkaVersion, "ModifyInstanceName", rename("second-name")),
		"alikafka:UpdateInstance", "changing", "ImplicitDeny")
	wantDenied(t, "delete after re-creation", u.legacy(t, alikafkaVersion, "DeleteInstance", map[string]string{"InstanceId": id}),
		"alikafka:ReleaseInstance", "changing", "ImplicitDeny")
	ok(t, "GetUser under the new document", u.tea(t, false, ramVersion, "GetUser", map[string]string{"UserName": "changing"}))
	vos := w.instances(map[string]string{"InstanceId.1": id})
	if len(vos) != 1 || vos[0]["Name"] != "first-name" {
		t.Fatalf("instance after denied calls: %v", vos)
	}

	// Detach and re-attach.
	w.ram("DetachPolicyFromUser", attach)
	wantDenied(t, "GetUser after detach", u.tea(t, false, ramVersion, "GetUser", map[string]string{"UserName": "changing"}),
		"ram:GetUser", "changing", "ImplicitDeny")
	w.ram("AttachPolicyToUser", attach)
	ok(t, "GetUser after re-attach", u.tea(t, false, ramVersion, "GetUser", map[string]string{"UserName": "changing"}))

	// Through a group: membership and the group's policy.
	w.ram("CreateGroup", map[string]string{"GroupName": "operators"})
	w.ram("CreatePolicy", map[string]string{"PolicyName": "group-kafka", "PolicyDocument": allowAllKafka})
	groupAttach := map[string]string{"GroupName": "operators", "PolicyType": "Custom", "PolicyName": "group-kafka"}
	w.ram("AttachPolicyToGroup", groupAttach)
	member := map[string]string{"GroupName": "operators", "UserName": "changing"}
	w.ram("AddUserToGroup", member)
	ok(t, "rename as a group member", u.tea(t, false, alikafkaVersion, "ModifyInstanceName", rename("group-name")))
	w.ram("RemoveUserFromGroup", member)
	wantDenied(t, "rename after leaving the group", u.tea(t, false, alikafkaVersion, "ModifyInstanceName", rename("gone-name")),
		"alikafka:UpdateInstance", "changing", "ImplicitDeny")
	w.ram("AddUserToGroup", member)
	ok(t, "rename after rejoining", u.tea(t, false, alikafkaVersion, "ModifyInstanceName", rename("back-name")))
	w.ram("DetachPolicyFromGroup", groupAttach)
	w.ram("DeletePolicy", map[string]string{"PolicyName": "group-kafka"})
	w.ram("CreatePolicy", map[string]string{"PolicyName": "group-kafka", "PolicyDocument": onlyGetUser})
	w.ram("AttachPolicyToGroup", groupAttach)
	wantDenied(t, "rename after the group's policy was re-created", u.tea(t, false, alikafkaVersion, "ModifyInstanceName", rename("late-name")),
		"alikafka:UpdateInstance", "changing", "ImplicitDeny")
	if vos := w.instances(map[string]string{"InstanceId.1": id}); vos[0]["Name"] != "back-name" {
		t.Errorf("instance name %v, want back-name", vos[0]["Name"])
	}
}

// TestAuthzAccessKeySelfService: the AccessKey actions are authorized on
// the user they act on whether UserName is given or left out, so a Deny on
// user/NAME stops both spellings and an Allow on user/NAME permits both.
func TestAuthzAccessKeySelfService(t *testing.T) {
	w := newWorld(t)
	denyOwn := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"},` +
		`{"Effect":"Deny","Action":"ram:*AccessKey*","Resource":"acs:ram:*:*:user/locked"}]}`
	locked := w.user("locked", denyOwn)
	for _, named := range []bool{false, true} {
		with := func(p map[string]string) map[string]string {
			if p == nil {
				p = map[string]string{}
			}
			if named {
				p["UserName"] = "locked"
			}
			return p
		}
		how := map[bool]string{false: "without UserName", true: "with UserName"}[named]
		for _, c := range []struct {
			action string
			params map[string]string
		}{
			{"CreateAccessKey", nil},
			{"ListAccessKeys", nil},
			{"UpdateAccessKey", map[string]string{"UserAccessKeyId": locked.id, "Status": "Inactive"}},
			{"DeleteAccessKey", map[string]string{"UserAccessKeyId": locked.id}},
		} {
			o := locked.tea(t, false, ramVersion, c.action, with(c.params))
			wantDenied(t, c.action+" "+how, o, "ram:"+c.action, "locked", "ExplicitDeny")
			if !strings.Contains(o.msg, ":user/locked ") {
				t.Errorf("%s %s: denial names another resource: %s", c.action, how, o.msg)
			}
		}
	}
	keys := w.ram("ListAccessKeys", map[string]string{"UserName": "locked"})["AccessKeys"].(map[string]any)["AccessKey"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["Status"] != "Active" {
		t.Errorf("locked's keys after denied calls: %v", keys)
	}
	ok(t, "the denied key still works", locked.tea(t, false, ramVersion, "ListUsers", nil))

	// An Allow on user/NAME is a grant to manage one's own keys without
	// naming oneself.
	own := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*AccessKey*","Resource":"acs:ram:*:*:user/self"}]}`
	self := w.user("self", own)
	ok(t, "self lists its keys unnamed", self.legacy(t, ramVersion, "ListAccessKeys", nil))
	created := ok(t, "self creates a key unnamed", self.tea(t, true, ramVersion, "CreateAccessKey", nil))["AccessKey"].(map[string]any)
	ok(t, "self deletes the new key unnamed", self.tea(t, false, ramVersion, "DeleteAccessKey", map[string]string{"UserAccessKeyId": created["AccessKeyId"].(string)}))
	wantDenied(t, "self lists locked's keys", self.tea(t, false, ramVersion, "ListAccessKeys", map[string]string{"UserName": "locked"}),
		"ram:ListAccessKeys", "self", "ImplicitDeny")
}

// TestAuthzInstanceARNEveryAction: StartInstance and
// DescribeInstanceOperation are authorized on the instance's ARN, so a
// Deny on one instance stops them; an OperationId of another account is
// treated exactly like one that does not exist.
func TestAuthzInstanceARNEveryAction(t *testing.T) {
	w := newWorld(t)
	running := w.instance()
	order := w.kafka("CreatePostPayOrder", map[string]string{
		"DeployType": "5", "DiskSize": "500", "DiskType": "1", "IoMaxSpec": "alikafka.hw.2xlarge",
	})["OrderId"].(string)
	fresh := w.instances(map[string]string{"OrderId": order})[0]["InstanceId"].(string)
	opOf := func(w *world, id string) string {
		t.Helper()
		body := w.kafka("ListInstanceOperations", map[string]string{"InstanceId": id})
		ops := body["Operations"].(map[string]any)["OperationVO"].([]any)
		return ops[0].(map[string]any)["OperationId"].(string)
	}
	runningOp := opOf(w, running)

	denyBoth := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Deny","Action":"alikafka:*","Resource":["acs:alikafka:*:*:%s","acs:alikafka:*:*:%s"]}]}`, running, fresh)
	fenced := w.user("fenced", "AliyunKafkaFullAccess", denyBoth)
	start := map[string]string{"InstanceId": fresh, "VpcId": "vpc-x", "VSwitchId": "vsw-x", "ZoneId": "zonea", "ServiceVersion": "0.10.2"}
	wantDenied(t, "StartInstance of a denied instance", fenced.tea(t, false, alikafkaVersion, "StartInstance", start),
		"alikafka:StartInstance", "fenced", "ExplicitDeny")
	if vo := w.instances(map[string]string{"InstanceId.1": fresh})[0]; fmt.Sprint(vo["ServiceStatus"]) == "5" || vo["VpcId"] == "vpc-x" {
		t.Errorf("denied StartInstance started the instance: %v", vo)
	}
	o := fenced.legacy(t, alikafkaVersion, "DescribeInstanceOperation", map[string]string{"OperationId": runningOp})
	wantDenied(t, "DescribeInstanceOperation on a denied instance", o, "alikafka:ListInstance", "fenced", "ExplicitDeny")
	if !strings.Contains(o.msg, ":"+running+" ") {
		t.Errorf("denial does not name the operation's instance: %s", o.msg)
	}

	// Another account with an operation of its own.
	other := &kafkaplane.AccessKey{ID: "LTAIotheraccountroot0001", Secret: "otheraccountsecret000000000001", AccountID: "6543210987654321", Status: kafkaplane.AccessKeyActive, CreateDate: time.Now()}
	if err := w.m.DB.CreateAccessKey(context.Background(), other, 0); err != nil {
		t.Fatal(err)
	}
	ow := &world{t: t, m: w.m, root: principal{addr: w.root.addr, id: other.ID, secret: other.Secret}}
	foreignOp := opOf(ow, ow.instance())

	scopedDoc := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:ListInstance","Resource":"acs:alikafka:*:*:%s"}]}`, running)
	scoped := w.user("scoped", scopedDoc)
	body := ok(t, "DescribeInstanceOperation on the allowed instance", scoped.tea(t, false, alikafkaVersion, "DescribeInstanceOperation", map[string]string{"OperationId": runningOp}))
	if body["Operation"].(map[string]any)["InstanceId"] != running {
		t.Errorf("DescribeInstanceOperation: %v", body)
	}
	foreign := scoped.tea(t, false, alikafkaVersion, "DescribeInstanceOperation", map[string]string{"OperationId": foreignOp})
	missing := scoped.tea(t, false, alikafkaVersion, "DescribeInstanceOperation", map[string]string{"OperationId": "op-doesnotexist"})
	wantDenied(t, "another account's operation", foreign, "alikafka:ListInstance", "scoped", "ImplicitDeny")
	wantDenied(t, "a missing operation", missing, "alikafka:ListInstance", "scoped", "ImplicitDeny")
	// The SDK appends the RequestId to the message.
	withoutID := func(msg string) string { m, _, _ := strings.Cut(msg, "request id:"); return m }
	if withoutID(foreign.msg) != withoutID(missing.msg) || strings.Contains(foreign.msg, foreignOp) {
		t.Errorf("another account's operation and a missing one are told apart:\n%s\n%s", foreign.msg, missing.msg)
	}
	reader := w.user("reader", "AliyunKafkaReadOnlyAccess")
	foreign = reader.tea(t, false, alikafkaVersion, "DescribeInstanceOperation", map[string]string{"OperationId": foreignOp})
	missing = reader.tea(t, false, alikafkaVersion, "DescribeInstanceOperation", map[string]string{"OperationId": "op-doesnotexist"})
	if foreign.code != kafkaplane.CodeOperationNotFound || missing.code != kafkaplane.CodeOperationNotFound {
		t.Errorf("reader: another account's operation %s, a missing one %s; want %s for both", foreign.code, missing.code, kafkaplane.CodeOperationNotFound)
	}
}
