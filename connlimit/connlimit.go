// Package connlimit caps the connections a listener keeps open, in total and
// per source IP address. A connection over either cap is closed as soon as
// it is accepted, before any byte of it is read, so that idle or trickling
// clients can hold at most the caps' worth of file descriptors and
// goroutines. The per-IP cap is below the total, so one address cannot take
// every slot: health checks and other clients still get in.
package connlimit

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Listener is a net.Listener that enforces the caps.
type Listener struct {
	net.Listener
	total, perIP int

	mu   sync.Mutex
	open int
	byIP map[string]int

	refusedTotal, refusedPerIP atomic.Uint64
}

// New wraps l. total and perIP must be positive, and perIP smaller than
// total.
func New(l net.Listener, total, perIP int) (*Listener, error) {
	if err := Check(total, perIP); err != nil {
		return nil, err
	}
	return &Listener{Listener: l, total: total, perIP: perIP, byIP: map[string]int{}}, nil
}

// Check reports whether total and perIP are valid caps.
func Check(total, perIP int) error {
	if total < 2 || perIP < 1 {
		return fmt.Errorf("connection caps: total %d and per-IP %d must be at least 2 and 1", total, perIP)
	}
	if perIP >= total {
		return errors.New("connection caps: the per-IP cap must be below the total, or one address could take every connection")
	}
	return nil
}

// Accept returns the next connection within the caps, closing those over
// them.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := sourceIP(c.RemoteAddr())
		if l.acquire(ip) {
			return &conn{Conn: c, l: l, ip: ip}, nil
		}
		c.Close()
	}
}

func (l *Listener) acquire(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.total:
		l.refusedTotal.Add(1)
		return false
	case l.byIP[ip] >= l.perIP:
		l.refusedPerIP.Add(1)
		return false
	}
	l.open++
	l.byIP[ip]++
	return true
}

func (l *Listener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

// Open reports how many accepted connections are open.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Refused reports how many connections were closed at accept because of
// the total cap and because of the per-IP cap.
func (l *Listener) Refused() (total, perIP uint64) {
	return l.refusedTotal.Load(), l.refusedPerIP.Load()
}

type conn struct {
	net.Conn
	l    *Listener
	ip   string
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

func sourceIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// DefaultTotal is the default total cap: 1024, or half the process's limit
// on open files when that is lower, leaving the other half to the store,
// the brokers and their clients.
func DefaultTotal() int {
	const ceiling = 1024
	if n := fileLimit(); n > 0 && n/2 < ceiling {
		return max(int(n/2), 2)
	}
	return ceiling
}
