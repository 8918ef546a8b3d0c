package rpcsig

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// vectorBParams are the parameters of the worked example (docs/wire.md, Worked example: V1).
func vectorBParams() url.Values {
	return url.Values{
		"AccessKeyId":      {"testid"},
		"Action":           {"UpgradeInstanceVersion"},
		"Format":           {"JSON"},
		"InstanceId":       {"alikafka_post-cn-v0h1fgs2****"},
		"RegionId":         {"cn-hangzhou"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"},
		"TargetVersion":    {"2.2.0"},
		"Timestamp":        {"2020-01-01T12:00:00Z"},
		"Version":          {"2019-09-16"},
	}
}

func TestPercentEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"a b*c~d+e/é", "a%20b%2Ac~d%2Be%2F%C3%A9"}, // docs/wire.md, Percent-encoding
		{"=&%", "%3D%26%25"},
		{"\x00\xff", "%00%FF"},
		{"2020-01-01T12:00:00Z", "2020-01-01T12%3A00%3A00Z"},
	}
	for _, tt := range tests {
		if got := PercentEncode(tt.in); got != tt.want {
			t.Errorf("PercentEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestV1Vectors(t *testing.T) {
	vectorA := url.Values{
		"AccessKeyId":      {"testid"},
		"Action":           {"DescribeRegions"},
		"Format":           {"XML"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {"2016-02-23T12:46:24Z"},
		"Version":          {"2014-05-26"},
	}
	withType := vectorBParams()
	withType.Set("SignatureType", "")
	// GetInstanceList values quoted in docs/wire.md, Worked example: V1.
	getInstanceList := url.Values{}
	for k, v := range vectorA {
		getInstanceList[k] = v
	}
	getInstanceList.Set("Action", "GetInstanceList")

	tests := []struct {
		name      string
		method    string
		params    url.Values
		canonical string // checked when non-empty
		sts       string // checked when non-empty
		want      string
	}{
		{name: "A DescribeRegions GET", method: "GET", params: vectorA, want: "OLeaidS1JvxuMvnyHOwuJ+uX5qY="},
		{name: "A GetInstanceList GET", method: "GET", params: getInstanceList, want: "VTHHNd4R9cDs0zMvjrUEaOXwcL0="},
		{name: "A GetInstanceList POST", method: "POST", params: getInstanceList, want: "5YSSssLAsjKVdv1z0eV3A2a8zaY="},
		{
			name:      "B UpgradeInstanceVersion POST",
			method:    "POST",
			params:    vectorBParams(),
			canonical: "AccessKeyId=testid&Action=UpgradeInstanceVersion&Format=JSON&InstanceId=alikafka_post-cn-v0h1fgs2%2A%2A%2A%2A&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&TargetVersion=2.2.0&Timestamp=2020-01-01T12%3A00%3A00Z&Version=2019-09-16",
			sts:       "POST&%2F&AccessKeyId%3Dtestid%26Action%3DUpgradeInstanceVersion%26Format%3DJSON%26InstanceId%3Dalikafka_post-cn-v0h1fgs2%252A%252A%252A%252A%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26TargetVersion%3D2.2.0%26Timestamp%3D2020-01-01T12%253A00%253A00Z%26Version%3D2019-09-16",
			want:      "Fr0pw4RhyGB5F9lag2zyn9YVbfw=",
		},
		{
			name:   "B with empty SignatureType",
			method: "POST",
			params: withType,
			sts:    "POST&%2F&AccessKeyId%3Dtestid%26Action%3DUpgradeInstanceVersion%26Format%3DJSON%26InstanceId%3Dalikafka_post-cn-v0h1fgs2%252A%252A%252A%252A%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureType%3D%26SignatureVersion%3D1.0%26TargetVersion%3D2.2.0%26Timestamp%3D2020-01-01T12%253A00%253A00Z%26Version%3D2019-09-16",
			want:   "ecrsYoufkybToGu8oj+76f+oAsE=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.canonical != "" {
				if got := V1CanonicalizedQueryString(tt.params); got != tt.canonical {
					t.Errorf("canonical:\n got %s\nwant %s", got, tt.canonical)
				}
			}
			sts := V1StringToSign(tt.method, tt.params)
			if tt.sts != "" && sts != tt.sts {
				t.Errorf("string to sign:\n got %s\nwant %s", sts, tt.sts)
			}
			if got := V1Sign("testsecret", sts); got != tt.want {
				t.Errorf("signature = %s, want %s", got, tt.want)
			}
			// The same params with the published Signature verify, and a
			// Signature parameter never enters the string to sign.
			p := cloneValues(tt.params)
			p.Set("Signature", tt.want)
			gotSTS, ok := VerifyV1(tt.method, p, "testsecret")
			if !ok || gotSTS != sts {
				t.Errorf("VerifyV1 = %q, %v; want %q, true", gotSTS, ok, sts)
			}
			if _, ok := VerifyV1(tt.method, p, "othersecret"); ok {
				t.Error("VerifyV1 accepted a wrong secret")
			}
		})
	}
}

func TestV1Canonicalisation(t *testing.T) {
	tests := []struct {
		name   string
		params url.Values
		want   string
	}{
		{"empty", url.Values{}, ""},
		{"signature excluded", url.Values{"Signature": {"x"}, "A": {"1"}}, "A=1"},
		{"empty value kept", url.Values{"SignatureType": {""}, "A": {"1"}}, "A=1&SignatureType="},
		{"key without values dropped", url.Values{"A": {}, "B": {"2"}}, "B=2"},
		{"repeated values sorted", url.Values{"K": {"b", "a", ""}}, "K=&K=a&K=b"},
		{"space and star", url.Values{"Tag.1.Value": {"v w*"}}, "Tag.1.Value=v%20w%2A"},
		{"key encoded", url.Values{"a b": {"1"}}, "a%20b=1"},
		// Keys sort by decoded bytes, as url.Values.Encode in both SDKs:
		// '~' (0x7E) sorts before 0xC3 although "%C3" sorts before "~".
		{"raw key order", url.Values{"x\u00e9": {"2"}, "x~": {"1"}}, "x~=1&x%C3%A9=2"},
		{"case sensitive order", url.Values{"a": {"1"}, "B": {"2"}}, "B=2&a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := V1CanonicalizedQueryString(tt.params); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// Value order must not change the signature.
	a := V1StringToSign("POST", url.Values{"K": {"1", "2"}})
	b := V1StringToSign("POST", url.Values{"K": {"2", "1"}})
	if a != b {
		t.Errorf("repeated-value order changed the string to sign: %q vs %q", a, b)
	}
}

// sdkV1StringToSign models the SDKs' V1 algorithm (url.Values.Encode, then
// "+"→"%20", "*"→"%2A", "%7E"→"~", then url.QueryEscape of the whole)
// so that tests can compare against it; it only sees one value per key,
// like the SDKs' map[string]string.
func sdkV1StringToSign(method string, params map[string]string) string {
	v := url.Values{}
	for k, val := range params {
		if k != "Signature" {
			v.Set(k, val)
		}
	}
	s := v.Encode()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	return method + "&%2F&" + url.QueryEscape(s)
}

func TestV1MatchesSDKModel(t *testing.T) {
	params := map[string]string{
		"Action": "TagResources", "Tag.1.Key": "team a*", "Tag.1.Value": "v+w/é~",
		"SignatureType": "", "x~": "1", "x\u00e9": "2", "Zeta": "!'()", "_u": "`",
	}
	v := url.Values{}
	for k, val := range params {
		v.Set(k, val)
	}
	for _, m := range []string{"GET", "POST"} {
		if got, want := V1StringToSign(m, v), sdkV1StringToSign(m, params); got != want {
			t.Errorf("%s:\n got %s\nwant %s", m, got, want)
		}
	}
}

func TestV3VectorC(t *testing.T) {
	const (
		wantCR = "POST\n/\n" +
			"InstanceId=alikafka_post-cn-v0h1fgs2%2A%2A%2A%2A&RegionId=cn-hangzhou&TargetVersion=2.2.0\n" +
			"host:alikafka.cn-hangzhou.aliyuncs.com\n" +
			"x-acs-action:UpgradeInstanceVersion\n" +
			"x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
			"x-acs-date:2020-01-01T12:00:00Z\n" +
			"x-acs-signature-nonce:3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\n" +
			"x-acs-version:2019-09-16\n" +
			"\n" +
			"host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		wantHash = "7309f8eaaf96ff449c8ea2eb647cb70b11fa0dd84d94cd0815551c698450bb30"
		wantSig  = "f9034b8c19da7a86843afa31459df8d2a3f9cc3994f61e559d2de31fb8d8845e"
		wantAuth = "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + wantSig
	)
	query := url.Values{
		"InstanceId":    {"alikafka_post-cn-v0h1fgs2****"},
		"RegionId":      {"cn-hangzhou"},
		"TargetVersion": {"2.2.0"},
	}
	if got := HashPayload(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("HashPayload(nil) = %s", got)
	}

	// Client side: SignV3 must reproduce the published Authorization.
	req, err := http.NewRequest("POST", "http://alikafka.cn-hangzhou.aliyuncs.com/?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-acs-action", "UpgradeInstanceVersion")
	req.Header.Set("x-acs-version", "2019-09-16")
	now := mustTime(t, "2020-01-01T12:00:00Z")
	if err := SignV3(req, nil, "testid", "testsecret", now, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization:\n got %s\nwant %s", got, wantAuth)
	}

	// Server side: the same request as net/http would hand it over.
	headers := HeaderWithHost(req.Header, req.Host)
	auth, err := ParseAuthorization(headers.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	cr := V3CanonicalRequest("POST", "/", query, headers, auth.SignedHeaders, HashPayload(nil))
	if cr != wantCR {
		t.Errorf("canonical request:\n got %q\nwant %q", cr, wantCR)
	}
	sts := V3StringToSign(cr)
	if sts != "ACS3-HMAC-SHA256\n"+wantHash {
		t.Errorf("string to sign = %q", sts)
	}
	if got := V3Sign("testsecret", sts); got != wantSig {
		t.Errorf("signature = %s, want %s", got, wantSig)
	}
	gotSTS, ok, err := VerifyV3("POST", "/", query, headers, nil, auth, "testsecret")
	if err != nil || !ok || gotSTS != sts {
		t.Errorf("VerifyV3 = %q, %v, %v", gotSTS, ok, err)
	}
	if _, ok, err := VerifyV3("POST", "/", query, headers, nil, auth, "wrong"); ok || err != nil {
		t.Errorf("VerifyV3 with a wrong secret = %v, %v; want false, nil", ok, err)
	}
}

func TestV3Canonicalisation(t *testing.T) {
	h := http.Header{}
	h.Set("Host", "example.com")
	h.Add("X-Acs-Multi", " b ")
	h.Add("X-Acs-Multi", "a")
	h["x-acs-raw"] = []string{"\tr "} // non-canonical key still found
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "not signed")

	names := V3SignedHeaderNames(h)
	if got := strings.Join(names, ";"); got != "content-type;host;x-acs-multi;x-acs-raw" {
		t.Errorf("V3SignedHeaderNames = %s", got)
	}
	cr := V3CanonicalRequest("PUT", "/a b/c*d~", url.Values{"k": {""}, "e": {"x y"}}, h,
		[]string{"X-Acs-Raw", "host", "x-acs-multi", "content-type", "host", "x-acs-absent"}, "HP")
	want := "PUT\n/a%20b/c%2Ad~\ne=x%20y&k=\n" +
		"content-type:application/json\nhost:example.com\nx-acs-absent:\nx-acs-multi:a,b\nx-acs-raw:r\n\n" +
		"content-type;host;x-acs-absent;x-acs-multi;x-acs-raw\nHP"
	if cr != want {
		t.Errorf("canonical request:\n got %q\nwant %q", cr, want)
	}
	for _, tt := range []struct{ in, want string }{{"", "/"}, {"/", "/"}, {"/x/", "/x/"}, {"/é", "/%C3%A9"}} {
		if got := V3CanonicalURI(tt.in); got != tt.want {
			t.Errorf("V3CanonicalURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}
