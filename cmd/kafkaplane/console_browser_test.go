package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/twmb/franz-go/pkg/kgo"
)

// updateScreenshots rewrites the console screenshots the README shows
// (testdata/screenshots); without it they go to $ARTIFACTS_DIR or a
// temporary directory.
var updateScreenshots = flag.Bool("update-screenshots", false, "write console screenshots to testdata/screenshots")

// chromiumPath finds a Chromium; scripts/test.sh installs Debian's when
// it is missing.
func chromiumPath(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on PATH (scripts/test.sh installs Debian's chromium)")
	return ""
}

// browser starts a headless Chromium with a 1280×800 window and returns a
// tab's context.
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.WindowSize(1280, 800),
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func cdp(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, body string
		_ = chromedp.Run(ctx, chromedp.Location(&loc), chromedp.Evaluate(`document.getElementById('main').innerText`, &body))
		t.Fatalf("%s: %v\nat %s\n%s", what, err, loc, body)
	}
}

// screenshot saves the page as name.png.
func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	cdp(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot(&png))
	dir := os.Getenv("ARTIFACTS_DIR")
	switch {
	case *updateScreenshots:
		dir = filepath.Join("testdata", "screenshots")
	case dir == "":
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(png))
}

// signInBrowser opens the console and signs in with a key.
func signInBrowser(t testing.TB, ctx context.Context, addr, id, secret string) {
	t.Helper()
	cdp(t, ctx, "sign in",
		chromedp.Navigate("http://"+addr+"/console/"),
		chromedp.WaitVisible(`#ak-id`, chromedp.ByID),
		chromedp.SendKeys(`#ak-id`, id, chromedp.ByID),
		chromedp.SendKeys(`#ak-secret`, secret, chromedp.ByID),
		chromedp.Click(`#signin-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#nav`, chromedp.ByID),
	)
}

// waitJS waits until a JavaScript expression is true.
func waitJS(expr string) chromedp.Action {
	return chromedp.Poll(expr, nil, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second))
}

