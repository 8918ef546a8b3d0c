package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/console"
	"github.com/kafkaplane/kafkaplane/jobs"
	"github.com/kafkaplane/kafkaplane/noncelog"
	"github.com/kafkaplane/kafkaplane/openapi"
	"github.com/kafkaplane/kafkaplane/policy"
	"github.com/kafkaplane/kafkaplane/sealer"
	"github.com/kafkaplane/kafkaplane/sqlstore"
	"github.com/kafkaplane/kafkaplane/throttle"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddr is where serve listens without --addr.
const DefaultAddr = "127.0.0.1:7330"

// DefaultMaxInstances is how many live instances the account may hold
// without --max-instances (docs/limits.md).
const DefaultMaxInstances = 50

// DefaultAccountID is the account that owns everything when
// KAFKAPLANE_ACCOUNT_ID is not set.
const DefaultAccountID = "1234567890123456"

var errHelp = errors.New("help requested")

// Main is the kafkaplane service: its configuration and, once opened, the
// running components. Tests start it in-process on 127.0.0.1:0.
type Main struct {
	Addr    string
	DataDir string
	// BrokerDataDir holds the brokers' data (default DataDir/brokers).
	// Replicas of one store on one machine share it, each with its own
	// DataDir (README "Several replicas").
	BrokerDataDir string
	DSN           string // "" = SQLite in DataDir
	CataloguePath string
	Regions       []string
	AccountID     string
	// RootAccessKeyID and RootAccessKeySecret fix the root key; when empty
	// the key stored in the data dir is used, or one is generated.
	RootAccessKeyID     string
	RootAccessKeySecret string
	// SecretsKeyFile names the key that seals secrets in the store
	// (KAFKAPLANE_SECRETS_KEY_FILE); when empty, DataDir/secrets.key,
	// created on first start.
	SecretsKeyFile string
	// BrokerRuntime is "kafka" (real brokers) or "fake" (no data plane:
	// brokers are simulated in memory, for control-plane-only tests).
	BrokerRuntime  string
	FakeStepDelay  time.Duration
	Strimzi        strimziFlags
	PortMin        int
	PortMax        int
	AdvertisedHost string
	DomainHost     string
	// DefaultAllowedIP is the allowlist entry the VPC endpoints of a new
	// instance start with (127.0.0.1/32 when empty; docs/dataplane.md).
	DefaultAllowedIP string
	// QPS overrides per-action limits, e.g. UpgradeInstanceVersion=5.
	QPS map[string]float64
	// WorkerID names this process's operation leases; it is stored in the
	// data dir so a restarted process resumes its own work at once.
	WorkerID string
	LogJSON  bool
	// Console serves the web console at /console/ (--console).
	Console bool
	// MaxInstances caps the live instances of the account (0: no cap).
	MaxInstances int
	// Gateway holds the endpoint's timeouts and connection and nonce caps.
	Gateway GatewayLimits
	// PprofAddr, when set, serves /debug/pprof on its own listener.
	PprofAddr string
	// Now is the service's one clock (time.Now when nil). Open hands it to
	// every component that records or judges a time: the store's default
	// timestamps, the worker's claims, leases and steps, the instance and
	// RAM handlers, the port allocator, request signatures, throttling and
	// nonce expiry. Only waits (back-off timers, broker internals) run on
	// the real clock, since they sleep rather than read the time.
	Now func() time.Time
	// RuleNow is the clock scheduled scaling rules are read against (Now
	// when nil).
	RuleNow func() time.Time

	Stdout io.Writer
	Logger *slog.Logger

	DB        *sqlstore.DB
	Runtime   broker.Runtime
	Worker    *jobs.Worker
	Scaling   *jobs.ScalingScheduler
	Catalogue *kafkaplane.VersionCatalogue
	RootKey   *kafkaplane.AccessKey
	Server    *openapi.Server

	nonceLog *noncelog.Log
	// caFile is the data plane's CA certificate (kafka runtime only).
	caFile  string
	pprof   *http.Server
	logOut  *logWriter
	ln      net.Listener
	http    *http.Server
	dirLock *os.File

	// owner holds or waits for the store's data plane lease and runs the
	// brokers, their keeper and the worker while it holds it.
	owner *dataPlaneOwner
	// closed makes a second Close (after a failed Open) a no-op.
	closed bool
}

// NewMain returns a Main with the embedded defaults.
func NewMain() *Main {
	return &Main{
		Addr:           DefaultAddr,
		DataDir:        "data",
		Regions:        openapi.DefaultRegions(),
		AccountID:      DefaultAccountID,
		BrokerRuntime:  "kafka",
		Strimzi:        defaultStrimziFlags(),
		PortMin:        19092,
		PortMax:        29091,
		AdvertisedHost: "127.0.0.1",
		DomainHost:     "localhost",
		MaxInstances:   DefaultMaxInstances,
		Console:        true,
		Stdout:         io.Discard,
		Gateway:        defaultGatewayLimits(),
	}
}

