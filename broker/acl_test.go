package broker_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func acl(rt broker.ResourceType, name string, pt broker.PatternType, op broker.Operation, perm broker.Permission) broker.ACL {
	return broker.ACL{Principal: "User:bob", ResourceType: rt, ResourceName: name, PatternType: pt, Operation: op, Permission: perm, Host: "*"}
}

// aclProbe runs requests as bob over the SASL listener.
type aclProbe struct {
	t       *testing.T
	version string
	si      secureInstance
	// leaders and coordinators as the plaintext listener reports them.
	leader map[string]int32
	coord  map[string]int32
}

func (p *aclProbe) client(opts ...kgo.Opt) *kgo.Client {
	base := append(kgoSASL(p.version, broker.MechanismScramSHA512, "bob", "bob-secret"),
		kgo.DisableIdempotentWrite(), kgo.RetryTimeout(3*time.Second), kgo.RequestRetries(1))
	cl := newClient(p.t, p.si.sasl, append(base, opts...)...)
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl); err != nil {
		p.t.Fatal(err)
	}
	return cl
}

func (p *aclProbe) describe(topic string) int16 {
	cl := p.client()
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, t := range resp.Topics {
		if deref(t.Topic) == topic {
			return t.ErrorCode
		}
	}
	p.t.Fatalf("metadata left out %s", topic)
	return 0
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (p *aclProbe) produce(topic string) error {
	cl := p.client()
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr()
}

// fetch asks partition 0's leader for topic's records.
func (p *aclProbe) fetch(topic string) int16 {
	cl := p.client()
	defer cl.Close()
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MaxBytes = 10, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	resp, err := req.RequestWith(context.Background(), cl.Broker(int(p.leader[topic])))
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

func (p *aclProbe) findCoordinator(group string) int16 {
	cl := p.client()
	defer cl.Close()
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorKey = group
	resp, err := req.RequestWith(context.Background(), cl.Broker(0))
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.ErrorCode
}

// commit commits offset 0 of topic/0 for group on its coordinator.
func (p *aclProbe) commit(group, topic string) int16 {
	cl := p.client()
	defer cl.Close()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = group, -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic = topic
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	ct.Partitions = append(ct.Partitions, cp)
	req.Topics = append(req.Topics, ct)
	resp, err := req.RequestWith(context.Background(), cl.Broker(int(p.coord[group])))
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

func (p *aclProbe) offsetFetch(group, topic string) int16 {
	cl := p.client()
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	ft := kmsg.NewOffsetFetchRequestTopic()
	ft.Topic, ft.Partitions = topic, []int32{0}
	req.Topics = append(req.Topics, ft)
	resp, err := req.RequestWith(context.Background(), cl.Broker(int(p.coord[group])))
	if err != nil {
		p.t.Fatal(err)
	}
	if resp.ErrorCode != 0 {
		return resp.ErrorCode
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

func code(ok bool, denied int16) int16 {
	if ok {
		return 0
	}
	return denied
}

// TestACLMatrix runs allow/deny × literal/prefixed × topic/group ×
// read/write/describe against both versions with real requests on the
// SASL listener.
func TestACLMatrix(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			sec := broker.Security{ACLEnabled: true, Users: []broker.SaslUser{mustUser(t, "bob", "bob-secret", broker.MechanismScramSHA512)}}
			si := startSecure(t, k, "alikafka_post-acl"+strings.ReplaceAll(version, ".", ""), version, sec)
			for _, topic := range []string{"orders", "pay-1", "secret"} {
				createTopic(t, si.plain, version, topic, 1)
			}
			admin := newClient(t, si.plain, kgo.MaxVersions(versionOf(version)))
			produceN(t, admin, "orders", "seed", 1, false)
			p := &aclProbe{t: t, version: version, si: si, leader: map[string]int32{}, coord: map[string]int32{}}
			md, err := kadm.NewClient(admin).Metadata(context.Background(), "orders", "pay-1", "secret")
			if err != nil {
				t.Fatal(err)
			}
			for name, td := range md.Topics {
				p.leader[name] = td.Partitions[0].Leader
			}
			for _, g := range []string{"g-lit", "grp-1"} {
				req := kmsg.NewPtrFindCoordinatorRequest()
				req.CoordinatorKey = g
				resp, err := req.RequestWith(context.Background(), admin)
				if err != nil || resp.ErrorCode != 0 {
					t.Fatalf("coordinator of %s: %v %v", g, err, resp)
				}
				p.coord[g] = resp.NodeID
			}
			apply := func(acls ...broker.ACL) {
				t.Helper()
				s := sec
				s.ACLs = acls
				if err := k.ApplySecurity(context.Background(), si.id, s); err != nil {
					t.Fatal(err)
				}
			}

			// No ACLs: everything is denied to bob.
			apply()
			if c := p.describe("orders"); c != kerr.TopicAuthorizationFailed.Code {
				t.Fatalf("describe without ACLs: %d", c)
			}

			ops := []broker.Operation{broker.OpRead, broker.OpWrite, broker.OpDescribe}
			patterns := []struct {
				pt          broker.PatternType
				name, topic string
				group       string
				gname       string
			}{
				{broker.PatternLiteral, "orders", "orders", "g-lit", "g-lit"},
				{broker.PatternPrefixed, "pay-", "pay-1", "grp-", "grp-1"},
			}
			for _, pat := range patterns {
				for _, op := range ops {
					for _, perm := range []broker.Permission{broker.Allow, broker.Deny} {
						name := fmt.Sprintf("%s/%s/%s", pat.pt, op, perm)
						// Topic: ALLOW op alone, or ALLOW All with DENY op.
						if perm == broker.Allow {
							apply(acl(broker.ResourceTopic, pat.name, pat.pt, op, broker.Allow))
						} else {
							apply(acl(broker.ResourceTopic, pat.name, pat.pt, broker.OpAll, broker.Allow),
								acl(broker.ResourceTopic, pat.name, pat.pt, op, broker.Deny))
						}
						var canRead, canWrite, canDescribe bool
						if perm == broker.Allow {
							canRead, canWrite, canDescribe = op == broker.OpRead, op == broker.OpWrite, true
						} else {
							canRead, canWrite, canDescribe = op != broker.OpRead, op != broker.OpWrite, op != broker.OpDescribe
						}
						if got, want := p.describe(pat.topic), code(canDescribe, kerr.TopicAuthorizationFailed.Code); got != want {
							t.Errorf("topic %s: describe %d, want %d", name, got, want)
						}
						if got, want := p.fetch(pat.topic), code(canRead, kerr.TopicAuthorizationFailed.Code); got != want {
							t.Errorf("topic %s: fetch %d, want %d", name, got, want)
						}
						// A client cannot produce to a topic it may not
						// describe: its metadata lookup fails first.
						err := p.produce(pat.topic)
						if ok := canWrite && canDescribe; ok != (err == nil) || (err != nil && !errors.Is(err, kerr.TopicAuthorizationFailed)) {
							t.Errorf("topic %s: produce %v, want allowed=%v", name, err, ok)
						}
						if got := p.describe("secret"); got != kerr.TopicAuthorizationFailed.Code {
							t.Errorf("topic %s: an unrelated topic was described", name)
						}

						// Group: the same with every right on the topic.
						topicAll := acl(broker.ResourceTopic, pat.topic, broker.PatternLiteral, broker.OpAll, broker.Allow)
						if perm == broker.Allow {
							apply(topicAll, acl(broker.ResourceGroup, pat.group, pat.pt, op, broker.Allow))
						} else {
							apply(topicAll, acl(broker.ResourceGroup, pat.group, pat.pt, broker.OpAll, broker.Allow),
								acl(broker.ResourceGroup, pat.group, pat.pt, op, broker.Deny))
						}
						gd := kerr.GroupAuthorizationFailed.Code
						if got, want := p.findCoordinator(pat.gname), code(canDescribe, gd); got != want {
							t.Errorf("group %s: find coordinator %d, want %d", name, got, want)
						}
						if got, want := p.commit(pat.gname, pat.topic), code(canRead, gd); got != want {
							t.Errorf("group %s: commit %d, want %d", name, got, want)
						}
						if got, want := p.offsetFetch(pat.gname, pat.topic), code(canDescribe, gd); got != want {
							t.Errorf("group %s: offset fetch %d, want %d", name, got, want)
						}
					}
				}
			}

			// Metadata for all topics lists only what bob may describe.
			apply(acl(broker.ResourceTopic, "orders", broker.PatternLiteral, broker.OpRead, broker.Allow),
				acl(broker.ResourceTopic, "pay-", broker.PatternPrefixed, broker.OpWrite, broker.Allow),
				acl(broker.ResourceTopic, "pay-1", broker.PatternLiteral, broker.OpDescribe, broker.Deny))
			cl := p.client()
			all, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl)
			cl.Close()
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, tp := range all.Topics {
				seen = append(seen, deref(tp.Topic))
			}
			if !slices.Equal(seen, []string{"orders"}) {
				t.Fatalf("all-topics metadata shows %v, want [orders]", seen)
			}

			// The plaintext listener is not held to ACLs.
			plainMD, err := kadm.NewClient(admin).ListTopics(context.Background())
			if err != nil || len(plainMD.Names()) != 3 {
				t.Fatalf("plaintext metadata: %v %v", plainMD.Names(), err)
			}

			// Creating topics: 0.10.2 wants Create on the cluster and says
			// CLUSTER_AUTHORIZATION_FAILED; 2.2.0 also takes Create on the
			// topic and says TOPIC_AUTHORIZATION_FAILED.
			apply(acl(broker.ResourceTopic, "new-", broker.PatternPrefixed, broker.OpCreate, broker.Allow))
			cl = p.client()
			res, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, 1, nil, "new-a", "other")
			cl.Close()
			if err != nil {
				t.Fatal(err)
			}
			if version == "0.10.2" {
				if !errors.Is(res["new-a"].Err, kerr.ClusterAuthorizationFailed) || !errors.Is(res["other"].Err, kerr.ClusterAuthorizationFailed) {
					t.Fatalf("0.10.2 create topics: %v / %v", res["new-a"].Err, res["other"].Err)
				}
				return
			}
			if res["new-a"].Err != nil || !errors.Is(res["other"].Err, kerr.TopicAuthorizationFailed) {
				t.Fatalf("2.2.0 create topics: %v / %v", res["new-a"].Err, res["other"].Err)
			}

			// An idempotent producer needs IdempotentWrite on the cluster.
			apply(acl(broker.ResourceTopic, "orders", broker.PatternLiteral, broker.OpWrite, broker.Allow))
			idem := newClient(t, si.sasl, append(kgoSASL(version, broker.MechanismScramSHA512, "bob", "bob-secret"), kgo.RetryTimeout(3*time.Second))...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = idem.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("i")}).FirstErr()
			cancel()
			idem.Close()
			if !errors.Is(err, kerr.ClusterAuthorizationFailed) {
				t.Fatalf("idempotent produce without IdempotentWrite: %v", err)
			}
			apply(acl(broker.ResourceTopic, "orders", broker.PatternLiteral, broker.OpWrite, broker.Allow),
				acl(broker.ResourceCluster, "kafka-cluster", broker.PatternLiteral, broker.OpIdempotentWrite, broker.Allow))
			idem = newClient(t, si.sasl, kgoSASL(version, broker.MechanismScramSHA512, "bob", "bob-secret")...)
			produceN(t, idem, "orders", "idem", 5, true)
		})
	}
}

