// Package kafkaplane is the domain of a self-hosted control plane for Kafka
// instances that speaks Alibaba Cloud's Message Queue for Apache Kafka
// OpenAPI (product alikafka, version 2019-09-16).
//
// The root package holds the entities (Instance, Operation, Account,
// AccessKey, User, Policy), the rules that govern them and the interfaces
// that adapters implement:
//
//   - status.go: the instance state machine, one transition table with
//     each state's ServiceStatus/ViewInstanceStatusCode pair. Every status
//     change goes through Instance.Apply (or Instance.Finish at the end of
//     an operation).
//   - operation.go, plan.go: operation types, their steps and the events
//     that end them, and SpecFor, which says how an instance's brokers run.
//   - version.go: the version catalogue that decides what
//     UpgradeInstanceVersion does.
//   - runtime.go, dataplane.go: the broker Runtime interface and the plain
//     data it takes (Spec, Security, ACL, …).
//   - error.go: the one error type and the domain's semantic codes.
//
// It imports only the standard library. Adapters depend inward on it:
// sqlstore implements the services, broker implements Runtime, jobs runs
// operations, and openapi serves the API on top of the domain alone (it
// imports neither jobs nor broker; cmd/kafkaplane wires them together).
// layers_test.go checks both rules.
package kafkaplane
