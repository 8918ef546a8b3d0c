package jobs

import (
	"context"
	"testing"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

type optionalRuntime struct{ *broker.Fake }

func (optionalRuntime) Endpoint(string) (string, bool)                        { return "strimzi:9092", true }
func (optionalRuntime) FinalizeUpgrade(context.Context, string, string) error { return nil }
func (optionalRuntime) InjectsFaults()                                        {}

// TestSecureKeepsOptionalInterfaces: the optional interfaces of a runtime
// are found through the SecureRuntime wrapping it, and not invented for
// one that lacks them.
func TestSecureKeepsOptionalInterfaces(t *testing.T) {
	w := Secure(optionalRuntime{broker.NewFake()}, nil)
	er, ok := kafkaplane.RuntimeAs[kafkaplane.EndpointReporter](w)
	if !ok {
		t.Fatal("EndpointReporter hidden by the wrapper")
	}
	if got, _ := er.Endpoint("x"); got != "strimzi:9092" {
		t.Errorf("Endpoint %q", got)
	}
	if _, ok := kafkaplane.RuntimeAs[kafkaplane.UpgradeFinalizer](w); !ok {
		t.Error("UpgradeFinalizer hidden by the wrapper")
	}
	if _, ok := kafkaplane.RuntimeAs[kafkaplane.FaultInjector](w); !ok {
		t.Error("FaultInjector hidden by the wrapper")
	}
	plain := Secure(broker.NewFake(), nil)
	if _, ok := kafkaplane.RuntimeAs[kafkaplane.EndpointReporter](plain); ok {
		t.Error("a Fake reports endpoints through the wrapper")
	}
}
