package sqlstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kafkaplane/kafkaplane"
)

// TestInstanceReadCacheSeesEveryWrite reads an instance list until it is
// cached on SQLite, then changes the instances through each kind of write
// (plain statements, updates outside a transaction, transactions) and
// checks that the next read shows the change.
func TestInstanceReadCacheSeesEveryWrite(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "kafkaplane.db"))
	filter := kafkaplane.InstanceFilter{AccountID: "acc", RegionID: "cn-hangzhou"}
	list := func() []*kafkaplane.Instance {
		t.Helper()
		a, err := db.FindInstances(ctx, filter)
		must(t, err)
		b, err := db.FindInstances(ctx, filter) // served from the cache
		must(t, err)
		diff(t, "second read", b, a)
		return b
	}

	a := mustCreateInstance(t, db, newInstance("i-a", "acc", "cn-hangzhou"))
	if got := list(); len(got) != 1 {
		t.Fatalf("after create: %d instances", len(got))
	}

	mustCreateInstance(t, db, newInstance("i-b", "acc", "cn-hangzhou"))
	if got := list(); len(got) != 2 {
		t.Fatalf("after second create: %d instances, want 2", len(got))
	}

	a.Name = "renamed"
	must(t, db.UpdateInstance(ctx, a))
	if got := list(); got[0].Name != "renamed" {
		t.Fatalf("after UpdateInstance: name %q", got[0].Name)
	}

	startOp(t, db, a, newOperation("op-1", a))
	if got := list(); got[0].ServiceStatus != kafkaplane.ServiceStatusUpgrading {
		t.Fatalf("after StartOperation: status %d", got[0].ServiceStatus)
	}

	b, err := db.FindInstance(ctx, "acc", "cn-hangzhou", "i-b")
	must(t, err)
	must(t, db.DeleteInstance(ctx, b))
	if got := list(); len(got) != 1 || got[0].ID != "i-a" {
		t.Fatalf("after DeleteInstance: %v", got)
	}
}

// TestInstanceReadCacheReturnsCopies changes everything a read returned and
// checks that the next read is unaffected.
func TestInstanceReadCacheReturnsCopies(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "kafkaplane.db"))
	inst := newInstance("i-a", "acc", "cn-hangzhou")
	inst.Tags = []kafkaplane.Tag{{Key: "k", Value: "v"}}
	inst.Config = map[string]string{"enable.acl": "false"}
	inst.BrokerPorts = []int{19092, 19093, 19094}
	mustCreateInstance(t, db, inst)
	filter := kafkaplane.InstanceFilter{AccountID: "acc", RegionID: "cn-hangzhou"}
	want, err := db.FindInstances(ctx, filter)
	must(t, err)
	for range 2 {
		got, err := db.FindInstances(ctx, filter)
		must(t, err)
		diff(t, "read", got, want)
		got[0].Name = "changed"
		got[0].Tags[0].Value = "changed"
		got[0].Config["enable.acl"] = "true"
		got[0].BrokerPorts[0] = 1
		want, err = db.FindInstances(ctx, filter)
		must(t, err)
		if want[0].Name != inst.Name || want[0].Tags[0].Value != "v" || want[0].Config["enable.acl"] != "false" || want[0].BrokerPorts[0] != 19092 {
			t.Fatalf("a caller's change reached the store's answer: %+v", want[0])
		}
	}
}

// TestTopicAndGroupReadCache: topic and consumer-group lists are cached on
// SQLite like instance lists: every write shows in the next read, and a
// caller's change to what a read returned does not reach the next one.
func TestTopicAndGroupReadCache(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "kafkaplane.db"))
	inst := mustCreateInstance(t, db, newInstance("i-a", "acc", "cn-hangzhou"))
	topics := func() []*kafkaplane.Topic {
		t.Helper()
		a, err := db.ListTopics(ctx, inst.ID)
		must(t, err)
		b, err := db.ListTopics(ctx, inst.ID) // served from the cache
		must(t, err)
		diff(t, "second read", b, a)
		return b
	}
	groups := func() []*kafkaplane.ConsumerGroup {
		t.Helper()
		a, err := db.ListConsumerGroups(ctx, inst.ID)
		must(t, err)
		b, err := db.ListConsumerGroups(ctx, inst.ID)
		must(t, err)
		diff(t, "second read", b, a)
		return b
	}
	if len(topics()) != 0 || len(groups()) != 0 {
		t.Fatal("a new instance lists topics or groups")
	}
	orders := &kafkaplane.Topic{InstanceID: inst.ID, Name: "orders", PartitionNum: 6,
		Config: map[string]string{"retention.ms": "1000"}, Tags: []kafkaplane.Tag{{Key: "k", Value: "v"}}}
	must(t, db.CreateTopic(ctx, orders, 0))
	billing := &kafkaplane.ConsumerGroup{InstanceID: inst.ID, ConsumerID: "billing", Tags: []kafkaplane.Tag{{Key: "k", Value: "v"}}}
	must(t, db.CreateConsumerGroup(ctx, billing, 0))
	got, gs := topics(), groups()
	if len(got) != 1 || len(gs) != 1 {
		t.Fatalf("after create: %d topics, %d groups", len(got), len(gs))
	}
	got[0].Config["retention.ms"], got[0].Tags[0].Value, gs[0].Tags[0].Value = "x", "x", "x"
	if again, ga := topics(), groups(); again[0].Config["retention.ms"] != "1000" || again[0].Tags[0].Value != "v" || ga[0].Tags[0].Value != "v" {
		t.Fatalf("a caller's change reached the store's answer: %+v %+v", again[0], ga[0])
	}
	orders.Remark = "changed"
	must(t, db.UpdateTopic(ctx, orders))
	if got := topics(); got[0].Remark != "changed" {
		t.Fatalf("after UpdateTopic: remark %q", got[0].Remark)
	}
	must(t, db.DeleteTopic(ctx, inst.ID, "orders"))
	must(t, db.DeleteConsumerGroup(ctx, inst.ID, "billing"))
	if len(topics()) != 0 || len(groups()) != 0 {
		t.Fatal("deleted topic or group still listed")
	}
}
