package broker_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// secureInstance is a started instance with all three listeners.
type secureInstance struct {
	id                string
	plain, sasl, ssl  []string
	plainPorts, sasls []int
}

func addrsOf(ports []int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	return out
}

func startSecure(t testing.TB, k *broker.Kafka, id, version string, sec broker.Security) secureInstance {
	t.Helper()
	ports := freePorts(t, 9)
	spec := broker.Spec{InstanceID: id, Version: version, Ports: ports[0:3], SaslPorts: ports[3:6], SslPorts: ports[6:9], Security: sec}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := k.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	return secureInstance{id: id, plain: addrsOf(ports[0:3]), sasl: addrsOf(ports[3:6]), ssl: addrsOf(ports[6:9]),
		plainPorts: ports[0:3], sasls: ports[3:6]}
}

func mustUser(t testing.TB, name, password string, mechanisms ...string) broker.SaslUser {
	t.Helper()
	u, err := broker.NewSaslUser(name, password, mechanisms...)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// allowAll grants principal every operation on every topic, group and the
// cluster.
func allowAll(principal string) []broker.ACL {
	var out []broker.ACL
	for _, rt := range []broker.ResourceType{broker.ResourceTopic, broker.ResourceGroup, broker.ResourceCluster} {
		out = append(out, broker.ACL{Principal: principal, ResourceType: rt, ResourceName: "*",
			PatternType: broker.PatternLiteral, Operation: broker.OpAll, Permission: broker.Allow, Host: "*"})
	}
	return out
}

func saslMechanism(mechanism, user, password string) sasl.Mechanism {
	switch mechanism {
	case broker.MechanismPlain:
		return plain.Auth{User: user, Pass: password}.AsMechanism()
	case broker.MechanismScramSHA256:
		return scram.Auth{User: user, Pass: password}.AsSha256Mechanism()
	}
	return scram.Auth{User: user, Pass: password}.AsSha512Mechanism()
}

// kgoSASL is the franz-go options for a SASL client of version.
func kgoSASL(version, mechanism, user, password string) []kgo.Opt {
	return []kgo.Opt{kgo.SASL(saslMechanism(mechanism, user, password)), kgo.MaxVersions(versionOf(version))}
}

// saramaSCRAM adapts franz-go's SCRAM client to sarama's interface, so
// sarama runs a SCRAM exchange written independently of the broker's.
type saramaSCRAM struct {
	mech sasl.Mechanism
	sess sasl.Session
	done bool
	name string
}

func (s *saramaSCRAM) Begin(user, password, _ string) error {
	s.mech = saslMechanism(s.name, user, password)
	return nil
}

func (s *saramaSCRAM) Step(challenge string) (string, error) {
	if s.sess == nil {
		sess, first, err := s.mech.Authenticate(context.Background(), "")
		s.sess = sess
		return string(first), err
	}
	done, next, err := s.sess.Challenge([]byte(challenge))
	s.done = done
	return string(next), err
}

func (s *saramaSCRAM) Done() bool { return s.done }

func saramaSASLConfig(v sarama.KafkaVersion, mechanism, user, password string) *sarama.Config {
	cfg := saramaConfig(v)
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.User = user
	cfg.Net.SASL.Password = password
	cfg.Net.SASL.Mechanism = sarama.SASLMechanism(mechanism)
	if v == sarama.V0_10_2_0 {
		// 0.10.2 knows only SaslHandshake v0, which sarama sends without
		// an ApiVersions request first.
		cfg.Net.SASL.Version = sarama.SASLHandshakeV0
		cfg.ApiVersionsRequest = false
	}
	if mechanism != broker.MechanismPlain {
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &saramaSCRAM{name: mechanism} }
	}
	return cfg
}

// caPool loads the runtime's installation CA.
func caPool(t testing.TB, k *broker.Kafka) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(k.CACertPath())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	return pool
}

func kgoTLS(t testing.TB, k *broker.Kafka) kgo.Opt {
	return kgo.DialTLSConfig(&tls.Config{RootCAs: caPool(t, k), ServerName: "127.0.0.1"})
}

// rawConn is a hand-driven Kafka connection for checking exact answers.
type rawConn struct {
	t    testing.TB
	c    net.Conn
	r    *bufio.Reader
	corr int32
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}
}

// send writes req with a v1 header.
func (rc *rawConn) send(req kmsg.Request) int32 {
	rc.corr++
	body := req.AppendTo(nil)
	cid := "raw"
	buf := binary.BigEndian.AppendUint32(nil, 0)
	buf = binary.BigEndian.AppendUint16(buf, uint16(req.Key()))
	buf = binary.BigEndian.AppendUint16(buf, uint16(req.GetVersion()))
	buf = binary.BigEndian.AppendUint32(buf, uint32(rc.corr))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(cid)))
	buf = append(buf, cid...)
	buf = append(buf, body...)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	if _, err := rc.c.Write(buf); err != nil {
		rc.t.Fatal(err)
	}
	return rc.corr
}

// request sends req and decodes its answer.
func (rc *rawConn) request(req kmsg.Request) kmsg.Response {
	rc.t.Helper()
	rc.send(req)
	frame, err := rc.frame()
	if err != nil {
		rc.t.Fatalf("key %d: %v", req.Key(), err)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := resp.ReadFrom(frame[4:]); err != nil {
		rc.t.Fatal(err)
	}
	return resp
}

func (rc *rawConn) frame() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(rc.r, size[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(rc.r, b)
	return b, err
}

func (rc *rawConn) rawToken(tok []byte) {
	buf := binary.BigEndian.AppendUint32(nil, uint32(len(tok)))
	if _, err := rc.c.Write(append(buf, tok...)); err != nil {
		rc.t.Fatal(err)
	}
}

// closed reports whether the server ended the connection without sending
// anything more.
func (rc *rawConn) closed() bool {
	var b [1]byte
	_, err := rc.r.Read(b[:])
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
