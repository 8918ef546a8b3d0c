package broker

import (
	"net"
	"net/netip"
	"strings"
)

// parseAllowed reads one allowlist entry: a CIDR ("10.0.0.0/8") or a
// single address ("192.168.1.7", meaning /32 or /128).
func parseAllowed(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, invalid("allowlist entry %q: %v", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, invalid("allowlist entry %q is neither an address nor a CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// admits reports whether a connection from remote may use listener l: the
// listener must be open under this security (SASL_PLAINTEXT only with ACLs
// enabled, SASL_SSL only with a certificate) and the source address must
// be on the listener's allowlist.
func (s *security) admits(l Listener, remote net.Addr) bool {
	switch l {
	case ListenerSasl:
		if !s.aclEnabled {
			return false
		}
	case ListenerSaslSSL:
		if s.cert == nil {
			return false
		}
	}
	prefixes, listed := s.allow[l]
	if !listed {
		return true
	}
	addr, ok := peerAddr(remote)
	if !ok {
		return false
	}
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// peerAddr is the IP address of a TCP peer, IPv4-mapped addresses unmapped
// so that 0.0.0.0/0 and 10.0.0.0/8 match them.
func peerAddr(a net.Addr) (netip.Addr, bool) {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(ta.IP)
		return ip.Unmap(), ok
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// refuse ends a connection the allowlist does not admit without reading a
// byte from it: the socket is reset, which clients see at once as a
// connection error instead of waiting for an answer.
func refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
