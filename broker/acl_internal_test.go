package broker

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAuthorizerSemantics(t *testing.T) {
	a, err := newAuthorizer([]ACL{
		{Principal: "User:alice", ResourceType: "TOPIC", ResourceName: "logs-", PatternType: "prefixed", Operation: "READ", Permission: "ALLOW"},
		{Principal: "User:alice", ResourceType: "Topic", ResourceName: "logs-secret", Operation: "All", Permission: "DENY"},
		{Principal: "User:*", ResourceType: "Topic", ResourceName: "*", Operation: "Describe", Permission: "ALLOW", Host: "10.0.0.1"},
		{Principal: "User:bob", ResourceType: "Topic", ResourceName: "cfg", Operation: "ALTER_CONFIGS"},
		{Principal: "User:bob", ResourceType: "Cluster", ResourceName: "ignored", Operation: "IDEMPOTENT_WRITE", Permission: "ALLOW"},
		{Principal: "User:bob", ResourceType: "Group", ResourceName: "g", Operation: "Read", Permission: "ALLOW"},
		{Principal: "User:bob", ResourceType: "Group", ResourceName: "g", Operation: "Read", Permission: "DENY", Host: "10.0.0.9"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user, host string
		op         Operation
		rt         ResourceType
		name       string
		want       bool
	}{
		{"alice", "1.1.1.1", OpRead, ResourceTopic, "logs-a", true},
		{"alice", "1.1.1.1", OpDescribe, ResourceTopic, "logs-a", true}, // Read implies Describe
		{"alice", "1.1.1.1", OpWrite, ResourceTopic, "logs-a", false},
		{"alice", "1.1.1.1", OpRead, ResourceTopic, "logs", false}, // shorter than the prefix
		{"alice", "1.1.1.1", OpRead, ResourceTopic, "logs-secret", false},
		{"alice", "10.0.0.1", OpDescribe, ResourceTopic, "logs-secret", false}, // DENY All wins over the wildcard ALLOW
		{"carol", "10.0.0.1", OpDescribe, ResourceTopic, "anything", true},
		{"carol", "10.0.0.2", OpDescribe, ResourceTopic, "anything", false},
		{"bob", "1.1.1.1", OpDescribeConfigs, ResourceTopic, "cfg", true}, // AlterConfigs implies DescribeConfigs
		{"bob", "1.1.1.1", OpDescribe, ResourceTopic, "cfg", false},
		{"bob", "1.1.1.1", OpIdempotentWrite, ResourceCluster, clusterName, true},
		{"bob", "1.1.1.1", OpRead, ResourceGroup, "g", true},
		{"bob", "10.0.0.9", OpRead, ResourceGroup, "g", false},
		{"bob", "10.0.0.9", OpDescribe, ResourceGroup, "g", true}, // a DENY of Read does not deny Describe
		{"bob", "1.1.1.1", OpRead, ResourceTransactionalID, "t", false},
	} {
		if got := a.authorize(c.user, c.host, c.op, c.rt, c.name); got != c.want {
			t.Errorf("%s@%s %s %s:%s = %v, want %v", c.user, c.host, c.op, c.rt, c.name, got, c.want)
		}
	}
	for _, bad := range []ACL{
		{Principal: "alice", ResourceType: "Topic", ResourceName: "x", Operation: "Read"},
		{Principal: "User:a", ResourceType: "Table", ResourceName: "x", Operation: "Read"},
		{Principal: "User:a", ResourceType: "Topic", ResourceName: "x", Operation: "Fly"},
		{Principal: "User:a", ResourceType: "Topic", ResourceName: "x", Operation: "Read", Host: "not-an-ip"},
		{Principal: "User:a", ResourceType: "Topic", ResourceName: "", Operation: "Read"},
	} {
		if _, err := newAuthorizer([]ACL{bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// thousandACLs is 1,000 ACLs over 100 users, half literal, half prefixed.
func thousandACLs() []ACL {
	var acls []ACL
	for i := range 1000 {
		pt := PatternLiteral
		if i%2 == 1 {
			pt = PatternPrefixed
		}
		acls = append(acls, ACL{Principal: fmt.Sprintf("User:u%d", i%100), ResourceType: ResourceTopic,
			ResourceName: fmt.Sprintf("team%d-topic%d", i%50, i), PatternType: pt, Operation: OpWrite, Permission: Allow})
	}
	return append(acls, ACL{Principal: "User:u7", ResourceType: ResourceTopic, ResourceName: "team7-",
		PatternType: PatternPrefixed, Operation: OpAll, Permission: Allow})
}

// BenchmarkAuthorize1000ACLs is one ACL decision against 1,000 ACLs.
func BenchmarkAuthorize1000ACLs(b *testing.B) {
	a, err := newAuthorizer(thousandACLs())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !a.authorize("u7", "127.0.0.1", OpWrite, ResourceTopic, "team7-orders") {
			b.Fatal("denied")
		}
	}
}

// BenchmarkProduceACLCheck1000ACLs is the whole per-request cost ACLs add
// to a produce request of 16 KB: decoding it and deciding its topic.
func BenchmarkProduceACLCheck1000ACLs(b *testing.B) {
	sec, err := compileSecurity(Security{ACLEnabled: true, ACLs: thousandACLs()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 7, -1, 1000
	t := kmsg.NewProduceRequestTopic()
	t.Topic = "team7-orders"
	p := kmsg.NewProduceRequestTopicPartition()
	p.Records = make([]byte, 16<<10)
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	body := req.AppendTo(nil)
	c := &authCtx{a: sec.authz, user: "u7", host: "127.0.0.1"}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := kmsg.NewPtrProduceRequest()
		r.Version = 7
		if err := r.ReadFrom(body); err != nil {
			b.Fatal(err)
		}
		if v := authzProduce(c, r); v.local != nil || v.close || v.rewrite {
			b.Fatal("denied")
		}
	}
}
