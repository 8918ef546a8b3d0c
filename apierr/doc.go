// Package apierr is the catalogue of wire errors: for every error code the
// gateway or a handler can return, its HTTP status and default message, as
// Alibaba Cloud's RPC gateway and alikafka publish them. It is pure: no I/O.
//
// One table serves every action; the openapi package turns any error into
// its wire form through Lookup, so a code's status is decided in one place.
package apierr
