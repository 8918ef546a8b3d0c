package broker

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The installation CA signs the certificate of every instance's SASL_SSL
// endpoint. It is an ECDSA P-256 key made on first use and kept in the
// data dir (ca.pem, and ca-key.pem readable by the owner only); clients
// trust the endpoints by trusting ca.pem.
const (
	caCertFile   = "ca.pem"
	caKeyFile    = "ca-key.pem"
	instCertFile = "tls.pem"
	instKeyFile  = "tls-key.pem"
	caLifetime   = 10 * 365 * 24 * time.Hour
	certLifetime = 2 * 365 * 24 * time.Hour
	// certRenewBefore is how long before expiry an instance certificate
	// is replaced on the next start.
	certRenewBefore = 30 * 24 * time.Hour
)

// CACertPath is the path of the installation CA's certificate, which
// clients of SASL_SSL endpoints trust. EnsureCA makes it.
func (k *Kafka) CACertPath() string { return filepath.Join(k.cfg.DataDir, caCertFile) }

// EnsureCA makes the installation CA if there is none yet and returns the
// path of its certificate.
func (k *Kafka) EnsureCA() (string, error) {
	k.caMu.Lock()
	defer k.caMu.Unlock()
	if _, _, err := k.loadCALocked(); err != nil {
		return "", err
	}
	return k.CACertPath(), nil
}

func (k *Kafka) loadCALocked() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := k.CACertPath(), filepath.Join(k.cfg.DataDir, caKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return k.makeCALocked(certPath, keyPath)
	}
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("broker: CA key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("broker: CA in %s: %w", k.cfg.DataDir, err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("broker: CA key in %s is not ECDSA", keyPath)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func (k *Kafka) makeCALocked(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"kafkaplane"}, CommonName: "kafkaplane data plane CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	// The key is written first: a crash in between leaves no certificate
	// without its key, and the next start makes a fresh pair.
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	k.log.Info("data plane CA created", "cert", certPath)
	return cert, key, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// certHosts are the names an instance certificate covers: the advertised
// host, 127.0.0.1 and localhost.
func (k *Kafka) certHosts() (ips []net.IP, names []string) {
	ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	names = []string{"localhost"}
	if ip := net.ParseIP(k.cfg.AdvertisedHost); ip != nil {
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	} else if !slices.Contains(names, k.cfg.AdvertisedHost) {
		names = append(names, k.cfg.AdvertisedHost)
	}
	return ips, names
}

// instanceCert returns the SASL_SSL certificate of an instance, kept in
// its directory so it is the same across restarts and upgrades; a missing,
// expiring or foreign (not signed by the current CA, or not covering the
// advertised host) one is replaced.
func (k *Kafka) instanceCert(instanceID string) (*tls.Certificate, error) {
	dir, err := k.instanceDir(instanceID)
	if err != nil {
		return nil, err
	}
	k.caMu.Lock()
	defer k.caMu.Unlock()
	ca, caKey, err := k.loadCALocked()
	if err != nil {
		return nil, err
	}
	certPath, keyPath := filepath.Join(dir, instCertFile), filepath.Join(dir, instKeyFile)
	if c, ok := k.usableCert(certPath, keyPath, ca); ok {
		return c, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ips, names := k.certHosts()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"kafkaplane"}, CommonName: instanceID},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  ips,
		DNSNames:     names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (k *Kafka) usableCert(certPath, keyPath string, ca *x509.Certificate) (*tls.Certificate, bool) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, false
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, false
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, false
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil || time.Until(leaf.NotAfter) < certRenewBefore || !bytes.Equal(leaf.RawIssuer, ca.RawSubject) ||
		leaf.CheckSignatureFrom(ca) != nil {
		return nil, false
	}
	ips, names := k.certHosts()
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return nil, false
		}
	}
	for _, n := range names {
		if !slices.Contains(leaf.DNSNames, n) {
			return nil, false
		}
	}
	return &c, true
}
