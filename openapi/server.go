package openapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/throttle"
	"github.com/prometheus/client_golang/prometheus"
)

// KeyStore finds AccessKeys by id.
type KeyStore interface {
	FindAccessKey(ctx context.Context, id string) (*kafkaplane.AccessKey, error)
}

// Authorizer decides whether the caller of r may run its action. It returns
// nil to allow, or an error (Forbidden.RAM with an AccessDeniedDetail) to
// deny. Root keys never reach it.
type Authorizer interface {
	Authorize(ctx context.Context, r *Request, ramAction, resource string) error
}

// Config configures a Server.
type Config struct {
	Registry   *Registry
	Keys       KeyStore
	Nonces     kafkaplane.NonceService
	Limiter    *throttle.Limiter
	Authorizer Authorizer // nil: only root keys are allowed
	// Regions are the RegionIds regional actions accept.
	Regions []string
	// QPS overrides the registry's per-action limits by action name.
	QPS    map[string]float64
	Logger *slog.Logger
	Now    func() time.Time
	// NonceCap caps the unexpired signature nonces one AccessKey may hold
	// (DefaultNoncesPerKey when 0).
	NonceCap int
	// Metrics receives the request counters and latency histogram; nil
	// keeps them unregistered.
	Metrics prometheus.Registerer
	// RequestID makes RequestIds (newRequestID when nil); golden tests fix
	// it.
	RequestID func() string
}

// Registry returns the actions the server dispatches to.
func (s *Server) Registry() *Registry { return s.cfg.Registry }

// Server serves the RPC endpoint.
type Server struct {
	cfg      Config
	regions  map[string]bool
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// maxBody bounds a request body; RPC bodies are small forms.
const maxBody = 1 << 20

// skew is how far a request's timestamp may be from the server's clock.
// A nonce is remembered until its request's timestamp is more than skew in
// the past, so for at most 2·skew after its use.
const skew = 15 * time.Minute

// DefaultNoncesPerKey is the default cap on one AccessKey's unexpired
// nonces: 200,000 is about 110 requests a second for the longest retention
// (30 minutes), above the sum of the quotas a key can use in practice.
const DefaultNoncesPerKey = 200_000

// NewServer returns a Server for cfg.
func NewServer(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestID == nil {
		cfg.RequestID = newRequestID
	}
	if cfg.NonceCap <= 0 {
		cfg.NonceCap = DefaultNoncesPerKey
	}
	s := &Server{cfg: cfg, regions: map[string]bool{}}
	for _, r := range cfg.Regions {
		s.regions[r] = true
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kafkaplane_api_requests_total",
		Help: "API requests by action and result code (200 for success).",
	}, []string{"action", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kafkaplane_api_request_duration_seconds",
		Help:    "API request latency by action.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
	}, []string{"action"})
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(s.requests, s.latency)
	}
	return s
}

// call carries one request through the pipeline.
type call struct {
	id     string
	format string // "JSON" or "XML"
	action string // for metrics: a served action's name, or "unknown"
	// sent is the action name the client sent, for logs: an unknown one
	// is logged as sent, so that the log tells what a client called.
	sent   string
	req    *Request
	header http.Header
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{id: s.cfg.RequestID(), format: "JSON", action: "unknown", header: w.Header()}
	w.Header().Set("x-acs-request-id", c.id)
	body, status, err := s.serveRecovered(r, c)
	code := "200"
	if err != nil {
		var wireCode string
		status, wireCode, body = s.toWire(r, c, err)
		code = wireCode
	}
	if c.format == "XML" {
		w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)

	d := time.Since(start)
	s.requests.WithLabelValues(c.action, code).Inc()
	s.latency.WithLabelValues(c.action).Observe(d.Seconds())
	attrs := []slog.Attr{
		slog.String("request_id", c.id),
		slog.String("action", logAction(c)),
		slog.String("code", code),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("remote", r.RemoteAddr),
	}
	if c.req != nil && c.req.Caller != nil {
		attrs = append(attrs, slog.String("access_key_id", c.req.Caller.ID), slog.String("account_id", c.req.Caller.AccountID))
		if c.req.Caller.UserName != "" {
			attrs = append(attrs, slog.String("user", c.req.Caller.UserName))
		}
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.cfg.Logger.LogAttrs(r.Context(), level, "request", attrs...)
}

// serveRecovered runs the pipeline and turns a panic anywhere in it into
// an ordinary error, which toWire answers as InternalError with the
// RequestId and logs with the stack; the request is then logged and counted
// like any other instead of the connection being dropped.
func (s *Server) serveRecovered(r *http.Request, c *call) (body []byte, status int, err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		body, status, err = nil, 0, fmt.Errorf("panic: %v\n%s", p, debug.Stack())
	}()
	return s.serve(r, c)
}

