package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(tb testing.TB, doc string) *Document {
	tb.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		tb.Fatalf("Parse(%s): %v", doc, err)
	}
	return d
}

// exportedView drops the pre-parsed condition values so that documents can
// be compared on what Parse promises: the exported fields.
func exportedView(d *Document) *Document {
	out := &Document{Version: d.Version}
	for _, st := range d.Statements {
		cp := st
		cp.Conditions = nil
		for _, c := range st.Conditions {
			cp.Conditions = append(cp.Conditions, Condition{Operator: c.Operator, Key: c.Key, Values: c.Values})
		}
		out.Statements = append(out.Statements, cp)
	}
	return out
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *Document
	}{
		{
			// Policy structure and syntax (93739): a single string and a
			// one-element array mean the same thing.
			name: "string form normalised to array",
			doc:  `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:ListInstance","Resource":"*"}]}`,
			want: &Document{Version: "1", Statements: []Statement{{
				Effect: EffectAllow, Action: []string{"alikafka:ListInstance"}, Resource: []string{"*"},
			}}},
		},
		{
			// Policy elements (93738): the Action and Resource examples,
			// several values each.
			name: "arrays from the policy elements page",
			doc: `{"Version":"1","Statement":[{"Effect":"Allow",
				"Action":["oss:ListBuckets","ecs:Describe*","rds:Describe*"],
				"Resource":["acs:ecs:*:*:instance/inst-001","acs:ecs:*:*:instance/inst-002","acs:oss:*:*:mybucket","acs:oss:*:*:mybucket/*"]}]}`,
			want: &Document{Version: "1", Statements: []Statement{{
				Effect:   EffectAllow,
				Action:   []string{"oss:ListBuckets", "ecs:Describe*", "rds:Describe*"},
				Resource: []string{"acs:ecs:*:*:instance/inst-001", "acs:ecs:*:*:instance/inst-002", "acs:oss:*:*:mybucket", "acs:oss:*:*:mybucket/*"},
			}}},
		},
		{
			// Resource Directory "languages of access control policies":
			// everything except RAM via NotAction.
			name: "NotAction and NotResource",
			doc:  `{"Version":"1","Statement":[{"Effect":"Deny","NotAction":"ram:*","NotResource":["acs:alikafka:*:*:alikafka_post-cn-abc"]}]}`,
			want: &Document{Version: "1", Statements: []Statement{{
				Effect: EffectDeny, NotAction: []string{"ram:*"}, NotResource: []string{"acs:alikafka:*:*:alikafka_post-cn-abc"},
			}}},
		},
		{
			name: "conditions sorted, scalar values normalised",
			doc: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
				"StringEquals":{"acs:AccessId":"LTAIexample"},
				"Bool":{"acs:SecureTransport":true},
				"NumericLessThan":{"alikafka:PartitionNum":[100, "12.5"]},
				"IpAddress":{"acs:SourceIp":["10.0.0.0/8","2001:db8::/32","192.0.2.7"]}}}],"Version":"1"}`,
			want: &Document{Version: "1", Statements: []Statement{{
				Effect: EffectAllow, Action: []string{"*"}, Resource: []string{"*"},
				Conditions: []Condition{
					{Operator: "Bool", Key: "acs:SecureTransport", Values: []string{"true"}},
					{Operator: "IpAddress", Key: "acs:SourceIp", Values: []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7"}},
					{Operator: "NumericLessThan", Key: "alikafka:PartitionNum", Values: []string{"100", "12.5"}},
					{Operator: "StringEquals", Key: "acs:AccessId", Values: []string{"LTAIexample"}},
				},
			}}},
		},
		{
			name: "empty condition block means no conditions",
			doc:  `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:*","Resource":"*","Condition":{}}]}`,
			want: &Document{Version: "1", Statements: []Statement{{
				Effect: EffectAllow, Action: []string{"alikafka:*"}, Resource: []string{"*"},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.doc)
			if !reflect.DeepEqual(exportedView(got), tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", exportedView(got), tt.want)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	const ok = `"Effect":"Allow","Action":"alikafka:ListInstance","Resource":"*"`
	stmt := func(extra string) string {
		return `{"Version":"1","Statement":[{` + extra + `}]}`
	}
	cond := func(c string) string { return stmt(ok + `,"Condition":` + c) }
	tests := []struct {
		name   string
		doc    string
		reason string
	}{
		{"empty", ``, `document is empty`},
		{"not JSON", `{"Version":"1",`, `invalid JSON at offset 15: unexpected end of JSON input`},
		{"trailing garbage", `{"Version":"1"} x`, `invalid JSON at offset 17: invalid character 'x' after top-level value`},
		{"top level array", `[]`, `document must be a JSON object, got an array`},
		{"unknown top-level element", `{"Version":"1","Statement":[{` + ok + `}],"Id":"x"}`, `unknown element "Id"; a policy has only Version and Statement`},
		{"element names are case-sensitive", `{"version":"1","Statement":[]}`, `unknown element "version"; a policy has only Version and Statement`},
		{"duplicate element", `{"Version":"1","Version":"1","Statement":[]}`, `duplicate element "Version"`},
		{"missing Version", `{"Statement":[{` + ok + `}]}`, `Version: required`},
		{"AWS version", `{"Version":"2012-10-17","Statement":[{` + ok + `}]}`, `Version: must be "1", got "2012-10-17"`},
		{"numeric version", `{"Version":1,"Statement":[{` + ok + `}]}`, `Version: must be "1", got 1`},
		{"missing Statement", `{"Version":"1"}`, `Statement: required`},
		{"Statement object", `{"Version":"1","Statement":{` + ok + `}}`, `Statement: must be an array of statements, got an object`},
		{"Statement empty", `{"Version":"1","Statement":[]}`, `Statement: must contain at least one statement`},
		{"statement not object", `{"Version":"1","Statement":["Allow"]}`, `Statement[0]: must be an object, got "Allow"`},
		{"lower-case effect in second statement", `{"Version":"1","Statement":[{` + ok + `},{"Effect":"allow","Action":"*","Resource":"*"}]}`, `Statement[1].Effect: must be "Allow" or "Deny", got "allow"`},
		{"missing Effect", stmt(`"Action":"*","Resource":"*"`), `Statement[0].Effect: required`},
		{"boolean Effect", stmt(`"Effect":true,"Action":"*","Resource":"*"`), `Statement[0].Effect: must be "Allow" or "Deny", got true`},
		{"Sid", stmt(`"Sid":"a",` + ok), `Statement[0]: unknown element "Sid"; a statement has Effect, Action or NotAction, Resource or NotResource, and Condition`},
		{"Principal", stmt(`"Principal":{"RAM":["acs:ram::123:root"]},` + ok), `Statement[0]: unknown element "Principal"; Principal is only valid in trust and resource policies`},
		{"duplicate statement element", stmt(ok + `,"Effect":"Deny"`), `Statement[0]: duplicate element "Effect"`},
		{"Action and NotAction", stmt(ok + `,"NotAction":"ram:*"`), `Statement[0]: Action and NotAction are mutually exclusive`},
		{"no Action", stmt(`"Effect":"Allow","Resource":"*"`), `Statement[0]: Action or NotAction is required`},
		{"no Resource", stmt(`"Effect":"Allow","Action":"*"`), `Statement[0]: Resource or NotResource is required`},
		{"Resource and NotResource", stmt(ok + `,"NotResource":"*"`), `Statement[0]: Resource and NotResource are mutually exclusive`},
		{"Action number", stmt(`"Effect":"Allow","Action":5,"Resource":"*"`), `Statement[0].Action: must be a string or an array of strings, got 5`},
		{"Action empty array", stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), `Statement[0].Action: must not be an empty array`},
		{"Action element not string", stmt(`"Effect":"Allow","Action":["alikafka:List*",null],"Resource":"*"`), `Statement[0].Action[1]: must be a string, got null`},
		{"Action without service", stmt(`"Effect":"Allow","Action":["alikafka:List*","ListInstance"],"Resource":"*"`), `Statement[0].Action[1]: "ListInstance" is not of the form "service:action" (for example "alikafka:ListInstance")`},
		{"Action with empty name", stmt(`"Effect":"Allow","Action":"alikafka:","Resource":"*"`), `Statement[0].Action: "alikafka:" is not of the form "service:action" (for example "alikafka:ListInstance")`},
		{"Action with space", stmt(`"Effect":"Allow","NotAction":"alikafka: List*","Resource":"*"`), `Statement[0].NotAction: "alikafka: List*" is not of the form "service:action" (for example "alikafka:ListInstance")`},
		{"empty Resource", stmt(`"Effect":"Allow","Action":"*","Resource":[""]`), `Statement[0].Resource[0]: must not be empty`},
		{"Resource not an ARN", stmt(`"Effect":"Allow","Action":"*","Resource":"alikafka_post-cn-abc"`), `Statement[0].Resource: "alikafka_post-cn-abc" is not "*" or an ARN of the form "acs:<service>:<region>:<account-id>:<relative-id>"`},
		{"Condition array", cond(`[]`), `Statement[0].Condition: must be an object mapping operators to condition keys, got an array`},
		{"unknown operator", cond(`{"StringEqual":{"acs:AccessId":"x"}}`), `Statement[0].Condition: unknown operator "StringEqual"`},
		{"operator names are case-sensitive", cond(`{"stringequals":{"acs:AccessId":"x"}}`), `Statement[0].Condition: unknown operator "stringequals"`},
		{"IfExists suffix unsupported", cond(`{"StringEqualsIfExists":{"acs:AccessId":"x"}}`), `Statement[0].Condition: unknown operator "StringEqualsIfExists"`},
		{"operator block not object", cond(`{"Bool":"true"}`), `Statement[0].Condition.Bool: must be an object mapping condition keys to values, got "true"`},
		{"operator block empty", cond(`{"Bool":{}}`), `Statement[0].Condition.Bool: must contain at least one condition key`},
		{"empty key", cond(`{"Bool":{"":"true"}}`), `Statement[0].Condition.Bool: condition key must not be empty`},
		{"keys differ only in case", cond(`{"IpAddress":{"acs:SourceIp":"10.0.0.1","ACS:SOURCEIP":"10.0.0.2"}}`), `Statement[0].Condition.IpAddress: condition keys "acs:SourceIp" and "ACS:SOURCEIP" are the same key (keys are case-insensitive)`},
		{"condition value object", cond(`{"StringEquals":{"acs:AccessId":{"a":"b"}}}`), `Statement[0].Condition.StringEquals["acs:AccessId"]: must be a string, number, boolean or an array of them, got an object`},
		{"condition values empty", cond(`{"StringEquals":{"acs:AccessId":[]}}`), `Statement[0].Condition.StringEquals["acs:AccessId"]: must not be an empty array`},
		{"nested condition array", cond(`{"StringEquals":{"acs:AccessId":["a",["b"]]}}`), `Statement[0].Condition.StringEquals["acs:AccessId"][1]: must be a string, number or boolean, got an array`},
		{"numeric value not a number", cond(`{"NumericLessThan":{"alikafka:PartitionNum":["10","ten"]}}`), `Statement[0].Condition.NumericLessThan["alikafka:PartitionNum"][1]: "ten" is not a number`},
		{"numeric NaN", cond(`{"NumericEquals":{"alikafka:PartitionNum":"NaN"}}`), `Statement[0].Condition.NumericEquals["alikafka:PartitionNum"]: "NaN" is not a number`},
		{"date without time", cond(`{"DateLessThan":{"acs:CurrentTime":"2026-01-01"}}`), `Statement[0].Condition.DateLessThan["acs:CurrentTime"]: "2026-01-01" is not an ISO 8601 date-time such as 2026-01-01T00:00:00Z`},
		{"date without zone", cond(`{"DateGreaterThan":{"acs:CurrentTime":"2026-01-01T00:00:00"}}`), `Statement[0].Condition.DateGreaterThan["acs:CurrentTime"]: "2026-01-01T00:00:00" is not an ISO 8601 date-time such as 2026-01-01T00:00:00Z`},
		{"date as epoch seconds", cond(`{"DateLessThan":{"acs:CurrentTime":1767225600}}`), `Statement[0].Condition.DateLessThan["acs:CurrentTime"]: "1767225600" is not an ISO 8601 date-time such as 2026-01-01T00:00:00Z`},
		{"bool yes", cond(`{"Bool":{"acs:SecureTransport":"yes"}}`), `Statement[0].Condition.Bool["acs:SecureTransport"]: "yes" is not "true" or "false"`},
		{"CIDR prefix too long", cond(`{"IpAddress":{"acs:SourceIp":["10.0.0.0/33"]}}`), `Statement[0].Condition.IpAddress["acs:SourceIp"][0]: "10.0.0.0/33" is not an IP address or CIDR block`},
		{"bad IPv4", cond(`{"NotIpAddress":{"acs:SourceIp":"10.0.0.256"}}`), `Statement[0].Condition.NotIpAddress["acs:SourceIp"]: "10.0.0.256" is not an IP address or CIDR block`},
		{"bad IPv6", cond(`{"IpAddress":{"acs:SourceIp":"2001:db8:::1/64"}}`), `Statement[0].Condition.IpAddress["acs:SourceIp"]: "2001:db8:::1/64" is not an IP address or CIDR block`},
		{"too long", `{"Version":"1","Statement":[{` + ok + `}]}` + strings.Repeat(" ", MaxDocumentLength), `document is 6240 characters long; the maximum is 6144`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded: %s", d)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Reason != tt.reason {
				t.Errorf("reason\n got %s\nwant %s", pe.Reason, tt.reason)
			}
			if err.Error() != pe.Reason {
				t.Errorf("Error() = %q, want the reason", err.Error())
			}
		})
	}
}

