package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
)

const (
	testKeyID     = "LTAItestrootkey000000001"
	testKeySecret = "testrootsecret0000000000000001"
	testRegion    = "cn-hangzhou"
)

// startMain runs the real service in-process on 127.0.0.1:0 with a fresh
// data dir and a known root key.
func startMain(t testing.TB, opts ...func(*Main)) *Main {
	t.Helper()
	m := NewMain()
	m.Addr = "127.0.0.1:0"
	m.DataDir = t.TempDir()
	m.BrokerRuntime = "fake"
	m.RootAccessKeyID, m.RootAccessKeySecret = testKeyID, testKeySecret
	m.Logger = slog.New(slog.DiscardHandler)
	for _, o := range opts {
		o(m)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// result is what any client reports about one call.
type result struct {
	status int
	code   string // "" on success
	msg    string
	body   map[string]any
	// retryAfter is the V3 SDK's ThrottlingError.RetryAfter (ms), read
	// from x-ratelimit-user-api.
	retryAfter int64
}

// client is one official client configuration under test.
type client interface {
	name() string
	call(t testing.TB, version, action string, params map[string]string) result
}

// legacyClient is github.com/aliyun/alibaba-cloud-sdk-go (V1 signature,
// everything in the query).
type legacyClient struct {
	addr, id, secret, region string
	transport                http.RoundTripper
}

func (c legacyClient) name() string { return "legacy-sdk-v1" }

func (c legacyClient) call(t testing.TB, version, action string, params map[string]string) result {
	t.Helper()
	cl, err := sdk.NewClientWithAccessKey(c.region, c.id, c.secret)
	if err != nil {
		t.Fatal(err)
	}
	if c.transport != nil {
		cl.SetTransport(c.transport)
	}
	req := requests.NewCommonRequest()
	req.Method = requests.POST
	req.Scheme = "http"
	req.Domain = c.addr
	req.Product = "alikafka"
	req.Version = version
	req.ApiName = action
	for k, v := range params {
		req.QueryParams[k] = v
	}
	if f, ok := params["Format"]; ok {
		req.AcceptFormat = f
		delete(req.QueryParams, "Format")
	}
	resp, err := cl.ProcessCommonRequest(req)
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return result{status: se.HttpStatus(), code: se.ErrorCode(), msg: se.Message()}
	}
	if err != nil {
		t.Fatalf("%s %s: %v", c.name(), action, err)
	}
	var body map[string]any
	_ = json.Unmarshal(resp.GetHttpContentBytes(), &body)
	return result{status: resp.GetHttpStatus(), body: body}
}

// teaClient is github.com/alibabacloud-go/darabonba-openapi/v2, the core
// of the V3 SDKs, in its default V3 mode or (v1) in its RPC V1 mode.
type teaClient struct {
	addr, id, secret, region string
	v1                       bool
	// typedErrors sets the SDK's DisableSDKError, which returns its typed
	// errors (ThrottlingError with RetryAfter) instead of tea.SDKError.
	typedErrors bool
}

func (c teaClient) name() string {
	if c.v1 {
		return "darabonba-v1"
	}
	return "darabonba-v3"
}

func (c teaClient) call(t testing.TB, version, action string, params map[string]string) result {
	t.Helper()
	cfg := &openapiutil.Config{
		AccessKeyId:     dara.String(c.id),
		AccessKeySecret: dara.String(c.secret),
		Endpoint:        dara.String(c.addr),
		Protocol:        dara.String("HTTP"),
		RegionId:        dara.String(c.region),
	}
	if c.v1 {
		cfg.SignatureAlgorithm = dara.String("v2")
	}
	cl, err := openapiclient.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.typedErrors {
		cl.DisableSDKError = dara.Bool(true)
	}
	q := map[string]*string{}
	for k, v := range params {
		q[k] = dara.String(v)
	}
	if _, ok := params["RegionId"]; !ok && c.region != "" && version == "2019-09-16" {
		q["RegionId"] = dara.String(c.region)
	}
	p := &openapiutil.Params{
		Action: dara.String(action), Version: dara.String(version), Protocol: dara.String("HTTP"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
	out, err := cl.CallApi(p, &openapiutil.OpenApiRequest{Query: q}, &dara.RuntimeOptions{})
	switch e := err.(type) {
	case nil:
	case *openapiclient.ClientError:
		return result{status: dara.IntValue(e.StatusCode), code: dara.StringValue(e.Code), msg: dara.StringValue(e.Message)}
	case *openapiclient.ServerError:
		return result{status: dara.IntValue(e.StatusCode), code: dara.StringValue(e.Code), msg: dara.StringValue(e.Message)}
	case *openapiclient.ThrottlingError:
		return result{status: dara.IntValue(e.StatusCode), code: dara.StringValue(e.Code), msg: dara.StringValue(e.Message), retryAfter: dara.Int64Value(e.RetryAfter)}
	case *tea.SDKError:
		// The RPC (V1) path reports errors in the older tea error type.
		return result{status: tea.IntValue(e.StatusCode), code: tea.StringValue(e.Code), msg: tea.StringValue(e.Message)}
	default:
		t.Fatalf("%s %s: %T %v", c.name(), action, err, err)
	}
	body, _ := out["body"].(map[string]any)
	var status int
	switch v := out["statusCode"].(type) {
	case int:
		status = v
	case *int:
		status = dara.IntValue(v)
	case int64:
		status = int(v)
	default:
		// The SDK passes the response map through a JSON round trip.
		status, _ = strconv.Atoi(fmt.Sprint(v))
	}
	return result{status: status, body: body}
}

// clients returns every official client configuration against addr.
func clients(addr, id, secret, region string) []client {
	return []client{
		legacyClient{addr: addr, id: id, secret: secret, region: region},
		teaClient{addr: addr, id: id, secret: secret, region: region},
		teaClient{addr: addr, id: id, secret: secret, region: region, v1: true},
	}
}

// proxy forwards every request to target after mangle rewrites it; with
// twice set it sends each request twice and answers with the second
// response (a replay). It lets an unchanged client meet errors that its own
// code would never provoke.
func proxy(t testing.TB, target string, mangle func(*http.Request), twice bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		send := func() *http.Response {
			u, _ := url.Parse(target)
			out, _ := http.NewRequest(r.Method, "http://"+u.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
			out.Header = r.Header.Clone()
			out.Host = r.Host
			if mangle != nil {
				mangle(out)
			}
			resp, err := http.DefaultTransport.RoundTrip(out)
			if err != nil {
				t.Errorf("proxy: %v", err)
				return nil
			}
			return resp
		}
		resp := send()
		if twice && resp != nil {
			resp.Body.Close()
			resp = send()
		}
		if resp == nil {
			http.Error(w, "proxy failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// setQuery rewrites one query parameter (or removes it when v is "").
func setQuery(name, v string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		if v == "" {
			q.Del(name)
		} else {
			q.Set(name, v)
		}
		r.URL.RawQuery = q.Encode()
	}
}

// shiftClock makes the server's clock run off by d.
func shiftClock(d time.Duration) func(*Main) {
	return func(m *Main) { m.Now = func() time.Time { return time.Now().Add(d) } }
}
