package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEveryPathAnswersAnEnvelope points official clients at an endpoint
// that carries a path, and sends plain requests to paths beside "/": each
// gets an Alibaba error envelope (404 InvalidApi.NotFound) in the format
// it asked for, never the HTTP library's plain-text page.
func TestEveryPathAnswersAnEnvelope(t *testing.T) {
	m := startMain(t)
	for _, c := range clients(m.ListenAddr()+"/api", testKeyID, testKeySecret, testRegion) {
		res := c.call(t, "2019-09-16", "GetInstanceList", map[string]string{"RegionId": testRegion})
		if res.status != http.StatusNotFound || res.code != "InvalidApi.NotFound" {
			t.Errorf("%s via a path: HTTP %d code %q (%s)", c.name(), res.status, res.code, res.msg)
		}
	}
	for _, c := range []struct{ method, path, contentType string }{
		{"GET", "/nothing", "text/xml"},
		{"POST", "/api/?Format=JSON&Action=GetInstanceList", "application/json"},
		{"POST", "/healthz", "text/xml"},
		{"GET", "/metrics/extra?Format=JSON", "application/json"},
	} {
		req, _ := http.NewRequest(c.method, "http://"+m.ListenAddr()+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.contentType) ||
			!strings.Contains(string(body), "InvalidApi.NotFound") || !strings.Contains(string(body), "RequestId") {
			t.Errorf("%s %s: HTTP %d %s %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	// The service's own endpoints are where they were.
	for _, p := range []string{"/healthz", "/metrics"} {
		resp, err := http.Get("http://" + m.ListenAddr() + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: HTTP %d", p, resp.StatusCode)
		}
	}
}
