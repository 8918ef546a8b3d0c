package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// createSecure orders an internet instance (DeployType 4) and starts it
// with a first SASL user, as StartInstance's IsSetUserAndPassword does,
// and waits until it runs.
func createSecure(t *testing.T, c *alikafka.Client, version, user, password string) string {
	t.Helper()
	order := alikafka.CreateCreatePostPayOrderRequest()
	order.DeployType, order.DiskSize, order.DiskType, order.IoMaxSpec = "4", "500", "1", "alikafka.hw.2xlarge"
	order.EipMax = "3"
	or, err := c.CreatePostPayOrder(order)
	if err != nil {
		t.Fatal(err)
	}
	list := alikafka.CreateGetInstanceListRequest()
	list.OrderId = or.OrderId
	lr, err := c.GetInstanceList(list)
	if err != nil || len(lr.InstanceList.InstanceVO) != 1 {
		t.Fatalf("GetInstanceList(OrderId): %v", err)
	}
	id := lr.InstanceList.InstanceVO[0].InstanceId
	start := alikafka.CreateStartInstanceRequest()
	start.InstanceId, start.VpcId, start.VSwitchId, start.ZoneId = id, "vpc-test", "vsw-test", "zonei"
	start.ServiceVersion = version
	start.IsSetUserAndPassword = requests.NewBoolean(true)
	start.Username, start.Password = user, password
	if _, err := c.StartInstance(start); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, id, 5)
	return id
}

// rawInstance reads an instance's InstanceVO as JSON, for the fields the
// legacy SDK's model lacks (SaslEndPoint).
func rawInstance(t *testing.T, m *Main, id string) map[string]any {
	t.Helper()
	c := legacyClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	r := c.call(t, alikafkaVersion, "GetInstanceList", map[string]string{"InstanceId.1": id})
	if r.code != "" {
		t.Fatalf("GetInstanceList: %s %s", r.code, r.msg)
	}
	vo, _ := lcArray(r.body, "InstanceList", "InstanceVO")[0].(map[string]any)
	return vo
}

func saslClient(t *testing.T, endpoint string, version string, mech string, user, password string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append(saslOpts(version, mech, user, password), append([]kgo.Opt{kgo.RetryTimeout(2 * time.Second), kgo.DisableIdempotentWrite()}, opts...)...)
	return kgoClient(t, endpoint, opts...)
}

// produceErr produces one record and returns the error.
func produceErr(cl *kgo.Client, topic, value string) error {
	return produceWithin(cl, topic, value, 10*time.Second)
}

// loginRefused reports whether cl's logins fail: a produce does not
// succeed within a few seconds, in which franz-go retries its login on
// new connections as it does against Kafka.
func loginRefused(cl *kgo.Client) bool {
	return produceWithin(cl, "orders", "refused", 3*time.Second) != nil
}

func produceWithin(cl *kgo.Client, topic, value string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr()
}

