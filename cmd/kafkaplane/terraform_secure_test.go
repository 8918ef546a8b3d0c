package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/kafkaplane/kafkaplane/broker"
)

// This file replays what Terraform's alicloud provider sends for
// alicloud_alikafka_sasl_user, alicloud_alikafka_sasl_acl and
// alicloud_alikafka_instance_allowed_ip_attachment (docs/terraform.md):
// create, read, update where there is one, delete, and the read after the
// delete that must find nothing.

// tfSaslUser is the provider's read of a SASL user: the SaslUserVO whose
// Username is name, or nil.
func (p *tfProvider) tfSaslUser(id, name string) map[string]any {
	p.t.Helper()
	body := p.must("DescribeSaslUsers", map[string]string{"InstanceId": id})
	for _, e := range lcArray(body, "SaslUserList", "SaslUserVO") {
		vo, _ := e.(map[string]any)
		if lcStr(vo, "Username") == name {
			tfCheckTypes(p.t, "SaslUserVO", vo, nil, []string{"Username", "Password", "Type", "Mechanism"}, nil)
			return vo
		}
	}
	return nil
}

// tfACLNames are the provider's mappings of the service's upper-case
// enumerations onto the names its configuration uses.
var tfACLNames = map[string]string{"WRITE": "Write", "READ": "Read", "DESCRIBE": "Describe",
	"TOPIC": "Topic", "GROUP": "Group", "CLUSTER": "Cluster", "TRANSACTIONAL_ID": "TransactionalId"}

func tfACLName(v string) string {
	if n, ok := tfACLNames[v]; ok {
		return n
	}
	return v
}

// tfACL is the provider's read of an ACL: DescribeAcls filtered by the six
// parts of its ID, element 0, or nil.
func (p *tfProvider) tfACL(idParts map[string]string) map[string]any {
	p.t.Helper()
	list := lcArray(p.must("DescribeAcls", idParts), "KafkaAclList", "KafkaAclVO")
	if len(list) == 0 {
		return nil
	}
	vo, _ := list[0].(map[string]any)
	tfCheckTypes(p.t, "KafkaAclVO", vo, nil, []string{"AclPermissionType", "Host", "AclOperationType", "AclResourceName",
		"AclResourcePatternType", "AclResourceType", "Username"}, nil)
	return vo
}

// tfAllowedIP is the provider's read of an IP attachment: whether the list
// of that type has an element with the port range whose AllowedIpList
// holds ip.
func (p *tfProvider) tfAllowedIP(id, listType, portRange, ip string) bool {
	p.t.Helper()
	key := "VpcList"
	if listType == "internet" {
		key = "InternetList"
	}
	for _, e := range lcArray(p.must("GetAllowedIpList", map[string]string{"InstanceId": id}), "AllowedList", key) {
		vo, _ := e.(map[string]any)
		if lcStr(vo, "PortRange") != portRange {
			continue
		}
		ips, ok := vo["AllowedIpList"].([]any)
		if !ok {
			p.t.Fatalf("AllowedIpList is %T, want a list of strings", vo["AllowedIpList"])
		}
		if slices.ContainsFunc(ips, func(v any) bool { s, _ := v.(string); return s == ip }) {
			return true
		}
	}
	return false
}

