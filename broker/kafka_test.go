package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFranzGo220AndPersistence(t *testing.T) {
	dir := t.TempDir()
	k := newRuntime(t, dir)
	ports := freePorts(t, 3)
	addrs := startInstance(t, k, "alikafka_post-t1", "2.2.0", ports)
	createTopic(t, addrs, "2.2.0", "orders", 6)

	cl := newClient(t, addrs)
	produceN(t, cl, "orders", "a", 500, true)
	recs := consumeAll(t, addrs, "orders", 500)
	if len(recs) != 500 || len(recs[0].Headers) != 1 {
		t.Fatalf("got %d records, headers %v", len(recs), recs[0].Headers)
	}
	// Commit group offsets through the front.
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	offs := kadm.Offsets{}
	for p := int32(0); p < 6; p++ {
		offs.Add(kadm.Offset{Topic: "orders", Partition: p, At: 1, LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(ctx, "g1", offs); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	k2 := newRuntime(t, dir)
	defer k2.Close()
	addrs = startInstance(t, k2, "alikafka_post-t1", "2.2.0", ports)
	recs = consumeAll(t, addrs, "orders", 500)
	if len(recs) != 500 {
		t.Fatalf("after restart got %d records", len(recs))
	}
	cl2 := newClient(t, addrs)
	fo, err := kadm.NewClient(cl2).FetchOffsets(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 6; p++ {
		o, ok := fo.Lookup("orders", p)
		if !ok || o.At != 1 {
			t.Fatalf("partition %d offset %+v %v", p, o, ok)
		}
	}
	_ = kgo.Record{}
}
