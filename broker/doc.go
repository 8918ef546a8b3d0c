// Package broker is the data plane: the Kafka brokers behind every running
// instance. Runtime is what the control plane drives; Kafka is the real
// runtime (per-broker protocol fronts that speak exactly 0.10.2 or 2.2.0,
// over a kfake cluster used as persistent storage); Fake is a
// deterministic in-memory runtime for state-machine tests.
package broker
