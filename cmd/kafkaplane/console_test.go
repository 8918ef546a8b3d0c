package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/console"
)

// consoleClient is a browser's view of the console over real HTTP: a
// cookie jar and the CSRF token the page keeps.
type consoleClient struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
}

func newConsoleClient(t testing.TB, addr string) *consoleClient {
	jar, _ := cookiejar.New(nil)
	return &consoleClient{t: t, base: "http://" + addr, http: &http.Client{Jar: jar}}
}

// post sends a JSON body the way the console's page does; with noCSRF the
// token header is left out.
func (c *consoleClient) post(path string, body any, noCSRF bool, hdr map[string]string) (int, map[string]any, *http.Response) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	if !noCSRF && c.csrf != "" {
		req.Header.Set(console.CSRFHeader, c.csrf)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

func (c *consoleClient) get(path string) (int, map[string]any, *http.Response) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

func (c *consoleClient) do(req *http.Request) (int, map[string]any, *http.Response) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: HTTP %d, not JSON: %q", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out, resp
}

func (c *consoleClient) signIn(id, secret string) (int, map[string]any) {
	c.t.Helper()
	status, body, _ := c.post("/console/api/signin", map[string]string{"AccessKeyId": id, "AccessKeySecret": secret}, true, nil)
	if status == 200 {
		c.csrf, _ = body["CSRFToken"].(string)
	}
	return status, body
}

// call runs one action through the console; it returns the console's
// answer (Status, Code, Response, Request, Call, Denied).
func (c *consoleClient) call(version, action string, params map[string]string) map[string]any {
	c.t.Helper()
	status, body, _ := c.post("/console/api/call", map[string]any{"Version": version, "Action": action, "Params": params}, false, nil)
	if status != 200 {
		c.t.Fatalf("console %s: HTTP %d %v", action, status, body)
	}
	return body
}

func wantCode(t testing.TB, what string, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["Code"] != code {
		t.Fatalf("%s: HTTP %d %v, want %d %s", what, status, body, wantStatus, code)
	}
	for _, k := range []string{"RequestId", "HostId", "Message", "Recommend"} {
		if s, _ := body[k].(string); s == "" {
			t.Errorf("%s: error envelope lacks %s: %v", what, k, body)
		}
	}
}