// serve runs the pipeline and returns the success body.
func (s *Server) serve(r *http.Request, c *call) ([]byte, int, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, 0, apierr.UnsupportedHTTPMethod.New()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, 0, apierr.InvalidParameter.Errorf("The request body could not be read.")
	}
	if len(body) > maxBody {
		return nil, 0, apierr.RequestTooLarge.New()
	}
	params, err := mergeParams(r, body)
	if err != nil {
		return nil, 0, err
	}
	v3 := strings.HasPrefix(r.Header.Get("Authorization"), "ACS3-")

	// Format decides how even the errors below are rendered, so it is
	// checked first. V3 requests are always answered in JSON.
	if !v3 {
		switch f := strings.ToUpper(params.Get("Format")); f {
		case "":
			// The published default for RPC APIs is XML.
			c.format = "XML"
		case "JSON", "XML":
			c.format = f
		default:
			return nil, 0, apierr.InvalidParameterFormat.New()
		}
	}
	// The API lives at "/" only; every other path is answered here too, so
	// that a client pointed at a wrong URL reads an error it can parse.
	if r.URL.Path != "/" {
		return nil, 0, apierr.InvalidAPINotFound.New()
	}

	actionName, version := params.Get("Action"), params.Get("Version")
	if v3 {
		actionName, version = r.Header.Get("x-acs-action"), r.Header.Get("x-acs-version")
	}
	if actionName == "" {
		return nil, 0, apierr.Missing("Action")
	}
	c.sent = actionName
	if version == "" {
		return nil, 0, apierr.Missing("Version")
	}
	action, err := s.cfg.Registry.Lookup(version, actionName)
	if err != nil {
		return nil, 0, err
	}
	c.action = action.Name

	now := s.cfg.Now()
	var key *kafkaplane.AccessKey
	if v3 {
		key, err = s.verifyV3(r, params, body, now)
	} else {
		key, err = s.verifyV1(r, params, now)
	}
	if err != nil {
		return nil, 0, err
	}

	req := &Request{
		ID:       c.id,
		Action:   action,
		Params:   params,
		RegionID: params.Get("RegionId"),
		Caller:   key,
		SourceIP: sourceIP(r),
		Secure:   r.TLS != nil,
		Time:     now,
	}
	c.req = req
	if action.Regional {
		if req.RegionID == "" {
			return nil, 0, apierr.Missing("RegionId")
		}
		if !s.regions[req.RegionID] {
			return nil, 0, apierr.InvalidRegionID.Errorf("The specified region %q does not exist.", req.RegionID)
		}
	}

	// Authorization comes before throttling, so that only requests the
	// handler will run use the account's quota: a caller without
	// permission cannot exhaust it for everyone else. Refused requests
	// (invalid parameters, RAM denials) are bounded by a bucket of the
	// caller's own AccessKey instead.
	err = action.validate(req)
	if err == nil && !key.Root() {
		err = s.authorize(r.Context(), req)
	}
	if err != nil {
		if terr := s.throttle(r.Context(), req, refusedBucket); terr != nil {
			return nil, 0, terr
		}
		return nil, 0, err
	}
	if err := s.throttle(r.Context(), req, quotaBucket); err != nil {
		return nil, 0, err
	}

	out, err := action.Handler(r.Context(), req)
	if err != nil {
		return nil, 0, err
	}
	resp := Object{}
	if action.Envelope {
		resp = append(resp,
			Field{"Message", "operation success."},
			Field{"RequestId", c.id},
			Field{"Code", 200},
			Field{"Success", true},
		)
	} else {
		resp = append(resp, Field{"RequestId", c.id})
	}
	resp = append(resp, out...)
	if c.format == "XML" {
		return renderXML(action.Name+"Response", resp), http.StatusOK, nil
	}
	return renderJSON(resp), http.StatusOK, nil
}