// noErr fails the test when the call it is applied to returned an error:
// noErr(t, "X")(c.X(req)).
func noErr(t *testing.T, what string) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// TestSaslThroughAPI drives the secure data plane of 0.10.2 and 2.2.0
// instances through the API with the legacy Go SDK's typed client, and
// checks every change with real clients on real sockets: franz-go (PLAIN,
// SCRAM-SHA-256/512), sarama (PLAIN over SASL_SSL) and kcat
// (sasl_plaintext, and sasl_ssl with the installation CA).
func TestSaslThroughAPI(t *testing.T) {
	m := startMain(t, withKafka(t))
	c := kafkaClient(t, m.ListenAddr())
	// Clients fetch the CA from the endpoint; it is the one in the data dir.
	resp, err := http.Get(m.URL() + "/dataplane/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	fetched, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	onDisk, _ := os.ReadFile(filepath.Join(m.DataDir, "brokers", "ca.pem"))
	if err != nil || resp.StatusCode != 200 || len(fetched) == 0 || !bytes.Equal(fetched, onDisk) {
		t.Fatalf("GET /dataplane/ca.pem: %d, %d bytes (%v)", resp.StatusCode, len(fetched), err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, fetched, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			id := createSecure(t, c, version, "admin", "admin-secret")
			vo := describe(t, c, id)
			if len(seeds(vo.SslEndPoint)) != 3 || vo.SslDomainEndpoint == "" || vo.SaslDomainEndpoint != "" {
				t.Fatalf("endpoints before ACLs: ssl %q/%q sasl %q", vo.SslEndPoint, vo.SslDomainEndpoint, vo.SaslDomainEndpoint)
			}

			// Users of both types; CreateSaslUser of an existing user
			// changes its password.
			for _, u := range []struct{ name, pw, typ, mech string }{
				{"alice", "wrong-first", "scram", "SCRAM-SHA-256"},
				{"alice", "alice-secret", "scram", "SCRAM-SHA-256"},
				{"bob", "bob-secret", "plain", ""},
				{"carol", "carol-secret", "scram", "SCRAM-SHA-512"},
			} {
				req := alikafka.CreateCreateSaslUserRequest()
				req.InstanceId, req.Username, req.Password, req.Type, req.Mechanism = id, u.name, u.pw, u.typ, u.mech
				noErr(t, "CreateSaslUser "+u.name)(c.CreateSaslUser(req))
			}
			dsu := alikafka.CreateDescribeSaslUsersRequest()
			dsu.InstanceId = id
			users, err := c.DescribeSaslUsers(dsu)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]alikafka.SaslUserVO{}
			for _, u := range users.SaslUserList.SaslUserVO {
				got[u.Username] = u
			}
			if len(got) != 4 || got["alice"].Password != "alice-secret" || got["alice"].Mechanism != "SCRAM-SHA-256" ||
				got["bob"].Type != "plain" || got["admin"].Type != "plain" || got["carol"].Mechanism != "SCRAM-SHA-512" {
				t.Fatalf("DescribeSaslUsers: %+v", users.SaslUserList.SaslUserVO)
			}

			// enable.acl opens the SASL_PLAINTEXT endpoint.
			cfg := alikafka.CreateUpdateInstanceConfigRequest()
			cfg.InstanceId, cfg.Config = id, `{"enable.acl":"true"}`
			noErr(t, "UpdateInstanceConfig")(c.UpdateInstanceConfig(cfg))
			raw := rawInstance(t, m, id)
			saslEP := lcStr(raw, "SaslEndPoint")
			if len(seeds(saslEP)) != 3 || lcStr(raw, "SaslDomainEndpoint") == "" {
				t.Fatalf("SASL endpoint after enable.acl: %q / %q", saslEP, raw["SaslDomainEndpoint"])
			}

			ct := alikafka.CreateCreateTopicRequest()
			ct.InstanceId, ct.Topic, ct.Remark, ct.PartitionNum = id, "orders", "orders", "3"
			noErr(t, "CreateTopic")(c.CreateTopic(ct))
			acl := func(user, rt, name, ops string) {
				req := alikafka.CreateCreateAclRequest()
				req.InstanceId, req.Username, req.AclResourceType, req.AclResourceName = id, user, rt, name
				req.AclResourcePatternType, req.AclOperationType, req.AclOperationTypes = "LITERAL", strings.Split(ops, ",")[0], ops
				noErr(t, "CreateAcl")(c.CreateAcl(req))
			}
			acl("alice", "Topic", "orders", "Write,Read,Describe")
			acl("alice", "Group", "*", "Read")
			acl("carol", "Topic", "orders", "Describe")
			dr := alikafka.CreateDescribeAclsRequest()
			dr.InstanceId, dr.Username, dr.AclResourceType, dr.AclResourceName = id, "alice", "Topic", "orders"
			dresp, err := c.DescribeAcls(dr)
			if err != nil {
				t.Fatal(err)
			}
			acls := dresp.KafkaAclList.KafkaAclVO
			if len(acls) != 3 || acls[0].AclResourceType != "TOPIC" || acls[0].AclOperationType != "WRITE" || acls[0].AclPermissionType != "ALLOW" || acls[0].Host != "*" {
				t.Fatalf("DescribeAcls: %+v", acls)
			}

			// alice (SCRAM-SHA-256) produces and consumes on the SASL
			// endpoint; carol may only describe; a wrong password fails
			// the login.
			alice := saslClient(t, saslEP, version, "SCRAM-SHA-256", "alice", "alice-secret")
			for i := range 5 {
				if err := produceErr(alice, "orders", "alice-"+string(rune('0'+i))); err != nil {
					t.Fatalf("alice produce: %v", err)
				}
			}
			consumeAll(t, saslEP, "orders", 5, saslOpts(version, "SCRAM-SHA-256", "alice", "alice-secret")...)
			carol := saslClient(t, saslEP, version, "SCRAM-SHA-512", "carol", "carol-secret")
			if err := produceErr(carol, "orders", "x"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
				t.Fatalf("carol's produce without Write: %v", err)
			}
			bad := saslClient(t, saslEP, version, "SCRAM-SHA-256", "alice", "not-her-password")
			if !loginRefused(bad) {
				t.Fatal("a wrong password produced")
			}

			// sarama over SASL_SSL with the installation CA: admin (PLAIN)
			// may do everything there only while it is granted; grant it.
			acl("admin", "Topic", "orders", "Write,Describe")
			pool := x509.NewCertPool()
			pem, err := os.ReadFile(caFile)
			if err != nil || !pool.AppendCertsFromPEM(pem) {
				t.Fatalf("CA %s: %v", caFile, err)
			}
			sc := sarama.NewConfig()
			sc.Version = sarama.V0_10_2_0
			if version == "2.2.0" {
				sc.Version = sarama.V2_2_0_0
			}
			sc.Producer.Return.Successes = true
			sc.Net.TLS.Enable, sc.Net.TLS.Config = true, &tls.Config{RootCAs: pool}
			sc.Net.SASL.Enable, sc.Net.SASL.Mechanism = true, sarama.SASLTypePlaintext
			sc.Net.SASL.User, sc.Net.SASL.Password = "admin", "admin-secret"
			sc.Net.SASL.Version = sarama.SASLHandshakeV1
			if version == "0.10.2" {
				sc.Net.SASL.Version, sc.ApiVersionsRequest = sarama.SASLHandshakeV0, false
			}
			sp, err := sarama.NewSyncProducer(seeds(vo.SslEndPoint), sc)
			if err != nil {
				t.Fatalf("sarama over SASL_SSL: %v", err)
			}
			if _, _, err := sp.SendMessage(&sarama.ProducerMessage{Topic: "orders", Value: sarama.StringEncoder("sarama")}); err != nil {
				t.Fatalf("sarama produce: %v", err)
			}
			sp.Close()

			if _, err := exec.LookPath("kcat"); err == nil {
				extra := []string{"-X", "api.version.request=true"}
				if version == "0.10.2" {
					extra = append(extra, "-X", "broker.version.fallback=0.10.2")
				}
				for _, k := range []struct{ ep, proto, mech, user, pw string }{
					{saslEP, "sasl_plaintext", "SCRAM-SHA-256", "alice", "alice-secret"},
					{vo.SslEndPoint, "sasl_ssl", "PLAIN", "admin", "admin-secret"},
				} {
					args := append([]string{"-L", "-b", k.ep, "-X", "security.protocol=" + k.proto, "-X", "sasl.mechanisms=" + k.mech,
						"-X", "sasl.username=" + k.user, "-X", "sasl.password=" + k.pw, "-X", "ssl.ca.location=" + caFile}, extra...)
					out, err := exec.Command("kcat", args...).CombinedOutput()
					if err != nil || !strings.Contains(string(out), `topic "orders"`) {
						t.Fatalf("kcat %s: %v\n%s", k.proto, err, out)
					}
				}
			}

			// The default endpoint admits only the loopback host until
			// 127.0.0.2 is added to its allowlist.
			from2 := kgo.Dialer((&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 2 * time.Second}).DialContext)
			if err := apiVersions(t, vo.EndPoint, from2); err == nil {
				t.Fatal("127.0.0.2 reached the default endpoint before it was allowed")
			}
			up := alikafka.CreateUpdateAllowedIpRequest()
			up.InstanceId, up.AllowedListType, up.PortRange, up.AllowedListIp, up.UpdateType, up.Description = id, "vpc", "9092/9092", "127.0.0.2/32,10.0.0.0/8", "add", "second host"
			noErr(t, "UpdateAllowedIp")(c.UpdateAllowedIp(up))
			if err := apiVersions(t, vo.EndPoint, from2); err != nil {
				t.Fatalf("127.0.0.2 after UpdateAllowedIp: %v", err)
			}
			gal := alikafka.CreateGetAllowedIpListRequest()
			gal.InstanceId = id
			galResp, err := c.GetAllowedIpList(gal)
			if err != nil {
				t.Fatal(err)
			}
			al := galResp.AllowedList
			if al.DeployType != 4 || len(al.VpcList) != 2 || len(al.InternetList) != 1 || al.VpcList[0].PortRange != "9092/9092" ||
				strings.Join(al.VpcList[0].AllowedIpList, ",") != "127.0.0.1/32,10.0.0.0/8,127.0.0.2/32" || al.VpcList[0].AllowedIpGroup["127.0.0.2/32"] != "second host" {
				t.Fatalf("GetAllowedIpList: %+v", al)
			}

			// Deleting alice refuses her next login; her ACLs stay.
			del := alikafka.CreateDeleteSaslUserRequest()
			del.InstanceId, del.Username, del.Type = id, "alice", "scram"
			noErr(t, "DeleteSaslUser")(c.DeleteSaslUser(del))
			gone := saslClient(t, saslEP, version, "SCRAM-SHA-256", "alice", "alice-secret")
			if !loginRefused(gone) {
				t.Fatal("a deleted user produced")
			}
			dacl := alikafka.CreateDeleteAclRequest()
			dacl.InstanceId, dacl.Username, dacl.AclResourceType, dacl.AclResourceName = id, "carol", "Topic", "orders"
			dacl.AclResourcePatternType, dacl.AclOperationType = "LITERAL", "Describe"
			noErr(t, "DeleteAcl")(c.DeleteAcl(dacl))
			if _, err := c.DeleteAcl(dacl); errCode(err) != "BIZ_ACL_NOT_FOUND" {
				t.Fatalf("second DeleteAcl: %v", err)
			}
		})
	}
}

