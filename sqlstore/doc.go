// Package sqlstore is the one database/sql implementation of kafkaplane's
// store interfaces (InstanceService, OperationService, IdentityService,
// NonceService) and of the shared GCRA throttle state, on two engines:
//
//   - embedded SQLite (modernc.org/sqlite, pure Go) in WAL mode, the default
//     for a single process;
//   - PostgreSQL through pgx's database/sql driver, for several replicas
//     sharing one database.
//
// Both engines run the same SQL text wherever they can (modernc binds $N
// placeholders by position, and both support INSERT … ON CONFLICT …
// RETURNING); the few differences (GREATEST vs max, FOR UPDATE SKIP LOCKED,
// advisory locks) live in a small dialect value. Schemas are embedded per
// engine under migrations/ with aligned version numbers and applied by Open.
//
// Storage conventions, chosen so that a value round-trips identically on
// both engines:
//
//   - times are unix microseconds in INTEGER/BIGINT columns, UTC on read;
//     the zero time.Time is stored as 0;
//   - list and map fields (tags, config, broker ports, steps) are JSON text
//     in a storage-only shape, so that renaming a Go field never changes
//     stored data;
//   - every mutable row carries modify_index. Updates are
//     "UPDATE … WHERE key AND modify_index = $n" and advance it by one, the
//     compare-and-set scheme of Nomad's state store; a lost race is
//     kafkaplane.CodeConflict.
//
// The package is exercised by one conformance suite (sqlstore_test.go) that
// runs against SQLite always and against PostgreSQL when
// KAFKAPLANE_TEST_POSTGRES_URL is set, in the manner of River's
// riverdrivertest.
package sqlstore
