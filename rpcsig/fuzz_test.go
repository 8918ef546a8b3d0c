package rpcsig

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func FuzzVerifyV1(f *testing.F) {
	f.Add("POST", "AccessKeyId=testid&Action=UpgradeInstanceVersion&SignatureType=&Signature=abc", "testsecret")
	f.Add("GET", "a=1&a=2&b&c=%2A+%7E&Signature=x&Signature=y", "")
	f.Add("", "%zz=1&x=%", "s")
	f.Add("GET", "Tag.1.Value=v+w&%C3%A9=%FF", "&")
	f.Fuzz(func(t *testing.T, method, rawQuery, secret string) {
		// ParseQuery keeps what it could parse alongside an error; a server
		// may still verify that, so the error is not a reason to stop here.
		params, _ := url.ParseQuery(rawQuery)
		VerifyV1(method, params, secret) // must not panic

		// Sign the fuzzed params, then verify.
		p := cloneValues(params)
		sts := V1StringToSign(method, p)
		p.Set("Signature", V1Sign(secret, sts))
		got, ok := VerifyV1(method, p, secret)
		if !ok || got != sts {
			t.Fatalf("sign-then-verify failed: ok=%v\nsts %q\ngot %q", ok, sts, got)
		}
		// Through the wire encoding as well.
		wire, err := url.ParseQuery(p.Encode())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if _, ok := VerifyV1(method, wire, secret); !ok {
			t.Fatal("sign-then-verify failed after url encoding")
		}
		// SignV1 round trip.
		q := cloneValues(params)
		SignV1(method, q, "ak", secret, time.Unix(1700000000, 0), rawQuery)
		if _, ok := VerifyV1(method, q, secret); !ok {
			t.Fatal("SignV1 then VerifyV1 failed")
		}
		// With one value per key, the string to sign equals the SDK model.
		single := map[string]string{}
		for k, vs := range params {
			if len(vs) != 1 {
				return
			}
			single[k] = vs[0]
		}
		if want := sdkV1StringToSign(method, single); sts != want {
			t.Fatalf("differs from SDK model:\n got %q\nwant %q", sts, want)
		}
	})
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=f9034b8c19da7a86843afa31459df8d2a3f9cc3994f61e559d2de31fb8d8845e")
	f.Add("ACS3-HMAC-SM3 Credential=a, SignedHeaders=host, Signature=AB")
	f.Add("ACS3-RSA-SHA256  Signature=00,Credential=STS.x=y,SignedHeaders=Host")
	f.Add("Bearer x")
	f.Add("ACS3-HMAC-SHA256 Credential=a,,Signature=1")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		switch a.Algorithm {
		case AlgorithmACS3HMACSHA256, AlgorithmACS3HMACSM3, AlgorithmACS3RSASHA256:
		default:
			t.Fatalf("accepted algorithm %q", a.Algorithm)
		}
		if a.AccessKeyID == "" || a.Signature == "" || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted empty field: %+v", a)
		}
		// Rendering and re-parsing is the identity.
		b, err := ParseAuthorization(a.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", a.String(), err)
		}
		if a.Algorithm != b.Algorithm || a.AccessKeyID != b.AccessKeyID || a.Signature != b.Signature ||
			!slices.Equal(a.SignedHeaders, b.SignedHeaders) {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}

func FuzzVerifyV3(f *testing.F) {
	f.Add("POST", "/", "InstanceId=alikafka_post-cn-v0h1fgs2%2A%2A%2A%2A&RegionId=cn-hangzhou",
		"Host: alikafka.cn-hangzhou.aliyuncs.com\nx-acs-action: UpgradeInstanceVersion\nContent-Type: application/json",
		[]byte(`{"a":1}`), "testsecret",
		"ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host,Signature=00")
	f.Add("", "/a b/é", "k&k=&k=v", "X-Acs-A: 1\nx-acs-a:  2 \nHOST:h", []byte{}, "", "")
	f.Add("GET", "", "%zz", "x-acs-content-sha256: nope", []byte{0xff}, "&", "ACS3-HMAC-SM3 Credential=a,SignedHeaders=x,Signature=ab")
	f.Fuzz(func(t *testing.T, method, path, rawQuery, headerLines string, body []byte, secret, authHeader string) {
		query, _ := url.ParseQuery(rawQuery)
		headers := http.Header{}
		host := ""
		for line := range strings.Lines(headerLines) {
			name, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
			name = strings.TrimSpace(name)
			// A server only ever sees token header names.
			if !ok || !isToken(name) || strings.EqualFold(name, "authorization") {
				continue
			}
			if strings.EqualFold(name, "host") {
				host = value
				continue
			}
			headers.Add(name, value)
		}

		// Arbitrary Authorization against arbitrary request: no panic.
		if a, err := ParseAuthorization(authHeader); err == nil {
			VerifyV3(method, path, query, HeaderWithHost(headers, host), body, a, secret)
		}
		VerifyV3(method, path, query, headers, body, Authorization{Algorithm: AlgorithmACS3HMACSHA256}, secret)

		// Sign, then verify as a server would.
		req := &http.Request{
			Method: method,
			URL:    &url.URL{Path: path, RawQuery: query.Encode()},
			Host:   host,
			Header: headers.Clone(),
		}
		if err := SignV3(req, body, "ak", secret, time.Unix(1700000000, 0), "nonce"); err != nil {
			t.Fatalf("SignV3: %v", err)
		}
		srvMethod := req.Method
		if srvMethod == "" {
			srvMethod = http.MethodGet
		}
		srvQuery, err := url.ParseQuery(req.URL.RawQuery)
		if err != nil {
			t.Fatalf("server query: %v", err)
		}
		srvHeaders := HeaderWithHost(req.Header, req.Host)
		auth, err := ParseAuthorization(srvHeaders.Get("Authorization"))
		if err != nil {
			t.Fatalf("ParseAuthorization(%q): %v", srvHeaders.Get("Authorization"), err)
		}
		if _, ok, err := VerifyV3(srvMethod, req.URL.Path, srvQuery, srvHeaders, body, auth, secret); !ok || err != nil {
			t.Fatalf("sign-then-verify: ok=%v err=%v", ok, err)
		}
		// The body is bound: any change is rejected.
		if len(body) > 0 {
			tampered := bytes.Clone(body)
			tampered[len(tampered)/2] ^= 0x01
			if _, ok, _ := VerifyV3(srvMethod, req.URL.Path, srvQuery, srvHeaders, tampered, auth, secret); ok {
				t.Fatal("tampered body verified")
			}
		}
	})
}
