package policy

import (
	"sort"
	"testing"
)

// TestConditionOperators checks every operator of RAM's "Conditional
// operators" page both ways, plus the absent-key rule. Each case is one
// Allow statement whose only condition is {op: {key: values}}.
func TestConditionOperators(t *testing.T) {
	const key = "test:Key"
	tests := []struct {
		op     string
		values string   // JSON value of the key
		ctx    []string // nil: key absent from the request
		want   bool
	}{
		{"StringEquals", `"dev"`, []string{"dev"}, true},
		{"StringEquals", `"dev"`, []string{"Dev"}, false},
		{"StringEquals", `"dev"`, nil, false},
		{"StringNotEquals", `"dev"`, []string{"prod"}, true},
		{"StringNotEquals", `"dev"`, []string{"dev"}, false},
		{"StringNotEquals", `["dev","test"]`, []string{"test"}, false},
		{"StringNotEquals", `"dev"`, nil, true},
		{"StringEqualsIgnoreCase", `"dev"`, []string{"DEV"}, true},
		{"StringEqualsIgnoreCase", `"dev"`, []string{"prod"}, false},
		{"StringNotEqualsIgnoreCase", `"dev"`, []string{"prod"}, true},
		{"StringNotEqualsIgnoreCase", `"dev"`, []string{"DeV"}, false},
		{"StringLike", `"hangzhou/2015/*"`, []string{"hangzhou/2015/photo.jpg"}, true},
		{"StringLike", `"hangzhou/2015/*"`, []string{"Hangzhou/2015/photo.jpg"}, false},
		{"StringLike", `"team-?"`, []string{"team-a"}, true},
		{"StringLike", `"team-?"`, []string{"team-ab"}, false},
		{"StringNotLike", `"hangzhou/*"`, []string{"beijing/x"}, true},
		{"StringNotLike", `"hangzhou/*"`, []string{"hangzhou/x"}, false},

		{"NumericEquals", `10`, []string{"10"}, true},
		{"NumericEquals", `"10"`, []string{"10.0"}, true},
		{"NumericEquals", `10`, []string{"11"}, false},
		{"NumericEquals", `10`, []string{"ten"}, false},
		{"NumericNotEquals", `10`, []string{"11"}, true},
		{"NumericNotEquals", `10`, []string{"1e1"}, false},
		{"NumericLessThan", `100`, []string{"99.5"}, true},
		{"NumericLessThan", `100`, []string{"100"}, false},
		{"NumericLessThanEquals", `100`, []string{"100"}, true},
		{"NumericLessThanEquals", `100`, []string{"101"}, false},
		{"NumericGreaterThan", `-5`, []string{"0"}, true},
		{"NumericGreaterThan", `-5`, []string{"-5"}, false},
		{"NumericGreaterThanEquals", `-5`, []string{"-5"}, true},
		{"NumericGreaterThanEquals", `-5`, []string{"-6"}, false},
		{"NumericGreaterThan", `5`, nil, false},

		{"DateEquals", `"2026-01-01T08:00:00+08:00"`, []string{"2026-01-01T00:00:00Z"}, true},
		{"DateEquals", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:01Z"}, false},
		{"DateNotEquals", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:01Z"}, true},
		{"DateNotEquals", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:00.000Z"}, false},
		{"DateLessThan", `"2026-01-01T00:00:00Z"`, []string{"2025-12-31T23:59:59Z"}, true},
		{"DateLessThan", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:00Z"}, false},
		{"DateLessThanEquals", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:00Z"}, true},
		{"DateLessThanEquals", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:00.5Z"}, false},
		{"DateGreaterThan", `"2026-01-01T00:00:00Z"`, []string{"2026-06-30T12:00:00+02:00"}, true},
		{"DateGreaterThan", `"2026-01-01T00:00:00Z"`, []string{"2025-06-30T12:00:00Z"}, false},
		{"DateGreaterThanEquals", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:00Z"}, true},
		{"DateGreaterThanEquals", `"2026-01-01T00:00:00Z"`, []string{"not a date"}, false},
		{"DateLessThan", `"2026-01-01T00:00:00Z"`, nil, false},

		{"Bool", `"true"`, []string{"true"}, true},
		{"Bool", `true`, []string{"TRUE"}, true},
		{"Bool", `"true"`, []string{"false"}, false},
		{"Bool", `"false"`, []string{"false"}, true},
		{"Bool", `"false"`, nil, false},

		{"IpAddress", `"10.0.0.0/8"`, []string{"10.255.0.1"}, true},
		{"IpAddress", `"10.0.0.0/8"`, []string{"11.0.0.1"}, false},
		{"IpAddress", `"192.0.2.7"`, []string{"192.0.2.7"}, true},
		{"IpAddress", `"192.0.2.7"`, []string{"192.0.2.8"}, false},
		{"IpAddress", `"10.0.0.0/8"`, []string{"::ffff:10.1.1.1"}, true},
		{"IpAddress", `"2001:db8::/32"`, []string{"2001:db8:ffff::1"}, true},
		{"IpAddress", `"2001:db8::/32"`, []string{"2001:db9::1"}, false},
		{"IpAddress", `"2001:db8::/32"`, []string{"10.0.0.1"}, false},
		{"IpAddress", `"10.0.0.0/8"`, []string{"garbage"}, false},
		{"IpAddress", `"10.0.0.0/8"`, nil, false},
		{"NotIpAddress", `["10.0.0.0/8","2001:db8::/32"]`, []string{"203.0.113.1"}, true},
		{"NotIpAddress", `["10.0.0.0/8","2001:db8::/32"]`, []string{"2001:db8::5"}, false},
		{"NotIpAddress", `"10.0.0.0/8"`, nil, true},

		// Several context values for one key: a positive operator needs
		// one match, a negated one needs none.
		{"StringEquals", `"b"`, []string{"a", "b"}, true},
		{"StringNotEquals", `"b"`, []string{"a", "b"}, false},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.op] = true
		name := tt.op + " " + tt.values
		t.Run(name, func(t *testing.T) {
			doc := mustParse(t, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"`+tt.op+`":{"`+key+`":`+tt.values+`}}}]}`)
			req := Request{Action: "alikafka:ListInstance", Resource: "*"}
			if tt.ctx != nil {
				req.Context = map[string][]string{key: tt.ctx}
			}
			got := Evaluate(req, Attached{Name: "p", Doc: doc}).Allowed()
			if got != tt.want {
				t.Errorf("%s %s against %q = %v, want %v", tt.op, tt.values, tt.ctx, got, tt.want)
			}
		})
	}
	for _, op := range Operators() {
		if !covered[op] {
			t.Errorf("operator %s has no test case", op)
		}
	}
	if n := len(Operators()); n != 21 {
		t.Errorf("Operators() has %d entries, want the 21 RAM documents", n)
	}
	if !sort.StringsAreSorted(Operators()) {
		t.Errorf("Operators() is not sorted")
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"?", "", false},
		{"?", "队", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a*b*c", "aXbYbZc", true},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"acs:alikafka:*:*:alikafka_post-cn-*", "acs:alikafka:cn-hangzhou:123:alikafka_post-cn-abc", true},
		{"ab?", "ab", false},
		{"a**", "a", true},
		{"A", "a", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
