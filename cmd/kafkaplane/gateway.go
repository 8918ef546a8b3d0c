package main

import (
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kafkaplane/kafkaplane/connlimit"
	"github.com/kafkaplane/kafkaplane/openapi"
	"github.com/prometheus/client_golang/prometheus"
)

// GatewayLimits bound what clients can hold on the endpoint: how long a
// connection may take to send a request or read an answer, how long it may
// idle between requests, how many connections may be open, and how many
// unexpired signature nonces one AccessKey may hold.
type GatewayLimits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration // the whole request, body included
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxConns          int
	MaxConnsPerIP     int
	NoncesPerKey      int
}

// defaultGatewayLimits are serve's defaults, documented in the README.
func defaultGatewayLimits() GatewayLimits {
	total := connlimit.DefaultTotal()
	return GatewayLimits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxConns:          total,
		MaxConnsPerIP:     min(256, total/2),
		NoncesPerKey:      openapi.DefaultNoncesPerKey,
	}
}

func (g *GatewayLimits) register(fs *flag.FlagSet) {
	fs.DurationVar(&g.ReadHeaderTimeout, "read-header-timeout", g.ReadHeaderTimeout, "time a client has to send a request's headers")
	fs.DurationVar(&g.ReadTimeout, "read-timeout", g.ReadTimeout, "time a client has to send a whole request, body included")
	fs.DurationVar(&g.WriteTimeout, "write-timeout", g.WriteTimeout, "time to answer a request once it is read")
	fs.DurationVar(&g.IdleTimeout, "idle-timeout", g.IdleTimeout, "how long an idle keep-alive connection is kept")
	fs.IntVar(&g.MaxConns, "max-conns", g.MaxConns, "open connections to the endpoint; more are closed at accept")
	fs.IntVar(&g.MaxConnsPerIP, "max-conns-per-ip", g.MaxConnsPerIP, "open connections from one source IP; must be below --max-conns")
	fs.IntVar(&g.NoncesPerKey, "nonces-per-key", g.NoncesPerKey, "unexpired signature nonces one AccessKey may hold; beyond it the key's requests get Throttling.User")
}

func (g GatewayLimits) check() error {
	if g.ReadHeaderTimeout <= 0 || g.ReadTimeout <= 0 || g.WriteTimeout <= 0 || g.IdleTimeout <= 0 {
		return errors.New("--read-header-timeout, --read-timeout, --write-timeout and --idle-timeout must be positive")
	}
	if g.NoncesPerKey < 1 {
		return errors.New("--nonces-per-key must be positive")
	}
	return connlimit.Check(g.MaxConns, g.MaxConnsPerIP)
}

// listen opens the endpoint's listener with the connection caps, and
// exports how many connections they refused.
func (m *Main) listen(reg prometheus.Registerer) (net.Listener, error) {
	g := m.Gateway
	if err := g.check(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return nil, err
	}
	cl, err := connlimit.New(ln, g.MaxConns, g.MaxConnsPerIP)
	if err != nil {
		ln.Close()
		return nil, err
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kafkaplane_http_connections_open",
			Help: "Open connections to the API endpoint.",
		}, func() float64 { return float64(cl.Open()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "kafkaplane_http_connections_refused_total",
			Help:        "Connections closed at accept because a connection cap was reached.",
			ConstLabels: prometheus.Labels{"cap": "total"},
		}, func() float64 { t, _ := cl.Refused(); return float64(t) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "kafkaplane_http_connections_refused_total",
			Help:        "Connections closed at accept because a connection cap was reached.",
			ConstLabels: prometheus.Labels{"cap": "per_ip"},
		}, func() float64 { _, p := cl.Refused(); return float64(p) }),
	)
	return cl, nil
}

// newHTTPServer is the endpoint's server with every timeout set, so that
// neither idle keep-alives nor trickled requests are held forever.
func (m *Main) newHTTPServer(h http.Handler) *http.Server {
	g := m.Gateway
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: g.ReadHeaderTimeout,
		ReadTimeout:       g.ReadTimeout,
		WriteTimeout:      g.WriteTimeout,
		IdleTimeout:       g.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
}
