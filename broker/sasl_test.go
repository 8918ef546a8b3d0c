package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var allMechanisms = []string{broker.MechanismPlain, broker.MechanismScramSHA256, broker.MechanismScramSHA512}

func saslSecurity(t testing.TB) broker.Security {
	return broker.Security{
		ACLEnabled: true,
		Users:      []broker.SaslUser{mustUser(t, "alice", "alice-secret", allMechanisms...)},
		ACLs:       allowAll("User:alice"),
	}
}

// TestSaslClients logs in with franz-go and sarama over every mechanism on
// both versions, then produces and consumes through the SASL listener.
func TestSaslClients(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			si := startSecure(t, k, "alikafka_post-sasl"+strings.ReplaceAll(version, ".", ""), version, saslSecurity(t))
			createTopic(t, si.plain, version, "s", 3)
			sv := sarama.V0_10_2_0
			if version == "2.2.0" {
				sv = sarama.V2_2_0_0
			}
			n := 0
			for _, mech := range allMechanisms {
				cl := newClient(t, si.sasl, append(kgoSASL(version, mech, "alice", "alice-secret"), kgo.DisableIdempotentWrite())...)
				produceN(t, cl, "s", "kgo-"+mech, 10, version == "2.2.0")
				// Metadata on the SASL listener names the SASL ports.
				md, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range md.Brokers {
					if !slices.Contains(si.sasl, net.JoinHostPort(b.Host, fmt.Sprint(b.Port))) {
						t.Fatalf("%s: metadata on the SASL listener advertises %s:%d", mech, b.Host, b.Port)
					}
				}
				cl.Close()

				p, err := sarama.NewSyncProducer(si.sasl, saramaSASLConfig(sv, mech, "alice", "alice-secret"))
				if err != nil {
					t.Fatalf("sarama %s: %v", mech, err)
				}
				for i := range 10 {
					if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "s", Value: sarama.StringEncoder(fmt.Sprintf("sarama-%s-%d", mech, i))}); err != nil {
						t.Fatalf("sarama %s: %v", mech, err)
					}
				}
				p.Close()
				n += 20
			}
			recs := consumeAll(t, si.sasl, "s", n, kgoSASL(version, broker.MechanismScramSHA256, "alice", "alice-secret")...)
			if len(recs) != n {
				t.Fatalf("consumed %d of %d", len(recs), n)
			}
		})
	}
}

