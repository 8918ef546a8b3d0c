package rpcsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// V3 algorithm names as they appear first in the Authorization header
// (docs/wire.md, V3 signatures). Only AlgorithmACS3HMACSHA256 can be verified here; the
// other two are recognised so that a server can reject them precisely.
const (
	// AlgorithmACS3HMACSHA256 is the default V3 algorithm of the SDKs.
	AlgorithmACS3HMACSHA256 = "ACS3-HMAC-SHA256"
	// AlgorithmACS3HMACSM3 is the SM3 variant; not supported.
	AlgorithmACS3HMACSM3 = "ACS3-HMAC-SM3"
	// AlgorithmACS3RSASHA256 is the RSA variant; not supported.
	AlgorithmACS3RSASHA256 = "ACS3-RSA-SHA256"
)

// V3 header names, lower-case as they appear in the canonical request
// (docs/wire.md, V3 signatures).
const (
	// HeaderHost is always signed; see HeaderWithHost.
	HeaderHost = "host"
	// HeaderContentType is signed whenever it is present.
	HeaderContentType = "content-type"
	// HeaderAuthorization carries the V3 signature; never signed.
	HeaderAuthorization = "authorization"
	// HeaderACSDate is the signing time in TimestampLayout (docs/wire.md, Timestamps and nonces).
	HeaderACSDate = "x-acs-date"
	// HeaderACSNonce is unique per request, for replay detection (docs/wire.md, Timestamps and nonces).
	HeaderACSNonce = "x-acs-signature-nonce"
	// HeaderACSContentHash is HashPayload of the body; see VerifyPayload.
	HeaderACSContentHash = "x-acs-content-sha256"
	// HeaderACSAction names the API action (V3 counterpart of Action).
	HeaderACSAction = "x-acs-action"
	// HeaderACSVersion names the API version (V3 counterpart of Version).
	HeaderACSVersion = "x-acs-version"

	acsPrefix = "x-acs-"
)

// Errors of V3 parsing and verification. A server maps them to wire codes
// with errors.Is; the suggested codes are those of docs/wire.md, Gateway error codes.
var (
	// ErrMalformedAuthorization: the Authorization header does not have the
	// layout "ALG Credential=..,SignedHeaders=..,Signature=..".
	// Suggested code: IncompleteSignature.
	ErrMalformedAuthorization = errors.New("rpcsig: malformed Authorization header")
	// ErrUnsupportedAlgorithm: the algorithm is not ACS3-HMAC-SHA256 (for
	// example ACS3-HMAC-SM3 or ACS3-RSA-SHA256, or not an ACS3 scheme at
	// all). Suggested code: InvalidSignatureMethod.
	ErrUnsupportedAlgorithm = errors.New("rpcsig: unsupported signature algorithm")
	// ErrIncompleteSignature: a header that must be signed is not in
	// SignedHeaders, or x-acs-content-sha256 is missing.
	// Suggested code: IncompleteSignature.
	ErrIncompleteSignature = errors.New("rpcsig: incomplete signature")
	// ErrPayloadHashMismatch: x-acs-content-sha256 is not the SHA-256 of
	// the body received. Suggested code: SignatureDoesNotMatch.
	ErrPayloadHashMismatch = errors.New("rpcsig: x-acs-content-sha256 does not match the request body")
)

// Authorization is a parsed V3 Authorization header (docs/wire.md, V3 signatures step 8).
type Authorization struct {
	// Algorithm is the scheme name, one of the Algorithm constants.
	Algorithm string
	// AccessKeyID is the Credential value; the server looks up its secret.
	AccessKeyID string
	// SignedHeaders are the names listed in SignedHeaders, as sent.
	SignedHeaders []string
	// Signature is the hex signature, as sent.
	Signature string
}

// String renders a in the wire layout, the inverse of ParseAuthorization.
func (a Authorization) String() string {
	return a.Algorithm + " Credential=" + a.AccessKeyID +
		",SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		",Signature=" + a.Signature
}

