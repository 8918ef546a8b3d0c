package openapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// lockedBuffer collects log output across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// FuzzPipeline sends correctly signed requests built from fuzzed parameter
// sets through the whole pipeline, throttling off: any registered action,
// V1 or V3, GET or POST, each parameter in the query or the body, names
// repeated, values grown large. Every answer must be a well-formed
// envelope: a JSON or XML body that parses, a RequestId matching the
// x-acs-request-id header, HTTP 200 only for a success (with Code 200 where
// the product answers with one), a string Code on every error, no 5xx but
// InternalError, and no panic behind an InternalError.
func FuzzPipeline(f *testing.F) {
	srv, db := goldenServerFor(f)
	// Beyond the golden server's actions: RAM.
	(&RAM{Identities: db}).Register(srv.Registry())
	logs := &lockedBuffer{}
	srv.cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	actions := srv.Registry().Actions()
	idx := func(name string) uint8 {
		for i, a := range actions {
			if a.Name == name {
				return uint8(i)
			}
		}
		f.Fatalf("no action %s", name)
		return 0
	}
	const inst = "InstanceId=alikafka_post-cn-v0h1fgs2json"
	f.Add(idx("UpgradeInstanceVersion"), uint8(0), inst+"&TargetVersion=2.2.0", uint16(0), uint8(0))
	f.Add(idx("GetTopicList"), uint8(1), "CurrentPage=9223372036854775807&PageSize=10000&"+inst, uint16(0), uint8(2))
	f.Add(idx("GetConsumerList"), uint8(2), "CurrentPage=4611686018427387904&PageSize=3&"+inst, uint16(0), uint8(2))
	f.Add(idx("CreatePostPayOrder"), uint8(0x12), "DeployType=5&DiskType=1&IoMaxSpec=alikafka.hw.2xlarge&DiskSize=500&DiskSize=100", uint16(0), uint8(0x10))
	f.Add(idx("CreateTopic"), uint8(0x05), inst+"&Topic=t1&Remark=r&Tag.1.Key=a&Tag.1.Value=b&Tag.21.Key=c", uint16(4000), uint8(0xff))
	f.Add(idx("ListUsers"), uint8(0x08), "MaxItems=0&Marker=%ff", uint16(0), uint8(0))
	f.Add(idx("CreateUser"), uint8(0x01), "UserName=alice&DisplayName=", uint16(65000), uint8(0x55))
	f.Add(idx("UpdateInstanceConfig"), uint8(0x1f), inst+"&Config={\"a\":1}", uint16(0), uint8(0x03))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var n int
	f.Fuzz(func(t *testing.T, actionIdx, flags uint8, rawParams string, grow uint16, placement uint8) {
		n++
		a := actions[int(actionIdx)%len(actions)]
		v3 := flags&1 != 0
		get := flags&0x08 != 0
		type pair struct{ k, v string }
		var pairs []pair
		for _, kv := range strings.Split(rawParams, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			}
			pairs = append(pairs, pair{k, v})
		}
		if grow > 0 && len(pairs) > 0 {
			pairs[len(pairs)-1].v += strings.Repeat("x", int(grow))
		}
		if flags&0x10 == 0 {
			pairs = append(pairs, pair{"RegionId", "cn-hangzhou"})
		}
		query, body := url.Values{}, url.Values{}
		if !v3 {
			query.Set("Action", a.Name)
			query.Set("Version", a.Version)
		}
		switch flags >> 1 & 3 {
		case 0:
			query.Set("Format", "JSON")
		case 1:
			query.Set("Format", "XML")
		case 2:
			query.Set("Format", "yaml")
		}
		for i, p := range pairs {
			if !get && placement>>(i%8)&1 != 0 {
				body.Add(p.k, p.v)
			} else {
				query.Add(p.k, p.v)
			}
		}
		method := "POST"
		if get {
			method = "GET"
		}
		nonce := fmt.Sprintf("pipeline-%d-%d", time.Now().UnixNano(), n)
		var req *http.Request
		if v3 {
			rawBody := []byte(body.Encode())
			req = httptest.NewRequest(method, "/?"+query.Encode(), bytes.NewReader(rawBody))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("x-acs-action", a.Name)
			req.Header.Set("x-acs-version", a.Version)
			if err := rpcsig.SignV3(req, rawBody, "testid", "testsecret", now, nonce); err != nil {
				t.Skip(err)
			}
		} else {
			all := url.Values{}
			for _, vs := range []url.Values{query, body} {
				for k, v := range vs {
					all[k] = append(all[k], v...)
				}
			}
			rpcsig.SignV1(method, all, "testid", "testsecret", now, nonce)
			for _, k := range []string{"AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Signature"} {
				query[k] = all[k]
			}
			req = httptest.NewRequest(method, "/?"+query.Encode(), strings.NewReader(body.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		checkEnvelope(t, a, w)
		if l := logs.take(); strings.Contains(l, "panic:") {
			t.Fatalf("%s: a panic was answered as InternalError:\n%s", a.Name, l)
		}
	})
}

// checkEnvelope asserts that an answer is one the official SDKs can read.
func checkEnvelope(t *testing.T, a *Action, w *httptest.ResponseRecorder) {
	t.Helper()
	raw := w.Body.Bytes()
	var requestID, code string
	var numericCode bool
	if strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") {
		d := xml.NewDecoder(bytes.NewReader(raw))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("HTTP %d, XML body %q: %v", w.Code, raw, err)
			}
		}
		var x struct {
			XMLName   xml.Name
			RequestID string `xml:"RequestId"`
			Code      string `xml:"Code"`
		}
		if err := xml.Unmarshal(raw, &x); err != nil {
			t.Fatalf("HTTP %d, XML body %q: %v", w.Code, raw, err)
		}
		requestID, code = x.RequestID, x.Code
		numericCode = code == "200"
		if w.Code != 200 && x.XMLName.Local != "Error" {
			t.Fatalf("HTTP %d with root <%s>: %s", w.Code, x.XMLName.Local, raw)
		}
	} else {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("HTTP %d, JSON body %q: %v", w.Code, raw, err)
		}
		requestID, _ = m["RequestId"].(string)
		switch c := m["Code"].(type) {
		case string:
			code = c
		case float64:
			code, numericCode = fmt.Sprint(c), true
		case nil:
		default:
			t.Fatalf("Code of type %T: %s", c, raw)
		}
	}
	if requestID == "" || requestID != w.Header().Get("x-acs-request-id") {
		t.Fatalf("HTTP %d: RequestId %q, header %q: %s", w.Code, requestID, w.Header().Get("x-acs-request-id"), raw)
	}
	switch {
	case w.Code == 200:
		if a.Envelope && (code != "200" || !numericCode) {
			t.Fatalf("HTTP 200 with Code %q: %s", code, raw)
		}
		if !a.Envelope && code != "" {
			t.Fatalf("HTTP 200 with Code %q on a product without one: %s", code, raw)
		}
	case w.Code >= 500:
		if code != "InternalError" {
			t.Fatalf("HTTP %d with Code %q: %s", w.Code, code, raw)
		}
	case w.Code >= 400:
		if code == "" || numericCode && code == "200" {
			t.Fatalf("HTTP %d with Code %q: %s", w.Code, code, raw)
		}
	default:
		t.Fatalf("HTTP %d: %s", w.Code, raw)
	}
}
