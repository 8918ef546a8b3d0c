package rpcsig

import (
	"net/url"
	"slices"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// PercentEncode encodes s the way every Alibaba signer does (docs/wire.md,
// Percent-encoding): the RFC 3986 unreserved bytes A-Z a-z 0-9 - _ . ~ stay as
// they are and every other byte of the UTF-8 encoding becomes %XY with
// upper-case hex. Unlike form encoding, a space is %20 (never +) and * is
// %2A; a signature computed with form encoding would not match.
//
// The function works on bytes, so invalid UTF-8 is encoded byte by byte and
// the mapping stays injective.
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0x0f])
	}
	return b.String()
}

func unreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '_', c == '.', c == '~':
		return true
	}
	return false
}

// canonicalQuery renders params as encoded key=value pairs joined by "&",
// leaving out the key skip (when non-empty). It is the shared core of the
// V1 CanonicalizedQueryString and the V3 CanonicalQueryString.
//
// Keys are ordered by their decoded bytes. That is what the SDKs do: both
// the legacy SDK and Darabonba sort the raw names (url.Values.Encode, or a
// sort of the map keys) and encode afterwards. For every real API parameter
// name the order is the same as sorting encoded names; it only differs for
// names with bytes outside the unreserved set.
//
// A key with several values yields one pair per value, values sorted by
// their decoded bytes, so the result does not depend on the order in which
// query and form parameters were merged. (No SDK sends a name twice; this
// only makes the server's answer deterministic.) An empty value yields
// "key=" and is never dropped, because the legacy SDK signs SignatureType=
// (docs/wire.md: Common parameters; V1 signatures, step 1). A key whose value slice is empty yields nothing, as
// with url.Values.Encode.
func canonicalQuery(params url.Values, skip string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if skip != "" && k == skip {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	first := true
	for _, k := range keys {
		vals := params[k]
		if len(vals) > 1 {
			vals = slices.Clone(vals)
			slices.Sort(vals)
		}
		ek := PercentEncode(k)
		for _, v := range vals {
			if !first {
				b.WriteByte('&')
			}
			first = false
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(PercentEncode(v))
		}
	}
	return b.String()
}