func saslOpts(version, mech, user, password string) []kgo.Opt {
	var m kgo.Opt
	switch mech {
	case "PLAIN":
		m = kgo.SASL(plain.Auth{User: user, Pass: password}.AsMechanism())
	case "SCRAM-SHA-256":
		m = kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism())
	default:
		m = kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism())
	}
	opts := []kgo.Opt{m}
	if version == "0.10.2" {
		opts = append(opts, kgo.MaxVersions(kversion.V0_10_2()))
	}
	return opts
}

// apiVersions asks the brokers of endpoint for their API versions once.
func apiVersions(t *testing.T, endpoint string, opts ...kgo.Opt) error {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds(endpoint)...)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	vs, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil {
		return err
	}
	for _, v := range vs.Sorted() {
		if v.Err != nil {
			return v.Err
		}
	}
	return nil
}

// leafSerial is the serial number of the certificate the first broker of
// a SASL_SSL endpoint presents.
func leafSerial(t *testing.T, endpoint, caFile string) string {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA %s: %v", caFile, err)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", seeds(endpoint)[0], &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS to %s: %v", endpoint, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestSecuritySurvivesUpgradeAndRestart sets up users, ACLs and an
// allowlist entry on a 0.10.2 instance, then rolls it to 2.2.0 and restarts
// kafkaplane: after each, the same SCRAM login from 127.0.0.2 produces
// under the same ACLs, a wrong password and an ungranted user still fail,
// and the SASL_SSL endpoint presents the same certificate.
func TestSecuritySurvivesUpgradeAndRestart(t *testing.T) {
	dir := t.TempDir()
	ports := withKafka(t)
	m := startMain(t, ports, inDir(dir))
	c := kafkaClient(t, m.ListenAddr())
	caFile := filepath.Join(dir, "brokers", "ca.pem")
	id := createSecure(t, c, "0.10.2", "admin", "admin-secret")
	for _, u := range []struct{ name, pw, typ, mech string }{
		{"alice", "alice-secret", "scram", "SCRAM-SHA-512"},
		{"dave", "dave-secret", "plain", ""},
	} {
		req := alikafka.CreateCreateSaslUserRequest()
		req.InstanceId, req.Username, req.Password, req.Type, req.Mechanism = id, u.name, u.pw, u.typ, u.mech
		noErr(t, "CreateSaslUser")(c.CreateSaslUser(req))
	}
	cfg := alikafka.CreateUpdateInstanceConfigRequest()
	cfg.InstanceId, cfg.Config = id, `{"enable.acl":"true"}`
	noErr(t, "UpdateInstanceConfig")(c.UpdateInstanceConfig(cfg))
	ct := alikafka.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.Remark, ct.PartitionNum = id, "orders", "orders", "3"
	noErr(t, "CreateTopic")(c.CreateTopic(ct))
	acl := alikafka.CreateCreateAclRequest()
	acl.InstanceId, acl.Username, acl.AclResourceType, acl.AclResourceName = id, "alice", "Topic", "orders"
	acl.AclResourcePatternType, acl.AclOperationType, acl.AclOperationTypes = "LITERAL", "Write", "Write,Describe"
	noErr(t, "CreateAcl")(c.CreateAcl(acl))
	up := alikafka.CreateUpdateAllowedIpRequest()
	up.InstanceId, up.AllowedListType, up.PortRange, up.AllowedListIp, up.UpdateType = id, "vpc", "9094/9094", "127.0.0.2", "add"
	noErr(t, "UpdateAllowedIp")(c.UpdateAllowedIp(up))
	saslEP := lcStr(rawInstance(t, m, id), "SaslEndPoint")
	sslEP := describe(t, c, id).SslEndPoint
	serial := leafSerial(t, sslEP, caFile)

	from2 := kgo.Dialer((&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 2 * time.Second}).DialContext)
	check := func(stage, version string) {
		t.Helper()
		alice := saslClient(t, saslEP, version, "SCRAM-SHA-512", "alice", "alice-secret", from2)
		if err := produceErr(alice, "orders", stage); err != nil {
			t.Fatalf("%s: alice from 127.0.0.2: %v", stage, err)
		}
		if !loginRefused(saslClient(t, saslEP, version, "SCRAM-SHA-512", "alice", "wrong", from2)) {
			t.Fatalf("%s: a wrong password produced", stage)
		}
		if err := produceErr(saslClient(t, saslEP, version, "PLAIN", "dave", "dave-secret"), "orders", stage); !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("%s: dave without ACLs: %v", stage, err)
		}
		if got := leafSerial(t, sslEP, caFile); got != serial {
			t.Fatalf("%s: SASL_SSL certificate %s, was %s", stage, got, serial)
		}
	}
	check("before", "0.10.2")

	if err := upgrade(c, id, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, id, 5)
	check("after the upgrade", "2.2.0")

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = startMain(t, ports, inDir(dir))
	c = kafkaClient(t, m.ListenAddr())
	if got := lcStr(rawInstance(t, m, id), "SaslEndPoint"); got != saslEP {
		t.Fatalf("SaslEndPoint after restart %q, was %q", got, saslEP)
	}
	check("after the restart", "2.2.0")
}
