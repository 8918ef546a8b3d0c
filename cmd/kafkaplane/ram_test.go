package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"github.com/kafkaplane/kafkaplane/policy"
)

// malformedDoc has an Effect RAM does not accept; the parser says so.
const malformedDoc = `{"Version":"1","Statement":[{"Effect":"allow","Action":"alikafka:*","Resource":"*"}]}`

// wantRAMTime checks a date in RAM's format, 2015-01-23T12:33:18Z.
func wantRAMTime(t *testing.T, what, s string) {
	t.Helper()
	if _, err := time.Parse("2006-01-02T15:04:05Z", s); err != nil {
		t.Errorf("%s = %q, not in RAM's date format", what, s)
	}
}

// ramSDK holds what the tests driving the legacy SDK's typed RAM client
// share: pointing a request at the test server and checking outcomes.
type ramSDK struct {
	t    *testing.T
	addr string
}

// at points a typed request at the server.
func (c ramSDK) at(r *requests.RpcRequest) { r.Scheme, r.Domain = "http", c.addr }

// wantErr checks a ServerError's status and code.
func (c ramSDK) wantErr(what string, err error, status int, code string) *sdkerrors.ServerError {
	c.t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		c.t.Fatalf("%s: got %v, want HTTP %d %s", what, err, status, code)
	}
	if se.HttpStatus() != status || se.ErrorCode() != code {
		c.t.Errorf("%s: got HTTP %d %s (%s), want HTTP %d %s", what, se.HttpStatus(), se.ErrorCode(), se.Message(), status, code)
	}
	return se
}

