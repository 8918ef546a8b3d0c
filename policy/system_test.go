package policy

import (
	"reflect"
	"testing"
)

func TestSystemPoliciesParse(t *testing.T) {
	docs := SystemPolicies()
	descs := SystemPolicyDescriptions()
	want := []string{AliyunKafkaFullAccess, AliyunKafkaReadOnlyAccess, AliyunRAMFullAccess, AliyunRAMReadOnlyAccess}
	if len(docs) != len(want) || len(descs) != len(want) {
		t.Fatalf("got %d policies and %d descriptions, want %d of each", len(docs), len(descs), len(want))
	}
	for _, name := range want {
		text, ok := docs[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if descs[name] == "" {
			t.Errorf("%s has no description", name)
		}
		d, err := Parse([]byte(text))
		if err != nil {
			t.Errorf("%s does not parse: %v", name, err)
			continue
		}
		sd, ok := SystemPolicy(name)
		if !ok || !reflect.DeepEqual(exportedView(sd), exportedView(d)) {
			t.Errorf("SystemPolicy(%s) disagrees with SystemPolicies", name)
		}
	}
	if _, ok := SystemPolicy("AliyunECSFullAccess"); ok {
		t.Errorf("SystemPolicy of an unknown name succeeded")
	}
	// Callers get copies, so editing one cannot corrupt the built-ins.
	docs[AliyunKafkaFullAccess] = "tampered"
	if SystemPolicies()[AliyunKafkaFullAccess] == "tampered" {
		t.Errorf("SystemPolicies returned the shared map")
	}
}

func TestSystemPolicyShapes(t *testing.T) {
	full, _ := SystemPolicy(AliyunKafkaFullAccess)
	wantFull := &Document{Version: "1", Statements: []Statement{
		{Effect: EffectAllow, Action: []string{"alikafka:*"}, Resource: []string{"*"}},
		{Effect: EffectAllow, Action: []string{"ram:CreateServiceLinkedRole"}, Resource: []string{"*"},
			Conditions: []Condition{{Operator: "StringEquals", Key: "ram:ServiceName", Values: []string{
				"connector.alikafka.aliyuncs.com",
				"instanceencryption.alikafka.aliyuncs.com",
				"alikafka.aliyuncs.com",
				"etl.alikafka.aliyuncs.com",
			}}}},
	}}
	if got := exportedView(full); !reflect.DeepEqual(got, wantFull) {
		t.Errorf("AliyunKafkaFullAccess:\n got %+v\nwant %+v", got, wantFull)
	}
	ro, _ := SystemPolicy(AliyunKafkaReadOnlyAccess)
	wantRO := &Document{Version: "1", Statements: []Statement{{
		Effect: EffectAllow,
		Action: []string{"alikafka:List*", "alikafka:Query*", "alikafka:Get*", "alikafka:Download*", "alikafka:Check*",
			"alikafka:DashboardList", "alikafka:MetaData", "alikafka:RegionData", "alikafka:ReportMigrationProcess",
			"alikafka:DashboardCheckServiceStatus"},
		Resource: []string{"acs:alikafka:*:*:*"},
	}}}
	if got := exportedView(ro); !reflect.DeepEqual(got, wantRO) {
		t.Errorf("AliyunKafkaReadOnlyAccess:\n got %+v\nwant %+v", got, wantRO)
	}
}

// TestSystemPolicyDecisions pins the consequences the API layer relies on,
// notably the one in docs/ram.md, System policies: ReadOnlyAccess works on RAM
// action names, so it allows alikafka:ListInstance (GetInstanceList) but not
// alikafka:UpdateInstance (UpgradeInstanceVersion).
func TestSystemPolicyDecisions(t *testing.T) {
	const slr = "ram:CreateServiceLinkedRole"
	tests := []struct {
		policy string
		req    Request
		want   DecisionEffect
	}{
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:ListInstance", Resource: "acs:alikafka:cn-hangzhou:1234567890123456:*"}, Allow},
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:ListTopic", Resource: arnABC}, Allow},
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:GetQuotaTip", Resource: arnABC}, Allow},
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:MetaData", Resource: arnABC}, Allow},
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:UpdateInstance", Resource: arnABC}, ImplicitDeny},
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:ReleaseInstance", Resource: arnABC}, ImplicitDeny},
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:DashboardListX", Resource: arnABC}, ImplicitDeny},
		// Resource "acs:alikafka:*:*:*" does not cover the bare "*" that
		// unscoped actions are checked against.
		{AliyunKafkaReadOnlyAccess, Request{Action: "alikafka:ListInstance", Resource: "*"}, ImplicitDeny},
		{AliyunKafkaReadOnlyAccess, Request{Action: "ram:ListUsers", Resource: "*"}, ImplicitDeny},

		{AliyunKafkaFullAccess, Request{Action: "alikafka:UpdateInstance", Resource: arnABC}, Allow},
		{AliyunKafkaFullAccess, Request{Action: "alikafka:CreatePostPayOrder", Resource: "*"}, Allow},
		{AliyunKafkaFullAccess, Request{Action: slr, Resource: "*", Context: map[string][]string{"ram:ServiceName": {"connector.alikafka.aliyuncs.com"}}}, Allow},
		{AliyunKafkaFullAccess, Request{Action: slr, Resource: "*", Context: map[string][]string{"ram:ServiceName": {"ecs.aliyuncs.com"}}}, ImplicitDeny},
		{AliyunKafkaFullAccess, Request{Action: slr, Resource: "*"}, ImplicitDeny},
		{AliyunKafkaFullAccess, Request{Action: "ram:CreateUser", Resource: "*"}, ImplicitDeny},

		{AliyunRAMFullAccess, Request{Action: "ram:CreateUser", Resource: "acs:ram:*:1234567890123456:user/alice"}, Allow},
		{AliyunRAMFullAccess, Request{Action: "alikafka:ListInstance", Resource: "*"}, ImplicitDeny},
		{AliyunRAMReadOnlyAccess, Request{Action: "ram:GetUser", Resource: "*"}, Allow},
		{AliyunRAMReadOnlyAccess, Request{Action: "ram:ListPoliciesForUser", Resource: "*"}, Allow},
		{AliyunRAMReadOnlyAccess, Request{Action: "ram:CreateAccessKey", Resource: "*"}, ImplicitDeny},
	}
	for _, tt := range tests {
		d, _ := SystemPolicy(tt.policy)
		got := Evaluate(tt.req, Attached{Name: tt.policy, Type: PolicyTypeSystem, Doc: d})
		if got.Effect != tt.want {
			t.Errorf("%s: %s on %s = %v, want %v", tt.policy, tt.req.Action, tt.req.Resource, got.Effect, tt.want)
		}
		if got.Effect == Allow && (got.PolicyName != tt.policy || got.PolicyType != PolicyTypeSystem) {
			t.Errorf("%s: decided by %q/%q", tt.policy, got.PolicyName, got.PolicyType)
		}
	}
}

// A custom Deny attached next to a system policy overrides it, the usual way
// to carve an exception out of AliyunKafkaFullAccess.
func TestCustomDenyOverridesSystemPolicy(t *testing.T) {
	full, _ := SystemPolicy(AliyunKafkaFullAccess)
	deny := mustParse(t, `{"Version":"1","Statement":[{"Effect":"Deny","Action":["alikafka:ReleaseInstance","alikafka:UpdateInstance"],"Resource":"acs:alikafka:*:*:alikafka_post-cn-abc"}]}`)
	docs := []Attached{{Name: AliyunKafkaFullAccess, Type: PolicyTypeSystem, Doc: full}, {Name: "protect-prod", Type: PolicyTypeCustom, Doc: deny}}
	got := Evaluate(Request{Action: "alikafka:UpdateInstance", Resource: arnABC}, docs...)
	if got != (Decision{Effect: ExplicitDeny, PolicyName: "protect-prod", PolicyType: PolicyTypeCustom}) {
		t.Errorf("got %+v", got)
	}
	got = Evaluate(Request{Action: "alikafka:UpdateInstance", Resource: arnXYZ}, docs...)
	if got != (Decision{Effect: Allow, PolicyName: AliyunKafkaFullAccess, PolicyType: PolicyTypeSystem}) {
		t.Errorf("got %+v", got)
	}
}