// ParseAuthorization parses a V3 Authorization header:
//
//	ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b;c,Signature=hex
//
// Spaces around the comma-separated fields are tolerated and the fields may
// come in any order, but each must appear exactly once with a non-empty
// value, SignedHeaders entries must be header-name tokens and Signature
// must be hex. Any of the three ACS3 algorithms (docs/wire.md, V3 signatures, algorithms) parses,
// so the caller can report an unsupported one by name; any other scheme
// yields an error wrapping ErrUnsupportedAlgorithm, and a bad layout one
// wrapping ErrMalformedAuthorization.
func ParseAuthorization(h string) (Authorization, error) {
	h = strings.TrimSpace(h)
	alg, rest, found := strings.Cut(h, " ")
	if alg == "" {
		return Authorization{}, fmt.Errorf("%w: empty", ErrMalformedAuthorization)
	}
	switch alg {
	case AlgorithmACS3HMACSHA256, AlgorithmACS3HMACSM3, AlgorithmACS3RSASHA256:
	default:
		return Authorization{}, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, truncate(alg, 64))
	}
	if !found {
		return Authorization{}, fmt.Errorf("%w: no credential fields", ErrMalformedAuthorization)
	}
	a := Authorization{Algorithm: alg}
	var seenCred, seenHeaders, seenSig bool
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		name, value, ok := strings.Cut(part, "=")
		if !ok || value == "" {
			return Authorization{}, fmt.Errorf("%w: field %q has no value", ErrMalformedAuthorization, truncate(name, 64))
		}
		switch name {
		case "Credential":
			if seenCred || !printableNoSpace(value) {
				return Authorization{}, fmt.Errorf("%w: bad or repeated Credential", ErrMalformedAuthorization)
			}
			seenCred = true
			a.AccessKeyID = value
		case "SignedHeaders":
			if seenHeaders {
				return Authorization{}, fmt.Errorf("%w: repeated SignedHeaders", ErrMalformedAuthorization)
			}
			seenHeaders = true
			for _, n := range strings.Split(value, ";") {
				if !isToken(n) {
					return Authorization{}, fmt.Errorf("%w: bad signed header name %q", ErrMalformedAuthorization, truncate(n, 64))
				}
				a.SignedHeaders = append(a.SignedHeaders, n)
			}
		case "Signature":
			if seenSig || !isHex(value) {
				return Authorization{}, fmt.Errorf("%w: bad or repeated Signature", ErrMalformedAuthorization)
			}
			seenSig = true
			a.Signature = value
		default:
			return Authorization{}, fmt.Errorf("%w: unknown field %q", ErrMalformedAuthorization, truncate(name, 64))
		}
	}
	if !seenCred || !seenHeaders || !seenSig {
		return Authorization{}, fmt.Errorf("%w: Credential, SignedHeaders and Signature are all required", ErrMalformedAuthorization)
	}
	return a, nil
}

// HashPayload returns hex(SHA-256(body)), the x-acs-content-sha256 value
// and the HashedPayload line of the canonical request (docs/wire.md, V3 signatures). An
// empty body hashes to e3b0c442...b855.
func HashPayload(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// HeaderWithHost returns a copy of h with Host set to host. A Go server
// moves the Host header out of Request.Header into Request.Host, but V3
// always signs host (docs/wire.md, V3 signatures step 3), so callers pass
// HeaderWithHost(r.Header, r.Host) wherever this package asks for headers.
func HeaderWithHost(h http.Header, host string) http.Header {
	c := h.Clone()
	if c == nil {
		c = http.Header{}
	}
	c.Set("Host", host)
	return c
}

// V3CanonicalURI returns the CanonicalURI of docs/wire.md, V3 signatures step 1 for a
// decoded path (r.URL.Path): each segment percent-encoded like a query
// value, segments joined by "/", and "" treated as "/". RPC requests always
// use "/", for which this is the identity.
func V3CanonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = PercentEncode(s)
	}
	return strings.Join(segs, "/")
}

// V3CanonicalQueryString returns the CanonicalQueryString of reference
// docs/wire.md, V3 signatures step 2: all query parameters, sorted, key=enc(value), an empty
// value as "key=". Keys are percent-encoded too, which Darabonba skips;
// that only matters for names outside the unreserved set, which no API
// uses, and it keeps "&" and "=" inside a name from forging a pair.
// Ordering and repeated keys are handled as in V1CanonicalizedQueryString.
func V3CanonicalQueryString(query url.Values) string {
	return canonicalQuery(query, "")
}

