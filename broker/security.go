package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/kafkaplane/kafkaplane"
)

// The data-plane security types belong to the domain (package
// kafkaplane); these names keep the broker package's spelling.
type (
	// Listener is a kind of endpoint every broker of an instance may have.
	Listener = kafkaplane.Listener
	// Security is an instance's data-plane security.
	Security = kafkaplane.Security
	// TLSCert is a PEM-encoded certificate chain and its private key.
	TLSCert = kafkaplane.TLSCert
)

// Listener kinds.
const (
	ListenerPlaintext = kafkaplane.ListenerPlaintext
	ListenerSasl      = kafkaplane.ListenerSasl
	ListenerSaslSSL   = kafkaplane.ListenerSaslSSL
)

// Listeners lists every listener kind.
var Listeners = kafkaplane.Listeners

// security is a Security compiled for the data plane's per-connection and
// per-request checks. It is immutable once built and swapped atomically.
type security struct {
	aclEnabled bool
	users      map[string]*SaslUser
	authz      *authorizer
	// allow holds the parsed allowlist per listener; a listener without
	// an entry accepts every source.
	allow map[Listener][]netip.Prefix
	cert  *tls.Certificate
}

// openSecurity is what an instance without any Security runs with:
// everyone may reach the plaintext endpoint, no SASL endpoint admits.
var openSecurity = &security{authz: &authorizer{}}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSecurity, fmt.Sprintf(format, args...))
}

// compileSecurity validates s and builds its compiled form; cert, when
// non-nil, is used if s carries no certificate of its own.
func compileSecurity(s Security, cert *tls.Certificate) (*security, error) {
	out := &security{aclEnabled: s.ACLEnabled, users: map[string]*SaslUser{}, cert: cert}
	for i := range s.Users {
		u := s.Users[i]
		if u.Name == "" {
			return nil, invalid("a SASL user has no name")
		}
		if _, dup := out.users[u.Name]; dup {
			return nil, invalid("SASL user %q appears twice", u.Name)
		}
		if err := validateUser(&u); err != nil {
			return nil, err
		}
		out.users[u.Name] = &u
	}
	authz, err := newAuthorizer(s.ACLs)
	if err != nil {
		return nil, err
	}
	out.authz = authz
	if s.Allowlists != nil {
		out.allow = map[Listener][]netip.Prefix{}
		for l, cidrs := range s.Allowlists {
			if !slices.Contains(Listeners, l) {
				return nil, invalid("unknown listener %q", l)
			}
			prefixes := make([]netip.Prefix, 0, len(cidrs))
			for _, c := range cidrs {
				p, err := parseAllowed(c)
				if err != nil {
					return nil, err
				}
				prefixes = append(prefixes, p)
			}
			out.allow[l] = prefixes
		}
	}
	if s.TLS != nil {
		c, err := tls.X509KeyPair(s.TLS.CertPEM, s.TLS.KeyPEM)
		if err != nil {
			return nil, invalid("TLS certificate: %v", err)
		}
		out.cert = &c
	}
	return out, nil
}

// tlsConfig is the server side of the SASL_SSL endpoint; the certificate
// is looked up per handshake so a new one applies to the next connection.
func (i *instance) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := i.security().cert; c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate for the SASL_SSL endpoint")
		},
	}
}

// security returns the instance's current compiled security.
func (i *instance) security() *security {
	if s := i.sec.Load(); s != nil {
		return s
	}
	return openSecurity
}

func portAt(ports []int, i int) int {
	if i < len(ports) {
		return ports[i]
	}
	return 0
}

// portFor is the port broker b advertises to a client of listener l: its
// port of that kind, or the plaintext one if it has none.
func (b *frontBroker) portFor(l Listener) int {
	if p := b.portOf(l); p != 0 {
		return p
	}
	return b.port
}

// compileFor compiles sec for an instance; an instance with SASL_SSL ports
// and no certificate of its own gets one issued from the installation CA.
func (k *Kafka) compileFor(instanceID string, sec Security, needCert bool) (*security, error) {
	var cert *tls.Certificate
	if sec.TLS == nil && needCert {
		c, err := k.instanceCert(instanceID)
		if err != nil {
			return nil, err
		}
		cert = c
	}
	return compileSecurity(sec, cert)
}

// ApplySecurity replaces a running instance's security; see Runtime.
func (k *Kafka) ApplySecurity(ctx context.Context, instanceID string, sec Security) error {
	inst, err := k.get(instanceID)
	if err != nil {
		return err
	}
	needCert := slices.ContainsFunc(inst.brokers, func(b *frontBroker) bool { return b.sslPort != 0 })
	s, err := k.compileFor(instanceID, sec, needCert)
	if err != nil {
		return err
	}
	inst.sec.Store(s)
	return nil
}
