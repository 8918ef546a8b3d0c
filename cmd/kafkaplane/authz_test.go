package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/kafkaplane/kafkaplane/openapi"
)

const (
	alikafkaVersion = "2019-09-16"
	ramVersion      = "2015-05-01"
)

// outcome is one call's result together with the AccessDeniedDetail that
// a RAM denial carries, as the official client exposes it.
type outcome struct {
	result
	detail map[string]any
}

// principal is an AccessKey pair that the tests call with.
type principal struct {
	addr, id, secret string
}

// throttled reports whether a call was refused by flow control; the
// helpers below wait and retry it, because the tests share each action's
// per-account quota (UpgradeInstanceVersion: 2/s) between principals.
func throttled(o outcome) bool { return o.code == "Throttling.User" }

func retryThrottled(call func() outcome) outcome {
	var o outcome
	for range 40 {
		if o = call(); !throttled(o) {
			return o
		}
		time.Sleep(250 * time.Millisecond)
	}
	return o
}

// tea calls through darabonba-openapi in its default V3 mode (or, with v1,
// its RPC V1 mode) and keeps the AccessDeniedDetail of a ClientError.
func (p principal) tea(t testing.TB, v1 bool, version, action string, params map[string]string) outcome {
	t.Helper()
	return retryThrottled(func() outcome {
		cfg := &openapiutil.Config{
			AccessKeyId:     dara.String(p.id),
			AccessKeySecret: dara.String(p.secret),
			Endpoint:        dara.String(p.addr),
			Protocol:        dara.String("HTTP"),
			RegionId:        dara.String(testRegion),
		}
		if v1 {
			cfg.SignatureAlgorithm = dara.String("v2")
		}
		cl, err := openapiclient.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		q := map[string]*string{}
		for k, v := range params {
			q[k] = dara.String(v)
		}
		if _, ok := params["RegionId"]; !ok && version == alikafkaVersion {
			q["RegionId"] = dara.String(testRegion)
		}
		api := &openapiutil.Params{
			Action: dara.String(action), Version: dara.String(version), Protocol: dara.String("HTTP"),
			Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
			Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
		}
		out, err := cl.CallApi(api, &openapiutil.OpenApiRequest{Query: q}, &dara.RuntimeOptions{})
		switch e := err.(type) {
		case nil:
		case *openapiclient.ClientError:
			return outcome{result{status: dara.IntValue(e.StatusCode), code: dara.StringValue(e.Code), msg: dara.StringValue(e.Message)}, e.AccessDeniedDetail}
		case *openapiclient.ServerError:
			return outcome{result: result{status: dara.IntValue(e.StatusCode), code: dara.StringValue(e.Code), msg: dara.StringValue(e.Message)}}
		case *openapiclient.ThrottlingError:
			return outcome{result: result{status: dara.IntValue(e.StatusCode), code: dara.StringValue(e.Code), msg: dara.StringValue(e.Message)}}
		case *tea.SDKError:
			// darabonba's RPC path reports errors in the older tea type,
			// which carries the AccessDeniedDetail as well.
			return outcome{result{status: tea.IntValue(e.StatusCode), code: tea.StringValue(e.Code), msg: tea.StringValue(e.Message)}, e.AccessDeniedDetail}
		default:
			t.Fatalf("darabonba %s: %T %v", action, err, err)
		}
		body, _ := out["body"].(map[string]any)
		// The status arrives as an int or, after darabonba's JSON
		// conversion, as a json.Number.
		status, _ := strconv.Atoi(fmt.Sprint(out["statusCode"]))
		return outcome{result: result{status: status, body: body}}
	})
}