// TestACLAutoCreate: on an instance that auto-creates topics, Metadata
// for a missing topic creates it only for a principal with Create on the
// cluster; without it the answer is TOPIC_AUTHORIZATION_FAILED and
// nothing is made.
func TestACLAutoCreate(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	ports := freePorts(t, 6)
	sec := broker.Security{ACLEnabled: true, Users: []broker.SaslUser{mustUser(t, "bob", "bob-secret", broker.MechanismPlain)},
		ACLs: []broker.ACL{acl(broker.ResourceTopic, "auto-", broker.PatternPrefixed, broker.OpAll, broker.Allow)}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const id = "alikafka_post-aclauto"
	if _, err := k.Start(ctx, broker.Spec{InstanceID: id, Version: "2.2.0", Ports: ports[:3], SaslPorts: ports[3:],
		Config: map[string]string{"kafka.auto.create.topics.enable": "true"}, Security: sec}); err != nil {
		t.Fatal(err)
	}
	ask := func(topic string) int16 {
		cl := newClient(t, addrsOf(ports[3:]), kgoSASL("2.2.0", broker.MechanismPlain, "bob", "bob-secret")...)
		defer cl.Close()
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = true
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].ErrorCode
	}
	exists := func(topic string) bool {
		topics, err := k.Topics(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(topics, func(s broker.TopicState) bool { return s.Name == topic })
	}
	if c := ask("auto-a"); c != kerr.TopicAuthorizationFailed.Code || exists("auto-a") {
		t.Fatalf("without Create on the cluster: code %d, created %v", c, exists("auto-a"))
	}
	sec.ACLs = append(sec.ACLs, acl(broker.ResourceCluster, "", broker.PatternLiteral, broker.OpCreate, broker.Allow))
	if err := k.ApplySecurity(ctx, id, sec); err != nil {
		t.Fatal(err)
	}
	ask("auto-a")
	if !exists("auto-a") {
		t.Fatal("Create on the cluster did not let Metadata create the topic")
	}
}

// recordBatch encodes one record batch holding value, with its length
// and CRC filled in.
func recordBatch(value string) []byte {
	rec := kmsg.NewRecord()
	rec.Value = []byte(value)
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // the length varint of a short record is one byte
	b := kmsg.NewRecordBatch()
	b.Magic, b.ProducerID, b.ProducerEpoch, b.FirstSequence = 2, -1, -1, -1
	b.NumRecords = 1
	b.Records = rec.AppendTo(nil)
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// TestACLPartialProduce sends one Produce request for an allowed and a
// denied topic: the allowed one is written, the denied one answered
// TOPIC_AUTHORIZATION_FAILED and left untouched.
func TestACLPartialProduce(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	sec := broker.Security{ACLEnabled: true, Users: []broker.SaslUser{mustUser(t, "bob", "bob-secret", broker.MechanismPlain)},
		ACLs: []broker.ACL{
			acl(broker.ResourceTopic, "ok-t", broker.PatternLiteral, broker.OpWrite, broker.Allow),
			acl(broker.ResourceTopic, "no-t", broker.PatternLiteral, broker.OpDescribe, broker.Allow),
		}}
	si := startSecure(t, k, "alikafka_post-aclpart", "2.2.0", sec)
	// Both topics need a partition on one broker, so each has many.
	createTopic(t, si.plain, "2.2.0", "ok-t", 12)
	createTopic(t, si.plain, "2.2.0", "no-t", 12)
	admin := newClient(t, si.plain)
	md, err := kadm.NewClient(admin).Metadata(context.Background(), "ok-t", "no-t")
	if err != nil {
		t.Fatal(err)
	}
	okPart, noPart, leader := int32(-1), int32(-1), int32(-1)
	for _, op := range md.Topics["ok-t"].Partitions {
		for _, np := range md.Topics["no-t"].Partitions {
			if op.Leader == np.Leader {
				okPart, noPart, leader = op.Partition, np.Partition, op.Leader
			}
		}
	}
	if leader < 0 {
		t.Fatal("no broker leads a partition of both topics")
	}

	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	for _, tp := range []struct {
		topic string
		part  int32
	}{{"ok-t", okPart}, {"no-t", noPart}} {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = tp.topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = tp.part, recordBatch("v-"+tp.topic)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	cl := newClient(t, si.sasl, kgoSASL("2.2.0", broker.MechanismPlain, "bob", "bob-secret")...)
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	resp, err := req.RequestWith(context.Background(), cl.Broker(int(leader)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int16{}
	for _, rt := range resp.Topics {
		got[rt.Topic] = rt.Partitions[0].ErrorCode
	}
	if got["ok-t"] != 0 || got["no-t"] != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("produce answered %v", got)
	}
	topics, err := k.Topics(context.Background(), si.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range topics {
		for _, p := range ts.Partitions {
			want := int64(0)
			if ts.Name == "ok-t" && p.Partition == okPart {
				want = 1
			}
			if p.HighWater != want {
				t.Fatalf("%s/%d holds %d records, want %d", ts.Name, p.Partition, p.HighWater, want)
			}
		}
	}
}

// TestACLRevokeDuringFetch revokes Read from a consumer in the middle of
// a fetch session: its connection stays open, and its next fetches are
// refused rather than served from the session. A fetch already in
// flight when the ACLs change was authorized when it came in and may
// still deliver; records produced after the first refusal never arrive.
func TestACLRevokeDuringFetch(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	read := acl(broker.ResourceTopic, "feed", broker.PatternLiteral, broker.OpRead, broker.Allow)
	sec := broker.Security{ACLEnabled: true, Users: []broker.SaslUser{mustUser(t, "bob", "bob-secret", broker.MechanismScramSHA256)},
		ACLs: []broker.ACL{read}}
	si := startSecure(t, k, "alikafka_post-aclrev", "2.2.0", sec)
	createTopic(t, si.plain, "2.2.0", "feed", 1)
	admin := newClient(t, si.plain)
	produceN(t, admin, "feed", "before", 5, false)

	cons := newClient(t, si.sasl, append(kgoSASL("2.2.0", broker.MechanismScramSHA256, "bob", "bob-secret"),
		kgo.ConsumeTopics("feed"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := 0
	for got < 5 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 5 before the revocation", got)
		}
		got += len(fs.Records())
	}
	sec.ACLs = []broker.ACL{acl(broker.ResourceTopic, "feed", broker.PatternLiteral, broker.OpDescribe, broker.Allow)}
	if err := k.ApplySecurity(ctx, si.id, sec); err != nil {
		t.Fatal(err)
	}
	// pollUntilRefused polls until a fetch is refused n times and
	// returns the records that arrived meanwhile.
	pollUntilRefused := func(n int) []*kgo.Record {
		var recs []*kgo.Record
		for n > 0 {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatal("fetches were not refused after Read was revoked")
			}
			recs = append(recs, fs.Records()...)
			fs.EachError(func(_ string, _ int32, err error) {
				if errors.Is(err, kerr.TopicAuthorizationFailed) {
					n--
				}
			})
		}
		return recs
	}
	pollUntilRefused(1)
	produceN(t, admin, "feed", "after", 5, false)
	if recs := pollUntilRefused(2); len(recs) > 0 {
		t.Fatalf("%d records fetched after the fetches were refused", len(recs))
	}
}