// mergeParams merges the query with a form-urlencoded body, as Alibaba's
// gateway does: the legacy SDK sends everything in the query, other clients
// in the body, and a V1 signature covers their union. A V3 client may put
// some parameters in the query and others in the body, but no official
// client sends one name twice. A name that occurs more than once, in either
// part or across both, is refused: the signature would cover every value
// while a handler reads only one, so the request is ambiguous.
func mergeParams(r *http.Request, body []byte) (url.Values, error) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, apierr.InvalidParameter.Errorf("The query string is not well formed.")
	}
	if err := singleValued(params, nil); err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return params, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return params, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, apierr.InvalidParameter.Errorf("The form body is not well formed.")
	}
	if err := singleValued(form, params); err != nil {
		return nil, err
	}
	for k, vs := range form {
		params[k] = vs
	}
	return params, nil
}

// authorize asks the Authorizer whether a RAM user may run the request's
// action on its resource.
func (s *Server) authorize(ctx context.Context, req *Request) error {
	if s.cfg.Authorizer == nil {
		return apierr.ForbiddenRAM.New()
	}
	resource, err := req.Action.resource(ctx, req)
	if err != nil {
		return err
	}
	return s.cfg.Authorizer.Authorize(ctx, req, req.Action.RAMAction, resource)
}

// bucket names which token bucket a request is charged to.
type bucket int

const (
	// quotaBucket is the account's quota, alikafka's dimension: account,
	// region and action. A RegionId is part of the key only for regional
	// actions, where it was checked against the served regions; anywhere
	// else it is an arbitrary string, and varying it would make a fresh
	// bucket per request.
	quotaBucket bucket = iota
	// refusedBucket holds requests refused before their handler, keyed by
	// the caller's AccessKey and the action: they never touch the
	// account's quota, and one key cannot send them without bound.
	refusedBucket
)

// throttleKey is the limiter key of a request in bucket b.
func throttleKey(req *Request, b bucket) string {
	action := req.Action.Product + ":" + req.Action.Name
	if b == refusedBucket {
		return "key|" + req.Caller.ID + "|" + action
	}
	if req.Action.Regional {
		return req.Caller.AccountID + "|" + req.RegionID + "|" + action
	}
	return req.Caller.AccountID + "|" + action
}

// singleValued refuses a parameter given more than once in vs, or given in
// vs and also in other; of several, it names the first in byte order.
func singleValued(vs, other url.Values) error {
	dup, found := "", false
	for k, v := range vs {
		if _, also := other[k]; (len(v) > 1 || also) && (!found || k < dup) {
			dup, found = k, true
		}
	}
	if found {
		return duplicateParameter(dup)
	}
	return nil
}

func duplicateParameter(name string) error {
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	return apierr.InvalidParameter.Errorf("The parameter %q is specified more than once; each parameter may be sent once, in the query or in the body.", name)
}