// TestConsoleBrowserUpgrade is a user's path through the console in
// headless Chromium against real brokers: sign in as root, buy and start
// an instance, create a topic, upgrade it while a franz-go producer
// writes, and watch the live view reach "complete" with every broker
// done. It also measures the console's first-load weight and saves
// screenshots of the upgrade view and the API explorer.
func TestConsoleBrowserUpgrade(t *testing.T) {
	w := &world{t: t}
	w.m = startMain(t, withKafka(t))
	w.root = principal{addr: w.m.ListenAddr(), id: testKeyID, secret: testKeySecret}
	addr := w.m.ListenAddr()
	ctx := browser(t)

	// First load: every byte the browser receives for the sign-in page.
	var mu sync.Mutex
	loaded := map[network.RequestID]float64{}
	urls := map[network.RequestID]string{}
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventResponseReceived:
			urls[e.RequestID] = e.Response.URL
		case *network.EventLoadingFinished:
			loaded[e.RequestID] = e.EncodedDataLength
		}
	})
	cdp(t, ctx, "first load", network.Enable(), chromedp.Navigate("http://"+addr+"/console/"), chromedp.WaitVisible(`#ak-id`, chromedp.ByID))
	// The sign-in form shows once the session check has answered; its
	// loading-finished event may trail the page's by a moment.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(loaded)
		mu.Unlock()
		if n >= 4 {
			break
		}
	}
	mu.Lock()
	var total float64
	var parts []string
	for id, n := range loaded {
		total += n
		parts = append(parts, fmt.Sprintf("%s %.0f", strings.TrimPrefix(urls[id], "http://"+addr), n))
	}
	mu.Unlock()
	t.Logf("first load: %.0f bytes transferred (%s)", total, strings.Join(parts, ", "))
	if total == 0 || total > 300_000 {
		t.Fatalf("first load transferred %.0f bytes, want 1..300000", total)
	}

	signInBrowser(t, ctx, addr, testKeyID, testKeySecret)
	cdp(t, ctx, "buy",
		chromedp.WaitVisible(`#buy-form`, chromedp.ByID),
		chromedp.Click(`#buy-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#instances tr[data-instance] button`, chromedp.ByQuery),
		chromedp.Click(`#instances tr[data-instance] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#start-form`, chromedp.ByID),
		chromedp.Click(`#start-form button[type=submit]`, chromedp.ByQuery),
		waitJS(`[...document.querySelectorAll('#instances td.status')].some(td => td.textContent === 'Running')`),
	)
	vos := w.instances(nil)
	if len(vos) != 1 {
		t.Fatalf("%d instances after buying one", len(vos))
	}
	id, endpoint := vos[0]["InstanceId"].(string), vos[0]["EndPoint"].(string)
	cdp(t, ctx, "open the instance and create a topic",
		chromedp.Click(`#instances a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#topic-form`, chromedp.ByID),
		chromedp.SendKeys(`#topic-form input[name=Topic]`, "orders", chromedp.ByQuery),
		chromedp.Click(`#topic-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#topics tr[data-topic="orders"] details`, chromedp.ByQuery),
	)
	screenshot(t, ctx, "console-instance")

	// A producer writes throughout the upgrade.
	cl := kgoClient(t, endpoint, kgo.DefaultProduceTopic("orders"), kgo.RequiredAcks(kgo.AllISRAcks()))
	var acked, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := cl.ProduceSync(pctx, &kgo.Record{Value: []byte(fmt.Sprintf("r-%d", i))}).FirstErr()
			cancel()
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			} else {
				acked.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitRecords := func(n int64) {
		for acked.Load() < n && failed.Load() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitRecords(20)

	cdp(t, ctx, "start the upgrade",
		chromedp.Click(`#upgrade-link`, chromedp.ByID),
		chromedp.WaitVisible(`#upgrade-form`, chromedp.ByID),
		chromedp.Click(`#upgrade-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm-upgrade`, chromedp.ByID),
		chromedp.Click(`#confirm-upgrade`, chromedp.ByID),
		chromedp.WaitVisible(`#op-state`, chromedp.ByID),
	)
	// Mid-upgrade: the first frame in which one broker is done and
	// another rolling (if the roll outpaces the page, the final frame).
	var mid string
	_ = chromedp.Run(ctx, chromedp.Poll(`(() => { const s = document.getElementById('op-state'); if (!s) return false;
		if (s.dataset.state === 'COMPLETE' || s.dataset.state === 'FAILED') return 'over';
		return document.querySelector('.broker[data-state=done]') && document.querySelector('.broker[data-state=rolling]') ? 'mid' : false; })()`, &mid,
		chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
	screenshot(t, ctx, "console-upgrade")
	cdp(t, ctx, "wait for the upgrade to complete",
		waitJS(`document.getElementById('op-state') && document.getElementById('op-state').dataset.state === 'COMPLETE'`))
	var state string
	var brokersDone int
	cdp(t, ctx, "read the final view",
		chromedp.Text(`#op-state`, &state, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('.broker[data-state=done]').length`, &brokersDone))
	if state != "complete" || brokersDone != 3 {
		t.Fatalf("upgrade view: state %q, %d brokers done; want complete and 3", state, brokersDone)
	}
	before := acked.Load()
	waitRecords(before + 20)
	close(stop)
	<-done
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d produce requests failed during the upgrade (first: %v)", n, firstErr.Load())
	}
	t.Logf("producer: %d records acknowledged across the upgrade, 0 failed", acked.Load())
	if vo := w.instances(nil)[0]; version(vo) != "2.2.0" {
		t.Fatalf("instance after the upgrade: %v", vo)
	}
	screenshot(t, ctx, "console-upgrade-complete")

	cdp(t, ctx, "explorer",
		chromedp.Navigate("http://"+addr+"/console/#/explorer"),
		chromedp.WaitVisible(`#explorer-form`, chromedp.ByID),
		chromedp.SetValue(`#explorer-action`, "2019-09-16/GetTopicStatus", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById('explorer-action').dispatchEvent(new Event('change'))`, nil),
		chromedp.SendKeys(`#explorer-form input[name=InstanceId]`, id, chromedp.ByQuery),
		chromedp.SendKeys(`#explorer-form input[name=Topic]`, "orders", chromedp.ByQuery),
		chromedp.Click(`#explorer-send`, chromedp.ByID),
		chromedp.WaitVisible(`#explorer-sts`, chromedp.ByID),
	)
	var sts, cli, resp string
	cdp(t, ctx, "read the explorer",
		chromedp.Text(`#explorer-sts`, &sts, chromedp.ByID),
		chromedp.Text(`#explorer-cli`, &cli, chromedp.ByID),
		chromedp.Text(`#explorer-response`, &resp, chromedp.ByID))
	if !strings.HasPrefix(sts, "ACS3-HMAC-SHA256") || !strings.Contains(cli, "kafkaplane call GetTopicStatus") || !strings.Contains(resp, `"TotalCount"`) {
		t.Fatalf("explorer: string to sign %q, command %q, response %q", sts, cli, resp)
	}
	screenshot(t, ctx, "console-explorer")

	var secret string
	cdp(t, ctx, "RAM: a user, an AccessKey shown once, a policy attached",
		chromedp.Navigate("http://"+addr+"/console/#/ram"),
		chromedp.WaitVisible(`#user-form`, chromedp.ByID),
		chromedp.SendKeys(`#user-form input[name=UserName]`, "alice", chromedp.ByQuery),
		chromedp.Click(`#user-form button[type=submit]`, chromedp.ByQuery),
		chromedp.Click(`#ram-users a[href="#/ram/user/alice"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#create-key`, chromedp.ByID),
		chromedp.Click(`#create-key`, chromedp.ByID),
		chromedp.WaitVisible(`#new-secret`, chromedp.ByID),
		chromedp.Text(`#new-secret`, &secret, chromedp.ByID),
		chromedp.SendKeys(`#attach-form input[name=PolicyName]`, "AliyunKafkaReadOnlyAccess", chromedp.ByQuery),
		chromedp.Click(`#attach-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#user-policies td`, chromedp.ByQuery),
	)
	screenshot(t, ctx, "console-ram-user")
	keys := w.ram("ListAccessKeys", map[string]string{"UserName": "alice"})
	if len(secret) < 20 || !strings.Contains(fmt.Sprint(keys), "Active") {
		t.Fatalf("new AccessKey: secret %q, keys %v", secret, keys)
	}
	// Shown once: the list never carries it again.
	cdp(t, ctx, "reload the user", chromedp.Reload(), chromedp.WaitVisible(`#user-keys td`, chromedp.ByQuery))
	var page string
	cdp(t, ctx, "read the user page", chromedp.Text(`#main`, &page, chromedp.ByID))
	if strings.Contains(page, secret) {
		t.Fatal("the AccessKey secret is shown again after a reload")
	}
}

func version(vo map[string]any) string {
	u, _ := vo["UpgradeServiceDetailInfo"].(map[string]any)
	return fmt.Sprint(u["Current2OpenSourceVersion"])
}

// TestConsoleBrowserDenied: a RAM user without rights signs in and sees
// which RAM action on which resource was refused; a state change sent
// from the page without the CSRF token is refused and changes nothing.
func TestConsoleBrowserDenied(t *testing.T) {
	w := newWorld(t)
	w.instance()
	nobody := w.user("nobody")
	addr := w.m.ListenAddr()
	ctx := browser(t)
	// Without a mouse: the sign-in form has the focus, Tab moves to the
	// secret, Enter submits.
	cdp(t, ctx, "sign in with the keyboard",
		chromedp.Navigate("http://"+addr+"/console/"),
		chromedp.WaitVisible(`#ak-id`, chromedp.ByID),
		waitJS(`document.activeElement && document.activeElement.id === 'ak-id'`),
		chromedp.KeyEvent(nobody.id),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(nobody.secret),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`#nav`, chromedp.ByID),
	)
	var action, resource, who string
	cdp(t, ctx, "see the denial",
		chromedp.WaitVisible(`.error[data-code="Forbidden.RAM"]`, chromedp.ByQuery),
		chromedp.Text(`.denied-action`, &action, chromedp.ByQuery),
		chromedp.Text(`.denied-resource`, &resource, chromedp.ByQuery),
		chromedp.Text(`#who`, &who, chromedp.ByID))
	if action != "alikafka:ListInstance" || resource != "acs:alikafka:cn-hangzhou:1234567890123456:*" {
		t.Errorf("denial shows action %q on %q", action, resource)
	}
	if !strings.Contains(who, "nobody") {
		t.Errorf("header shows %q, want the RAM user's name", who)
	}
	screenshot(t, ctx, "console-denied")

	// The page's own session, but no token: refused.
	var res map[string]any
	cdp(t, ctx, "post without the CSRF token", chromedp.Evaluate(`fetch('/console/api/call', {method: 'POST', credentials: 'same-origin',
		headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({Version: '2015-05-01', Action: 'CreateUser', Params: {UserName: 'csrf-made'}})})
		.then(async r => ({status: r.status, body: await r.json()}))`, &res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	body, _ := res["body"].(map[string]any)
	if res["status"] != float64(403) || body["Code"] != "Console.InvalidCSRFToken" {
		t.Fatalf("POST without CSRF token: %v", res)
	}
	users := fmt.Sprint(w.ram("ListUsers", nil))
	if strings.Contains(users, "csrf-made") {
		t.Fatal("a POST without the CSRF token created a user")
	}
}

// acceptDialogs answers every confirm() the page opens with OK.
func acceptDialogs(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		}
	})
}

// TestConsoleBrowserTopicsAndGroups changes topics and groups from the
// instance page: create, add partitions, delete, each confirmed.
func TestConsoleBrowserTopicsAndGroups(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	addr := w.m.ListenAddr()
	ctx := browser(t)
	acceptDialogs(ctx)
	signInBrowser(t, ctx, addr, testKeyID, testKeySecret)
	var parts string
	cdp(t, ctx, "topic: create, add partitions",
		chromedp.Navigate("http://"+addr+"/console/#/instance/"+id),
		chromedp.WaitVisible(`#topic-form`, chromedp.ByID),
		chromedp.SendKeys(`#topic-form input[name=Topic]`, "scratch", chromedp.ByQuery),
		chromedp.Click(`#topic-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#topics tr[data-topic="scratch"]`, chromedp.ByQuery),
		chromedp.SetValue(`#topics tr[data-topic="scratch"] input`, "2", chromedp.ByQuery),
		chromedp.Click(`#topics tr[data-topic="scratch"] button.secondary`, chromedp.ByQuery),
		waitJS(`(document.querySelector('#topics tr[data-topic="scratch"] td.partitions') || {}).textContent === '8'`),
		chromedp.Text(`#topics tr[data-topic="scratch"] td.partitions`, &parts, chromedp.ByQuery),
	)
	topics := fmt.Sprint(w.kafka("GetTopicList", map[string]string{"InstanceId": id}))
	if !strings.Contains(topics, "scratch") || !strings.Contains(topics, "PartitionNum:8") {
		t.Fatalf("after create and add partitions: %s", topics)
	}
	cdp(t, ctx, "topic: delete",
		chromedp.Click(`#topics tr[data-topic="scratch"] button.danger`, chromedp.ByQuery),
		waitJS(`document.querySelector('#topics tr[data-topic="scratch"]') === null && document.querySelector('#topic-form') !== null`),
	)
	if topics := fmt.Sprint(w.kafka("GetTopicList", map[string]string{"InstanceId": id})); strings.Contains(topics, "scratch") {
		t.Fatalf("topic still listed after delete: %s", topics)
	}
	cdp(t, ctx, "group: create and delete",
		chromedp.SendKeys(`#group-form input[name=ConsumerId]`, "billing", chromedp.ByQuery),
		chromedp.Click(`#group-form button[type=submit]`, chromedp.ByQuery),
		waitJS(`[...document.querySelectorAll('#groups td')].some(td => td.textContent === 'billing')`),
	)
	if groups := fmt.Sprint(w.kafka("GetConsumerList", map[string]string{"InstanceId": id})); !strings.Contains(groups, "billing") {
		t.Fatalf("group not made: %s", groups)
	}
	cdp(t, ctx, "group: delete",
		chromedp.Click(`#groups button.danger`, chromedp.ByQuery),
		waitJS(`![...document.querySelectorAll('#groups td')].some(td => td.textContent === 'billing') && document.querySelector('#group-form') !== null`),
	)
	if groups := fmt.Sprint(w.kafka("GetConsumerList", map[string]string{"InstanceId": id})); strings.Contains(groups, "billing") {
		t.Fatalf("group still listed after delete: %s", groups)
	}
}
