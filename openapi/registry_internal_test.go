package openapi

import (
	"context"
	"strings"
	"testing"
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
