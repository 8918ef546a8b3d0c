package rpcsig

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"time"
)

// V1 signature parameter names and fixed values (docs/wire.md, Common parameters).
const (
	// ParamSignature carries the V1 signature; it is the one parameter
	// left out of the string to sign.
	ParamSignature = "Signature"
	// ParamAccessKeyID names the key whose secret signed the request.
	ParamAccessKeyID = "AccessKeyId"
	// ParamSignatureMethod must be SignatureMethodHMACSHA1.
	ParamSignatureMethod = "SignatureMethod"
	// ParamSignatureVersion must be SignatureVersion1.
	ParamSignatureVersion = "SignatureVersion"
	// ParamSignatureNonce is unique per request, for replay detection (docs/wire.md, Timestamps and nonces).
	ParamSignatureNonce = "SignatureNonce"
	// ParamTimestamp is the signing time in TimestampLayout (docs/wire.md, Timestamps and nonces).
	ParamTimestamp = "Timestamp"

	// SignatureMethodHMACSHA1 is the only SignatureMethod value V1 defines.
	SignatureMethodHMACSHA1 = "HMAC-SHA1"
	// SignatureVersion1 is the SignatureVersion value V1 clients send.
	SignatureVersion1 = "1.0"
)

// V1CanonicalizedQueryString returns the CanonicalizedQueryString of
// docs/wire.md, V1 signatures steps 1-3: every parameter except Signature, empty values
// included, percent-encoded and sorted. params must already be form-decoded
// and must be the union of the query and the form body, since the signers
// sign both (docs/wire.md, Common parameters).
//
// Ordering follows the SDKs: keys by their decoded bytes, and — for the
// rare key sent more than once — its values sorted, one pair each (see
// canonicalQuery for why).
func V1CanonicalizedQueryString(params url.Values) string {
	return canonicalQuery(params, ParamSignature)
}

// V1StringToSign returns METHOD&%2F&enc(CanonicalizedQueryString), the V1
// string to sign (docs/wire.md, V1 signatures step 4). method is used verbatim: the
// signers use the upper-case HTTP method, and GET and POST sign
// differently.
func V1StringToSign(method string, params url.Values) string {
	return method + "&%2F&" + PercentEncode(V1CanonicalizedQueryString(params))
}

// V1Sign returns base64(HMAC-SHA1(secret+"&", stringToSign)). The trailing
// "&" on the key is part of the V1 scheme, not a separator (docs/wire.md, V1 signatures
// step 5).
func V1Sign(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyV1 recomputes the V1 signature of params (query and form body
// merged, form-decoded) and compares it with the Signature parameter in
// constant time. ok is false when Signature is missing, repeated or wrong.
//
// The string to sign is returned in every case because a server puts it in
// the SignatureDoesNotMatch message after "server string to sign is:"; the
// legacy SDK compares it with its own to tell a wrong secret from a
// canonicalisation bug (docs/wire.md, Error envelope).
//
// VerifyV1 checks only the signature. SignatureMethod, SignatureVersion,
// Timestamp and SignatureNonce are validated by the caller, which owns the
// clock and the nonce store (docs/wire.md, Timestamps and nonces).
func VerifyV1(method string, params url.Values, secret string) (stringToSign string, ok bool) {
	stringToSign = V1StringToSign(method, params)
	got := params[ParamSignature]
	if len(got) != 1 {
		return stringToSign, false
	}
	want := V1Sign(secret, stringToSign)
	return stringToSign, hmac.Equal([]byte(got[0]), []byte(want))
}

// SignV1 adds the V1 common parameters to params and signs it: it sets
// AccessKeyId, SignatureMethod=HMAC-SHA1, SignatureVersion=1.0,
// SignatureNonce=nonce and Timestamp=now in UTC (docs/wire.md, Common parameters), drops any
// previous Signature, and stores the new one in params, which it also
// returns.
//
// Action, Version, Format, RegionId and SecurityToken are the caller's, set
// before the call. params must hold every parameter that will be sent,
// whether it goes in the query or the form body, since the server verifies
// the union. nonce must be unique per request, a retry included (docs/wire.md, Timestamps and nonces).
func SignV1(method string, params url.Values, accessKeyID, secret string, now time.Time, nonce string) string {
	params.Set(ParamAccessKeyID, accessKeyID)
	params.Set(ParamSignatureMethod, SignatureMethodHMACSHA1)
	params.Set(ParamSignatureVersion, SignatureVersion1)
	params.Set(ParamSignatureNonce, nonce)
	params.Set(ParamTimestamp, FormatTimestamp(now))
	params.Del(ParamSignature)
	sig := V1Sign(secret, V1StringToSign(method, params))
	params.Set(ParamSignature, sig)
	return sig
}
