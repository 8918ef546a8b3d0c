package rpcsig

import (
	"errors"
	"fmt"
	"time"
)

// TimestampLayout is the Go layout of the V1 Timestamp parameter and of the
// V3 x-acs-date header: ISO 8601 in UTC with a literal Z (docs/wire.md: Common parameters;
// V3 signatures).
const TimestampLayout = "2006-01-02T15:04:05Z"

// ErrTimestampFormat reports a timestamp that is not ISO 8601 UTC. A server
// answers it with InvalidTimeStamp.Format (docs/wire.md: Timestamps and nonces; Gateway error codes).
var ErrTimestampFormat = errors.New("rpcsig: timestamp is not in the format YYYY-MM-DDThh:mm:ssZ")

// FormatTimestamp renders t in UTC with TimestampLayout, the form every
// signer sends.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(TimestampLayout)
}

// ParseTimestamp parses a V1 Timestamp or a V3 x-acs-date value. It accepts
// YYYY-MM-DDThh:mm:ssZ and, because Alibaba accepts any ISO 8601 UTC form,
// the same with 1 to 9 fractional-second digits (YYYY-MM-DDThh:mm:ss.sssZ).
// Anything else — a numeric offset, a lower-case t or z, missing leading
// zeros, out-of-range fields — is rejected with an error wrapping
// ErrTimestampFormat (docs/wire.md, Timestamps and nonces).
//
// The shape is checked by hand first because time.Parse alone is lenient:
// it accepts a one-digit hour for layout "15".
func ParseTimestamp(s string) (time.Time, error) {
	if !timestampShape(s) {
		return time.Time{}, fmt.Errorf("%w: %q", ErrTimestampFormat, s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q", ErrTimestampFormat, s)
	}
	return t.UTC(), nil
}

// timestampShape reports whether s is DDDD-DD-DDTDD:DD:DD, optionally
// followed by '.' and 1-9 digits, and then 'Z'.
func timestampShape(s string) bool {
	const base = "0000-00-00T00:00:00"
	if len(s) < len(base)+1 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := 0; i < len(base); i++ {
		if base[i] == '0' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != base[i] {
			return false
		}
	}
	frac := s[len(base) : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}
