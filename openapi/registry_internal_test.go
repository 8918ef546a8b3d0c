package openapi

import (
	"context"
	"strings"
	"testing"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// TestRegistryRefusesUntrustworthyResources: a resource placeholder that
// could expand to something other than what the handler acts on is a
// declaration error found when the server is built.
func TestRegistryRefusesUntrustworthyResources(t *testing.T) {
	nop := func(context.Context, *Request) (Object, error) { return nil, nil }
	self := func(_ context.Context, r *Request) (string, error) { return r.Caller.UserName, nil }
	for _, c := range []struct {
		name  string
		a     *Action
		panic string // "" when the declaration is accepted
	}{
		{"optional parameter", &Action{Resource: ramUserARN, Params: []Param{{Name: "UserName"}}}, "{UserName}"},
		{"missing parameter", &Action{Resource: ramUserARN}, "{UserName}"},
		{"list parameter", &Action{Resource: instanceARN, Regional: true, Params: []Param{{Name: "InstanceId", Kind: RepeatList, Required: true}}}, "{InstanceId}"},
		{"region of a non-regional action", &Action{Resource: "acs:x:{RegionId}:{AccountId}:*"}, "{RegionId}"},
		{"required parameter", &Action{Resource: ramUserARN, Params: []Param{{Name: "UserName", Required: true}}}, ""},
		{"derived parameter", &Action{Resource: ramUserARN, Params: []Param{{Name: "UserName"}}, Derive: map[string]func(context.Context, *Request) (string, error){"UserName": self}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.a.Name, c.a.Product, c.a.Version, c.a.Handler = "X", "x", "1", nop
			var got string
			func() {
				defer func() {
					if r := recover(); r != nil {
						got = r.(string)
					}
				}()
				NewRegistry().Add(c.a)
			}()
			if (c.panic == "") != (got == "") || !strings.Contains(got, c.panic) {
				t.Errorf("Add panicked with %q, want a panic naming %q", got, c.panic)
			}
		})
	}
}

// TestRegistryRefusesUnboundedIntegers: an Integer parameter without a
// range, or a range on a non-integer, is a mistake found when the server
// is built, not a value that reaches a handler.
func TestRegistryRefusesUnboundedIntegers(t *testing.T) {
	h := func(context.Context, *Request) (Object, error) { return Object{}, nil }
	for _, p := range []Param{
		{Name: "Count", Kind: Integer},
		{Name: "Count", Kind: Integer, Min: 5, Max: 5},
		{Name: "Name", Min: 1, Max: 3},
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, "range") {
					t.Errorf("%+v: registered (%v), want a panic", p, r)
				}
			}()
			NewRegistry().Add(kafkaAction(Action{Name: "CreateTopic", RAMAction: "alikafka:CreateTopic", Resource: instanceARN, QPS: 20,
				Params: []Param{{Name: "InstanceId", Required: true, MaxLen: 64}, p}, Handler: h}))
		}()
	}
}

// TestParamLimits checks the one enforcement point: lengths in characters
// with the default cap for undeclared strings, inclusive integer ranges
// without overflow, and a product's own code when declared.
func TestParamLimits(t *testing.T) {
	own := apierr.RAMMaxItems
	for _, c := range []struct {
		p    Param
		v    string
		code string
	}{
		{Param{Name: "S"}, strings.Repeat("a", DefaultMaxLen), ""},
		{Param{Name: "S"}, strings.Repeat("a", DefaultMaxLen+1), "InvalidS"},
		{Param{Name: "S", MaxLen: 3}, "日本語", ""},
		{Param{Name: "S", MaxLen: 3}, "日本語x", "InvalidS"},
		{Param{Name: "J", Kind: JSON, MaxLen: 8}, `{"a":"bc"}`, "InvalidJ"},
		{Param{Name: "N", Kind: Integer, Min: 1, Max: 360}, "360", ""},
		{Param{Name: "N", Kind: Integer, Min: 1, Max: 360}, "361", "InvalidN"},
		{Param{Name: "N", Kind: Integer, Min: 1, Max: 360}, "0", "InvalidN"},
		{Param{Name: "N", Kind: Integer, Min: 1, Max: 360}, "9223372036854775807", "InvalidN"},
		{Param{Name: "N", Kind: Integer, Min: 1, Max: 360}, "-9223372036854775809", "InvalidN"},
		{Param{Name: "N", Kind: Integer, Min: 1, Max: 360}, "1e3", "InvalidN"},
		{Param{Name: "MaxItems", Kind: Integer, Min: 1, Max: 1000, OutOfRange: own}, "1001", own.Code},
	} {
		err := c.p.check(c.v)
		got := ""
		if err != nil {
			got = kafkaplane.ErrorCode(err)
		}
		if got != c.code {
			t.Errorf("%s=%.20q: code %q (%v), want %q", c.p.Name, c.v, got, err, c.code)
		}
	}
}
