package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/rpcsig"
	dto "github.com/prometheus/client_model/go"
)

// signedPost sends a V1-signed POST of p (in the query, as the legacy SDK
// does) to the server at base and returns the status and decoded body.
func signedPost(t *testing.T, base string, p url.Values, nonce string) (int, map[string]any) {
	t.Helper()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rpcsig.SignV1("POST", p, "testid", "testsecret", now, nonce)
	resp, err := http.Post(base+"/?"+p.Encode(), "application/x-www-form-urlencoded", nil)
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

// TestPanicAnswersInternalError: a handler that panics gets the caller an
// InternalError envelope with its RequestId on an open connection, and the
// request is logged and counted.
func TestPanicAnswersInternalError(t *testing.T) {
	srv, _ := goldenServerFor(t)
	var logs bytes.Buffer
	srv.cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	srv.Registry().Add(&Action{
		Name: "Explode", Product: "alikafka", Version: "2019-09-16", Resource: "*", Regional: true, Envelope: true,
		Handler: func(context.Context, *Request) (Object, error) {
			var s []int
			return Object{{"N", s[3]}}, nil
		},
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	p := url.Values{"Action": {"Explode"}, "Version": {"2019-09-16"}, "Format": {"JSON"}, "RegionId": {"cn-hangzhou"}}
	status, body := signedPost(t, hs.URL, p, "panic-1")
	if status != 500 || body["Code"] != "InternalError" || body["RequestId"] != "ABA4A7FD-E10F-45C7-9774-A5236015A2D6" {
		t.Fatalf("HTTP %d %v", status, body)
	}
	if msg, _ := body["Message"].(string); strings.Contains(msg, "index out of range") {
		t.Errorf("the panic reached the caller: %q", msg)
	}
	var m dto.Metric
	if err := srv.requests.WithLabelValues("Explode", "InternalError").Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		n := m.GetCounter().GetValue()
		t.Errorf("kafkaplane_api_requests_total{Explode,InternalError} = %v", n)
	}
	if !strings.Contains(logs.String(), `"msg":"internal error"`) || !strings.Contains(logs.String(), "index out of range") ||
		!strings.Contains(logs.String(), `"msg":"request"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
	// The server keeps serving.
	p = url.Values{"Action": {"GetAllInstanceIdList"}, "Version": {"2019-09-16"}, "Format": {"JSON"}, "RegionId": {"cn-hangzhou"}}
	if status, body := signedPost(t, hs.URL, p, "panic-2"); status != 200 {
		t.Fatalf("after the panic: HTTP %d %v", status, body)
	}
}