func TestTerraformSecureResources(t *testing.T) {
	m := startMain(t, tfFastQPS)
	p := newTFProvider(t, m)
	id := tfRunning(t, p)

	// alicloud_alikafka_sasl_user: create, read, change the password
	// (CreateSaslUser again), delete.
	// The password change sends no Mechanism; the user keeps SCRAM-SHA-512.
	p.must("CreateSaslUser", map[string]string{"InstanceId": id, "Username": "tf-user", "Password": "first-Pass1",
		"Type": "scram", "Mechanism": "SCRAM-SHA-512"})
	vo := p.tfSaslUser(id, "tf-user")
	if vo == nil || lcStr(vo, "Password") != "first-Pass1" || lcStr(vo, "Type") != "scram" || lcStr(vo, "Mechanism") != "SCRAM-SHA-512" {
		t.Fatalf("sasl_user read: %v", vo)
	}
	p.must("CreateSaslUser", map[string]string{"InstanceId": id, "Username": "tf-user", "Password": "second-Pass2", "Type": "scram"})
	if vo := p.tfSaslUser(id, "tf-user"); vo == nil || lcStr(vo, "Password") != "second-Pass2" || lcStr(vo, "Mechanism") != "SCRAM-SHA-512" {
		t.Fatalf("sasl_user after the password change: %v", vo)
	}
	p.must("DeleteSaslUser", map[string]string{"InstanceId": id, "Username": "tf-user", "Type": "scram", "Mechanism": "SCRAM-SHA-512"})
	if vo := p.tfSaslUser(id, "tf-user"); vo != nil {
		t.Fatalf("sasl_user after delete: %v", vo)
	}

	// alicloud_alikafka_sasl_acl, with the operations the provider offers.
	for _, op := range []string{"Write", "Read", "Describe", "IDEMPOTENT_WRITE", "DESCRIBE_CONFIGS"} {
		rt, name := "Topic", "orders"
		if op == "IDEMPOTENT_WRITE" {
			rt, name = "Cluster", "kafka-cluster"
		}
		idParts := map[string]string{"InstanceId": id, "Username": "tf-user", "AclResourceType": rt,
			"AclResourceName": name, "AclResourcePatternType": "LITERAL", "AclOperationType": op}
		create := map[string]string{"AclPermissionType": "ALLOW", "Host": "*"}
		for k, v := range idParts {
			create[k] = v
		}
		p.must("CreateAcl", create)
		vo := p.tfACL(idParts)
		if vo == nil {
			t.Fatalf("sasl_acl %s: not found after create", op)
		}
		for field, want := range map[string]string{"AclResourceType": rt, "AclResourceName": name, "AclResourcePatternType": "LITERAL",
			"AclOperationType": strings.ToUpper(op), "AclPermissionType": "ALLOW", "Host": "*", "Username": "tf-user"} {
			if got := lcStr(vo, field); tfACLName(got) != tfACLName(want) && got != want {
				t.Errorf("sasl_acl %s: %s = %q, want %q", op, field, got, want)
			}
		}
		p.must("DeleteAcl", idParts)
		if vo := p.tfACL(idParts); vo != nil {
			t.Fatalf("sasl_acl %s after delete: %v", op, vo)
		}
	}

	// alicloud_alikafka_instance_allowed_ip_attachment on both VPC lists;
	// a VPC-only instance has no internet list.
	for _, pr := range []string{"9092/9092", "9094/9094"} {
		params := map[string]string{"InstanceId": id, "AllowedListType": "vpc", "PortRange": pr, "AllowedListIp": "192.168.0.0/16", "UpdateType": "add"}
		p.must("UpdateAllowedIp", params)
		if !p.tfAllowedIP(id, "vpc", pr, "192.168.0.0/16") {
			t.Fatalf("allowed_ip %s: not found after create", pr)
		}
		params["UpdateType"] = "delete"
		p.must("UpdateAllowedIp", params)
		if p.tfAllowedIP(id, "vpc", pr, "192.168.0.0/16") {
			t.Fatalf("allowed_ip %s: found after delete", pr)
		}
		p.must("UpdateAllowedIp", params) // deleting what is gone is done
	}
	for _, tc := range []struct {
		params map[string]string
		code   string
	}{
		{map[string]string{"AllowedListType": "internet", "PortRange": "9093/9093", "AllowedListIp": "1.2.3.4"}, "InvalidAllowedListType"},
		{map[string]string{"AllowedListType": "vpc", "PortRange": "9093/9093", "AllowedListIp": "1.2.3.4"}, "InvalidPortRange"},
		{map[string]string{"AllowedListType": "vpc", "PortRange": "9092/9092", "AllowedListIp": "1.2.3.4,nonsense"}, "InvalidAllowedListIp"},
	} {
		tc.params["InstanceId"], tc.params["UpdateType"] = id, "add"
		if r := p.call("UpdateAllowedIp", tc.params); r.code != tc.code {
			t.Errorf("UpdateAllowedIp %v: %q, want %q", tc.params, r.code, tc.code)
		}
	}
	if p.tfAllowedIP(id, "vpc", "9092/9092", "1.2.3.4") {
		t.Error("a refused UpdateAllowedIp added an entry")
	}

	// A released instance reads as gone for all three resources.
	p.must("ReleaseInstance", map[string]string{"InstanceId": id, "ForceDeleteInstance": "true"})
	for _, action := range []string{"DescribeSaslUsers", "GetAllowedIpList"} {
		if r := p.call(action, map[string]string{"InstanceId": id}); r.code != "BIZ_INSTANCE_STATUS_ERROR" {
			t.Errorf("%s of a released instance: %q", action, r.code)
		}
	}
	if r := p.call("DescribeAcls", map[string]string{"InstanceId": id, "Username": "tf-user", "AclResourceType": "Topic",
		"AclResourceName": "orders"}); r.code != "BIZ_INSTANCE_STATUS_ERROR" {
		t.Errorf("DescribeAcls of a released instance: %q", r.code)
	}
}

