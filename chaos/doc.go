// Package chaos is kafkaplane's randomized fault run. It starts one
// kafkaplane process per account from the built binary, drives a seeded
// sequence of API operations against them (instance lifecycle, upgrades,
// topics and groups, RAM users, policies and attachments, calls as RAM
// users, hostile requests) with signed HTTP, while it SIGKILLs (and now and
// then SIGTERMs) the processes at random moments and restarts them on the
// same data dir, port and broker ports, and while an idempotent franz-go
// producer (acks=all) and a group consumer use one instance's brokers.
//
// The driver keeps a model of what the API accepted: every state each
// instance, topic, group, user, policy and attachment could be in. A call
// answered 200 took effect, one answered 4xx changed nothing, and one cut
// by a kill or answered 5xx may or may not have; the model keeps both
// possibilities. Afterwards it checks:
//
//   - every answer was a well-formed Alibaba envelope (success: 200 with a
//     RequestId, alikafka's Code 200 and Success true; error: 4xx/5xx with
//     string Code, Message, RequestId, HostId and Recommend), and every
//     hostile request was refused with a 4xx;
//   - every acknowledged record is in the log, and exactly once once an
//     idempotent producer writes it (the data instance starts on 0.10.2,
//     which has no idempotence: a record its first producer wrote twice
//     when a kill cut the answer is at-least-once delivery and is
//     reported, not a violation);
//   - no instance stays deploying or upgrading longer than its bound after
//     the last kill, and every instance operation completed;
//   - every instance, topic, group, user, policy and attachment is in a
//     state the accepted calls could have produced;
//   - descriptors and goroutines do not grow over a soak without kills,
//     and the process ends with no more sockets, pipes and goroutines than
//     a fresh one holding the same instances.
//
// The operation sequence is a function of the seed (operations target
// slots, not ids); the moments of the kills are not, and are logged.
// README.md ("Randomized fault run") tells how to run it.
package chaos
