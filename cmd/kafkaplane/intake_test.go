package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// TestListPagingExtremes pages topic and consumer lists at the edges of
// CurrentPage, through the legacy SDK: the largest page the declaration
// allows, with the largest page size, is an empty page; anything up to the
// largest int64 is a clear InvalidCurrentPage, never a dropped connection.
func TestListPagingExtremes(t *testing.T) {
	m := startMain(t, lcFastQPS)
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	for _, page := range []string{"1000000", "999999"} {
		tl := alikafka.CreateGetTopicListRequest()
		tl.InstanceId, tl.CurrentPage, tl.PageSize = id, page, "10000"
		tr, err := c.GetTopicList(tl)
		if err != nil || !tr.Success || len(tr.TopicList.TopicVO) != 0 {
			t.Fatalf("GetTopicList CurrentPage=%s: %v %+v", page, err, tr)
		}
		cl := alikafka.CreateGetConsumerListRequest()
		cl.InstanceId, cl.CurrentPage, cl.PageSize = id, requests.Integer(page), "10000"
		cr, err := c.GetConsumerList(cl)
		if err != nil || !cr.Success || len(cr.ConsumerList.ConsumerVO) != 0 {
			t.Fatalf("GetConsumerList CurrentPage=%s: %v %+v", page, err, cr)
		}
	}
	for _, page := range []string{"9223372036854775807", "9223372036854775806", "922337203685477", "1000001"} {
		tl := alikafka.CreateGetTopicListRequest()
		tl.InstanceId, tl.CurrentPage, tl.PageSize = id, page, "10000"
		_, err := c.GetTopicList(tl)
		if code := sdkCode(err); code != "InvalidCurrentPage" {
			t.Errorf("GetTopicList CurrentPage=%s: %v, want InvalidCurrentPage", page, err)
		}
		cl := alikafka.CreateGetConsumerListRequest()
		cl.InstanceId, cl.CurrentPage, cl.PageSize = id, requests.Integer(page), "10000"
		_, err = c.GetConsumerList(cl)
		if code := sdkCode(err); code != "InvalidCurrentPage" {
			t.Errorf("GetConsumerList CurrentPage=%s: %v, want InvalidCurrentPage", page, err)
		}
	}
	for _, cl := range clients(m.ListenAddr(), testKeyID, testKeySecret, testRegion) {
		r := cl.call(t, "2015-05-01", "ListUsers", map[string]string{"MaxItems": "9223372036854775807"})
		if r.status != 400 || r.code != "InvalidParameter.MaxItems" {
			t.Errorf("%s ListUsers MaxItems=MaxInt64: %+v", cl.name(), r)
		}
	}
}

// rawSend sends a request built by hand to the server and decodes the JSON
// answer; it is how a hostile or broken client meets the gateway.
func rawSend(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("HTTP %d, body %q: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, body
}

func orderParams() url.Values {
	return url.Values{
		"Action": {"CreatePostPayOrder"}, "Version": {"2019-09-16"}, "Format": {"JSON"}, "RegionId": {testRegion},
		"DeployType": {"5"}, "DiskType": {"1"}, "IoMaxSpec": {"alikafka.hw.2xlarge"},
	}
}

// TestDuplicateParametersRefused: a parameter sent twice, signed with both
// values, is refused with InvalidParameter whether the copies are in the
// query, in the body or one in each, with either signature, and nothing is
// bought.
func TestDuplicateParametersRefused(t *testing.T) {
	m := startMain(t, lcFastQPS)
	now := time.Now()
	form := "application/x-www-form-urlencoded"
	v1 := func(nonce string, split func(signed url.Values) (query url.Values, body string)) *http.Request {
		p := orderParams()
		p["DiskSize"] = []string{"500", "100"}
		rpcsig.SignV1("POST", p, testKeyID, testKeySecret, now, nonce)
		q, body := split(p)
		req, _ := http.NewRequest("POST", m.URL()+"/?"+q.Encode(), strings.NewReader(body))
		req.Header.Set("Content-Type", form)
		return req
	}
	cases := map[string]*http.Request{
		"v1 query twice": v1("dup-1", func(p url.Values) (url.Values, string) { return p, "" }),
		"v1 body twice": v1("dup-2", func(p url.Values) (url.Values, string) {
			return url.Values{}, p.Encode()
		}),
		"v1 query and body": v1("dup-3", func(p url.Values) (url.Values, string) {
			q := maps.Clone(p)
			q["DiskSize"] = []string{"500"}
			return q, "DiskSize=100"
		}),
	}
	{
		q := orderParams()
		q.Del("Action")
		q.Del("Version")
		q.Set("DiskSize", "500")
		body := []byte("DiskSize=100")
		req, _ := http.NewRequest("POST", m.URL()+"/?"+q.Encode(), bytes.NewReader(body))
		req.Header.Set("Content-Type", form)
		req.Header.Set("x-acs-action", "CreatePostPayOrder")
		req.Header.Set("x-acs-version", "2019-09-16")
		if err := rpcsig.SignV3(req, body, testKeyID, testKeySecret, now, "dup-4"); err != nil {
			t.Fatal(err)
		}
		cases["v3 query and body"] = req
	}
	for name, req := range cases {
		status, body := rawSend(t, req)
		msg, _ := body["Message"].(string)
		if status != 400 || body["Code"] != "InvalidParameter" || !strings.Contains(msg, `"DiskSize" is specified more than once`) || body["RequestId"] == "" {
			t.Errorf("%s: HTTP %d %v", name, status, body)
		}
	}
	c := kafkaClient(t, m.ListenAddr())
	list, err := c.GetInstanceList(alikafka.CreateGetInstanceListRequest())
	if err != nil || len(list.InstanceList.InstanceVO) != 0 {
		t.Fatalf("after refused orders: %v %+v", err, list.InstanceList)
	}
}

// TestFutureDatedReplayRefused: a request signed by a clock 14 minutes
// fast is accepted; replayed 16 minutes later, when its timestamp is still
// within the window, it is refused, also after a restart, and no second
// order is created.
func TestFutureDatedReplayRefused(t *testing.T) {
	var offset atomic.Int64
	clock := func(m *Main) { m.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) } }
	dir := t.TempDir()
	m := startMain(t, lcFastQPS, clock, func(m *Main) { m.DataDir = dir })
	p := orderParams()
	p.Set("DiskSize", "500")
	rpcsig.SignV1("POST", p, testKeyID, testKeySecret, time.Now().Add(14*time.Minute), "ahead-1")
	send := func(m *Main) (int, map[string]any) {
		req, _ := http.NewRequest("POST", m.URL()+"/?"+p.Encode(), nil)
		return rawSend(t, req)
	}
	if status, body := send(m); status != 200 {
		t.Fatalf("first use: HTTP %d %v", status, body)
	}
	offset.Store(int64(16 * time.Minute))
	if status, body := send(m); status != 400 || body["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replay 16 minutes later: HTTP %d %v", status, body)
	}
	m.Close()
	offset.Store(int64(20 * time.Minute))
	m2 := startMain(t, lcFastQPS, clock, func(m *Main) { m.DataDir = dir })
	if status, body := send(m2); status != 400 || body["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replay after a restart: HTTP %d %v", status, body)
	}
	// The server's clock now runs 20 minutes fast, so an SDK's request
	// would be refused as expired: count the orders in the store.
	n, err := m2.DB.FindInstances(context.Background(), kafkaplane.InstanceFilter{AccountID: m2.AccountID, RegionID: testRegion})
	if err != nil || len(n) != 1 {
		t.Fatalf("instances after the replays: %d %v", len(n), err)
	}
}

