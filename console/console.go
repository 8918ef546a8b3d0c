package console

import (
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/openapi"
	"github.com/kafkaplane/kafkaplane/throttle"
)

//go:embed static
var staticFS embed.FS

// CookieName is the session cookie.
const CookieName = "kafkaplane_console"

// CSRFHeader carries the session's CSRF token on every POST.
const CSRFHeader = "X-CSRF-Token"

// Sign-in limits: attempts per source address and per AccessKey id, each
// a burst that refills over a minute.
var (
	signInPerIP  = throttle.Limit{PerSecond: 10.0 / 60, Burst: 10}
	signInPerKey = throttle.Limit{PerSecond: 5.0 / 60, Burst: 5}
)

// Config configures the console.
type Config struct {
	// API is the OpenAPI endpoint's handler; every console action runs
	// through it.
	API http.Handler
	// Registry lists the actions the API explorer offers.
	Registry *openapi.Registry
	// Region is the RegionId sent with regional actions that name none.
	Region string
	Logger *slog.Logger
	Now    func() time.Time
}

// Handler serves /console/.
type Handler struct {
	cfg      Config
	sessions *sessions
	signIn   *throttle.Limiter
	mux      *http.ServeMux
}

// New returns the console's handler, to be mounted at /console/.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = "cn-hangzhou"
	}
	h := &Handler{cfg: cfg, sessions: newSessions(), signIn: &throttle.Limiter{Store: throttle.NewMemory(), Now: cfg.Now}}
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(static))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/{$}", h.index)
	mux.Handle("GET /console/static/", files)
	mux.HandleFunc("POST /console/api/signin", h.handleSignIn)
	mux.HandleFunc("GET /console/api/session", h.withSession(h.handleSession))
	mux.HandleFunc("POST /console/api/signout", h.withSession(h.handleSignOut))
	mux.HandleFunc("GET /console/api/actions", h.withSession(h.handleActions))
	mux.HandleFunc("POST /console/api/call", h.withSession(h.handleCall))
	mux.HandleFunc("GET /console/api/watch", h.withSession(h.handleWatch))
	mux.HandleFunc("/console/api/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, apierr.InvalidAPINotFound.New())
	})
	h.mux = mux
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Every script and style comes from the console itself: no inline
	// code, no other origin, no framing.
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(r.URL.Path, "/console/api/") {
		hd.Set("Cache-Control", "no-store")
	}
	if r.URL.Path == "/console" {
		http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/index.html")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}

// withSession runs next with the request's live session. It is the one
// gate of every console endpoint but sign-in: a request without a live
// session is refused, and a POST must also come from the console's own
// origin and carry the session's CSRF token.
func (h *Handler) withSession(next func(http.ResponseWriter, *http.Request, *session, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		var sess *session
		if err == nil {
			sess = h.sessions.get(c.Value, h.cfg.Now())
		}
		if sess == nil {
			h.fail(w, r, apierr.ConsoleNotSignedIn.New())
			return
		}
		if r.Method != http.MethodGet {
			if err := sameOrigin(r); err != nil {
				h.fail(w, r, err)
				return
			}
			if !sess.validCSRF(r.Header.Get(CSRFHeader)) {
				h.fail(w, r, apierr.ConsoleInvalidCSRFToken.New())
				return
			}
		}
		next(w, r, sess, c.Value)
	}
}

// sameOrigin refuses a state change sent from another site: a browser
// names the page's origin in Origin, and a JSON body cannot be sent across
// origins without a CORS preflight, which the console never grants.
func sameOrigin(r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return apierr.ConsoleInvalidCSRFToken.Errorf("The request comes from another origin (%s).", o)
		}
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return apierr.ConsoleInvalidCSRFToken.Errorf("The request comes from another site.")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		return apierr.ConsoleInvalidCSRFToken.Errorf("Console requests send JSON.")
	}
	return nil
}

type signInRequest struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
}

