package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// callResult is what a console action returns to the page: the API's
// status and body unchanged, the signed request that produced them, and an
// equivalent command line.
type callResult struct {
	Status   int
	Code     string `json:",omitempty"` // the error code, "" on success
	Response json.RawMessage
	Request  signedRequest
	// Call is the `kafkaplane call` line that sends the same request
	// (credentials from the environment).
	Call string
	// Denied names the RAM action and resource refused, on Forbidden.RAM.
	Denied *denial `json:",omitempty"`

	principal string
}

type signedRequest struct {
	Method           string
	URL              string
	Headers          map[string]string
	CanonicalRequest string
	StringToSign     string
}

type denial struct {
	Action   string
	Resource string
	Reason   string
}

// recorder collects the API handler's answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// dispatch signs one action with the session's AccessKey (ACS3-HMAC-SHA256,
// as the V3 SDKs do) and runs it through the API handler as if it came
// from the browser's own connection: same source address for acs:SourceIp,
// same TLS state for acs:SecureTransport. Nothing of the console's is
// trusted by the API; the request stands or falls on its signature like
// any other.
func (h *Handler) dispatch(ctx context.Context, from *http.Request, sess *session, version, action string, params url.Values) (*callResult, error) {
	if a, err := h.cfg.Registry.Lookup(version, action); err == nil && a.Regional && params.Get("RegionId") == "" {
		params.Set("RegionId", h.cfg.Region)
	}
	host := from.Host
	u := &url.URL{Scheme: "http", Host: host, Path: "/", RawQuery: params.Encode()}
	if from.TLS != nil {
		u.Scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	req.Header.Set("x-acs-action", action)
	req.Header.Set("x-acs-version", version)
	req.Header.Set("Accept", "application/json")
	now := h.cfg.Now()
	if err := rpcsig.SignV3(req, nil, sess.keyID, sess.secret, now, nonce()); err != nil {
		return nil, err
	}
	// What the server side of net/http sets for every request.
	req.Body = http.NoBody
	req.RemoteAddr = from.RemoteAddr
	req.TLS = from.TLS
	req.RequestURI = u.RequestURI()

	signed := rpcsig.HeaderWithHost(req.Header, host)
	names := rpcsig.V3SignedHeaderNames(signed)
	cr := rpcsig.V3CanonicalRequest(req.Method, "/", params, signed, names, rpcsig.HashPayload(nil))
	shown := map[string]string{}
	for _, n := range append(names, "authorization") {
		shown[n] = signed.Get(n)
	}

	rec := &recorder{header: http.Header{}}
	h.cfg.API.ServeHTTP(rec, req)
	res := &callResult{
		Status:   rec.status,
		Response: json.RawMessage(bytes.TrimSpace(rec.body.Bytes())),
		Request: signedRequest{Method: req.Method, URL: u.String(), Headers: shown,
			CanonicalRequest: cr, StringToSign: rpcsig.V3StringToSign(cr)},
		Call: callLine(from, version, action, params),
	}
	if !json.Valid(res.Response) {
		res.Response, _ = json.Marshal(rec.body.String())
	}
	if rec.status != http.StatusOK {
		var e struct {
			Code               string
			AccessDeniedDetail struct {
				AuthAction               string
				AuthPrincipalDisplayName string
				EncodedDiagnosticMessage string
				NoPermissionType         string
			}
		}
		_ = json.Unmarshal(res.Response, &e)
		res.Code = e.Code
		if e.Code == apierr.ForbiddenRAM.Code {
			d := &denial{Action: e.AccessDeniedDetail.AuthAction, Reason: e.AccessDeniedDetail.NoPermissionType}
			var diag struct{ AuthResource string }
			if b, err := base64.StdEncoding.DecodeString(e.AccessDeniedDetail.EncodedDiagnosticMessage); err == nil {
				_ = json.Unmarshal(b, &diag)
			}
			d.Resource = diag.AuthResource
			res.Denied = d
			res.principal = e.AccessDeniedDetail.AuthPrincipalDisplayName
		}
	}
	return res, nil
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// productOf maps an API version to the product name `kafkaplane call`
// takes.
var productOf = map[string]string{"2019-09-16": "alikafka", "2015-05-01": "ram"}

// callLine is the `kafkaplane call` command that sends the same request.
func callLine(from *http.Request, version, action string, params url.Values) string {
	var b strings.Builder
	b.WriteString("kafkaplane call")
	if p := productOf[version]; p != "" && p != "alikafka" {
		b.WriteString(" " + p)
	}
	b.WriteString(" " + shellQuote(action))
	scheme := "http"
	if from.TLS != nil {
		scheme = "https"
	}
	b.WriteString(" --endpoint " + shellQuote(scheme+"://"+from.Host))
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "RegionId" {
			b.WriteString(" --region " + shellQuote(params.Get(k)))
			continue
		}
		for _, v := range params[k] {
			b.WriteString(" --" + k + " " + shellQuote(v))
		}
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