// legacy calls through the legacy SDK's CommonRequest and keeps the
// AccessDeniedDetail of its ServerError.
func (p principal) legacy(t testing.TB, version, action string, params map[string]string) outcome {
	t.Helper()
	return retryThrottled(func() outcome {
		cl, err := sdk.NewClientWithAccessKey(testRegion, p.id, p.secret)
		if err != nil {
			t.Fatal(err)
		}
		req := requests.NewCommonRequest()
		req.Method = requests.POST
		req.Scheme = "http"
		req.Domain = p.addr
		req.Version = version
		req.ApiName = action
		for k, v := range params {
			req.QueryParams[k] = v
		}
		resp, err := cl.ProcessCommonRequest(req)
		var se *sdkerrors.ServerError
		if errors.As(err, &se) {
			return outcome{result{status: se.HttpStatus(), code: se.ErrorCode(), msg: se.Message()}, se.AccessDeniedDetail()}
		}
		if err != nil {
			t.Fatalf("legacy %s: %v", action, err)
		}
		var body map[string]any
		_ = json.Unmarshal(resp.GetHttpContentBytes(), &body)
		return outcome{result: result{status: resp.GetHttpStatus(), body: body}}
	})
}

// ok fails the test unless the call succeeded, and returns its body.
func ok(t testing.TB, what string, o outcome) map[string]any {
	t.Helper()
	if o.status != 200 || o.code != "" {
		t.Fatalf("%s: HTTP %d %s: %s", what, o.status, o.code, o.msg)
	}
	return o.body
}

// wantDenied checks a RAM denial as the client reports it: HTTP 403,
// Forbidden.RAM and an AccessDeniedDetail naming the action, the
// principal and why.
func wantDenied(t testing.TB, what string, o outcome, ramAction, user, kind string) {
	t.Helper()
	if o.status != 403 || o.code != "Forbidden.RAM" {
		t.Errorf("%s: got HTTP %d %q (%s), want 403 Forbidden.RAM", what, o.status, o.code, o.msg)
		return
	}
	d := o.detail
	if d == nil {
		t.Errorf("%s: no AccessDeniedDetail", what)
		return
	}
	for k, want := range map[string]string{
		"AuthAction":               ramAction,
		"NoPermissionType":         kind,
		"AuthPrincipalType":        "SubUser",
		"AuthPrincipalDisplayName": user,
	} {
		if got := fmt.Sprint(d[k]); got != want {
			t.Errorf("%s: AccessDeniedDetail.%s = %q, want %q (detail %v)", what, k, got, want, d)
		}
	}
}

// world is a running server with its root principal.
type world struct {
	t    testing.TB
	m    *Main
	root principal
}

func newWorld(t testing.TB) *world {
	m := startMain(t)
	return &world{t: t, m: m, root: principal{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret}}
}

// kafka and ram call as root and require success.
func (w *world) kafka(action string, params map[string]string) map[string]any {
	w.t.Helper()
	return ok(w.t, action, w.root.tea(w.t, false, alikafkaVersion, action, params))
}

func (w *world) ram(action string, params map[string]string) map[string]any {
	w.t.Helper()
	return ok(w.t, action, w.root.tea(w.t, false, ramVersion, action, params))
}

// user creates a RAM user with one AccessKey and attaches policies to it:
// a system policy by name, or a custom policy given as its JSON document.
func (w *world) user(name string, policies ...string) principal {
	w.t.Helper()
	w.ram("CreateUser", map[string]string{"UserName": name})
	for i, p := range policies {
		typ, pname := "System", p
		if strings.HasPrefix(strings.TrimSpace(p), "{") {
			typ, pname = "Custom", fmt.Sprintf("%s-policy-%d", name, i)
			w.ram("CreatePolicy", map[string]string{"PolicyName": pname, "PolicyDocument": p})
		}
		w.ram("AttachPolicyToUser", map[string]string{"UserName": name, "PolicyType": typ, "PolicyName": pname})
	}
	key := w.ram("CreateAccessKey", map[string]string{"UserName": name})["AccessKey"].(map[string]any)
	return principal{addr: w.root.addr, id: key["AccessKeyId"].(string), secret: key["AccessKeySecret"].(string)}
}

