package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves the runtime profiles under /debug/pprof/ on their own
// listener at addr, apart from the API endpoint, so that profiling is
// never reachable through the public address. It is off unless --pprof is
// given.
func (m *Main) startPprof() error {
	if m.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.PprofAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.pprof.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("pprof server stopped", "err", err)
		}
	}()
	m.Logger.Info("serving profiles", "addr", ln.Addr().String()+"/debug/pprof/")
	return nil
}