// V3SignedHeaderNames returns the names a V3 signer signs (docs/wire.md, V3 signatures
// step 3): host, content-type and every x-acs-* header present in h,
// lower-cased, sorted and de-duplicated. h must include Host (see
// HeaderWithHost). SignV3 signs exactly these; CheckSignedHeaders requires
// at least these.
func V3SignedHeaderNames(h http.Header) []string {
	var names []string
	for k := range h {
		lk := strings.ToLower(k)
		if lk == HeaderHost || lk == HeaderContentType || strings.HasPrefix(lk, acsPrefix) {
			names = append(names, lk)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// normaliseSignedHeaders lower-cases, sorts and de-duplicates names and
// drops empty ones, giving the canonical SignedHeaders list (docs/wire.md, V3 signatures steps
// 3-4 define it as sorted lower-case names).
func normaliseSignedHeaders(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" {
			out = append(out, strings.ToLower(n))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// lowerHeaderValues returns the values of h under lower-cased names, each
// value trimmed. Indexing by the lower-cased name, rather than through
// http.Header.Values, also finds entries stored under non-canonical keys.
func lowerHeaderValues(h http.Header) map[string][]string {
	m := make(map[string][]string, len(h))
	for k, vs := range h {
		lk := strings.ToLower(k)
		for _, v := range vs {
			m[lk] = append(m[lk], strings.TrimSpace(v))
		}
	}
	return m
}

// V3CanonicalRequest returns the CanonicalRequest of docs/wire.md, V3 signatures step 5:
//
//	Method\nCanonicalURI\nCanonicalQueryString\nCanonicalHeaders\nSignedHeaders\nHashedPayload
//
// path is the decoded URL path and query the decoded query. headers must
// include Host: this package takes the host from headers rather than as a
// separate argument, so pass HeaderWithHost(r.Header, r.Host) on a server.
// signedHeaders are lower-cased, sorted and de-duplicated first; for each
// the canonical line is name:value with every value trimmed, several values
// sorted and joined by ",", and a signed header that is absent gives
// "name:". hashedPayload is the x-acs-content-sha256 value (HashPayload of
// the body).
func V3CanonicalRequest(method, path string, query url.Values, headers http.Header, signedHeaders []string, hashedPayload string) string {
	names := normaliseSignedHeaders(signedHeaders)
	values := lowerHeaderValues(headers)
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(V3CanonicalURI(path))
	b.WriteByte('\n')
	b.WriteString(V3CanonicalQueryString(query))
	b.WriteByte('\n')
	for _, n := range names {
		vs := values[n]
		if len(vs) > 1 {
			vs = slices.Clone(vs)
			slices.Sort(vs)
		}
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.Join(vs, ","))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(hashedPayload)
	return b.String()
}

// V3StringToSign returns "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonicalRequest))
// (docs/wire.md, V3 signatures step 6).
func V3StringToSign(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return AlgorithmACS3HMACSHA256 + "\n" + hex.EncodeToString(sum[:])
}

// V3Sign returns hex(HMAC-SHA256(secret, stringToSign)). Unlike V1 the key
// is the bare secret, without "&" (docs/wire.md, V3 signatures step 7).
func V3Sign(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckSignedHeaders reports, with an error wrapping ErrIncompleteSignature,
// a request whose signature leaves out a header that must be covered: host,
// content-type when present, and every x-acs-* header present (reference
// docs/wire.md, V3 signatures step 3; Alibaba answers IncompleteSignature). Without this rule a
// client could sign nothing but host and let anyone rewrite x-acs-action or
// the nonce. headers must include Host.
func CheckSignedHeaders(headers http.Header, signedHeaders []string) error {
	signed := normaliseSignedHeaders(signedHeaders)
	required := V3SignedHeaderNames(headers)
	if _, found := slices.BinarySearch(required, HeaderHost); !found {
		required = append(required, HeaderHost)
	}
	for _, n := range required {
		if _, found := slices.BinarySearch(signed, n); !found {
			return fmt.Errorf("%w: header %q is not in SignedHeaders", ErrIncompleteSignature, truncate(n, 64))
		}
	}
	return nil
}

// VerifyPayload checks that the x-acs-content-sha256 header equals
// HashPayload(body). The V3 signature covers that header, not the body, so
// this check is what binds the body to the signature (docs/wire.md, V3 signatures). A
// missing header wraps ErrIncompleteSignature, a wrong one is
// ErrPayloadHashMismatch. Hex case is ignored since the digest is the
// same.
func VerifyPayload(headers http.Header, body []byte) error {
	got, ok := contentHash(headers)
	if !ok {
		return fmt.Errorf("%w: %s header is missing", ErrIncompleteSignature, HeaderACSContentHash)
	}
	if !strings.EqualFold(got, HashPayload(body)) {
		return ErrPayloadHashMismatch
	}
	return nil
}

// contentHash returns the single trimmed x-acs-content-sha256 value.
func contentHash(headers http.Header) (string, bool) {
	vs := lowerHeaderValues(headers)[HeaderACSContentHash]
	if len(vs) != 1 {
		return "", false
	}
	return vs[0], true
}

// VerifyV3 verifies a V3 request for which auth was parsed from the
// Authorization header and secret is the secret of auth.AccessKeyID.
// method, path and query are r.Method, r.URL.Path and the decoded query;
// headers must include Host (HeaderWithHost); body is the full request
// body.
//
// The checks, in order: the algorithm must be ACS3-HMAC-SHA256
// (ErrUnsupportedAlgorithm); the required headers must be signed and
// x-acs-content-sha256 must be present, exactly once
// (ErrIncompleteSignature); the signature, recomputed over the canonical
// request with the header's hash as HashedPayload, must equal
// auth.Signature in constant time (ok false, err nil); and the body must
// hash to that header (ErrPayloadHashMismatch).
//
// ok is true only when err is nil and every check passed. stringToSign is
// returned whenever the canonical request could be built, for the
// SignatureDoesNotMatch message (docs/wire.md, Error envelope). The clock and nonce
// checks on x-acs-date and x-acs-signature-nonce are the caller's (docs/wire.md, Timestamps and nonces).
func VerifyV3(method, path string, query url.Values, headers http.Header, body []byte, auth Authorization, secret string) (stringToSign string, ok bool, err error) {
	if auth.Algorithm != AlgorithmACS3HMACSHA256 {
		return "", false, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, truncate(auth.Algorithm, 64))
	}
	if err := CheckSignedHeaders(headers, auth.SignedHeaders); err != nil {
		return "", false, err
	}
	hashed, present := contentHash(headers)
	if !present {
		return "", false, fmt.Errorf("%w: %s header must be sent exactly once", ErrIncompleteSignature, HeaderACSContentHash)
	}
	cr := V3CanonicalRequest(method, path, query, headers, auth.SignedHeaders, hashed)
	stringToSign = V3StringToSign(cr)
	want := V3Sign(secret, stringToSign)
	if !hmac.Equal([]byte(auth.Signature), []byte(want)) {
		return stringToSign, false, nil
	}
	if err := VerifyPayload(headers, body); err != nil {
		return stringToSign, false, err
	}
	return stringToSign, true, nil
}

// SignV3 signs req with ACS3-HMAC-SHA256 for the CLI. It sets x-acs-date
// (now, UTC), x-acs-signature-nonce, x-acs-content-sha256 (hash of body)
// and Authorization, signing host (req.Host, or req.URL.Host when empty),
// content-type if set, and every x-acs-* header, as the Darabonba SDK does
// (docs/wire.md, V3 signatures). The caller sets x-acs-action, x-acs-version, any
// content-type and the query in req.URL.RawQuery before the call, and the
// body itself: SignV3 does not touch req.Body. An empty Method signs as
// GET, which is what net/http sends. nonce must be unique per request,
// a retry included (docs/wire.md, Timestamps and nonces).
func SignV3(req *http.Request, body []byte, accessKeyID, secret string, now time.Time, nonce string) error {
	if req == nil || req.URL == nil {
		return errors.New("rpcsig: SignV3 needs a request with a URL")
	}
	query, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("rpcsig: SignV3: query: %w", err)
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	hashed := HashPayload(body)
	req.Header.Set(HeaderACSDate, FormatTimestamp(now))
	req.Header.Set(HeaderACSNonce, nonce)
	req.Header.Set(HeaderACSContentHash, hashed)
	req.Header.Del(HeaderAuthorization)
	h := HeaderWithHost(req.Header, host)
	signed := V3SignedHeaderNames(h)
	cr := V3CanonicalRequest(method, req.URL.Path, query, h, signed, hashed)
	auth := Authorization{
		Algorithm:     AlgorithmACS3HMACSHA256,
		AccessKeyID:   accessKeyID,
		SignedHeaders: signed,
		Signature:     V3Sign(secret, V3StringToSign(cr)),
	}
	req.Header.Set(HeaderAuthorization, auth.String())
	return nil
}

// isToken reports whether s is a non-empty RFC 9110 token, the grammar of
// a header field name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// printableNoSpace reports whether s is visible ASCII without spaces, the
// shape of an AccessKeyId (including STS ids such as "STS.xxx").
func printableNoSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// truncate bounds attacker-controlled text quoted in error messages.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