// instance creates a running instance the way a customer does: order,
// find it by order, deploy it, wait until it serves (ServiceStatus 5).
func (w *world) instance() string {
	w.t.Helper()
	order := w.kafka("CreatePostPayOrder", map[string]string{
		"DeployType": "5", "DiskSize": "500", "DiskType": "1", "IoMaxSpec": "alikafka.hw.2xlarge", "SpecType": "normal",
	})["OrderId"].(string)
	vos := w.instances(map[string]string{"OrderId": order})
	if len(vos) != 1 {
		w.t.Fatalf("order %s: %d instances", order, len(vos))
	}
	id := vos[0]["InstanceId"].(string)
	w.kafka("StartInstance", map[string]string{
		"InstanceId": id, "VpcId": "vpc-test", "VSwitchId": "vsw-test", "ZoneId": "zonea", "ServiceVersion": "0.10.2",
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		vos := w.instances(map[string]string{"InstanceId.1": id})
		if len(vos) == 1 && fmt.Sprint(vos[0]["ServiceStatus"]) == "5" {
			return id
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("instance %s did not reach ServiceStatus 5: %v", id, vos)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *world) instances(params map[string]string) []map[string]any {
	w.t.Helper()
	body := w.kafka("GetInstanceList", params)
	list, _ := body["InstanceList"].(map[string]any)
	raw, _ := list["InstanceVO"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		out = append(out, v.(map[string]any))
	}
	return out
}

const (
	allowAllKafka = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:*","Resource":"*"}]}`
)

// untouched reports whether an instance still runs 0.10.2 with no
// operation under way.
func untouched(vo map[string]any) bool {
	return fmt.Sprint(vo["ServiceStatus"]) == "5" && strings.HasPrefix(fmt.Sprint(vo["KafkaplaneMinorVersion"]), "0.10.2")
}

func upgradeParams(id string) map[string]string {
	return map[string]string{"InstanceId": id, "TargetVersion": "2.2.0"}
}

// TestAuthzNoPolicy: a RAM user without policies is refused
// UpgradeInstanceVersion by every official client, with the denial
// details they expose.
func TestAuthzNoPolicy(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	nobody := w.user("nobody")

	wantDenied(t, "darabonba-v3", nobody.tea(t, false, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id)),
		"alikafka:UpdateInstance", "nobody", "ImplicitDeny")
	wantDenied(t, "darabonba-v1", nobody.tea(t, true, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id)),
		"alikafka:UpdateInstance", "nobody", "ImplicitDeny")
	wantDenied(t, "legacy-sdk", nobody.legacy(t, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id)),
		"alikafka:UpdateInstance", "nobody", "ImplicitDeny")

	// The denial changed nothing: the instance still runs its version.
	if vo := w.instances(map[string]string{"InstanceId.1": id})[0]; !untouched(vo) {
		t.Errorf("instance after denials: status %v, minor %v", vo["ServiceStatus"], vo["KafkaplaneMinorVersion"])
	}
	// The root key is never subject to policies.
	ok(t, "root upgrade", w.root.tea(t, false, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id)))
}

// TestAuthzInstanceScoped: alikafka:UpdateInstance granted on one
// instance's ARN allows acting on that instance and on no other.
func TestAuthzInstanceScoped(t *testing.T) {
	w := newWorld(t)
	mine, other := w.instance(), w.instance()
	doc := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:UpdateInstance","Resource":"acs:alikafka:*:*:%s"}]}`, mine)
	scoped := w.user("scoped", doc)

	for _, v1 := range []bool{false, true} {
		name := map[bool]string{false: "darabonba-v3", true: "darabonba-v1"}[v1]
		ok(t, name+" rename own instance", scoped.tea(t, v1, alikafkaVersion, "ModifyInstanceName", map[string]string{"InstanceId": mine, "InstanceName": "mine-" + map[bool]string{false: "v3", true: "v1"}[v1]}))
		wantDenied(t, name+" rename other instance", scoped.tea(t, v1, alikafkaVersion, "ModifyInstanceName", map[string]string{"InstanceId": other, "InstanceName": "not-mine"}),
			"alikafka:UpdateInstance", "scoped", "ImplicitDeny")
		wantDenied(t, name+" upgrade other instance", scoped.tea(t, v1, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(other)),
			"alikafka:UpdateInstance", "scoped", "ImplicitDeny")
	}
	wantDenied(t, "legacy upgrade other instance", scoped.legacy(t, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(other)),
		"alikafka:UpdateInstance", "scoped", "ImplicitDeny")
	// Other actions on its own instance are not granted either.
	wantDenied(t, "list instances", scoped.tea(t, false, alikafkaVersion, "GetInstanceList", nil),
		"alikafka:ListInstance", "scoped", "ImplicitDeny")
	wantDenied(t, "release own instance", scoped.tea(t, false, alikafkaVersion, "ReleaseInstance", map[string]string{"InstanceId": mine}),
		"alikafka:ReleaseInstance", "scoped", "ImplicitDeny")

	ok(t, "legacy upgrade own instance", scoped.legacy(t, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(mine)))
	if vo := w.instances(map[string]string{"InstanceId.1": mine})[0]; untouched(vo) {
		t.Errorf("own instance neither upgrading nor upgraded: status %v, minor %v", vo["ServiceStatus"], vo["KafkaplaneMinorVersion"])
	}
	if vo := w.instances(map[string]string{"InstanceId.1": other})[0]; vo["Name"] == "not-mine" || !untouched(vo) {
		t.Errorf("other instance changed: name %v, status %v, minor %v", vo["Name"], vo["ServiceStatus"], vo["KafkaplaneMinorVersion"])
	}
}