// TestSaslFailures checks what each version answers to a wrong password,
// an unknown mechanism and a request before login.
func TestSaslFailures(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			si := startSecure(t, k, "alikafka_post-saslf"+strings.ReplaceAll(version, ".", ""), version, saslSecurity(t))
			addr := si.sasl[0]

			// A request other than ApiVersions or SaslHandshake before
			// login: the connection is closed without an answer.
			rc := dialRaw(t, addr)
			rc.request(kmsg.NewPtrApiVersionsRequest())
			rc.send(kmsg.NewPtrMetadataRequest())
			if !rc.closed() {
				t.Fatal("metadata before login was not refused by closing")
			}

			// An unknown mechanism: UNSUPPORTED_SASL_MECHANISM listing the
			// enabled ones, then the close.
			rc = dialRaw(t, addr)
			hs := kmsg.NewPtrSASLHandshakeRequest()
			hs.Mechanism = "GSSAPI"
			resp := rc.request(hs).(*kmsg.SASLHandshakeResponse)
			if resp.ErrorCode != kerr.UnsupportedSaslMechanism.Code || !slices.Equal(resp.SupportedMechanisms, allMechanisms) {
				t.Fatalf("GSSAPI handshake: %+v", resp)
			}
			if !rc.closed() {
				t.Fatal("connection stayed open after an unsupported mechanism")
			}

			// A wrong PLAIN password over raw tokens (SaslHandshake v0):
			// every version closes without answering.
			rc = dialRaw(t, addr)
			hs = kmsg.NewPtrSASLHandshakeRequest()
			hs.Mechanism = broker.MechanismPlain
			if r := rc.request(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
				t.Fatalf("handshake: %v", kerr.ErrorForCode(r.ErrorCode))
			}
			rc.rawToken([]byte("\x00alice\x00wrong"))
			if !rc.closed() {
				t.Fatal("wrong raw PLAIN password got an answer")
			}

			// franz-go with a wrong password fails its requests.
			for _, mech := range allMechanisms {
				cl := newClient(t, si.sasl, append(kgoSASL(version, mech, "alice", "wrong"), kgo.RetryTimeout(2*time.Second), kgo.RequestRetries(1))...)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
				cancel()
				cl.Close()
				if err == nil {
					t.Fatalf("%s: wrong password accepted", mech)
				}
				if version == "2.2.0" && !errors.Is(err, kerr.SaslAuthenticationFailed) {
					t.Fatalf("%s: wrong password gave %v, want SASL_AUTHENTICATION_FAILED", mech, err)
				}
			}
			if version == "0.10.2" {
				// SaslHandshake v1 does not exist there: closed.
				rc = dialRaw(t, addr)
				hs = kmsg.NewPtrSASLHandshakeRequest()
				hs.Version = 1
				hs.Mechanism = broker.MechanismPlain
				rc.send(hs)
				if !rc.closed() {
					t.Fatal("0.10.2 answered SaslHandshake v1")
				}
				return
			}

			// 2.2.0, SaslHandshake v1 then SaslAuthenticate: error 58 with
			// Kafka's message, then the close.
			for _, c := range []struct{ mech, token, msg string }{
				{broker.MechanismPlain, "\x00alice\x00wrong", "Authentication failed: Invalid username or password"},
				{broker.MechanismPlain, "\x00nobody\x00alice-secret", "Authentication failed: Invalid username or password"},
				{broker.MechanismScramSHA256, "n,,n=nobody,r=abcdefgh", "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"},
			} {
				rc = dialRaw(t, addr)
				hs = kmsg.NewPtrSASLHandshakeRequest()
				hs.Version = 1
				hs.Mechanism = c.mech
				if r := rc.request(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
					t.Fatalf("handshake: %v", kerr.ErrorForCode(r.ErrorCode))
				}
				// Between handshake and authenticate only SaslAuthenticate
				// is allowed; checked on a fresh connection below.
				au := kmsg.NewPtrSASLAuthenticateRequest()
				au.Version = 1
				au.SASLAuthBytes = []byte(c.token)
				r := rc.request(au).(*kmsg.SASLAuthenticateResponse)
				if r.ErrorCode != kerr.SaslAuthenticationFailed.Code || r.ErrorMessage == nil || *r.ErrorMessage != c.msg {
					t.Fatalf("%s %q: got code %d message %v", c.mech, c.token, r.ErrorCode, r.ErrorMessage)
				}
				if !rc.closed() {
					t.Fatal("connection stayed open after a failed login")
				}
			}
			rc = dialRaw(t, addr)
			hs = kmsg.NewPtrSASLHandshakeRequest()
			hs.Version = 1
			hs.Mechanism = broker.MechanismPlain
			rc.request(hs)
			rc.send(kmsg.NewPtrMetadataRequest())
			if !rc.closed() {
				t.Fatal("metadata between handshake and authenticate was answered")
			}

			// After a successful login, a second handshake is ILLEGAL_SASL_STATE.
			rc = dialRaw(t, addr)
			hs = kmsg.NewPtrSASLHandshakeRequest()
			hs.Version = 1
			hs.Mechanism = broker.MechanismPlain
			rc.request(hs)
			au := kmsg.NewPtrSASLAuthenticateRequest()
			au.SASLAuthBytes = []byte("\x00alice\x00alice-secret")
			if r := rc.request(au).(*kmsg.SASLAuthenticateResponse); r.ErrorCode != 0 {
				t.Fatalf("login: %v", kerr.ErrorForCode(r.ErrorCode))
			}
			if r := rc.request(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != kerr.IllegalSaslState.Code {
				t.Fatalf("second handshake: code %d", r.ErrorCode)
			}
		})
	}
}