// ParseFlags reads serve's flags and the environment.
func (m *Main) ParseFlags(args []string, stderr io.Writer) error {
	// The DSN may carry a password: it can come from the environment
	// rather than the command line, which other users of the host see.
	if v := os.Getenv("KAFKAPLANE_DB"); v != "" {
		m.DSN = v
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&m.Addr, "addr", m.Addr, "listen address of the OpenAPI endpoint")
	fs.StringVar(&m.DataDir, "data-dir", m.DataDir, "directory for the database, credentials and broker data")
	fs.StringVar(&m.BrokerDataDir, "broker-data-dir", m.BrokerDataDir, "directory for the brokers' data (default DATA_DIR/brokers; replicas on one machine share it)")
	fs.StringVar(&m.DSN, "db", m.DSN, "database: empty for SQLite in the data dir, or a postgres:// URL (default $KAFKAPLANE_DB)")
	fs.StringVar(&m.CataloguePath, "catalogue", m.CataloguePath, "JSON version catalogue (default: built in)")
	regions := fs.String("regions", strings.Join(m.Regions, ","), "comma-separated RegionIds served")
	fs.StringVar(&m.BrokerRuntime, "broker-runtime", m.BrokerRuntime, `data plane: "kafka" (real brokers), "strimzi" (Kafka clusters run by Strimzi on Kubernetes) or "fake" (simulated, control plane only)`)
	m.Strimzi.register(fs)
	fs.DurationVar(&m.FakeStepDelay, "fake-broker-delay", m.FakeStepDelay, "with --broker-runtime=fake, how long each simulated broker restart takes")
	ports := fs.String("broker-ports", fmt.Sprintf("%d-%d", m.PortMin, m.PortMax), "port range for instance brokers")
	fs.StringVar(&m.AdvertisedHost, "advertised-host", m.AdvertisedHost, "host clients reach brokers on (EndPoint)")
	fs.StringVar(&m.DefaultAllowedIP, "default-allowed-ip", m.DefaultAllowedIP, "IP or CIDR block the VPC allowlists of a new instance start with (127.0.0.1/32 when empty)")
	fs.StringVar(&m.DomainHost, "domain-host", m.DomainHost, "host name shown in DomainEndpoint")
	qps := fs.String("qps", "", "per-action QPS overrides, e.g. UpgradeInstanceVersion=5,GetInstanceList=200")
	fs.BoolVar(&m.LogJSON, "log-json", m.LogJSON, "log JSON lines instead of text")
	fs.BoolVar(&m.Console, "console", m.Console, "serve the web console at /console/")
	fs.IntVar(&m.MaxInstances, "max-instances", m.MaxInstances, "most live instances the account may hold (0: no cap)")
	m.Gateway.register(fs)
	fs.StringVar(&m.PprofAddr, "pprof", m.PprofAddr, "serve /debug/pprof on this separate address (off when empty)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if m.MaxInstances < 0 {
		return fmt.Errorf("--max-instances %d: want 0 (no cap) or more", m.MaxInstances)
	}
	m.Regions = splitList(*regions)
	pr, err := broker.ParsePortRange(*ports)
	if err != nil {
		return fmt.Errorf("--broker-ports %w", err)
	}
	m.PortMin, m.PortMax = pr.Min, pr.Max
	if *qps != "" {
		m.QPS = map[string]float64{}
		for _, kv := range splitList(*qps) {
			name, val, ok := strings.Cut(kv, "=")
			v, err := strconv.ParseFloat(val, 64)
			if !ok || name == "" || err != nil || v < 0 {
				return fmt.Errorf("--qps %q: want ACTION=NUMBER", kv)
			}
			m.QPS[name] = v
		}
	}
	if v := os.Getenv("KAFKAPLANE_ACCOUNT_ID"); v != "" {
		m.AccountID = v
	}
	m.RootAccessKeyID = os.Getenv("KAFKAPLANE_ROOT_ACCESS_KEY_ID")
	m.RootAccessKeySecret = os.Getenv("KAFKAPLANE_ROOT_ACCESS_KEY_SECRET")
	m.SecretsKeyFile = os.Getenv(sealer.KeyFileEnv)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Open starts the service: store, credentials, data plane, worker and HTTP
// endpoint. It returns once the endpoint accepts connections. When it
// fails it releases whatever it had started (brokers, worker, store,
// listener) before returning.
func (m *Main) Open(ctx context.Context) (err error) {
	if err := m.Validate(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Logger == nil {
		m.logOut = newLogWriter(os.Stderr)
		var h slog.Handler = slog.NewTextHandler(m.logOut, nil)
		if m.LogJSON {
			h = slog.NewJSONHandler(m.logOut, nil)
		}
		m.Logger = slog.New(flushingHandler{h, m.logOut})
	}
	// MkdirAll in Validate leaves an existing directory's mode alone.
	if err := os.Chmod(m.DataDir, 0o700); err != nil {
		return err
	}
	if m.dirLock, err = lockDataDir(m.DataDir); err != nil {
		return err
	}
	dsn := m.DSN
	if dsn == "" {
		dsn = filepath.Join(m.DataDir, "kafkaplane.db")
	}
	keyFile, create := m.SecretsKeyFile, false
	if keyFile == "" {
		keyFile, create = filepath.Join(m.DataDir, sealer.DefaultKeyFile), true
	}
	secrets, err := sealer.LoadKeyFile(keyFile, create)
	if err != nil {
		return err
	}
	if m.DB, err = sqlstore.Open(ctx, dsn, sqlstore.WithSealer(secrets)); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	var generated bool
	m.DB.Now = m.Now
	rootKey := sqlstore.RootKey{AccountID: m.AccountID, ID: m.RootAccessKeyID, Secret: m.RootAccessKeySecret,
		File: filepath.Join(m.DataDir, "root-access-key.json")}
	if m.RootKey, generated, err = m.DB.BootstrapRootKey(ctx, rootKey); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(m.Stdout, "Generated the root AccessKey of account %s (stored in %s, shown only now):\n  AccessKeyId:     %s\n  AccessKeySecret: %s\n",
			m.AccountID, rootKey.File, m.RootKey.ID, m.RootKey.Secret)
	}
	if m.WorkerID, err = jobs.StableWorkerID(filepath.Join(m.DataDir, "worker-id")); err != nil {
		return err
	}
	if err := m.openRuntime(); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	steps := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kafkaplane_operation_steps_total",
		Help: "Operation steps finished by the worker, by step name and final status (COMPLETE or FAILED).",
	}, []string{"step", "status"})
	reg.MustRegister(steps)

	newWorker := func(rt broker.Runtime) *jobs.Worker {
		return jobs.New(jobs.Config{
			Instances:  m.DB,
			Operations: m.DB,
			Runtime:    rt,
			Catalogue:  m.Catalogue,
			Owner:      m.WorkerID,
			Logger:     m.Logger,
			Now:        m.Now,
			Observer: func(_ *kafkaplane.Operation, step kafkaplane.OperationStep) {
				steps.WithLabelValues(step.Name, string(step.Status)).Inc()
			},
		})
	}
	// The owner of the data plane restores brokers before its worker
	// runs, so that a resumed upgrade finds them up; the keeper then
	// retries those that failed. A standby does neither until it takes
	// the lease over (owner.go).
	// Scheduled scaling rules are applied by the data plane's owner, as
	// one of its duties beside the worker (owner.go).
	ruleNow := m.RuleNow
	if ruleNow == nil {
		ruleNow = m.Now
	}
	m.Scaling = jobs.NewScalingScheduler(jobs.ScalingScheduler{Instances: m.DB, Now: ruleNow,
		Logger: m.Logger.With("component", "scaling")})
	m.owner = &dataPlaneOwner{m: m, id: m.WorkerID, log: m.Logger.With("component", "dataplane"), newWorker: newWorker, addr: m.Addr,
		shared: m.BrokerRuntime == "strimzi"}
	m.owner.tryAcquire(ctx)

	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kafkaplane_dataplane_down_instances",
		Help: "Running instances whose brokers are not running; they are being restarted with back-off.",
	}, func() float64 { return float64(m.owner.downCount()) }))
	registry := openapi.NewRegistry()
	inst := &openapi.Instances{
		Store:      m.DB,
		Operations: m.DB,
		Catalogue:  m.Catalogue,
		// Every Start goes through jobs.Secure, which adds the instance's
		// stored SASL users, ACLs and allowlists to the spec.
		Runtime:          jobs.Secure(m.owner.apiRuntime(), m.DB),
		Topics:           m.DB,
		Security:         m.DB,
		SaslCredentials:  jobs.SaslCredentials,
		Ports:            &broker.PortAllocator{Store: m.DB, Range: m.brokerPorts(), Now: m.Now},
		Wake:             m.owner.wake,
		WakeScaling:      m.Scaling.Wake,
		AdvertisedHost:   m.AdvertisedHost,
		DefaultAllowedIP: m.DefaultAllowedIP,
		DomainHost:       m.DomainHost,
		Brokers:          3,
		Now:              m.Now,

		MaxInstancesPerAccount: m.MaxInstances,
	}
	inst.Register(registry)
	(&openapi.RAM{Identities: m.DB, Now: m.Now}).Register(registry)
	m.owner.guardStandby(registry)
	if err := m.DB.SeedSystemPolicies(ctx, policy.SystemPolicies(), policy.SystemPolicyDescriptions()); err != nil {
		return err
	}
	// One process on SQLite keeps throttle state in memory and nonces in
	// an append-only log in the data dir; on PostgreSQL both live in the
	// shared database so replicas enforce one limit and see every nonce.
	var limits throttle.Store = throttle.NewMemory()
	var nonces kafkaplane.NonceService = m.DB
	if m.DB.Engine() == sqlstore.EnginePostgres {
		limits = m.DB
	} else {
		nl, err := noncelog.Open(filepath.Join(m.DataDir, "nonces"), 15*time.Minute, m.Now())
		if err != nil {
			return err
		}
		m.nonceLog, nonces = nl, nl
	}
	m.Server = openapi.NewServer(openapi.Config{
		Registry:   registry,
		Keys:       m.DB,
		Nonces:     nonces,
		Authorizer: &openapi.RAMAuthorizer{Identities: m.DB},
		Limiter:    &throttle.Limiter{Store: limits, Now: m.Now},
		Regions:    m.Regions,
		QPS:        m.QPS,
		NonceCap:   m.Gateway.NoncesPerKey,
		Logger:     m.Logger,
		Metrics:    reg,
		Now:        m.Now,
	})

	mux := http.NewServeMux()
	// Everything but the endpoints below goes to the API, which
	// answers a path other than "/" with an error envelope.
	mux.Handle("/", m.Server)
	mux.HandleFunc("GET /healthz", m.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if m.caFile != "" {
		mux.HandleFunc("GET "+caURLPath, m.serveCA)
	}
	if m.Console {
		region := "cn-hangzhou"
		if len(m.Regions) > 0 && !slices.Contains(m.Regions, region) {
			region = m.Regions[0]
		}
		mux.Handle("/console/", console.New(console.Config{API: m.Server, Registry: registry, Region: region, Logger: m.Logger, Now: m.Now}))
	}
	if err := m.startPprof(); err != nil {
		return err
	}
	if m.ln, err = m.listen(reg); err != nil {
		return err
	}
	m.http = m.newHTTPServer(mux)
	m.owner.start(m.ln.Addr().String())
	go func() {
		if err := m.http.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	}()
	m.Logger.Info("kafkaplane serving", "addr", m.ln.Addr().String(), "data_dir", m.DataDir, "store", m.DB.Engine(),
		"broker_runtime", m.BrokerRuntime, "account_id", m.AccountID, "root_access_key_id", m.RootKey.ID)
	return nil
}