// TestAuthzExplicitDeny: a Deny statement wins over AliyunKafkaFullAccess.
func TestAuthzExplicitDeny(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	deny := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"alikafka:UpdateInstance","Resource":"*"}]}`
	u := w.user("denied", "AliyunKafkaFullAccess", deny)

	ok(t, "list under full access", u.tea(t, false, alikafkaVersion, "GetInstanceList", nil))
	wantDenied(t, "darabonba upgrade", u.tea(t, false, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id)),
		"alikafka:UpdateInstance", "denied", "ExplicitDeny")
	o := u.legacy(t, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id))
	wantDenied(t, "legacy upgrade", o, "alikafka:UpdateInstance", "denied", "ExplicitDeny")
	if o.detail["PolicyType"] == "" {
		t.Errorf("explicit deny names no policy type: %v", o.detail)
	}

	// Without the Deny, full access allows the upgrade.
	w.ram("DetachPolicyFromUser", map[string]string{"UserName": "denied", "PolicyType": "Custom", "PolicyName": "denied-policy-1"})
	ok(t, "upgrade after detaching the deny", u.tea(t, false, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id)))
}

// TestAuthzSourceIP: an acs:SourceIp condition allows callers from the
// listed network and no others. The tests call from 127.0.0.1.
func TestAuthzSourceIP(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	cond := func(cidr string) string {
		return fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"%s"}}}]}`, cidr)
	}
	local, remote := w.user("local", cond("127.0.0.1/32")), w.user("remote", cond("10.0.0.0/8"))

	ok(t, "loopback caller lists", local.tea(t, false, alikafkaVersion, "GetInstanceList", nil))
	ok(t, "loopback caller renames", local.legacy(t, alikafkaVersion, "ModifyInstanceName", map[string]string{"InstanceId": id, "InstanceName": "by-local"}))
	wantDenied(t, "caller outside 10/8 lists", remote.tea(t, false, alikafkaVersion, "GetInstanceList", nil),
		"alikafka:ListInstance", "remote", "ImplicitDeny")
	wantDenied(t, "caller outside 10/8 upgrades", remote.legacy(t, alikafkaVersion, "UpgradeInstanceVersion", upgradeParams(id)),
		"alikafka:UpdateInstance", "remote", "ImplicitDeny")

	// NotIpAddress inverts the condition.
	outside := w.user("outside", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}}]}`)
	ok(t, "NotIpAddress", outside.tea(t, true, alikafkaVersion, "GetInstanceList", nil))
}

// TestAuthzInactiveKey: a key set Inactive through UpdateAccessKey is
// refused before any policy is looked at, and works again once Active.
func TestAuthzInactiveKey(t *testing.T) {
	w := newWorld(t)
	u := w.user("sleepy", allowAllKafka)
	ok(t, "active key", u.tea(t, false, alikafkaVersion, "GetInstanceList", nil))

	w.ram("UpdateAccessKey", map[string]string{"UserName": "sleepy", "UserAccessKeyId": u.id, "Status": "Inactive"})
	for name, o := range map[string]outcome{
		"darabonba-v3": u.tea(t, false, alikafkaVersion, "GetInstanceList", nil),
		"darabonba-v1": u.tea(t, true, alikafkaVersion, "GetInstanceList", nil),
		"legacy":       u.legacy(t, alikafkaVersion, "GetInstanceList", nil),
	} {
		if o.status != 400 || o.code != "InvalidAccessKeyId.Inactive" {
			t.Errorf("%s with inactive key: HTTP %d %q, want 400 InvalidAccessKeyId.Inactive", name, o.status, o.code)
		}
	}
	w.ram("UpdateAccessKey", map[string]string{"UserName": "sleepy", "UserAccessKeyId": u.id, "Status": "Active"})
	ok(t, "reactivated key", u.tea(t, false, alikafkaVersion, "GetInstanceList", nil))
}

// TestAuthzRAMActions: RAM's own actions are authorized like any other; a
// user with AliyunRAMReadOnlyAccess reads users but cannot create them.
func TestAuthzRAMActions(t *testing.T) {
	w := newWorld(t)
	reader := w.user("reader", "AliyunRAMReadOnlyAccess")
	body := ok(t, "ListUsers", reader.tea(t, false, ramVersion, "ListUsers", nil))
	if users := body["Users"].(map[string]any)["User"].([]any); len(users) != 1 {
		t.Errorf("ListUsers: %v", body)
	}
	ok(t, "GetPolicy", reader.legacy(t, ramVersion, "GetPolicy", map[string]string{"PolicyType": "System", "PolicyName": "AliyunKafkaFullAccess"}))
	wantDenied(t, "CreateUser", reader.tea(t, false, ramVersion, "CreateUser", map[string]string{"UserName": "intruder"}),
		"ram:CreateUser", "reader", "ImplicitDeny")
	wantDenied(t, "CreateAccessKey for itself", reader.legacy(t, ramVersion, "CreateAccessKey", nil),
		"ram:CreateAccessKey", "reader", "ImplicitDeny")
	// The user-scoped ARN lets a policy delegate one user's keys.
	selfKeys := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*AccessKey*","Resource":"acs:ram:*:*:user/keeper"}]}`
	keeper := w.user("keeper", selfKeys)
	ok(t, "keeper lists its keys", keeper.tea(t, false, ramVersion, "ListAccessKeys", map[string]string{"UserName": "keeper"}))
	wantDenied(t, "keeper lists reader's keys", keeper.tea(t, false, ramVersion, "ListAccessKeys", map[string]string{"UserName": "reader"}),
		"ram:ListAccessKeys", "keeper", "ImplicitDeny")
}