// TestAllowlistAtAccept dials from 127.0.0.2, which the allowlist first
// leaves out and then holds.
func TestAllowlistAtAccept(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	sec := saslSecurity(t)
	sec.Allowlists = map[broker.Listener][]string{
		broker.ListenerPlaintext: {"127.0.0.1/32"},
		broker.ListenerSasl:      {"127.0.0.1"},
	}
	si := startSecure(t, k, "alikafka_post-allow", "2.2.0", sec)
	from2 := kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
		return d.DialContext(ctx, network, host)
	})
	metadata := func(addrs []string, opts ...kgo.Opt) error {
		cl := newClient(t, addrs, append(opts, from2, kgo.RetryTimeout(time.Second), kgo.RequestRetries(0))...)
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		return err
	}
	saslOpts := kgoSASL("2.2.0", broker.MechanismScramSHA256, "alice", "alice-secret")

	// A connection from an allowed source that is open before the change
	// stays open after it.
	kept := newClient(t, si.plain)
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), kept); err != nil {
		t.Fatal(err)
	}

	// Refused before any byte: the connection is reset right after the
	// kernel accepted it (the reset may even beat the dial's return), so
	// the first read fails with no data although nothing was sent.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	if c, err := d.Dial("tcp", si.plain[0]); err == nil {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		if n, err := c.Read(b[:]); n != 0 || err == nil || isTimeout(err) {
			t.Fatalf("refused connection read %d bytes, err %v", n, err)
		}
		c.Close()
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("dial from 127.0.0.2: %v", err)
	}
	if err := metadata(si.plain); err == nil {
		t.Fatal("127.0.0.2 reached the plaintext listener")
	}
	if err := metadata(si.sasl, saslOpts...); err == nil {
		t.Fatal("127.0.0.2 reached the SASL listener")
	}

	sec.Allowlists[broker.ListenerPlaintext] = []string{"127.0.0.1/32", "127.0.0.2/31"}
	if err := k.ApplySecurity(context.Background(), si.id, sec); err != nil {
		t.Fatal(err)
	}
	if err := metadata(si.plain); err != nil {
		t.Fatalf("127.0.0.2 refused after it was allowed: %v", err)
	}
	if err := metadata(si.sasl, saslOpts...); err == nil {
		t.Fatal("the plaintext allowlist opened the SASL listener")
	}
	sec.Allowlists[broker.ListenerSasl] = []string{"0.0.0.0/0"}
	if err := k.ApplySecurity(context.Background(), si.id, sec); err != nil {
		t.Fatal(err)
	}
	if err := metadata(si.sasl, saslOpts...); err != nil {
		t.Fatalf("SASL listener after 0.0.0.0/0: %v", err)
	}

	// Invalid input changes nothing.
	bad := sec
	bad.Allowlists = map[broker.Listener][]string{broker.ListenerPlaintext: {"300.1.1.1/8"}}
	if err := k.ApplySecurity(context.Background(), si.id, bad); !errors.Is(err, broker.ErrInvalidSecurity) {
		t.Fatalf("bad CIDR: %v", err)
	}
	if err := metadata(si.plain); err != nil {
		t.Fatalf("a refused change altered the allowlist: %v", err)
	}

	// With ACLs off the SASL_PLAINTEXT endpoint takes no connections.
	sec.ACLEnabled = false
	if err := k.ApplySecurity(context.Background(), si.id, sec); err != nil {
		t.Fatal(err)
	}
	if err := metadata(si.sasl, saslOpts...); err == nil {
		t.Fatal("SASL_PLAINTEXT admitted with ACLs disabled")
	}
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), kept); err != nil {
		t.Fatalf("the connection open before the changes: %v", err)
	}
}