// TestConsoleSession drives sign-in, the session cookie, CSRF, sign-out and
// sign-in throttling over real HTTP.
func TestConsoleSession(t *testing.T) {
	w := newWorld(t)
	addr := w.m.ListenAddr()
	c := newConsoleClient(t, addr)

	status, body, _ := c.get("/console/api/session")
	wantCode(t, "session before sign-in", status, body, 401, "Console.NotSignedIn")
	status, body = c.signIn(testKeyID, "wrong-secret")
	wantCode(t, "wrong secret", status, body, 401, "Console.InvalidCredentials")
	status, body = c.signIn("LTAInosuchkey", testKeySecret)
	wantCode(t, "unknown key", status, body, 401, "Console.InvalidCredentials")

	// A sign-in posted from another site is refused before the key is
	// looked at.
	status, body, _ = c.post("/console/api/signin", map[string]string{"AccessKeyId": testKeyID, "AccessKeySecret": testKeySecret},
		true, map[string]string{"Origin": "http://evil.example"})
	wantCode(t, "cross-origin sign-in", status, body, 403, "Console.InvalidCSRFToken")

	status, body, resp := c.post("/console/api/signin", map[string]string{"AccessKeyId": testKeyID, "AccessKeySecret": testKeySecret}, true, nil)
	if status != 200 {
		t.Fatalf("sign-in: HTTP %d %v", status, body)
	}
	c.csrf = body["CSRFToken"].(string)
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == console.CookieName {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("sign-in set no session cookie")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/console/" || cookie.Secure || cookie.MaxAge <= 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/, an expiry, not Secure over plain HTTP", cookie)
	}
	if len(cookie.Value) < 43 || strings.Contains(cookie.Value, testKeySecret) || strings.Contains(cookie.Value, testKeyID) {
		t.Errorf("session cookie value %q: want a 256-bit random id and no key material", cookie.Value)
	}
	if len(c.csrf) < 43 {
		t.Errorf("CSRF token %q is too short", c.csrf)
	}

	// Every state change needs the token: without it, or with another,
	// or as a form post, nothing happens.
	for _, hdr := range []map[string]string{nil, {console.CSRFHeader: "forged"}, {"Content-Type": "application/x-www-form-urlencoded"}} {
		status, body, _ = c.post("/console/api/call", map[string]any{"Version": ramVersion, "Action": "CreateUser", "Params": map[string]string{"UserName": "csrf-victim"}}, hdr == nil, hdr)
		wantCode(t, fmt.Sprintf("CreateUser with %v", hdr), status, body, 403, "Console.InvalidCSRFToken")
	}
	out := c.call(ramVersion, "ListUsers", nil)
	if s := fmt.Sprint(out["Response"]); strings.Contains(s, "csrf-victim") {
		t.Fatalf("a refused CreateUser created the user: %s", s)
	}
	out = c.call(ramVersion, "CreateUser", map[string]string{"UserName": "console-made"})
	if out["Status"] != float64(200) {
		t.Fatalf("CreateUser through the console: %v", out)
	}
	w.ram("GetUser", map[string]string{"UserName": "console-made"})
	if line, _ := out["Call"].(string); !strings.HasPrefix(line, "kafkaplane call ram CreateUser --endpoint http://"+addr) || !strings.Contains(line, "--UserName console-made") {
		t.Errorf("equivalent command line %q", line)
	}
	req := out["Request"].(map[string]any)
	if sts, _ := req["StringToSign"].(string); !strings.HasPrefix(sts, "ACS3-HMAC-SHA256\n") {
		t.Errorf("string to sign %q", sts)
	}
	if b, _ := json.Marshal(out); bytes.Contains(b, []byte(testKeySecret)) {
		t.Fatal("a console answer contains the AccessKey secret")
	}

	status, body, _ = c.post("/console/api/signout", map[string]any{}, true, nil)
	wantCode(t, "sign-out without CSRF", status, body, 403, "Console.InvalidCSRFToken")
	if status, body, _ = c.post("/console/api/signout", map[string]any{}, false, nil); status != 200 {
		t.Fatalf("sign-out: %d %v", status, body)
	}
	// The old cookie is dead on the server, whatever the browser keeps.
	c.http.Jar.SetCookies(resp.Request.URL, []*http.Cookie{{Name: console.CookieName, Value: cookie.Value, Path: "/console/"}})
	status, body, _ = c.get("/console/api/session")
	wantCode(t, "session after sign-out", status, body, 401, "Console.NotSignedIn")

	// Five attempts a minute per AccessKey id: the sixth is refused even
	// with the right secret.
	d := newConsoleClient(t, addr)
	var last int
	for range 6 {
		last, body = d.signIn("LTAIguessme", "nope")
	}
	wantCode(t, "sixth sign-in for one key", last, body, 429, "Throttling.SignIn")
}

// TestConsoleAgreesWithAPI checks that the console decides exactly as the
// API: for the same principal and action, the same answer code and the
// same RAM refusal, whether the caller is the console or an official SDK.
func TestConsoleAgreesWithAPI(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	w.kafka("CreateTopic", map[string]string{"InstanceId": id, "Topic": "agree", "Remark": "r"})
	readOnly := w.user("reader", "AliyunKafkaReadOnlyAccess")
	nobody := w.user("nobody")
	elsewhere := w.user("elsewhere", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"alikafka:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.9.9.0/24"}}}]}`)
	local := w.user("local", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["alikafka:List*","ram:ListUsers"],"Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"127.0.0.0/8"}}}]}`)

	calls := []struct {
		version, action string
		params          map[string]string
	}{
		{alikafkaVersion, "GetInstanceList", nil},
		{alikafkaVersion, "GetTopicList", map[string]string{"InstanceId": id}},
		{alikafkaVersion, "ListInstanceOperations", map[string]string{"InstanceId": id}},
		{alikafkaVersion, "GetUpgradableVersions", map[string]string{"InstanceId": id}},
		{alikafkaVersion, "ModifyInstanceName", map[string]string{"InstanceId": id, "InstanceName": id}},
		{alikafkaVersion, "CreateConsumerGroup", map[string]string{"InstanceId": id, "ConsumerId": "agree-group"}},
		{alikafkaVersion, "DeleteConsumerGroup", map[string]string{"InstanceId": id, "ConsumerId": "agree-group"}},
		{ramVersion, "ListUsers", nil},
		{ramVersion, "ListPolicies", nil},
		{ramVersion, "CreateUser", map[string]string{"UserName": "made-by-" + "x"}},
	}
	for _, p := range []struct {
		name string
		key  principal
	}{{"reader", readOnly}, {"nobody", nobody}, {"elsewhere", elsewhere}, {"local", local}} {
		c := newConsoleClient(t, w.m.ListenAddr())
		if status, body := c.signIn(p.key.id, p.key.secret); status != 200 {
			t.Fatalf("%s: sign-in: %d %v", p.name, status, body)
		}
		for _, cl := range calls {
			sdk := p.key.legacy(t, cl.version, cl.action, cl.params)
			got := c.call(cl.version, cl.action, cl.params)
			code, _ := got["Code"].(string)
			status := int(got["Status"].(float64))
			what := fmt.Sprintf("%s %s", p.name, cl.action)
			if status != sdk.status || code != sdk.code {
				t.Errorf("%s: console HTTP %d %q, SDK HTTP %d %q", what, status, code, sdk.status, sdk.code)
			}
			if code == "Forbidden.RAM" {
				d, _ := got["Denied"].(map[string]any)
				if d == nil || d["Action"] != sdk.detail["AuthAction"] || d["Resource"] == "" {
					t.Errorf("%s: console denial %v, SDK detail %v", what, d, sdk.detail)
				}
			}
		}
	}
}

