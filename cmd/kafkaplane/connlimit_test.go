package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// tightLimits gives the endpoint short timeouts and small caps.
func tightLimits(m *Main) {
	m.Gateway.ReadHeaderTimeout = time.Second
	m.Gateway.ReadTimeout = time.Second
	m.Gateway.WriteTimeout = 5 * time.Second
	m.Gateway.IdleTimeout = time.Second
	m.Gateway.MaxConns = 8
	m.Gateway.MaxConnsPerIP = 4
}

// dialFrom opens a TCP connection to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// healthz asks GET /healthz on an existing connection and reports whether
// an answer came back.
func healthz(c net.Conn) (int, error) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: kafkaplane\r\n\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// closedByServer waits (up to a generous bound that only catches "never")
// until the server closes c, draining whatever it sends first.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestSlowBodyIsCut: a client that trickles a body a byte at a time is
// cut off by the read timeout instead of holding its connection forever.
func TestSlowBodyIsCut(t *testing.T) {
	m := startMain(t, tightLimits)
	c := dialFrom(t, "127.0.0.1", m.ListenAddr())
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: kafkaplane\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
	done := make(chan bool, 1)
	go func() { done <- closedByServer(t, c) }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case closed := <-done:
			if !closed {
				t.Fatal("the server kept a trickling connection open")
			}
			return
		case <-tick.C:
			c.Write([]byte("A"))
		}
	}
}

// TestConnectionCaps: one address holding its cap of idle keep-alive
// connections has further connections closed at accept, while /healthz
// still answers other addresses; idle connections are closed after the
// idle timeout, after which the address gets in again.
func TestConnectionCaps(t *testing.T) {
	m := startMain(t, tightLimits)
	addr := m.ListenAddr()
	var idle []net.Conn
	for i := range 4 {
		c := dialFrom(t, "127.0.0.1", addr)
		if code, err := healthz(c); err != nil || code != 200 {
			t.Fatalf("idle connection %d: %d %v", i, code, err)
		}
		idle = append(idle, c)
	}
	// Over the per-IP cap: closed before any answer.
	for i := range 3 {
		c := dialFrom(t, "127.0.0.1", addr)
		if code, err := healthz(c); err == nil {
			t.Fatalf("connection %d over the per-IP cap was served (HTTP %d)", i, code)
		}
	}
	// Other addresses are served.
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		c := dialFrom(t, src, addr)
		if code, err := healthz(c); err != nil || code != 200 {
			t.Fatalf("/healthz from %s: %d %v", src, code, err)
		}
		c.Close()
	}
	// The idle timeout closes the held connections, and the address is
	// served again.
	for i, c := range idle {
		if !closedByServer(t, c) {
			t.Fatalf("idle connection %d was never closed", i)
		}
	}
	var c net.Conn
	var code int
	var err error
	for range 100 {
		// The server counts a connection closed once its goroutine
		// has closed it, which may follow the client's EOF by a moment.
		c = dialFrom(t, "127.0.0.1", addr)
		if code, err = healthz(c); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || code != 200 {
		t.Fatalf("after the idle connections closed: %d %v", code, err)
	}
}

// TestGatewayFlags: serve's flags set the limits, and caps that would let
// one address take every connection are refused.
func TestGatewayFlags(t *testing.T) {
	m := NewMain()
	err := m.ParseFlags([]string{"--read-timeout", "7s", "--write-timeout", "8s", "--idle-timeout", "9s", "--read-header-timeout", "2s",
		"--max-conns", "100", "--max-conns-per-ip", "10", "--nonces-per-key", "5000"}, io.Discard)
	g := m.Gateway
	if err != nil || g.ReadTimeout != 7*time.Second || g.WriteTimeout != 8*time.Second || g.IdleTimeout != 9*time.Second ||
		g.ReadHeaderTimeout != 2*time.Second || g.MaxConns != 100 || g.MaxConnsPerIP != 10 || g.NoncesPerKey != 5000 {
		t.Fatalf("%v %+v", err, g)
	}
	if err := NewMain().Gateway.check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, args := range [][]string{
		{"--max-conns", "10", "--max-conns-per-ip", "10"},
		{"--idle-timeout", "0"},
		{"--nonces-per-key", "0"},
	} {
		m := NewMain()
		m.Addr, m.DataDir, m.BrokerRuntime = "127.0.0.1:0", t.TempDir(), "fake"
		if err := m.ParseFlags(args, io.Discard); err != nil {
			t.Fatal(err)
		}
		m.Stdout = io.Discard
		err := m.Open(context.Background())
		m.Close()
		if err == nil || !strings.Contains(err.Error(), "must") {
			t.Errorf("%v: Open = %v", args, err)
		}
	}
}