// TestNonceCapPerKey: every verified request records its nonce, throttled
// and denied ones included. A key that holds its cap of unexpired nonces
// gets Throttling.User (with the V3 SDKs' retry hint) from every official
// client, nothing is forgotten, and other keys are unaffected.
func TestNonceCapPerKey(t *testing.T) {
	m := startMain(t, func(m *Main) {
		m.Gateway.NoncesPerKey = 6
		m.QPS = map[string]float64{"GetAllInstanceIdList": 1}
	})
	addr := m.ListenAddr()
	root := legacyClient{addr: addr, id: testKeyID, secret: testKeySecret, region: testRegion}
	tea := teaClient{addr: addr, id: testKeyID, secret: testKeySecret, region: testRegion}
	if r := tea.call(t, "2015-05-01", "CreateUser", map[string]string{"UserName": "bob"}); r.status != 200 {
		t.Fatalf("CreateUser: %+v", r)
	}
	r := tea.call(t, "2015-05-01", "CreateAccessKey", map[string]string{"UserName": "bob"})
	ak, _ := r.body["AccessKey"].(map[string]any)
	bobID, _ := ak["AccessKeyId"].(string)
	bobSecret, _ := ak["AccessKeySecret"].(string)
	if r.status != 200 || bobID == "" {
		t.Fatalf("CreateAccessKey: %+v", r)
	}
	// Four more requests, some of them throttled: six nonces in all.
	for range 4 {
		if r := root.call(t, "2019-09-16", "GetAllInstanceIdList", nil); r.status != 200 && r.code != "Throttling.User" {
			t.Fatalf("GetAllInstanceIdList: %+v", r)
		}
	}
	for _, c := range append(clients(addr, testKeyID, testKeySecret, testRegion),
		teaClient{addr: addr, id: testKeyID, secret: testKeySecret, region: testRegion, typedErrors: true}) {
		r := c.call(t, "2019-09-16", "GetAllInstanceIdList", nil)
		if r.status != 400 || r.code != "Throttling.User" || !strings.Contains(r.msg, "signature nonces") {
			t.Errorf("%s at the cap: %+v", c.name(), r)
		}
		if tc, ok := c.(teaClient); ok && tc.typedErrors && r.retryAfter <= 0 {
			t.Errorf("%s at the cap: no retry hint: %+v", c.name(), r)
		}
	}
	bob := legacyClient{addr: addr, id: bobID, secret: bobSecret, region: testRegion}
	if r := bob.call(t, "2019-09-16", "GetInstanceList", nil); r.code != "Forbidden.RAM" {
		t.Errorf("another key: %+v", r)
	}
}

// sdkCode is the error code of a legacy SDK server error, or "" for any
// other outcome.
func sdkCode(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}
