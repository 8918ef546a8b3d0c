package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// produceMBWith writes mb megabytes of 1 KiB records with opts and
// returns MB/s.
func produceMBWith(b *testing.B, addrs []string, topic string, mb int, opts ...kgo.Opt) float64 {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.MaxBufferedRecords(64 << 10)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	val := []byte(strings.Repeat("x", 1024))
	start := time.Now()
	for range mb << 10 {
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	return float64(mb) / time.Since(start).Seconds()
}

// BenchmarkProduceSecureListeners compares produce throughput on one
// instance with ACLs enabled (1,000 ACLs besides the producer's own)
// through its PLAINTEXT listener (no login, no ACL checks), its
// SASL_PLAINTEXT listener (SCRAM login, ACL checks on every request) and
// its SASL_SSL listener (TLS, SCRAM, ACL checks), in the same run, the
// sides taking turns in slices.
func BenchmarkProduceSecureListeners(b *testing.B) {
	k, err := NewKafka(KafkaConfig{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	user, err := NewSaslUser("bench", "bench-secret", MechanismScramSHA256)
	if err != nil {
		b.Fatal(err)
	}
	acls := append(thousandACLs(),
		ACL{Principal: "User:bench", ResourceType: ResourceTopic, ResourceName: "tp", PatternType: PatternLiteral, Operation: OpWrite, Permission: Allow},
		ACL{Principal: "User:bench", ResourceType: ResourceCluster, Operation: OpIdempotentWrite, Permission: Allow})
	ports := benchPorts(b, 9)
	if _, err := k.Start(context.Background(), Spec{InstanceID: "bench-sec", Version: "2.2.0", Ports: ports[0:3],
		SaslPorts: ports[3:6], SslPorts: ports[6:9],
		Security: Security{ACLEnabled: true, Users: []SaslUser{user}, ACLs: acls}}); err != nil {
		b.Fatal(err)
	}
	addrs := func(ps []int) []string {
		var out []string
		for _, p := range ps {
			out = append(out, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		}
		return out
	}
	plain, sasl, ssl := addrs(ports[0:3]), addrs(ports[3:6]), addrs(ports[6:9])
	benchTopic(b, plain, "tp")
	caPEM, err := os.ReadFile(k.CACertPath())
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	login := kgo.SASL(scram.Auth{User: "bench", Pass: "bench-secret"}.AsSha256Mechanism())
	tlsOpt := kgo.DialTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})

	mb := benchMB(64)
	const slices = 8
	chunk := max(1, mb/slices)
	var plainSecs, saslSecs, sslSecs float64
	var total int
	for b.Loop() {
		for i := range slices {
			sides := []func(){
				func() { plainSecs += float64(chunk) / produceMBWith(b, plain, "tp", chunk) },
				func() { saslSecs += float64(chunk) / produceMBWith(b, sasl, "tp", chunk, login) },
				func() { sslSecs += float64(chunk) / produceMBWith(b, ssl, "tp", chunk, login, tlsOpt) },
			}
			for j := range sides {
				sides[(i+j)%len(sides)]()
			}
			total += chunk
		}
	}
	p, s, t := float64(total)/plainSecs, float64(total)/saslSecs, float64(total)/sslSecs
	b.ReportMetric(p, "plaintext-MB/s")
	b.ReportMetric(s, "sasl-acl-MB/s")
	b.ReportMetric(t, "sasl_ssl-MB/s")
	b.ReportMetric(s/p, "sasl-acl/plaintext")
	b.ReportMetric(t/p, "sasl_ssl/plaintext")
}
