// Package broker is the data plane: the Kafka brokers behind every running
// instance. Runtime is what the control plane drives; Fake is a
// deterministic in-memory runtime for state-machine tests.
package broker