// must fails the test on err.
func (c ramSDK) must(what string, err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// TestRAMLegacySDK drives the RAM API with the legacy SDK's typed
// services/ram client: every response must decode into its structs.
func TestRAMLegacySDK(t *testing.T) {
	m := startMain(t)
	addr := m.ListenAddr()
	client := func(id, secret string) *ram.Client {
		c, err := ram.NewClientWithAccessKey(testRegion, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := client(testKeyID, testKeySecret)
	sdk := ramSDK{t: t, addr: addr}
	at, wantErr, must := sdk.at, sdk.wantErr, sdk.must

	// Users.
	cu := ram.CreateCreateUserRequest()
	at(cu.RpcRequest)
	cu.UserName, cu.DisplayName, cu.Email, cu.MobilePhone, cu.Comments = "alice", "Alice", "alice@example.com", "86-18600008888", "ops"
	created, err := root.CreateUser(cu)
	must("CreateUser", err)
	u := created.User
	if u.UserName != "alice" || u.DisplayName != "Alice" || u.Email != "alice@example.com" || len(u.UserId) != 16 || created.RequestId == "" {
		t.Errorf("CreateUser: %+v", created)
	}
	wantRAMTime(t, "User.CreateDate", u.CreateDate)
	_, err = root.CreateUser(cu)
	wantErr("CreateUser again", err, 409, "EntityAlreadyExists.User")
	bad := ram.CreateCreateUserRequest()
	at(bad.RpcRequest)
	bad.UserName = "not a name!"
	_, err = root.CreateUser(bad)
	wantErr("CreateUser bad name", err, 400, "InvalidParameter.UserName.InvalidChars")
	bad.UserName = strings.Repeat("a", 65)
	_, err = root.CreateUser(bad)
	wantErr("CreateUser long name", err, 400, "InvalidParameter.UserName.Length")

	gu := ram.CreateGetUserRequest()
	at(gu.RpcRequest)
	gu.UserName = "alice"
	got, err := root.GetUser(gu)
	must("GetUser", err)
	if got.User.UserId != u.UserId || got.User.Comments != "ops" || got.User.MobilePhone != "86-18600008888" {
		t.Errorf("GetUser: %+v", got.User)
	}
	gu.UserName = "nobody"
	_, err = root.GetUser(gu)
	wantErr("GetUser missing", err, 404, "EntityNotExist.User")

	uu := ram.CreateUpdateUserRequest()
	at(uu.RpcRequest)
	uu.UserName, uu.NewDisplayName = "alice", "Alice Ops"
	updated, err := root.UpdateUser(uu)
	must("UpdateUser", err)
	if updated.User.DisplayName != "Alice Ops" || updated.User.Email != "alice@example.com" {
		t.Errorf("UpdateUser: %+v", updated.User)
	}

	lu := ram.CreateListUsersRequest()
	at(lu.RpcRequest)
	users, err := root.ListUsers(lu)
	must("ListUsers", err)
	if users.IsTruncated || len(users.Users.User) != 1 || users.Users.User[0].UserName != "alice" || users.Users.User[0].DisplayName != "Alice Ops" {
		t.Errorf("ListUsers: %+v", users)
	}

	// AccessKeys: two per user, secret shown only at creation.
	ck := ram.CreateCreateAccessKeyRequest()
	at(ck.RpcRequest)
	ck.UserName = "alice"
	var keys []ram.AccessKey
	for i := 0; i < 2; i++ {
		k, err := root.CreateAccessKey(ck)
		must("CreateAccessKey", err)
		keys = append(keys, k.AccessKey)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k.AccessKeyId, "LTAI") || len(k.AccessKeyId) != 24 || len(k.AccessKeySecret) != 30 || k.Status != "Active" {
			t.Errorf("CreateAccessKey: %+v", k)
		}
		wantRAMTime(t, "AccessKey.CreateDate", k.CreateDate)
	}
	_, err = root.CreateAccessKey(ck)
	wantErr("third CreateAccessKey", err, 409, "LimitExceeded.User.AccessKey")

	lk := ram.CreateListAccessKeysRequest()
	at(lk.RpcRequest)
	lk.UserName = "alice"
	listed, err := root.ListAccessKeys(lk)
	must("ListAccessKeys", err)
	if len(listed.AccessKeys.AccessKey) != 2 {
		t.Fatalf("ListAccessKeys: %+v", listed)
	}
	for _, k := range listed.AccessKeys.AccessKey {
		if k.AccessKeySecret != "" {
			t.Errorf("ListAccessKeys shows a secret: %+v", k)
		}
	}

	// The new key authenticates (and, without policies, is refused by RAM);
	// set Inactive it no longer authenticates at all.
	alice := client(keys[0].AccessKeyId, keys[0].AccessKeySecret)
	_, err = alice.ListUsers(lu)
	wantErr("alice without policy", err, 403, "Forbidden.RAM")
	uk := ram.CreateUpdateAccessKeyRequest()
	at(uk.RpcRequest)
	uk.UserName, uk.UserAccessKeyId, uk.Status = "alice", keys[0].AccessKeyId, "Inactive"
	_, err = root.UpdateAccessKey(uk)
	must("UpdateAccessKey", err)
	_, err = alice.ListUsers(lu)
	wantErr("inactive key", err, 400, "InvalidAccessKeyId.Inactive")
	uk.Status = "Disabled"
	_, err = root.UpdateAccessKey(uk)
	wantErr("UpdateAccessKey bad status", err, 400, "InvalidParameter.Status")
	uk.UserAccessKeyId, uk.Status = testKeyID, "Inactive"
	_, err = root.UpdateAccessKey(uk)
	wantErr("UpdateAccessKey on another principal's key", err, 404, "EntityNotExist.User.AccessKey")

	// Policies.
	cp := ram.CreateCreatePolicyRequest()
	at(cp.RpcRequest)
	cp.PolicyName, cp.Description = "kafka-admin", "all of alikafka"
	cp.PolicyDocument = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:*","Resource":"*"}]}`
	pol, err := root.CreatePolicy(cp)
	must("CreatePolicy", err)
	if pol.Policy.PolicyName != "kafka-admin" || pol.Policy.PolicyType != "Custom" || pol.Policy.DefaultVersion != "v1" || pol.Policy.Description != "all of alikafka" {
		t.Errorf("CreatePolicy: %+v", pol.Policy)
	}
	wantRAMTime(t, "Policy.CreateDate", pol.Policy.CreateDate)
	_, err = root.CreatePolicy(cp)
	wantErr("CreatePolicy again", err, 409, "EntityAlreadyExists.Policy")
	cp.PolicyName, cp.PolicyDocument = "broken", malformedDoc
	_, err = root.CreatePolicy(cp)
	se := wantErr("CreatePolicy malformed", err, 400, "MalformedPolicyDocument")
	_, perr := policy.Parse([]byte(malformedDoc))
	if se != nil && (perr == nil || !strings.Contains(se.Message(), perr.Error())) {
		t.Errorf("MalformedPolicyDocument message %q does not carry the parser's reason %v", se.Message(), perr)
	}
	cp.PolicyName, cp.PolicyDocument = "bad_name", malformedDoc
	_, err = root.CreatePolicy(cp)
	wantErr("CreatePolicy bad name", err, 400, "InvalidParameter.PolicyName.InvalidChars")

	ap := ram.CreateAttachPolicyToUserRequest()
	at(ap.RpcRequest)
	ap.UserName, ap.PolicyType, ap.PolicyName = "alice", "Custom", "kafka-admin"
	_, err = root.AttachPolicyToUser(ap)
	must("AttachPolicyToUser", err)
	_, err = root.AttachPolicyToUser(ap)
	wantErr("AttachPolicyToUser again", err, 409, "EntityAlreadyExists.User.Policy")
	ap.PolicyType, ap.PolicyName = "System", "AliyunKafkaReadOnlyAccess"
	_, err = root.AttachPolicyToUser(ap)
	must("AttachPolicyToUser system", err)
	ap.PolicyName = "NoSuchPolicy"
	_, err = root.AttachPolicyToUser(ap)
	wantErr("AttachPolicyToUser missing policy", err, 404, "EntityNotExist.Policy")

	lp := ram.CreateListPoliciesForUserRequest()
	at(lp.RpcRequest)
	lp.UserName = "alice"
	forUser, err := root.ListPoliciesForUser(lp)
	must("ListPoliciesForUser", err)
	names := map[string]string{}
	for _, p := range forUser.Policies.Policy {
		names[p.PolicyName] = p.PolicyType
		wantRAMTime(t, "AttachDate", p.AttachDate)
	}
	if len(names) != 2 || names["kafka-admin"] != "Custom" || names["AliyunKafkaReadOnlyAccess"] != "System" {
		t.Errorf("ListPoliciesForUser: %+v", forUser.Policies)
	}

	le := ram.CreateListEntitiesForPolicyRequest()
	at(le.RpcRequest)
	le.PolicyType, le.PolicyName = "Custom", "kafka-admin"
	ents, err := root.ListEntitiesForPolicy(le)
	must("ListEntitiesForPolicy", err)
	if len(ents.Users.User) != 1 || ents.Users.User[0].UserName != "alice" || ents.Users.User[0].UserId != u.UserId {
		t.Errorf("ListEntitiesForPolicy: %+v", ents.Users)
	}

	dp := ram.CreateDeletePolicyRequest()
	at(dp.RpcRequest)
	dp.PolicyName = "kafka-admin"
	_, err = root.DeletePolicy(dp)
	wantErr("DeletePolicy attached", err, 409, "DeleteConflict.Policy.User")

	du := ram.CreateDeleteUserRequest()
	at(du.RpcRequest)
	du.UserName = "alice"
	_, err = root.DeleteUser(du)
	wantErr("DeleteUser with keys", err, 409, "DeleteConflict.User.AccessKey")

	dk := ram.CreateDeleteAccessKeyRequest()
	at(dk.RpcRequest)
	dk.UserName = "alice"
	for _, k := range keys {
		dk.UserAccessKeyId = k.AccessKeyId
		_, err = root.DeleteAccessKey(dk)
		must("DeleteAccessKey", err)
	}
	_, err = root.DeleteAccessKey(dk)
	wantErr("DeleteAccessKey again", err, 404, "EntityNotExist.User.AccessKey")
	_, err = root.DeleteUser(du)
	wantErr("DeleteUser with policies", err, 409, "DeleteConflict.User.Policy")

	dt := ram.CreateDetachPolicyFromUserRequest()
	at(dt.RpcRequest)
	dt.UserName = "alice"
	for _, p := range []struct{ typ, name string }{{"Custom", "kafka-admin"}, {"System", "AliyunKafkaReadOnlyAccess"}} {
		dt.PolicyType, dt.PolicyName = p.typ, p.name
		_, err = root.DetachPolicyFromUser(dt)
		must("DetachPolicyFromUser", err)
	}
	_, err = root.DetachPolicyFromUser(dt)
	wantErr("DetachPolicyFromUser again", err, 404, "EntityNotExist.User.Policy")

	_, err = root.DeleteUser(du)
	must("DeleteUser", err)
	gu.UserName = "alice"
	_, err = root.GetUser(gu)
	wantErr("GetUser deleted", err, 404, "EntityNotExist.User")
	_, err = root.DeletePolicy(dp)
	must("DeletePolicy", err)

	// System policies are shared and carry RAM's published document.
	gp := ram.CreateGetPolicyRequest()
	at(gp.RpcRequest)
	gp.PolicyType, gp.PolicyName = "System", policy.AliyunKafkaFullAccess
	sys, err := root.GetPolicy(gp)
	must("GetPolicy", err)
	if sys.Policy.PolicyType != "System" || sys.Policy.PolicyName != policy.AliyunKafkaFullAccess || sys.Policy.Description == "" ||
		!sys.DefaultPolicyVersion.IsDefaultVersion || sys.DefaultPolicyVersion.VersionId != sys.Policy.DefaultVersion ||
		sys.DefaultPolicyVersion.PolicyDocument != policy.SystemPolicies()[policy.AliyunKafkaFullAccess] {
		t.Errorf("GetPolicy: %+v", sys)
	}
	gp.PolicyType = "Custom"
	_, err = root.GetPolicy(gp)
	wantErr("GetPolicy wrong type", err, 404, "EntityNotExist.Policy")
	gp.PolicyType = "Managed"
	_, err = root.GetPolicy(gp)
	wantErr("GetPolicy bad type", err, 400, "InvalidParameter.PolicyType")

	lps := ram.CreateListPoliciesRequest()
	at(lps.RpcRequest)
	lps.PolicyType = "System"
	all, err := root.ListPolicies(lps)
	must("ListPolicies", err)
	if len(all.Policies.Policy) != len(policy.SystemPolicies()) || all.IsTruncated {
		t.Errorf("ListPolicies System: %+v", all)
	}
	lps.MaxItems = requests.NewInteger(1)
	first, err := root.ListPolicies(lps)
	must("ListPolicies page", err)
	if len(first.Policies.Policy) != 1 || !first.IsTruncated || first.Marker == "" {
		t.Fatalf("ListPolicies MaxItems=1: %+v", first)
	}
	lps.Marker = first.Marker
	second, err := root.ListPolicies(lps)
	must("ListPolicies next page", err)
	if len(second.Policies.Policy) != 1 || second.Policies.Policy[0].PolicyName == first.Policies.Policy[0].PolicyName {
		t.Errorf("ListPolicies second page: %+v", second)
	}
}

// TestRAMDarabonba drives the RAM API with darabonba-openapi, the core of
// the V3 SDKs, in both signature modes.
func TestRAMDarabonba(t *testing.T) {
	m := startMain(t)
	addr := m.ListenAddr()
	for _, v1 := range []bool{false, true} {
		c := teaClient{addr: addr, id: testKeyID, secret: testKeySecret, region: testRegion, v1: v1}
		t.Run(c.name(), func(t *testing.T) {
			user := "bob-v3"
			if v1 {
				user = "bob-v1"
			}
			call := func(action string, params map[string]string) result {
				t.Helper()
				return c.call(t, ramVersion, action, params)
			}
			must := func(action string, params map[string]string) map[string]any {
				t.Helper()
				r := call(action, params)
				if r.status != 200 || r.code != "" {
					t.Fatalf("%s: HTTP %d %s: %s", action, r.status, r.code, r.msg)
				}
				if _, ok := r.body["RequestId"].(string); !ok {
					t.Errorf("%s: no RequestId in %v", action, r.body)
				}
				return r.body
			}
			want := func(what string, r result, status int, code string) {
				t.Helper()
				if r.status != status || r.code != code {
					t.Errorf("%s: got HTTP %d %q (%s), want HTTP %d %s", what, r.status, r.code, r.msg, status, code)
				}
			}

			body := must("CreateUser", map[string]string{"UserName": user, "DisplayName": "Bob"})
			if u := body["User"].(map[string]any); u["UserName"] != user || u["DisplayName"] != "Bob" {
				t.Errorf("CreateUser: %v", body)
			}
			if u := must("GetUser", map[string]string{"UserName": user})["User"].(map[string]any); u["UserName"] != user {
				t.Errorf("GetUser: %v", u)
			}
			found := false
			for _, u := range must("ListUsers", nil)["Users"].(map[string]any)["User"].([]any) {
				found = found || u.(map[string]any)["UserName"] == user
			}
			if !found {
				t.Errorf("ListUsers lacks %s", user)
			}

			var ids, secrets []string
			for i := 0; i < 2; i++ {
				k := must("CreateAccessKey", map[string]string{"UserName": user})["AccessKey"].(map[string]any)
				ids, secrets = append(ids, k["AccessKeyId"].(string)), append(secrets, k["AccessKeySecret"].(string))
			}
			want("third CreateAccessKey", call("CreateAccessKey", map[string]string{"UserName": user}), 409, "LimitExceeded.User.AccessKey")

			bob := teaClient{addr: addr, id: ids[1], secret: secrets[1], region: testRegion, v1: v1}
			want("bob without policy", bob.call(t, ramVersion, "GetUser", map[string]string{"UserName": user}), 403, "Forbidden.RAM")
			must("UpdateAccessKey", map[string]string{"UserName": user, "UserAccessKeyId": ids[1], "Status": "Inactive"})
			want("inactive key", bob.call(t, ramVersion, "GetUser", map[string]string{"UserName": user}), 400, "InvalidAccessKeyId.Inactive")
			keys := must("ListAccessKeys", map[string]string{"UserName": user})["AccessKeys"].(map[string]any)["AccessKey"].([]any)
			statuses := map[string]any{}
			for _, k := range keys {
				km := k.(map[string]any)
				statuses[km["AccessKeyId"].(string)] = km["Status"]
			}
			if statuses[ids[0]] != "Active" || statuses[ids[1]] != "Inactive" {
				t.Errorf("ListAccessKeys: %v", keys)
			}

			pname := "kafka-update-" + map[bool]string{false: "v3", true: "v1"}[v1]
			must("CreatePolicy", map[string]string{"PolicyName": pname,
				"PolicyDocument": `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:UpdateInstance","Resource":"acs:alikafka:*:*:*"}]}`})
			r := call("CreatePolicy", map[string]string{"PolicyName": pname + "-bad", "PolicyDocument": malformedDoc})
			want("CreatePolicy malformed", r, 400, "MalformedPolicyDocument")
			if _, perr := policy.Parse([]byte(malformedDoc)); perr == nil || !strings.Contains(r.msg, perr.Error()) {
				t.Errorf("MalformedPolicyDocument message %q lacks the parser's reason %v", r.msg, perr)
			}
			r = call("CreatePolicy", map[string]string{"PolicyName": pname + "-json", "PolicyDocument": "{not json"})
			want("CreatePolicy not JSON", r, 400, "MalformedPolicyDocument")

			attach := map[string]string{"UserName": user, "PolicyType": "Custom", "PolicyName": pname}
			must("AttachPolicyToUser", attach)
			pols := must("ListPoliciesForUser", map[string]string{"UserName": user})["Policies"].(map[string]any)["Policy"].([]any)
			if len(pols) != 1 || pols[0].(map[string]any)["PolicyName"] != pname {
				t.Errorf("ListPoliciesForUser: %v", pols)
			}
			must("DetachPolicyFromUser", attach)
			want("DetachPolicyFromUser again", call("DetachPolicyFromUser", attach), 404, "EntityNotExist.User.Policy")

			want("DeleteUser with keys", call("DeleteUser", map[string]string{"UserName": user}), 409, "DeleteConflict.User.AccessKey")
			for _, id := range ids {
				must("DeleteAccessKey", map[string]string{"UserName": user, "UserAccessKeyId": id})
			}
			must("DeleteUser", map[string]string{"UserName": user})
			want("GetUser deleted", call("GetUser", map[string]string{"UserName": user}), 404, "EntityNotExist.User")
			must("DeletePolicy", map[string]string{"PolicyName": pname})

			gp := must("GetPolicy", map[string]string{"PolicyType": "System", "PolicyName": policy.AliyunKafkaFullAccess})
			p, v := gp["Policy"].(map[string]any), gp["DefaultPolicyVersion"].(map[string]any)
			if p["PolicyType"] != "System" || v["IsDefaultVersion"] != true || v["PolicyDocument"] != policy.SystemPolicies()[policy.AliyunKafkaFullAccess] {
				t.Errorf("GetPolicy: %v", gp)
			}
		})
	}
}