// TestAuthzEveryActionDenied runs every registered action as a user with
// no policy, with parameters that would otherwise succeed or change
// something: each is denied with Forbidden.RAM naming its RAM action, and
// instances, users, keys, policies and attachments are unchanged.
func TestAuthzEveryActionDenied(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	victimDoc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:List*","Resource":"*"}]}`
	victim := w.user("victim", victimDoc)
	nobody := w.user("nobody")
	w.ram("CreateGroup", map[string]string{"GroupName": "victims"})
	w.ram("AddUserToGroup", map[string]string{"GroupName": "victims", "UserName": "victim"})
	w.ram("AttachPolicyToGroup", map[string]string{"GroupName": "victims", "PolicyType": "System", "PolicyName": "AliyunKafkaReadOnlyAccess"})
	w.kafka("CreateTopic", map[string]string{"InstanceId": id, "Topic": "victim-topic", "Remark": "kept"})
	w.kafka("CreateConsumerGroup", map[string]string{"InstanceId": id, "ConsumerId": "victim-group"})

	snapshot := func() string {
		t.Helper()
		var parts []any
		for _, c := range []struct {
			version, action string
			params          map[string]string
		}{
			{alikafkaVersion, "GetInstanceList", nil},
			{alikafkaVersion, "ListInstanceOperations", map[string]string{"InstanceId": id}},
			{ramVersion, "ListUsers", nil},
			{ramVersion, "ListPolicies", nil},
			{ramVersion, "ListAccessKeys", map[string]string{"UserName": "victim"}},
			{ramVersion, "ListAccessKeys", map[string]string{"UserName": "nobody"}},
			{ramVersion, "ListPoliciesForUser", map[string]string{"UserName": "victim"}},
			{ramVersion, "ListGroups", nil},
			{ramVersion, "ListUsersForGroup", map[string]string{"GroupName": "victims"}},
			{ramVersion, "ListPoliciesForGroup", map[string]string{"GroupName": "victims"}},
			{alikafkaVersion, "GetTopicList", map[string]string{"InstanceId": id}},
			{alikafkaVersion, "GetConsumerList", map[string]string{"InstanceId": id}},
		} {
			body := ok(t, c.action, w.root.tea(t, false, c.version, c.action, c.params))
			delete(body, "RequestId")
			parts = append(parts, body)
		}
		b, _ := json.Marshal(parts)
		return string(b)
	}
	before := snapshot()

	known := map[string]string{
		"InstanceId": id, "TargetVersion": "2.2.0", "InstanceName": "renamed-by-nobody", "Config": `{"enable.acl":"true"}`,
		"VpcId": "vpc-x", "VSwitchId": "vsw-x", "ZoneId": "zonea", "DeployType": "5", "DiskSize": "500", "DiskType": "1",
		"IoMaxSpec": "alikafka.hw.2xlarge", "SpecType": "normal", "OperationId": "op-none",
		"UserName": "victim", "NewUserName": "renamed", "UserAccessKeyId": victim.id, "Status": "Inactive",
		"PolicyName": "victim-policy-0", "PolicyType": "Custom", "PolicyDocument": allowAllKafka,
		"GroupName": "victims", "NewGroupName": "renamed-group",
		"Topic": "victim-topic", "ConsumerId": "victim-group", "Remark": "by nobody", "AddPartitionNum": "1",
		"ResourceType": "instance", "ResourceId": id, "TimeZone": "GMT+8",
		"AclResourceType": "Topic", "AclResourcePatternType": "LITERAL", "AclOperationType": "Write", "AllowedListIp": "10.0.0.1",
	}
	// Every action the running server dispatches to, whatever serve.go
	// registers.
	actions := w.m.Server.Registry().Actions()
	if len(actions) < 30 {
		t.Fatalf("only %d actions registered", len(actions))
	}
	for _, a := range actions {
		params := map[string]string{}
		for _, d := range a.Params {
			v, isKnown := known[d.Name]
			if !isKnown && !d.Required {
				continue
			}
			if !isKnown {
				switch {
				case len(d.Enum) > 0:
					v = d.Enum[0]
				case d.Kind == openapi.Integer:
					v = strconv.FormatInt(max(d.Min, 1), 10)
				case d.Kind == openapi.Boolean:
					v = "false"
				case d.Kind == openapi.JSON:
					v = "{}"
				default:
					v = "x"
				}
			}
			switch d.Kind {
			case openapi.RepeatList:
				params[d.Name+".1"] = v
			case openapi.TagList:
				params[d.Name+".1.Key"], params[d.Name+".1.Value"] = "k", v
			default:
				params[d.Name] = v
			}
		}
		o := nobody.tea(t, false, a.Version, a.Name, params)
		wantDenied(t, a.Version+" "+a.Name, o, a.RAMAction, "nobody", "ImplicitDeny")
	}

	if after := snapshot(); after != before {
		t.Errorf("state changed by denied calls:\nbefore %s\nafter  %s", before, after)
	}
	// The victim's key still works: it was neither disabled nor deleted.
	ok(t, "victim key", victim.tea(t, false, alikafkaVersion, "GetInstanceList", nil))
	if !reflect.DeepEqual(w.instances(map[string]string{"InstanceId.1": id})[0]["Name"], id) {
		t.Errorf("instance renamed")
	}
}
