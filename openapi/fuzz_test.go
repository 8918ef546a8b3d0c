package openapi

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// FuzzServeHTTP sends arbitrary requests through the whole pipeline: any
// query, body, content type and Authorization header. The server must never
// panic, never answer 5xx, and every error must carry a string Code in a
// body the official SDKs can parse.
func FuzzServeHTTP(f *testing.F) {
	f.Add("GET", "Action=GetInstanceList&Version=2019-09-16&Format=JSON", "", "", "")
	f.Add("POST", "", "Action=UpgradeInstanceVersion&Version=2019-09-16&Tag.1.Key=a&InstanceId.1=x", "application/x-www-form-urlencoded", "")
	f.Add("POST", "RegionId=cn-hangzhou", "", "", "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host,Signature=00")
	f.Add("PUT", "Format=XML&Action=x", "%zz", "application/x-www-form-urlencoded", "ACS3-HMAC-SM3 x")
	f.Add("GET", "Format=XML&Action=GetInstanceList&Version=2019-09-16&AccessKeyId=testid&Signature=x&SignatureMethod=HMAC-SHA1&SignatureNonce=1&Timestamp=2026-11-25T12:00:00Z&SignatureVersion=1.0", "", "", "")
	db := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, rawQuery, body, contentType, authorization string) {
		req := &http.Request{
			Method: method,
			URL:    &url.URL{Path: "/", RawQuery: rawQuery},
			Header: http.Header{},
			Body:   io.NopCloser(strings.NewReader(body)),
			Host:   "alikafka.cn-hangzhou.aliyuncs.com",
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
			req.Header.Set("x-acs-action", "GetInstanceList")
			req.Header.Set("x-acs-version", "2019-09-16")
		}
		checkAnswer(t, db, req)
	})
}

// FuzzSignedParams signs requests carrying arbitrary parameters with the
// right key, so the fuzzer reaches parameter validation and the handlers.
func FuzzSignedParams(f *testing.F) {
	f.Add("UpgradeInstanceVersion", "InstanceId", "alikafka_post-cn-v0h1fgs2json", "TargetVersion", "2.2.0")
	f.Add("GetInstanceList", "Tag.1.Key", "env", "InstanceId.3", "x")
	f.Add("CreatePostPayOrder", "DiskSize", "-1", "DeployType", "5")
	f.Add("UpdateInstanceConfig", "Config", `{"kafka.log.retention.hours":"1"}`, "InstanceId", "alikafka_post-cn-v0h1fgs2json")
	db := fuzzServer(f)
	var n int
	f.Fuzz(func(t *testing.T, action, k1, v1, k2, v2 string) {
		n++
		p := url.Values{"Action": {action}, "Version": {"2019-09-16"}, "Format": {"JSON"}, "RegionId": {"cn-hangzhou"}}
		p.Add(k1, v1)
		p.Add(k2, v2)
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		rpcsig.SignV1("POST", p, "testid", "testsecret", now, "fuzz-"+time.Now().Format(time.RFC3339Nano)+"-"+string(rune('a'+n%26)))
		req := &http.Request{Method: "POST", URL: &url.URL{Path: "/", RawQuery: p.Encode()}, Header: http.Header{}, Body: http.NoBody, Host: "h"}
		checkAnswer(t, db, req)
	})
}

func fuzzServer(f *testing.F) http.Handler {
	srv, _ := goldenServerFor(f)
	return srv
}

func checkAnswer(t *testing.T, h http.Handler, req *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code >= 500 {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
	}
	if w.Code == 200 {
		return
	}
	var code string
	if strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") {
		var e struct {
			XMLName xml.Name `xml:"Error"`
			Code    string   `xml:"Code"`
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Fatalf("XML error body %q: %v", w.Body.String(), err)
		}
		code = e.Code
	} else {
		var e map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Fatalf("JSON error body %q: %v", w.Body.String(), err)
		}
		s, ok := e["Code"].(string)
		if !ok {
			t.Fatalf("error Code is not a string: %s", w.Body.String())
		}
		code = s
	}
	if code == "" || w.Header().Get("x-acs-request-id") == "" {
		t.Fatalf("HTTP %d without code or request id: %s", w.Code, w.Body.String())
	}
}
