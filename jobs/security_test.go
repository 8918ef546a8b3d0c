package jobs

import (
	"context"
	"testing"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

type reportingRuntime struct{ *broker.Fake }

func (reportingRuntime) Endpoint(string) (string, bool) { return "strimzi:9092", true }

type finalizingRuntime struct{ *broker.Fake }

func (finalizingRuntime) FinalizeUpgrade(context.Context, string, string) error { return nil }

type bothRuntime struct{ *broker.Fake }

func (bothRuntime) Endpoint(string) (string, bool)                        { return "strimzi:9092", true }
func (bothRuntime) FinalizeUpgrade(context.Context, string, string) error { return nil }

// TestSecureKeepsOptionalInterfaces: the wrapper implements an optional
// runtime interface exactly when the runtime it wraps does, so wrapping
// does not change what the worker and the API find.
func TestSecureKeepsOptionalInterfaces(t *testing.T) {
	for _, c := range []struct {
		name     string
		rt       broker.Runtime
		er, fin  bool
		endpoint string
	}{
		{"plain", broker.NewFake(), false, false, ""},
		{"reporter", reportingRuntime{broker.NewFake()}, true, false, "strimzi:9092"},
		{"finalizer", finalizingRuntime{broker.NewFake()}, false, true, ""},
		{"both", bothRuntime{broker.NewFake()}, true, true, "strimzi:9092"},
	} {
		w := Secure(c.rt, nil)
		er, isER := w.(kafkaplane.EndpointReporter)
		_, isFin := w.(kafkaplane.UpgradeFinalizer)
		if isER != c.er || isFin != c.fin {
			t.Errorf("%s: EndpointReporter %v, UpgradeFinalizer %v; want %v, %v", c.name, isER, isFin, c.er, c.fin)
		}
		if isER {
			if got, _ := er.Endpoint("x"); got != c.endpoint {
				t.Errorf("%s: Endpoint %q", c.name, got)
			}
		}
		if _, ok := w.(interface {
			Start(context.Context, broker.Spec) ([]broker.BrokerStatus, error)
		}); !ok {
			t.Errorf("%s: no Start", c.name)
		}
	}
}
