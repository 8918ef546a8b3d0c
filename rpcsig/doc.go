// Package rpcsig canonicalises, signs and verifies Alibaba Cloud RPC-style
// OpenAPI requests, as sent to the alikafka 2019-09-16 API.
//
// Two signature schemes are in use and a server must accept both
// (docs/wire.md, Which client signs how):
//
//   - V1, "HMAC-SHA1" with SignatureVersion=1.0: the signature is a query
//     (or form) parameter computed over all other parameters (docs/wire.md, V1 signatures). The
//     legacy Go SDK uses it.
//   - V3, "ACS3-HMAC-SHA256": the signature travels in the Authorization
//     header and covers the method, path, query, a chosen set of headers
//     and, through x-acs-content-sha256, the body (docs/wire.md, V3 signatures). The Darabonba
//     (Tea) SDKs use it by default.
//
// The server side uses VerifyV1, ParseAuthorization and VerifyV3; the CLI
// uses SignV1 and SignV3. Both sides share the same canonicalisation
// functions, so a client and a server built from this package agree byte for
// byte. The package is pure: it performs no I/O, keeps no state and depends
// only on the standard library. Checks that need state or a clock — the
// 15-minute timestamp window and nonce replay (docs/wire.md, Timestamps and nonces), looking up the secret
// of an AccessKeyId — belong to the caller; ParseTimestamp only tells a
// well-formed timestamp from a malformed one.
//
// Errors that a server must turn into wire error codes are sentinel values
// (ErrIncompleteSignature, ErrUnsupportedAlgorithm, ...) so callers map
// them with errors.Is rather than by matching text.
package rpcsig