func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		h.fail(w, r, err)
		return
	}
	var in signInRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil {
		h.fail(w, r, apierr.InvalidParameter.Errorf("The sign-in body is not a JSON object."))
		return
	}
	in.AccessKeyID = strings.TrimSpace(in.AccessKeyID)
	in.AccessKeySecret = strings.TrimSpace(in.AccessKeySecret)
	// Both buckets are charged before the key is checked, so guessing
	// secrets costs the same whether a guess is right or wrong.
	for _, k := range []struct {
		key string
		lim throttle.Limit
	}{{"ip|" + clientIP(r), signInPerIP}, {"key|" + in.AccessKeyID, signInPerKey}} {
		d, err := h.signIn.Allow(r.Context(), k.key, k.lim)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if !d.Allowed {
			w.Header().Set("Retry-After", fmt.Sprint(int(d.RetryAfter.Seconds())+1))
			h.fail(w, r, apierr.ConsoleSignInThrottled.New())
			return
		}
	}
	if in.AccessKeyID == "" || in.AccessKeySecret == "" {
		h.fail(w, r, apierr.ConsoleInvalidCredentials.New())
		return
	}
	sess := &session{keyID: in.AccessKeyID, secret: in.AccessKeySecret}
	// The key is proved by a signed call through the API. A RAM user
	// without any rights is still signed in: a Forbidden.RAM answer
	// means the signature was good.
	res, err := h.dispatch(r.Context(), r, sess, "2019-09-16", "GetAllInstanceIdList", url.Values{"RegionId": {h.cfg.Region}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case res.Status == http.StatusOK:
	case res.Code == apierr.ForbiddenRAM.Code:
		sess.userName = res.principal
	case strings.HasPrefix(res.Code, "Throttling"):
		h.fail(w, r, apierr.ConsoleSignInThrottled.New())
		return
	default:
		h.cfg.Logger.Info("console sign-in refused", "access_key_id", in.AccessKeyID, "code", res.Code, "remote", clientIP(r))
		h.fail(w, r, apierr.ConsoleInvalidCredentials.New())
		return
	}
	// A new sign-in replaces the browser's previous session.
	if c, err := r.Cookie(CookieName); err == nil {
		h.sessions.remove(c.Value)
	}
	id := h.sessions.create(sess, h.cfg.Now())
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id, Path: "/console/",
		MaxAge: int(AbsoluteTTL.Seconds()), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	h.cfg.Logger.Info("console sign-in", "access_key_id", in.AccessKeyID, "remote", clientIP(r))
	writeJSON(w, http.StatusOK, h.sessionInfo(sess))
}

func (h *Handler) sessionInfo(sess *session) map[string]any {
	return map[string]any{
		"AccessKeyId": sess.keyID,
		"UserName":    sess.userName,
		"CSRFToken":   sess.csrf,
		"RegionId":    h.cfg.Region,
		"ExpiresAt":   sess.created.Add(AbsoluteTTL).UnixMilli(),
	}
}

func (h *Handler) handleSession(w http.ResponseWriter, r *http.Request, sess *session, _ string) {
	writeJSON(w, http.StatusOK, h.sessionInfo(sess))
}

func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request, sess *session, id string) {
	h.sessions.remove(id)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/console/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{"SignedOut": true})
}

// actionInfo describes one action for the API explorer.
type actionInfo struct {
	Name      string
	Product   string
	Version   string
	RAMAction string
	Resource  string
	Regional  bool
	Extension bool
	Params    []paramInfo
}

type paramInfo struct {
	Name     string
	Kind     string
	Required bool
	Enum     []string `json:",omitempty"`
	Min      *int64   `json:",omitempty"`
	Max      *int64   `json:",omitempty"`
	MaxLen   int      `json:",omitempty"`
}

var kindNames = map[openapi.Kind]string{
	openapi.String: "String", openapi.Integer: "Integer", openapi.Boolean: "Boolean",
	openapi.JSON: "JSON", openapi.RepeatList: "RepeatList", openapi.TagList: "TagList",
}

