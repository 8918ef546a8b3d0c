// Package kafkaplane is the domain of a self-hosted control plane for Kafka
// instances that speaks Alibaba Cloud's Message Queue for Apache Kafka
// OpenAPI (product alikafka, version 2019-09-16).
//
// The root package holds the entities (Instance, Operation, Account,
// AccessKey, User, Policy), the version catalogue that decides what
// UpgradeInstanceVersion does, the service interfaces that adapters
// implement, and the one error type. It imports only the standard library;
// every adapter package (openapi, sqlstore, jobs, broker) depends inward on
// it.
package kafkaplane
