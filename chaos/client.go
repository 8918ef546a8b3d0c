package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// API versions of the two products the endpoint serves.
const (
	kafkaVersion = "2019-09-16"
	ramVersion   = "2015-05-01"
)

// principal is one AccessKey the driver signs with.
type principal struct {
	name, id, secret string
}

// request is one call as it goes on the wire. The zero mutate sends it as
// an official client would; hostile operations bend it.
type request struct {
	product string // "alikafka" or "ram"
	action  string
	params  url.Values
	sig     string // "v1" or "v3"
	as      principal
	// body, when set, is sent as a form body (V1 only) besides the query.
	body url.Values
	// version overrides the product's API version.
	version string
	// extra is added to the query before signing, beside what is set
	// (a second Action, say).
	extra url.Values
	// mutate changes the signed request before it is sent.
	mutate func(*http.Request)
}

// outcome classifies an answer by what it says about the server's state.
type outcome int

const (
	accepted  outcome = iota // HTTP 200: the call took effect
	refused                  // HTTP 4xx: nothing changed
	uncertain                // 5xx or a cut connection: it may or may not have taken effect
	down                     // the connection was refused: it never reached the server
)

// answer is what came back for one request.
type answer struct {
	status int
	code   string
	body   map[string]any
	raw    []byte
	err    error
	out    outcome
}

// build signs r for endpoint (host:port) at now.
func (r request) build(ctx context.Context, endpoint string, now time.Time) (*http.Request, error) {
	version := kafkaVersion
	if r.product == "ram" {
		version = ramVersion
	}
	if r.version != "" {
		version = r.version
	}
	params := url.Values{}
	for k, vs := range r.params {
		params[k] = append([]string(nil), vs...)
	}
	u := url.URL{Scheme: "http", Host: endpoint, Path: "/"}
	switch r.sig {
	case "v3":
		for k, vs := range r.extra {
			params[k] = append(params[k], vs...)
		}
		u.RawQuery = params.Encode()
		var body []byte
		if r.body != nil {
			body = []byte(r.body.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("x-acs-action", r.action)
		req.Header.Set("x-acs-version", version)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if err := rpcsig.SignV3(req, body, r.as.id, r.as.secret, now, rpcsig.NewNonce()); err != nil {
			return nil, err
		}
		if r.mutate != nil {
			r.mutate(req)
		}
		return req, nil
	default:
		params.Set("Action", r.action)
		params.Set("Version", version)
		params.Set("Format", "JSON")
		for k, vs := range r.extra {
			params[k] = append(params[k], vs...)
		}
		all := url.Values{}
		for k, vs := range params {
			all[k] = vs
		}
		for k, vs := range r.body {
			all[k] = append(all[k], vs...)
		}
		rpcsig.SignV1(http.MethodPost, all, r.as.id, r.as.secret, now, rpcsig.NewNonce())
		for k := range r.body {
			delete(all, k)
		}
		u.RawQuery = all.Encode()
		var body io.Reader
		if r.body != nil {
			body = strings.NewReader(r.body.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r.mutate != nil {
			r.mutate(req)
		}
		return req, nil
	}
}

// send sends one built request and classifies the answer. Every answer
// that arrived is checked against the envelope rules; a breach is
// returned as envelopeErr.
func send(hc *http.Client, req *http.Request, product string) (a answer, envelopeErr error) {
	resp, err := hc.Do(req)
	if err != nil {
		a.err = err
		if errors.Is(err, syscall.ECONNREFUSED) {
			a.out = down
		} else {
			a.out = uncertain
		}
		return a, nil
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
	a.raw, err = io.ReadAll(resp.Body)
	if err != nil {
		a.err = err
		a.out = uncertain
		return a, nil
	}
	envelopeErr = checkEnvelope(resp.StatusCode, resp.Header.Get("Content-Type"), a.raw, product, &a)
	switch {
	case resp.StatusCode == http.StatusOK:
		a.out = accepted
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		a.out = refused
	default:
		a.out = uncertain
	}
	return a, envelopeErr
}

// checkEnvelope applies the wire rules every answer must follow: success
// is HTTP 200 with a RequestId (and alikafka's numeric Code 200 and
// Success true); an error is HTTP 4xx/5xx with string Code, Message,
// RequestId, HostId and Recommend.
func checkEnvelope(status int, contentType string, raw []byte, product string, a *answer) error {
	short := string(raw)
	if len(short) > 300 {
		short = short[:300] + "…"
	}
	switch {
	case strings.Contains(contentType, "json"):
		if err := json.Unmarshal(raw, &a.body); err != nil || a.body == nil {
			return fmt.Errorf("HTTP %d body is not a JSON object: %q", status, short)
		}
	case strings.Contains(contentType, "xml") && status >= 400:
		// A request without Format gets Alibaba's default, XML.
		var e struct {
			XMLName                                     xml.Name
			RequestId, HostId, Code, Message, Recommend *string
		}
		if err := xml.Unmarshal(raw, &e); err != nil || e.XMLName.Local != "Error" {
			return fmt.Errorf("HTTP %d body is not an XML Error: %q", status, short)
		}
		a.body = map[string]any{}
		for k, v := range map[string]*string{"RequestId": e.RequestId, "HostId": e.HostId, "Code": e.Code, "Message": e.Message, "Recommend": e.Recommend} {
			if v != nil {
				a.body[k] = *v
			}
		}
	default:
		return fmt.Errorf("HTTP %d with Content-Type %q: %q", status, contentType, short)
	}
	str := func(k string) (string, bool) {
		s, ok := a.body[k].(string)
		return s, ok
	}
	if rid, ok := str("RequestId"); !ok || rid == "" {
		return fmt.Errorf("HTTP %d without a string RequestId: %q", status, short)
	}
	if status == http.StatusOK {
		if product == "alikafka" {
			if c, ok := a.body["Code"].(float64); !ok || c != 200 {
				return fmt.Errorf("HTTP 200 with Code %v: %q", a.body["Code"], short)
			}
			if s, ok := a.body["Success"].(bool); !ok || !s {
				return fmt.Errorf("HTTP 200 with Success %v: %q", a.body["Success"], short)
			}
		}
		return nil
	}
	if status < 400 || status > 599 {
		return fmt.Errorf("HTTP %d is neither success nor an error: %q", status, short)
	}
	code, ok := str("Code")
	if !ok || code == "" {
		return fmt.Errorf("HTTP %d error without a string Code: %q", status, short)
	}
	a.code = code
	for _, k := range []string{"Message", "HostId", "Recommend"} {
		if _, ok := str(k); !ok {
			return fmt.Errorf("HTTP %d error %s without a string %s: %q", status, code, k, short)
		}
	}
	return nil
}