// throttle applies the action's limit to bucket b. It runs after
// authentication, so a request that fails to authenticate never uses up
// anyone's quota.
func (s *Server) throttle(ctx context.Context, req *Request, b bucket) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	qps := req.Action.QPS
	if q, ok := s.cfg.QPS[req.Action.Name]; ok {
		qps = q
	}
	if qps <= 0 {
		return nil
	}
	burst := max(int(qps), 1)
	lim := throttle.Limit{PerSecond: qps, Burst: burst}
	d, err := s.cfg.Limiter.Allow(ctx, throttleKey(req, b), lim)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	if d.Allowed {
		return nil
	}
	return &rateLimited{err: apierr.ThrottlingUser.New(), limit: burst, retryAfter: d.RetryAfter}
}

// toWire turns any error into its wire form: status, code and body. It is
// the only place that does so. Unexpected errors become InternalError and
// are logged with the RequestId; their text never reaches the caller.
func (s *Server) toWire(r *http.Request, c *call, err error) (int, string, []byte) {
	var rl *rateLimited
	if errors.As(err, &rl) {
		rl.setHeader(c.header, s.cfg.Now())
	}
	err = wireError(err, entity{})
	var e *kafkaplane.Error
	if !errors.As(err, &e) {
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", c.id), slog.String("action", c.action), slog.String("err", err.Error()))
		e = apierr.InternalError.New()
	}
	d, ok := apierr.Lookup(e.Code)
	if !ok {
		// A code outside the catalogue is a bug, not a business error.
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "error code not in the catalogue",
			slog.String("request_id", c.id), slog.String("action", c.action), slog.String("code", e.Code))
		e, d = apierr.InternalError.New(), apierr.InternalError
	}
	msg := e.Message
	if msg == "" {
		msg = d.Message
	}
	o := Object{
		{"RequestId", c.id},
		{"HostId", r.Host},
		{"Code", e.Code},
		{"Message", msg},
		{"Recommend", "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.Code) + "&product=" + product(c) + "&requestId=" + c.id},
	}
	if e.Detail != nil {
		if det, ok := e.Detail.(Object); ok {
			o = append(o, Field{"AccessDeniedDetail", det})
		}
	}
	if c.format == "XML" {
		return d.HTTPStatus, e.Code, renderXML("Error", o)
	}
	return d.HTTPStatus, e.Code, renderJSON(o)
}

// rateLimited is a refusal that tells the client when to retry. The V3
// SDKs read TimeLeft (milliseconds) from x-ratelimit-user-api to decide
// when to retry a Throttling.User error.
type rateLimited struct {
	err        *kafkaplane.Error
	limit      int
	retryAfter time.Duration
}

func (e *rateLimited) Error() string { return e.err.Error() }
func (e *rateLimited) Unwrap() error { return e.err }

func (e *rateLimited) setHeader(h http.Header, now time.Time) {
	h.Set("x-ratelimit-user-api", fmt.Sprintf("Limit:%d,Remain:0,TimeLeft:%d,Reset:%d",
		e.limit, e.retryAfter.Milliseconds()+1, now.Add(e.retryAfter).UnixMilli()))
}

// maxLoggedAction bounds the action name a log line repeats from a
// request.
const maxLoggedAction = 128

// logAction is the action a request's log line names: the served action,
// or the name the client sent (cut to maxLoggedAction bytes) when no
// action of that name is served. Metrics keep "unknown" for those, so
// that clients cannot add label values.
func logAction(c *call) string {
	if c.action != "unknown" || c.sent == "" {
		return c.action
	}
	if len(c.sent) > maxLoggedAction {
		return c.sent[:maxLoggedAction]
	}
	return c.sent
}

func product(c *call) string {
	if c.req != nil {
		return c.req.Action.Product
	}
	return "alikafka"
}

// sourceIP is the caller's address for acs:SourceIp. kafkaplane is reached
// directly, so the TCP peer is the source; proxy headers are not trusted.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// newRequestID returns an upper-case UUID v4, the shape of Alibaba's
// RequestIds.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