func (m *Main) openRuntime() error {
	switch m.BrokerRuntime {
	case "fake":
		f := broker.NewFake()
		if d := m.FakeStepDelay; d > 0 {
			f.OnCall = func(call string) {
				if strings.HasPrefix(call, "restart ") || strings.HasPrefix(call, "start ") {
					time.Sleep(d)
				}
			}
		}
		m.Runtime = f
		return nil
	case "kafka":
		return m.openKafkaRuntime()
	case "strimzi":
		return m.openStrimziRuntime()
	}
	return fmt.Errorf("--broker-runtime %q: want kafka, strimzi or fake", m.BrokerRuntime)
}

// URL is the base URL of the endpoint.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// ListenAddr is the address the endpoint listens on.
func (m *Main) ListenAddr() string { return m.ln.Addr().String() }

func (m *Main) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := m.DB.SchemaVersion(ctx); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	owner, down := m.owner.status()
	if len(down) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "degraded: the brokers of %d running instance(s) are down and being restarted\n%s\n%s\n", len(down), strings.Join(down, "\n"), owner)
		return
	}
	io.WriteString(w, "ok\n"+owner+"\n")
}

// Close stops serving, lets the in-flight operation step finish, stops the
// brokers (keeping their data) and closes the store.
//
// It releases only what was started, so it is also how a failed Open
// cleans up, and a second call does nothing.
func (m *Main) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, m.http.Shutdown(ctx))
		cancel()
	} else if m.ln != nil {
		errs = append(errs, m.ln.Close())
	}
	if m.pprof != nil {
		errs = append(errs, m.pprof.Close())
	}
	if m.owner != nil {
		errs = append(errs, m.owner.close())
	} else if m.Runtime != nil {
		errs = append(errs, m.Runtime.Close())
	}
	if m.nonceLog != nil {
		errs = append(errs, m.nonceLog.Close())
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	if m.dirLock != nil {
		errs = append(errs, m.dirLock.Close())
	}
	if m.logOut != nil {
		errs = append(errs, m.logOut.Flush())
	}
	return errors.Join(errs...)
}

func validAccountID(id string) error {
	if len(id) != 16 || strings.Trim(id, "0123456789") != "" {
		return fmt.Errorf("account id %q: want 16 digits", id)
	}
	return nil
}
