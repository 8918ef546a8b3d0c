package broker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kafkaplane/kafkaplane/broker"
)

func TestFakeRecordsSecurity(t *testing.T) {
	f := broker.NewFake()
	ctx := context.Background()
	if err := f.ApplySecurity(ctx, "i-1", broker.Security{}); !errors.Is(err, broker.ErrNotStarted) {
		t.Fatalf("before start: %v", err)
	}
	bad := broker.Security{Allowlists: map[broker.Listener][]string{broker.ListenerPlaintext: {"nope"}}}
	if _, err := f.Start(ctx, broker.Spec{InstanceID: "i-1", Version: "2.2.0", Ports: []int{1}, Security: bad}); !errors.Is(err, broker.ErrInvalidSecurity) {
		t.Fatalf("start with a bad allowlist: %v", err)
	}
	if _, err := f.Start(ctx, broker.Spec{InstanceID: "i-1", Version: "2.2.0", Ports: []int{1}}); err != nil {
		t.Fatal(err)
	}
	good := broker.Security{ACLEnabled: true, Users: []broker.SaslUser{mustUser(t, "u", "p", broker.MechanismPlain)},
		Allowlists: map[broker.Listener][]string{broker.ListenerPlaintext: {"10.0.0.0/8"}}}
	if err := f.ApplySecurity(ctx, "i-1", good); err != nil {
		t.Fatal(err)
	}
	if err := f.ApplySecurity(ctx, "i-1", bad); !errors.Is(err, broker.ErrInvalidSecurity) {
		t.Fatalf("bad allowlist: %v", err)
	}
	got, ok := f.Security("i-1")
	if !ok || !got.ACLEnabled || got.Allowlists[broker.ListenerPlaintext][0] != "10.0.0.0/8" {
		t.Fatalf("recorded %+v", got)
	}
}
