package policy

import (
	"fmt"
	"testing"
)

const (
	arnABC = "acs:alikafka:cn-hangzhou:1234567890123456:alikafka_post-cn-abc"
	arnXYZ = "acs:alikafka:cn-beijing:1234567890123456:alikafka_post-cn-xyz"
)

func attach(tb testing.TB, docs ...string) []Attached {
	tb.Helper()
	out := make([]Attached, len(docs))
	for i, d := range docs {
		out[i] = Attached{Name: fmt.Sprintf("p%d", i), Type: PolicyTypeCustom, Doc: mustParse(tb, d)}
	}
	return out
}

func stmtDoc(statements ...string) string {
	s := `{"Version":"1","Statement":[`
	for i, st := range statements {
		if i > 0 {
			s += ","
		}
		s += st
	}
	return s + `]}`
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		policies []string
		req      Request
		want     DecisionEffect
		wantBy   string
	}{
		// Default deny (policy evaluation process, 93740): nothing
		// attached, or nothing matching, is an implicit deny.
		{
			name: "no policies",
			req:  Request{Action: "alikafka:ListInstance", Resource: "*"},
			want: ImplicitDeny,
		},
		{
			name:     "no statement matches",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"ecs:*","Resource":"*"}`)},
			req:      Request{Action: "alikafka:ListInstance", Resource: "*"},
			want:     ImplicitDeny,
		},
		// Wildcard actions from the policy elements page (93738):
		// "ecs:Describe*" covers every Describe action.
		{
			name:     "prefix wildcard action matches",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":["oss:ListBuckets","ecs:Describe*","rds:Describe*"],"Resource":"*"}`)},
			req:      Request{Action: "ecs:DescribeInstances", Resource: "*"},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "prefix wildcard action does not match another verb",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":["oss:ListBuckets","ecs:Describe*","rds:Describe*"],"Resource":"*"}`)},
			req:      Request{Action: "ecs:StopInstance", Resource: "*"},
			want:     ImplicitDeny,
		},
		{
			name:     "question mark is exactly one character",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:?etTopicList","Resource":"*"}`)},
			req:      Request{Action: "alikafka:GetTopicList", Resource: "*"},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "question mark does not match zero characters",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:?GetTopicList","Resource":"*"}`)},
			req:      Request{Action: "alikafka:GetTopicList", Resource: "*"},
			want:     ImplicitDeny,
		},
		{
			name:     "bare star action",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"*","Resource":"*"}`)},
			req:      Request{Action: "ram:CreateUser", Resource: "acs:ram:*:1234567890123456:user/alice"},
			want:     Allow, wantBy: "p0",
		},
		// Case of actions (93738: Action values are not case-sensitive in
		// most cases).
		{
			name:     "action matching ignores case",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"AliKafka:listinstance","Resource":"*"}`)},
			req:      Request{Action: "alikafka:ListInstance", Resource: "*"},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "action wildcard ignores case",
			policies: []string{stmtDoc(`{"Effect":"Deny","Action":"ALIKAFKA:UPDATE*","Resource":"*"}`)},
			req:      Request{Action: "alikafka:UpdateInstance", Resource: arnABC},
			want:     ExplicitDeny, wantBy: "p0",
		},
		// Resource ARNs (93738 resource examples, alikafka RAM page):
		// wildcards in any segment, case-sensitive comparison.
		{
			name:     "resource wildcard in region and account",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"acs:alikafka:*:*:alikafka_post-cn-abc"}`)},
			req:      Request{Action: "alikafka:UpdateInstance", Resource: arnABC},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "resource for another instance",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"acs:alikafka:*:*:alikafka_post-cn-abc"}`)},
			req:      Request{Action: "alikafka:UpdateInstance", Resource: arnXYZ},
			want:     ImplicitDeny,
		},
		{
			name:     "resource case is significant",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"acs:alikafka:*:*:ALIKAFKA_POST-CN-ABC"}`)},
			req:      Request{Action: "alikafka:UpdateInstance", Resource: arnABC},
			want:     ImplicitDeny,
		},
		{
			name:     "trailing star spans colons",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"acs:alikafka:cn-hangzhou:*"}`)},
			req:      Request{Action: "alikafka:UpdateInstance", Resource: arnABC},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "OSS-style path wildcard from the policy elements page",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"oss:GetObject","Resource":["acs:oss:*:*:mybucket","acs:oss:*:*:mybucket/*"]}`)},
			req:      Request{Action: "oss:GetObject", Resource: "acs:oss:*:*:mybucket/dir1/object1.jpg"},
			want:     Allow, wantBy: "p0",
		},
		// NotAction (policy elements, RD languages page): allow all but RAM.
		{
			name:     "NotAction allows what is not listed",
			policies: []string{stmtDoc(`{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}`)},
			req:      Request{Action: "alikafka:DeleteTopic", Resource: arnABC},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "NotAction does not allow what is listed",
			policies: []string{stmtDoc(`{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}`)},
			req:      Request{Action: "ram:CreateUser", Resource: "*"},
			want:     ImplicitDeny,
		},
		{
			name:     "NotResource deny spares the listed instance",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"*"}`, `{"Effect":"Deny","Action":"alikafka:*","NotResource":"acs:alikafka:*:*:alikafka_post-cn-abc"}`)},
			req:      Request{Action: "alikafka:UpdateInstance", Resource: arnABC},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "NotResource deny hits every other instance",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"*"}`, `{"Effect":"Deny","Action":"alikafka:*","NotResource":"acs:alikafka:*:*:alikafka_post-cn-abc"}`)},
			req:      Request{Action: "alikafka:UpdateInstance", Resource: arnXYZ},
			want:     ExplicitDeny, wantBy: "p0",
		},
		// Deny beats Allow (93738 Effect: "the Deny statement takes
		// precedence"), within a policy and across policies, whatever the
		// order.
		{
			name:     "deny after allow across policies",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"*"}`), stmtDoc(`{"Effect":"Deny","Action":"alikafka:Delete*","Resource":"*"}`)},
			req:      Request{Action: "alikafka:DeleteTopic", Resource: arnABC},
			want:     ExplicitDeny, wantBy: "p1",
		},
		{
			name:     "deny before allow in one policy",
			policies: []string{stmtDoc(`{"Effect":"Deny","Action":"alikafka:DeleteTopic","Resource":"*"}`, `{"Effect":"Allow","Action":"*","Resource":"*"}`)},
			req:      Request{Action: "alikafka:DeleteTopic", Resource: arnABC},
			want:     ExplicitDeny, wantBy: "p0",
		},
		{
			name:     "allow credited to the first allowing policy",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"ecs:*","Resource":"*"}`), stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"*"}`), stmtDoc(`{"Effect":"Allow","Action":"*","Resource":"*"}`)},
			req:      Request{Action: "alikafka:GetTopicList", Resource: arnABC},
			want:     Allow, wantBy: "p1",
		},
		{
			name:     "deny whose condition fails does not apply",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"*"}`, `{"Effect":"Deny","Action":"alikafka:*","Resource":"*","Condition":{"Bool":{"acs:MFAPresent":"false"}}}`)},
			req:      Request{Action: "alikafka:DeleteTopic", Resource: arnABC, Context: map[string][]string{"acs:MFAPresent": {"true"}}},
			want:     Allow, wantBy: "p0",
		},
		// Conditions: the time-window example (141578) and multi-key /
		// multi-operator combinations.
		{
			name:     "ECS access before the cut-off (141578)",
			policies: []string{stmtDoc(`{"Action":"ecs:*","Effect":"Allow","Resource":"*","Condition":{"DateLessThan":{"acs:CurrentTime":"2019-08-12T17:00:00+08:00"}}}`)},
			req:      Request{Action: "ecs:DescribeInstances", Resource: "*", Context: map[string][]string{"acs:CurrentTime": {"2019-08-12T08:59:59Z"}}},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "ECS access at the cut-off (141578)",
			policies: []string{stmtDoc(`{"Action":"ecs:*","Effect":"Allow","Resource":"*","Condition":{"DateLessThan":{"acs:CurrentTime":"2019-08-12T17:00:00+08:00"}}}`)},
			req:      Request{Action: "ecs:DescribeInstances", Resource: "*", Context: map[string][]string{"acs:CurrentTime": {"2019-08-12T09:00:00Z"}}},
			want:     ImplicitDeny,
		},
		{
			name: "two operators are ANDed: both hold",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"*","Condition":{
				"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"Bool":{"acs:SecureTransport":"true"}}}`)},
			req:  Request{Action: "alikafka:ListInstance", Resource: "*", Context: map[string][]string{"acs:SourceIp": {"10.1.2.3"}, "acs:SecureTransport": {"true"}}},
			want: Allow, wantBy: "p0",
		},
		{
			name: "two operators are ANDed: one fails",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:*","Resource":"*","Condition":{
				"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"Bool":{"acs:SecureTransport":"true"}}}`)},
			req:  Request{Action: "alikafka:ListInstance", Resource: "*", Context: map[string][]string{"acs:SourceIp": {"10.1.2.3"}, "acs:SecureTransport": {"false"}}},
			want: ImplicitDeny,
		},
		{
			name: "two keys under one operator are ANDed",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:StartInstance","Resource":"*","Condition":{
				"StringEquals":{"alikafka:SpecType":"professional","alikafka:DeployModule":"vpc"}}}`)},
			req:  Request{Action: "alikafka:StartInstance", Resource: "*", Context: map[string][]string{"alikafka:SpecType": {"professional"}, "alikafka:DeployModule": {"eip"}}},
			want: ImplicitDeny,
		},
		{
			name: "values of one key are ORed",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"alikafka:StartInstance","Resource":"*","Condition":{
				"StringEquals":{"alikafka:SpecType":["normal","professional"],"alikafka:DeployModule":"vpc"}}}`)},
			req:  Request{Action: "alikafka:StartInstance", Resource: "*", Context: map[string][]string{"alikafka:SpecType": {"professional"}, "alikafka:DeployModule": {"vpc"}}},
			want: Allow, wantBy: "p0",
		},
		{
			name:     "condition keys match case-insensitively",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"ACS:SOURCEIP":"192.0.2.0/24"}}}`)},
			req:      Request{Action: "alikafka:ListInstance", Resource: "*", Context: map[string][]string{"acs:sourceip": {"192.0.2.55"}}},
			want:     Allow, wantBy: "p0",
		},
		// Source-IP restriction in the style of RAM's "deny unless from the
		// office network" examples: NotIpAddress on a Deny.
		{
			name:     "deny outside the office network",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":["42.120.66.0/24","2001:db8:1::/48"]}}}`)},
			req:      Request{Action: "alikafka:ListInstance", Resource: "*", Context: map[string][]string{"acs:SourceIp": {"203.0.113.9"}}},
			want:     ExplicitDeny, wantBy: "p0",
		},
		{
			name:     "allowed from the office IPv6 range",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":["42.120.66.0/24","2001:db8:1::/48"]}}}`)},
			req:      Request{Action: "alikafka:ListInstance", Resource: "*", Context: map[string][]string{"acs:SourceIp": {"2001:db8:1:ff::7"}}},
			want:     Allow, wantBy: "p0",
		},
		{
			name:     "deny when the source IP is unknown (absent key, Not* operator)",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"42.120.66.0/24"}}}`)},
			req:      Request{Action: "alikafka:ListInstance", Resource: "*"},
			want:     ExplicitDeny, wantBy: "p0",
		},
		{
			name:     "absent key makes a positive operator false",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"acs:MFAPresent":"true"}}}`)},
			req:      Request{Action: "alikafka:ListInstance", Resource: "*"},
			want:     ImplicitDeny,
		},
		// StringEquals with a tag key (conditional operators page).
		{
			name:     "resource tag team:dev",
			policies: []string{stmtDoc(`{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"StringEquals":{"acs:ResourceTag/team":["dev"]}}}`)},
			req:      Request{Action: "ecs:StopInstance", Resource: "*", Context: map[string][]string{"acs:ResourceTag/team": {"dev"}}},
			want:     Allow, wantBy: "p0",
		},
		// StringLike with oss:Prefix (conditional operators page).
		{
			name: "OSS listing restricted to a prefix",
			policies: []string{stmtDoc(
				`{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:myphotos/hangzhou/2015/*"]}`,
				`{"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:myphotos"],"Condition":{"StringLike":{"oss:Prefix":"hangzhou/2015/*"}}}`)},
			req:  Request{Action: "oss:ListObjects", Resource: "acs:oss:*:*:myphotos", Context: map[string][]string{"oss:Prefix": {"hangzhou/2016/"}}},
			want: ImplicitDeny,
		},
		{
			name:     "nil Doc is skipped",
			policies: nil,
			req:      Request{Action: "alikafka:ListInstance", Resource: "*"},
			want:     ImplicitDeny,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := attach(t, tt.policies...)
			docs = append(docs, Attached{Name: "empty", Type: PolicyTypeCustom})
			got := Evaluate(tt.req, docs...)
			if got.Effect != tt.want || got.PolicyName != tt.wantBy {
				t.Errorf("Evaluate = %v by %q, want %v by %q", got.Effect, got.PolicyName, tt.want, tt.wantBy)
			}
			if got.PolicyName != "" && got.PolicyType != PolicyTypeCustom {
				t.Errorf("PolicyType = %q, want %q", got.PolicyType, PolicyTypeCustom)
			}
			if got.Allowed() != (tt.want == Allow) {
				t.Errorf("Allowed() = %v", got.Allowed())
			}
		})
	}
}

func TestDecisionEffectString(t *testing.T) {
	for e, want := range map[DecisionEffect]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny"} {
		if got := e.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(e), got, want)
		}
	}
	var zero Decision
	if zero.Allowed() || zero.Effect != ImplicitDeny {
		t.Errorf("zero Decision must deny, got %v", zero.Effect)
	}
}