// The limit counts characters, not bytes: RAM states it in characters, and a
// policy full of Chinese descriptions in condition values must not be
// penalised threefold.
func TestParseLengthCountsCharacters(t *testing.T) {
	head := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"acs:ResourceTag/team":"`
	tail := `"}}}]}`
	fill := MaxDocumentLength - len(head) - len(tail)
	doc := head + strings.Repeat("队", fill) + tail
	if _, err := Parse([]byte(doc)); err != nil {
		t.Fatalf("document of exactly %d characters (%d bytes) rejected: %v", MaxDocumentLength, len(doc), err)
	}
	if _, err := Parse([]byte(head + strings.Repeat("队", fill+1) + tail)); err == nil {
		t.Fatalf("document of %d characters accepted", MaxDocumentLength+1)
	}
}

func TestCanonicalJSON(t *testing.T) {
	src := `{
	  "Statement": [{
	    "Resource": "acs:alikafka:*:*:*",
	    "Condition": {"StringLike": {"acs:AccessId": "LTAI<&>*"}, "Bool": {"acs:MFAPresent": true}},
	    "Action": "alikafka:List*",
	    "Effect": "Allow"
	  }],
	  "Version": "1"
	}`
	want := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["alikafka:List*"],"Resource":["acs:alikafka:*:*:*"],"Condition":{"Bool":{"acs:MFAPresent":["true"]},"StringLike":{"acs:AccessId":["LTAI<&>*"]}}}]}`
	d := mustParse(t, src)
	if got := d.String(); got != want {
		t.Errorf("String():\n got %s\nwant %s", got, want)
	}
	again := mustParse(t, d.String())
	if !reflect.DeepEqual(exportedView(again), exportedView(d)) {
		t.Errorf("round trip changed the document:\n got %+v\nwant %+v", exportedView(again), exportedView(d))
	}
}
