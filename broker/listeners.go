package broker

import (
	"bufio"
	"crypto/tls"
	"net"
	"time"
)

// authTimeout bounds the TLS handshake and SASL exchange of a new
// connection, so a client that stalls does not hold a goroutine forever.
const authTimeout = 10 * time.Second

// session is what a connection's listener and login decided about it.
type session struct {
	// kind is the listener the client connected to; Metadata and
	// FindCoordinator answer with that listener's addresses.
	kind Listener
	// user is the SASL user; empty on the plaintext listener.
	user string
	// host is the client's address as ACL Host fields name it.
	host string
	// reader holds what was read during the login, if anything.
	reader *bufio.Reader
}

// admit decides a new connection before any Kafka byte is read: a source
// the listener's allowlist does not hold, or a listener that is closed
// under the instance's security, is reset at once. SASL listeners then
// run TLS (SASL_SSL) and the SASL login before the connection is served.
func (b *frontBroker) admit(c net.Conn, kind Listener) {
	sec := b.inst.security()
	if !sec.admits(kind, c.RemoteAddr()) {
		b.inst.log.Debug("connection refused by allowlist", "broker", b.id, "listener", kind, "remote", c.RemoteAddr().String())
		refuse(c)
		return
	}
	s := session{kind: kind}
	if a, ok := peerAddr(c.RemoteAddr()); ok {
		s.host = a.String()
	}
	if kind != ListenerPlaintext {
		c.SetDeadline(time.Now().Add(authTimeout))
		if kind == ListenerSaslSSL {
			tc := tls.Server(c, b.inst.tlsConfig())
			if err := tc.Handshake(); err != nil {
				b.inst.log.Debug("TLS handshake failed", "broker", b.id, "remote", c.RemoteAddr().String(), "err", err)
				c.Close()
				return
			}
			c = tc
		}
		s.reader = bufio.NewReaderSize(c, 32<<10)
		user, err := b.authenticate(c, s.reader, sec)
		if err != nil {
			b.inst.log.Info("SASL authentication failed", "broker", b.id, "listener", kind, "remote", c.RemoteAddr().String(), "err", err)
			c.Close()
			return
		}
		c.SetDeadline(time.Time{})
		s.user = user
	}
	b.mu.Lock()
	upAddr := b.inst.upstreamAddr(b.id)
	b.mu.Unlock()
	b.serve(c, upAddr, s)
}

// tcpConn is the TCP connection under c, also beneath TLS.
func tcpConn(c net.Conn) *net.TCPConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	tc, _ := c.(*net.TCPConn)
	return tc
}