func (h *Handler) handleActions(w http.ResponseWriter, r *http.Request, _ *session, _ string) {
	var out []actionInfo
	for _, a := range h.cfg.Registry.Actions() {
		ai := actionInfo{Name: a.Name, Product: a.Product, Version: a.Version, RAMAction: a.RAMAction,
			Resource: a.Resource, Regional: a.Regional, Extension: a.Extension, Params: []paramInfo{}}
		for _, p := range a.Params {
			pi := paramInfo{Name: p.Name, Kind: kindNames[p.Kind], Required: p.Required, Enum: p.Enum}
			if p.Kind == openapi.Integer {
				pi.Min, pi.Max = &p.Min, &p.Max
			} else if p.Kind != openapi.Boolean && p.Kind != openapi.TagList {
				pi.MaxLen = p.MaxLen
				if pi.MaxLen == 0 {
					pi.MaxLen = openapi.DefaultMaxLen
				}
			}
			ai.Params = append(ai.Params, pi)
		}
		out = append(out, ai)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Actions": out})
}

// callRequest is one console action: the API version and action, and its
// parameters by their wire names (Name.1, Tag.1.Key, …).
type callRequest struct {
	Version string
	Action  string
	Params  map[string]string
}

func (h *Handler) handleCall(w http.ResponseWriter, r *http.Request, sess *session, _ string) {
	var in callRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		h.fail(w, r, apierr.InvalidParameter.Errorf("The call body is not a JSON object."))
		return
	}
	params := url.Values{}
	for k, v := range in.Params {
		if v != "" {
			params.Set(k, v)
		}
	}
	res, err := h.dispatch(r.Context(), r, sess, in.Version, in.Action, params)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleWatch streams an operation as server-sent events: one
// DescribeInstanceOperation through the API every quarter second, with the
// session's key, until the operation ends or the page goes away.
func (h *Handler) handleWatch(w http.ResponseWriter, r *http.Request, sess *session, id string) {
	opID := r.URL.Query().Get("OperationId")
	region := r.URL.Query().Get("RegionId")
	if region == "" {
		region = h.cfg.Region
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		h.fail(w, r, errors.New("console: streaming unsupported"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		// A session that ends (sign-out, expiry) ends its streams too.
		if h.sessions.get(id, h.cfg.Now()) == nil {
			fmt.Fprint(w, "event: end\ndata: {}\n\n")
			fl.Flush()
			return
		}
		res, err := h.dispatch(r.Context(), r, sess, "2019-09-16", "DescribeInstanceOperation",
			url.Values{"OperationId": {opID}, "RegionId": {region}})
		if err != nil {
			return
		}
		b, _ := json.Marshal(res)
		fmt.Fprintf(w, "event: operation\ndata: %s\n\n", b)
		fl.Flush()
		if res.Status != http.StatusOK || operationDone(res.Response) {
			fmt.Fprint(w, "event: end\ndata: {}\n\n")
			fl.Flush()
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

func operationDone(body json.RawMessage) bool {
	var v struct {
		Operation struct{ OperationState string }
	}
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	s := v.Operation.OperationState
	return s == string(kafkaplane.OperationComplete) || s == string(kafkaplane.OperationFailed)
}

// fail answers a console endpoint's error in the API's envelope.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *kafkaplane.Error
	if !errors.As(err, &e) {
		h.cfg.Logger.Error("console error", "path", r.URL.Path, "err", err)
		e = apierr.InternalError.New()
	}
	d, ok := apierr.Lookup(e.Code)
	if !ok {
		// A code outside the catalogue is a bug: answered as InternalError.
		h.cfg.Logger.Error("console error code not in the catalogue", "path", r.URL.Path, "code", e.Code)
		e, d = apierr.InternalError.New(), apierr.InternalError
	}
	msg := e.Message
	if msg == "" {
		msg = d.Message
	}
	id := requestID()
	writeJSON(w, d.HTTPStatus, map[string]any{
		"RequestId": id,
		"HostId":    r.Host,
		"Code":      e.Code,
		"Message":   msg,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.Code) + "&product=kafkaplane&requestId=" + id,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// clientIP is the browser's address, the TCP peer (proxy headers are not
// trusted, as in the API).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