// TestSaslPasswordsAtRest creates SASL users through StartInstance and
// CreateSaslUser and reads the data dir and the log as bytes: the
// passwords are in neither, while DescribeSaslUsers still returns them.
func TestSaslPasswordsAtRest(t *testing.T) {
	dataDir := t.TempDir()
	var logs bytes.Buffer
	m := startMain(t, tfFastQPS, func(m *Main) {
		m.DataDir = dataDir
		m.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	p := newTFProvider(t, m)
	order := p.must("CreatePostPayOrder", map[string]string{"DeployType": "4", "DiskType": "1", "DiskSize": "500",
		"IoMaxSpec": "alikafka.hw.2xlarge", "EipMax": "3"})
	id := lcStr(lcArray(p.must("GetInstanceList", map[string]string{"OrderId": lcStr(order, "OrderId")}), "InstanceList", "InstanceVO")[0], "InstanceId")
	const first, second = "first-pw-5c1e7a", "second-pw-9b04d2"
	p.must("StartInstance", map[string]string{"InstanceId": id, "VSwitchId": "vsw-1", "VpcId": "vpc-1", "ZoneId": "zonei",
		"IsSetUserAndPassword": "true", "Username": "admin", "Password": first})
	p.waitInstance(id, "ServiceStatus", "5")
	p.must("CreateSaslUser", map[string]string{"InstanceId": id, "Username": "alice", "Password": second, "Type": "scram"})
	if a, b := p.tfSaslUser(id, "admin"), p.tfSaslUser(id, "alice"); lcStr(a, "Password") != first || lcStr(b, "Password") != second {
		t.Fatalf("DescribeSaslUsers: %v %v", a, b)
	}
	m.Close()
	for _, pw := range []string{first, second} {
		if files := dataDirHolds(t, dataDir, pw); len(files) > 0 {
			t.Errorf("a SASL password is readable in %q", files)
		}
		if strings.Contains(logs.String(), pw) {
			t.Errorf("a SASL password is in the log")
		}
	}
}

// TestSecurityQuotas fills an instance's default allowlist and its SASL
// users to their limits (docs/limits.md): the request past a limit is
// refused with the quota code and changes nothing, and a user at the limit
// may still change its password.
func TestSecurityQuotas(t *testing.T) {
	m := startMain(t, tfFastQPS, func(m *Main) { m.QPS["CreateSaslUser"], m.QPS["UpdateAllowedIp"] = 1000, 1000 })
	p := newTFProvider(t, m)
	id := tfRunning(t, p)

	// The default list starts with one entry; 99 more fill it.
	var ips []string
	for i := range 99 {
		ips = append(ips, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	add := map[string]string{"InstanceId": id, "AllowedListType": "vpc", "PortRange": "9092/9092", "UpdateType": "add"}
	add["AllowedListIp"] = strings.Join(ips, ",")
	p.must("UpdateAllowedIp", add)
	add["AllowedListIp"] = "10.9.9.9,10.0.0.1"
	if r := p.call("UpdateAllowedIp", add); r.code != "BIZ_ALLOWED_IP_QUOTA_EXCEEDED" {
		t.Fatalf("the 101st entry: %q", r.code)
	}
	if p.tfAllowedIP(id, "vpc", "9092/9092", "10.9.9.9") {
		t.Fatal("a refused addition added an entry")
	}
	add["AllowedListIp"] = "10.0.0.1" // already there: no new entry
	p.must("UpdateAllowedIp", add)

	for i := range 100 {
		p.must("CreateSaslUser", map[string]string{"InstanceId": id, "Username": fmt.Sprintf("u%d", i), "Password": "pw"})
	}
	if r := p.call("CreateSaslUser", map[string]string{"InstanceId": id, "Username": "one-more", "Password": "pw"}); r.code != "BIZ_SASL_USER_QUOTA_EXCEEDED" {
		t.Fatalf("the 101st user: %q", r.code)
	}
	p.must("CreateSaslUser", map[string]string{"InstanceId": id, "Username": "u7", "Password": "changed"})
	if vo := p.tfSaslUser(id, "u7"); lcStr(vo, "Password") != "changed" {
		t.Fatalf("u7 after a password change at the limit: %v", vo)
	}
	if vo := p.tfSaslUser(id, "one-more"); vo != nil {
		t.Fatalf("a refused user is listed: %v", vo)
	}
}

// TestSecurityOnDataPlaneWithout: a data plane that refuses every security
// (as the strimzi runtime does) makes the changing security actions fail
// with BIZ_SECURITY_NOT_SUPPORTED before anything is stored, while
// configuration changes that do not touch enable.acl go on working.
func TestSecurityOnDataPlaneWithout(t *testing.T) {
	m := startMain(t, tfFastQPS)
	p := newTFProvider(t, m)
	id := tfRunning(t, p)
	m.Runtime.(*broker.Fake).FailOn = func(call string) error {
		if strings.HasPrefix(call, "security ") {
			return fmt.Errorf("%w: no security here", broker.ErrInvalidSecurity)
		}
		return nil
	}
	for _, c := range []struct {
		action string
		params map[string]string
	}{
		{"CreateSaslUser", map[string]string{"Username": "alice", "Password": "pw"}},
		{"CreateAcl", map[string]string{"Username": "alice", "AclResourceType": "Topic", "AclResourceName": "t",
			"AclResourcePatternType": "LITERAL", "AclOperationType": "Write"}},
		{"UpdateAllowedIp", map[string]string{"AllowedListType": "vpc", "PortRange": "9092/9092", "AllowedListIp": "10.0.0.1", "UpdateType": "add"}},
	} {
		c.params["InstanceId"] = id
		if r := p.call(c.action, c.params); r.code != "BIZ_SECURITY_NOT_SUPPORTED" {
			t.Errorf("%s: %q, want BIZ_SECURITY_NOT_SUPPORTED", c.action, r.code)
		}
	}
	if p.tfSaslUser(id, "alice") != nil || p.tfAllowedIP(id, "vpc", "9092/9092", "10.0.0.1") {
		t.Error("a refused change was stored")
	}
	p.must("UpdateInstanceConfig", map[string]string{"InstanceId": id, "Config": `{"kafka.log.retention.hours":"96"}`})
}
