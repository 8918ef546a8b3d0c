package kafkaplane_test

import (
	"testing"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

// forwarding stands for a wrapper that forwards to a runtime it may swap.
type forwarding struct {
	kafkaplane.Runtime
	to kafkaplane.Runtime
}

func (f forwarding) Current() kafkaplane.Runtime { return f.to }

// TestAsLooksThroughForwarders: a capability of the runtime a wrapper
// forwards to is found, and one it lacks is not invented.
func TestAsLooksThroughForwarders(t *testing.T) {
	k := &broker.Kafka{}
	if _, ok := kafkaplane.As[kafkaplane.FaultInjector](forwarding{to: k}); !ok {
		t.Error("the Kafka runtime's FaultInjector is hidden by a forwarder")
	}
	if _, ok := kafkaplane.As[kafkaplane.EndpointReporter](forwarding{to: k}); ok {
		t.Error("a forwarder to the Kafka runtime reports endpoints it does not have")
	}
}
