package broker_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kgo"
)

// leafFingerprint is the SHA-256 of the certificate a TLS endpoint shows.
func leafFingerprint(t *testing.T, k *broker.Kafka, addr string) [32]byte {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, k), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
}

// TestSaslSSL logs in over TLS with franz-go and kcat on both versions,
// trusting only the installation CA, and checks that the certificate and
// CA outlive a restart of the instance.
func TestSaslSSL(t *testing.T) {
	dir := t.TempDir()
	k := newRuntime(t, dir)
	defer k.Close()
	_, kcatErr := exec.LookPath("kcat")
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			sec := saslSecurity(t)
			sec.ACLEnabled = false // an internet instance without ACLs: any user may do anything
			id := "alikafka_post-ssl" + strings.ReplaceAll(version, ".", "")
			si := startSecure(t, k, id, version, sec)
			createTopic(t, si.plain, version, "tls", 3)
			for _, mech := range allMechanisms {
				cl := newClient(t, si.ssl, append(kgoSASL(version, mech, "alice", "alice-secret"), kgoTLS(t, k), kgo.DisableIdempotentWrite())...)
				produceN(t, cl, "tls", "kgo-"+mech, 10, false)
				cl.Close()
			}
			// A client that does not trust the CA is refused by the TLS
			// handshake itself.
			if _, err := tls.Dial("tcp", si.ssl[0], &tls.Config{ServerName: "127.0.0.1"}); err == nil {
				t.Fatal("TLS handshake succeeded without the CA")
			}
			n := 30
			if kcatErr == nil {
				extra := []string{"-X", "api.version.request=true"}
				if version == "0.10.2" {
					extra = append(extra, "-X", "broker.version.fallback=0.10.2")
				}
				for _, c := range []struct {
					addrs []string
					proto string
					mech  string
				}{
					{si.ssl, "sasl_ssl", broker.MechanismScramSHA256},
					{si.ssl, "sasl_ssl", broker.MechanismPlain},
				} {
					args := append([]string{"-b", strings.Join(c.addrs, ","), "-X", "security.protocol=" + c.proto,
						"-X", "sasl.mechanisms=" + c.mech, "-X", "sasl.username=alice", "-X", "sasl.password=alice-secret",
						"-X", "ssl.ca.location=" + k.CACertPath()}, extra...)
					var lines []string
					for i := range 10 {
						lines = append(lines, fmt.Sprintf("kcat-%s-%d", c.mech, i))
					}
					kcat(t, strings.Join(lines, "\n")+"\n", append([]string{"-P", "-t", "tls"}, args...)...)
					n += 10
					if c.mech == broker.MechanismPlain {
						out := kcat(t, "", append([]string{"-C", "-t", "tls", "-o", "beginning", "-e", "-q"}, args...)...)
						if got := strings.Count(out, "\n"); got != n {
							t.Fatalf("kcat over %s consumed %d of %d", c.proto, got, n)
						}
					}
				}
			}
			recs := consumeAll(t, si.ssl, "tls", n, append(kgoSASL(version, broker.MechanismScramSHA512, "alice", "alice-secret"), kgoTLS(t, k))...)
			if len(recs) != n {
				t.Fatalf("consumed %d of %d", len(recs), n)
			}

			// The CA key is private; the instance certificate is kept.
			if fi, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("CA key: %v %v", fi.Mode(), err)
			}
			before := leafFingerprint(t, k, si.ssl[0])
			if err := k.Stop(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ports := append(append(append([]int{}, si.plainPorts...), si.sasls...), portsOf(si.ssl)...)
			if _, err := k.Start(ctx, broker.Spec{InstanceID: id, Version: version, Ports: ports[0:3], SaslPorts: ports[3:6], SslPorts: ports[6:9], Security: sec}); err != nil {
				t.Fatal(err)
			}
			if leafFingerprint(t, k, si.ssl[0]) != before {
				t.Fatal("the instance certificate changed across a restart")
			}
			recs = consumeAll(t, si.ssl, "tls", n, append(kgoSASL(version, broker.MechanismScramSHA256, "alice", "alice-secret"), kgoTLS(t, k))...)
			if len(recs) != n {
				t.Fatalf("after restart consumed %d of %d", len(recs), n)
			}
		})
	}
}

// TestKcatSaslPlaintext drives the SASL_PLAINTEXT listener with kcat.
func TestKcatSaslPlaintext(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Skip("kcat not installed")
	}
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			si := startSecure(t, k, "alikafka_post-kcs"+strings.ReplaceAll(version, ".", ""), version, saslSecurity(t))
			createTopic(t, si.plain, version, "kc", 2)
			args := []string{"-b", strings.Join(si.sasl, ","), "-X", "security.protocol=sasl_plaintext",
				"-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=alice", "-X", "sasl.password=alice-secret",
				"-X", "api.version.request=true"}
			if version == "0.10.2" {
				args = append(args, "-X", "broker.version.fallback=0.10.2")
			}
			md := kcat(t, "", append([]string{"-L"}, args...)...)
			for _, a := range si.sasl {
				if !strings.Contains(md, a) {
					t.Fatalf("metadata lacks SASL address %s:\n%s", a, md)
				}
			}
			kcat(t, "a\nb\nc\n", append([]string{"-P", "-t", "kc"}, args...)...)
			out := kcat(t, "", append([]string{"-C", "-t", "kc", "-o", "beginning", "-e", "-q"}, args...)...)
			if strings.Count(out, "\n") != 3 {
				t.Fatalf("kcat consumed:\n%s", out)
			}
			// A wrong password fails the way kcat reports an
			// authentication failure, not as a hang.
			bad := append([]string{"-L"}, args...)
			for i, a := range bad {
				if a == "sasl.password=alice-secret" {
					bad[i] = "sasl.password=wrong"
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			outBad, err := exec.CommandContext(ctx, "kcat", append(bad, "-m", "2")...).CombinedOutput()
			if err == nil {
				t.Fatalf("kcat with a wrong password succeeded:\n%s", outBad)
			}
			t.Logf("kcat, wrong password: %s", strings.TrimSpace(lastLine(string(outBad))))
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func portsOf(addrs []string) []int {
	out := make([]int, len(addrs))
	for i, a := range addrs {
		fmt.Sscanf(a[strings.LastIndex(a, ":")+1:], "%d", &out[i])
	}
	return out
}
