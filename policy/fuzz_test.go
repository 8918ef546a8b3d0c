package policy

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is a
// *ParseError with a reason, and that an accepted document survives a round
// trip through its canonical JSON unchanged (and that canonical JSON is a
// fixed point). Evaluate is exercised on accepted documents too, since it
// must not panic on anything Parse lets through.
func FuzzParse(f *testing.F) {
	for _, s := range SystemPolicies() {
		f.Add([]byte(s))
	}
	seeds := []string{
		``,
		`{}`,
		`[]`,
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`{"Version":"1","Statement":[{"Effect":"Deny","NotAction":["ram:*","ecs:Describe?"],"NotResource":"acs:oss:*:*:b/*"}]}`,
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","::1"]},"NumericLessThan":{"k":[1,"2.5e3"]},"Bool":{"acs:SecureTransport":true},"DateGreaterThan":{"acs:CurrentTime":"2026-01-01T00:00:00+08:00"}}}]}`,
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringLike":{"k":"<\u2028&>"}}}]}`,
		`{"Version":"1","Statement":[{"Effect":"allow"}]}`,
		`{"Version":"1","Version":"1"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("Parse error %T %v is not a *ParseError with a reason", err, err)
			}
			return
		}
		canon, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		d2, err := parseDocument(canon)
		if err != nil {
			t.Fatalf("canonical form %s does not parse: %v", canon, err)
		}
		if !reflect.DeepEqual(exportedView(d2), exportedView(d)) {
			t.Fatalf("round trip changed the document\n in: %s\nout: %s", d, d2)
		}
		if canon2, _ := d2.MarshalJSON(); string(canon2) != string(canon) {
			t.Fatalf("canonical form is not stable\n1: %s\n2: %s", canon, canon2)
		}
		Evaluate(Request{
			Action:   "alikafka:ListInstance",
			Resource: arnABC,
			Context: map[string][]string{
				"acs:SourceIp":        {"10.1.2.3", "2001:db8::1"},
				"acs:SecureTransport": {"true"},
				"acs:CurrentTime":     {"2026-01-01T00:00:00Z"},
				"k":                   {"1", "abc"},
			},
		}, Attached{Name: "fuzz", Doc: d}, Attached{Name: "fuzz2", Doc: d2})
	})
}
