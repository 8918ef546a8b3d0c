package rpcsig

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// v1Request returns parameters signed by SignV1 as the CLI would send them,
// with the awkward cases: an empty value, spaces, '*', '+', '/', non-ASCII.
func v1Request() url.Values {
	p := url.Values{
		"Action":        {"UpgradeInstanceVersion"},
		"Version":       {"2019-09-16"},
		"Format":        {"JSON"},
		"RegionId":      {"cn-hangzhou"},
		"InstanceId":    {"alikafka_post-cn-v0h1fgs2****"},
		"TargetVersion": {"2.2.0"},
		"SignatureType": {""},
		"Tag.1.Key":     {"team"},
		"Tag.1.Value":   {"a b*c~d+e/é"},
	}
	SignV1("POST", p, "testid", "testsecret", testNow, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf")
	return p
}

func TestSignV1RoundTrip(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		p := url.Values{"Action": {"GetInstanceList"}, "RegionId": {"cn-hangzhou"}}
		sig := SignV1(method, p, "ak", "sk", testNow.In(time.FixedZone("Y", -5*3600)), "nonce-1")
		checks := map[string]string{
			"AccessKeyId": "ak", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
			"SignatureNonce": "nonce-1", "Timestamp": "2026-03-04T05:06:07Z", "Signature": sig,
		}
		for k, want := range checks {
			if got := p[k]; len(got) != 1 || got[0] != want {
				t.Errorf("%s: %s = %q, want %q", method, k, got, want)
			}
		}
		// Through the wire: encode as the CLI does, decode as the server does.
		wire, err := url.ParseQuery(p.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := VerifyV1(method, wire, "sk"); !ok {
			t.Errorf("%s: VerifyV1 rejected a SignV1 request", method)
		}
		other := "POST"
		if method == "POST" {
			other = "GET"
		}
		if _, ok := VerifyV1(other, wire, "sk"); ok {
			t.Errorf("%s: signature also valid for %s", method, other)
		}
		// Re-signing replaces the old signature instead of signing it.
		SignV1(method, p, "ak", "sk", testNow, "nonce-2")
		if _, ok := VerifyV1(method, p, "sk"); !ok {
			t.Errorf("%s: re-signed request rejected", method)
		}
	}
	p := v1Request()
	p.Add("Signature", p.Get("Signature"))
	if _, ok := VerifyV1("POST", p, "testsecret"); ok {
		t.Error("VerifyV1 accepted a repeated Signature")
	}
	p.Del("Signature")
	if _, ok := VerifyV1("POST", p, "testsecret"); ok {
		t.Error("VerifyV1 accepted a missing Signature")
	}
}

// v3Request returns a request signed by SignV3 with a JSON body, as the
// server would see it: headers including Host, decoded query, the body.
func v3Request(t testing.TB) (method, path string, query url.Values, headers http.Header, body []byte) {
	body = []byte(`{"InstanceId":"alikafka_post-cn-v0h1fgs2****","TargetVersion":"2.2.0"}`)
	query = url.Values{
		"InstanceId":  {"alikafka_post-cn-v0h1fgs2****"},
		"RegionId":    {"cn-hangzhou"},
		"Tag.1.Value": {"a b*c~d+e/é"},
		"Empty":       {""},
	}
	req, err := http.NewRequest("POST", "https://alikafka.cn-hangzhou.aliyuncs.com/?"+query.Encode(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-acs-action", "UpgradeInstanceVersion")
	req.Header.Set("x-acs-version", "2019-09-16")
	req.Header.Set("User-Agent", "kafkaplane-cli")
	if err := SignV3(req, body, "testid", "testsecret", testNow, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"); err != nil {
		t.Fatal(err)
	}
	// What a Go server hands over: Host out of the header map, query parsed.
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	return req.Method, req.URL.Path, q, HeaderWithHost(req.Header, req.Host), body
}

func TestSignV3RoundTrip(t *testing.T) {
	method, path, query, headers, body := v3Request(t)
	for name, want := range map[string]string{
		"X-Acs-Date":            "2026-03-04T05:06:07Z",
		"X-Acs-Signature-Nonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"X-Acs-Content-Sha256":  HashPayload(body),
	} {
		if got := headers.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	auth, err := ParseAuthorization(headers.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := auth.String(), headers.Get("Authorization"); got != want {
		t.Errorf("Authorization.String() = %q, want %q", got, want)
	}
	wantSigned := []string{"content-type", "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	if got := auth.SignedHeaders; len(got) != len(wantSigned) {
		t.Errorf("SignedHeaders = %v, want %v", got, wantSigned)
	} else {
		for i := range got {
			if got[i] != wantSigned[i] {
				t.Errorf("SignedHeaders = %v, want %v", got, wantSigned)
				break
			}
		}
	}
	if auth.AccessKeyID != "testid" {
		t.Errorf("AccessKeyID = %q", auth.AccessKeyID)
	}
	if _, ok, err := VerifyV3(method, path, query, headers, body, auth, "testsecret"); !ok || err != nil {
		t.Errorf("VerifyV3 = %v, %v", ok, err)
	}
	// Headers outside the signed set may change freely.
	headers.Set("User-Agent", "something else")
	if _, ok, err := VerifyV3(method, path, query, headers, body, auth, "testsecret"); !ok || err != nil {
		t.Errorf("VerifyV3 after an unsigned header changed = %v, %v", ok, err)
	}
	if _, ok, _ := VerifyV3("GET", path, query, headers, body, auth, "testsecret"); ok {
		t.Error("signature also valid for another method")
	}
	if _, ok, _ := VerifyV3(method, "/other", query, headers, body, auth, "testsecret"); ok {
		t.Error("signature also valid for another path")
	}
}
