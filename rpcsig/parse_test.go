package rpcsig

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestParseAuthorization(t *testing.T) {
	const sig = "f9034b8c19da7a86843afa31459df8d2a3f9cc3994f61e559d2de31fb8d8845e"
	tests := []struct {
		name    string
		in      string
		want    Authorization
		wantErr error
	}{
		{
			name: "darabonba layout",
			in:   "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-date,Signature=" + sig,
			want: Authorization{AlgorithmACS3HMACSHA256, "testid", []string{"host", "x-acs-date"}, sig},
		},
		{
			name: "spaces after commas, any order",
			in:   "  ACS3-HMAC-SHA256   Signature=" + sig + ", Credential=STS.abc, SignedHeaders=host ",
			want: Authorization{AlgorithmACS3HMACSHA256, "STS.abc", []string{"host"}, sig},
		},
		{
			name: "SM3 parses so the caller can name it",
			in:   "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=ab",
			want: Authorization{AlgorithmACS3HMACSM3, "a", []string{"host"}, "ab"},
		},
		{
			name: "RSA parses so the caller can name it",
			in:   "ACS3-RSA-SHA256 Credential=a,SignedHeaders=host,Signature=ab",
			want: Authorization{AlgorithmACS3RSASHA256, "a", []string{"host"}, "ab"},
		},
		{name: "empty", in: "", wantErr: ErrMalformedAuthorization},
		{name: "other scheme", in: "Bearer abc", wantErr: ErrUnsupportedAlgorithm},
		{name: "unknown ACS3 variant", in: "ACS3-HMAC-MD5 Credential=a,SignedHeaders=host,Signature=ab", wantErr: ErrUnsupportedAlgorithm},
		{name: "algorithm only", in: "ACS3-HMAC-SHA256", wantErr: ErrMalformedAuthorization},
		{name: "missing signature", in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host", wantErr: ErrMalformedAuthorization},
		{name: "repeated field", in: "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=ab", wantErr: ErrMalformedAuthorization},
		{name: "unknown field", in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=ab,Extra=1", wantErr: ErrMalformedAuthorization},
		{name: "empty value", in: "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab", wantErr: ErrMalformedAuthorization},
		{name: "non-hex signature", in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=xyz", wantErr: ErrMalformedAuthorization},
		{name: "empty header name", in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;x,Signature=ab", wantErr: ErrMalformedAuthorization},
		{name: "space in credential", in: "ACS3-HMAC-SHA256 Credential=a b,SignedHeaders=host,Signature=ab", wantErr: ErrMalformedAuthorization},
		{name: "trailing comma", in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=ab,", wantErr: ErrMalformedAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Algorithm != tt.want.Algorithm || got.AccessKeyID != tt.want.AccessKeyID ||
				got.Signature != tt.want.Signature || !slices.Equal(got.SignedHeaders, tt.want.SignedHeaders) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVerifyV3Errors(t *testing.T) {
	body := []byte(`{"a":1}`)
	sign := func() (http.Header, Authorization) {
		req, _ := http.NewRequest("POST", "http://h.example/?A=1", nil)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-acs-action", "X")
		if err := SignV3(req, body, "ak", "sk", time.Unix(0, 0), "n"); err != nil {
			t.Fatal(err)
		}
		h := HeaderWithHost(req.Header, req.Host)
		a, err := ParseAuthorization(h.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		return h, a
	}
	q := url.Values{"A": {"1"}}
	tests := []struct {
		name    string
		mutate  func(h http.Header, a *Authorization) []byte
		wantErr error
	}{
		{"SM3 rejected", func(h http.Header, a *Authorization) []byte { a.Algorithm = AlgorithmACS3HMACSM3; return body }, ErrUnsupportedAlgorithm},
		{"RSA rejected", func(h http.Header, a *Authorization) []byte { a.Algorithm = AlgorithmACS3RSASHA256; return body }, ErrUnsupportedAlgorithm},
		{"x-acs header not signed", func(h http.Header, a *Authorization) []byte { h.Set("x-acs-extra", "1"); return body }, ErrIncompleteSignature},
		{"host not signed", func(h http.Header, a *Authorization) []byte {
			a.SignedHeaders = without(a.SignedHeaders, "host")
			return body
		}, ErrIncompleteSignature},
		{"content-type not signed", func(h http.Header, a *Authorization) []byte {
			a.SignedHeaders = without(a.SignedHeaders, "content-type")
			return body
		}, ErrIncompleteSignature},
		{"content hash missing", func(h http.Header, a *Authorization) []byte {
			h.Del(HeaderACSContentHash)
			return body
		}, ErrIncompleteSignature},
		{"content hash repeated", func(h http.Header, a *Authorization) []byte {
			h.Add(HeaderACSContentHash, HashPayload(body))
			return body
		}, ErrIncompleteSignature},
		{"body changed", func(h http.Header, a *Authorization) []byte { return []byte(`{"a":2}`) }, ErrPayloadHashMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, a := sign()
			b := tt.mutate(h, &a)
			_, ok, err := VerifyV3("POST", "/", q, h, b, a, "sk")
			if ok || !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyV3 = %v, %v; want false, %v", ok, err, tt.wantErr)
			}
		})
	}
	// Upper-case hex in x-acs-content-sha256 is the same digest.
	if err := VerifyPayload(http.Header{"X-Acs-Content-Sha256": {"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}, nil); err != nil {
		t.Errorf("VerifyPayload upper-case: %v", err)
	}
}

func without(s []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(s), func(x string) bool { return x == drop })
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 of the parsed time; empty means an error is expected
	}{
		{"2020-01-01T12:00:00Z", "2020-01-01T12:00:00Z"},
		{"2016-02-23T12:46:24Z", "2016-02-23T12:46:24Z"},
		{"2020-01-01T12:00:00.000Z", "2020-01-01T12:00:00Z"},
		{"2020-01-01T12:00:00.5Z", "2020-01-01T12:00:00.5Z"},
		{"2020-01-01T12:00:00.123456789Z", "2020-01-01T12:00:00.123456789Z"},
		{"2020-02-29T23:59:59Z", "2020-02-29T23:59:59Z"},
		{"", ""},
		{"2020-01-01T12:00:00", ""},
		{"2020-01-01T12:00:00z", ""},
		{"2020-01-01t12:00:00Z", ""},
		{"2020-01-01 12:00:00Z", ""},
		{"2020-01-01T12:00:00+00:00", ""},
		{"2020-01-01T12:00:00+08:00", ""},
		{"2020-01-01T2:00:00Z", ""},
		{"2020-1-01T12:00:00Z", ""},
		{"2020-01-01T12:00:00.Z", ""},
		{"2020-01-01T12:00:00.1234567890Z", ""},
		{"2020-01-01T12:00:00,000Z", ""},
		{"2020-13-01T12:00:00Z", ""},
		{"2019-02-29T12:00:00Z", ""},
		{"2020-01-01T24:00:00Z", ""},
		{"2020-01-01T12:00:60Z", ""},
		{"Wed, 01 Jan 2020 12:00:00 GMT", ""},
		{"1577880000", ""},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrTimestampFormat) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want ErrTimestampFormat", tt.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", tt.in, err)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != tt.want || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %s (%v), want %s UTC", tt.in, s, got.Location(), tt.want)
		}
	}
	// FormatTimestamp and ParseTimestamp agree, whatever the input zone.
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 8*3600))
	s := FormatTimestamp(now)
	if s != "2024-05-05T23:08:09Z" {
		t.Errorf("FormatTimestamp = %s", s)
	}
	if back, err := ParseTimestamp(s); err != nil || !back.Equal(now) {
		t.Errorf("round trip = %v, %v", back, err)
	}
}