// testClock is a server clock the test moves forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// TestConsoleSessionLifetime: a session ends after 30 idle minutes and 12
// hours after sign-in however busy; sign-in attempts are limited per
// source address too; neither the secret nor the session id reaches the
// log; the cookie is Secure when the console is served over TLS.
func TestConsoleSessionLifetime(t *testing.T) {
	clock := &testClock{}
	logs := &syncBuffer{}
	m := startMain(t, func(m *Main) {
		m.Now = clock.now
		m.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	addr := m.ListenAddr()

	c := newConsoleClient(t, addr)
	if status, body := c.signIn(testKeyID, testKeySecret); status != 200 {
		t.Fatalf("sign-in: %d %v", status, body)
	}
	clock.advance(console.IdleTTL - time.Minute)
	if status, body, _ := c.get("/console/api/session"); status != 200 {
		t.Fatalf("session after %v idle: %d %v", console.IdleTTL-time.Minute, status, body)
	}
	clock.advance(console.IdleTTL)
	status, body, _ := c.get("/console/api/session")
	wantCode(t, "session after 30 idle minutes", status, body, 401, "Console.NotSignedIn")

	c = newConsoleClient(t, addr)
	if status, body := c.signIn(testKeyID, testKeySecret); status != 200 {
		t.Fatalf("sign-in: %d %v", status, body)
	}
	// Used every quarter hour, it lives until the twelfth hour is over.
	step := console.IdleTTL / 2
	for i := 1; i < int(console.AbsoluteTTL/step); i++ {
		clock.advance(step)
		if status, body, _ := c.get("/console/api/session"); status != 200 {
			t.Fatalf("busy session after %v: %d %v", time.Duration(i)*step, status, body)
		}
	}
	clock.advance(step)
	status, body, _ = c.get("/console/api/session")
	wantCode(t, "busy session after 12 hours", status, body, 401, "Console.NotSignedIn")
	sessionCookie := ""
	for _, ck := range c.http.Jar.Cookies(&url.URL{Scheme: "http", Host: addr, Path: "/console/"}) {
		sessionCookie = ck.Value
	}

	// Ten attempts a minute from one address, whatever the key ids.
	d := newConsoleClient(t, addr)
	var last int
	for i := range 11 {
		last, body = d.signIn(fmt.Sprintf("LTAIspray%02d", i), "nope")
	}
	wantCode(t, "eleventh sign-in from one address", last, body, 429, "Throttling.SignIn")

	// Over TLS the cookie is Secure.
	tls := httptest.NewTLSServer(console.New(console.Config{API: m.Server, Registry: m.Server.Registry(), Now: clock.now}))
	defer tls.Close()
	b, _ := json.Marshal(map[string]string{"AccessKeyId": testKeyID, "AccessKeySecret": testKeySecret})
	req, _ := http.NewRequest(http.MethodPost, tls.URL+"/console/api/signin", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := tls.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ck := resp.Cookies(); resp.StatusCode != 200 || len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in over TLS: HTTP %d, cookies %+v", resp.StatusCode, ck)
	}

	out := logs.String()
	if !strings.Contains(out, "console sign-in") {
		t.Fatalf("no sign-in in the log:\n%s", out)
	}
	if strings.Contains(out, testKeySecret) || sessionCookie == "" || strings.Contains(out, sessionCookie) {
		t.Fatal("the log holds the AccessKey secret or a session id")
	}
}

// shellWords splits a command line the way a POSIX shell splits the
// console's quoting: words separated by spaces, single-quoted runs kept
// whole, a backslash outside quotes escaping the next character.
func shellWords(t testing.TB, line string) []string {
	var words []string
	var cur strings.Builder
	in, started, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && !in:
			escaped, started = true, true
		case r == '\'':
			in, started = !in, true
		case r == ' ' && !in:
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if in {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if started {
		words = append(words, cur.String())
	}
	return words
}

// TestConsoleCallLineRuns runs the console's `kafkaplane call` lines as
// shown (credentials from the environment, as the README sets them) and
// checks they send the same request: a read answers the same, and a
// create whose result was removed makes the same entity again, quoting
// of spaces, quotes and JSON intact.
func TestConsoleCallLineRuns(t *testing.T) {
	w := newWorld(t)
	c := newConsoleClient(t, w.m.ListenAddr())
	if status, body := c.signIn(testKeyID, testKeySecret); status != 200 {
		t.Fatalf("sign-in: %d %v", status, body)
	}
	t.Setenv("KAFKAPLANE_ROOT_ACCESS_KEY_ID", testKeyID)
	t.Setenv("KAFKAPLANE_ROOT_ACCESS_KEY_SECRET", testKeySecret)
	runLine := func(line string) map[string]any {
		t.Helper()
		words := shellWords(t, line)
		if len(words) < 3 || words[0] != "kafkaplane" || words[1] != "call" {
			t.Fatalf("not a kafkaplane call line: %q", line)
		}
		var stdout, stderr bytes.Buffer
		if code := runCall(context.Background(), words[2:], &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s%s", line, code, stdout.String(), stderr.String())
		}
		var out map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("%s: %v: %s", line, err, stdout.String())
		}
		return out
	}

	doc := `{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "alikafka:List*", "Resource": "*"}]}`
	made := c.call(ramVersion, "CreatePolicy", map[string]string{"PolicyName": "shell-quoted", "PolicyDocument": doc, "Description": "it's got spaces & 'quotes'"})
	if made["Status"] != float64(200) {
		t.Fatalf("console CreatePolicy: %v", made)
	}
	before := w.ram("GetPolicy", map[string]string{"PolicyName": "shell-quoted", "PolicyType": "Custom"})
	w.ram("DeletePolicy", map[string]string{"PolicyName": "shell-quoted"})
	runLine(made["Call"].(string))
	after := w.ram("GetPolicy", map[string]string{"PolicyName": "shell-quoted", "PolicyType": "Custom"})
	for _, k := range []string{"Description", "PolicyName"} {
		b, a := before["Policy"].(map[string]any)[k], after["Policy"].(map[string]any)[k]
		if a != b {
			t.Errorf("Policy.%s: console made %q, the command line %q", k, b, a)
		}
	}
	if b, a := fmt.Sprint(before["DefaultPolicyVersion"]), fmt.Sprint(after["DefaultPolicyVersion"]); !strings.Contains(a, "alikafka:List*") || !strings.Contains(a, `"Resource": "*"`) {
		t.Errorf("policy document: console %s, command line %s", b, a)
	}

	id := w.instance()
	got := c.call(alikafkaVersion, "GetInstanceList", map[string]string{"InstanceId.1": id})
	viaLine := runLine(got["Call"].(string))
	var viaConsole map[string]any
	b, _ := json.Marshal(got["Response"])
	_ = json.Unmarshal(b, &viaConsole)
	delete(viaConsole, "RequestId")
	delete(viaLine, "RequestId")
	if !reflect.DeepEqual(viaConsole, viaLine) {
		t.Errorf("GetInstanceList: console %v, command line %v", viaConsole, viaLine)
	}
}

// TestConsoleFlag: --console=false serves no console; by default the page
// is there, with its security headers.
func TestConsoleFlag(t *testing.T) {
	m := NewMain()
	if err := m.ParseFlags([]string{"--console=false"}, io.Discard); err != nil || m.Console {
		t.Fatalf("--console=false: err %v, Console %v", err, m.Console)
	}
	for _, on := range []bool{true, false} {
		m := startMain(t, func(m *Main) { m.Console = on })
		resp, err := http.Get("http://" + m.ListenAddr() + "/console/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := map[bool]int{true: 200, false: 404}[on]
		if resp.StatusCode != want {
			t.Errorf("console %v: GET /console/ HTTP %d, want %d", on, resp.StatusCode, want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); on && !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("console page CSP %q", csp)
		}
	}
}
