// Package apierr is the catalogue of wire errors: for every error code the
// gateway or a handler can answer, its HTTP status and default message, as
// Alibaba Cloud's RPC gateway, alikafka and RAM publish them. It is pure: no
// I/O.
//
// Every code is defined here once (apierr.go for the gateway and alikafka's
// instance codes, alikafka.go, ram.go), each with a comment saying when it
// is answered; docs/errors.md is generated from these files
// (go test ./apierr -run TestErrorsDoc -update). Only the parameter
// families Missing{Parameter} and Invalid{Parameter} are built from names,
// by Missing and Invalid. Lookup of any other code that is not listed
// fails: the openapi package answers it as InternalError.
package apierr
