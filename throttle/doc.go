// Package throttle limits request rates with GCRA, the generic cell rate
// algorithm. GCRA keeps one timestamp per key (the theoretical arrival time,
// TAT), so its whole state fits one row of a table that several replicas
// can share; the Memory store keeps it in a map for a single process.
package throttle
