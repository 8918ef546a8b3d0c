package broker_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// randomBytes is incompressible, so producer compression cannot shrink a
// record under a size limit.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestLifecycleAndConfig(t *testing.T) {
	dir := t.TempDir()
	k := newRuntime(t, dir)
	defer k.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ports := freePorts(t, 3)
	const id = "alikafka_post-life"

	if _, err := k.Start(ctx, broker.Spec{InstanceID: id, Version: "1.1.0", Ports: ports}); err == nil {
		t.Fatal("unknown version accepted")
	}
	if st, _ := k.Status(ctx, id); len(st) != 0 {
		t.Fatalf("status of a stopped instance: %v", st)
	}
	spec := broker.Spec{InstanceID: id, Version: "2.2.0", Ports: ports,
		BrokerVersions: map[int32]string{2: "0.10.2"},
		Config:         map[string]string{"kafka.message.max.bytes": "2000", "kafka.log.retention.hours": "72"}}
	st, err := k.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if st[2].Version != "0.10.2" || st[0].Version != "2.2.0" || !st[1].Up {
		t.Fatalf("status %+v", st)
	}
	again, err := k.Start(ctx, spec) // idempotent
	if err != nil || len(again) != 3 {
		t.Fatalf("second start: %v %v", again, err)
	}
	if err := k.CheckBroker(ctx, id, 2, "0.10.2"); err != nil {
		t.Fatal(err)
	}
	addrs := []string{st[0].Addr, st[1].Addr}
	createTopic(t, addrs, "2.2.0", "cfg", 1)

	cl := newClient(t, addrs)
	big := &kgo.Record{Topic: "cfg", Value: randomBytes(4000)}
	if err := cl.ProduceSync(ctx, big).FirstErr(); err == nil {
		t.Fatal("4000-byte record accepted with kafka.message.max.bytes=2000")
	} else if !strings.Contains(err.Error(), kerr.MessageTooLarge.Message) {
		t.Logf("oversized produce: %v", err)
	}
	if err := k.ApplyConfig(ctx, id, map[string]string{"kafka.message.max.bytes": "1000000", "kafka.log.retention.hours": "24"}); err != nil {
		t.Fatal(err)
	}
	big = &kgo.Record{Topic: "cfg", Value: randomBytes(4000)}
	if err := cl.ProduceSync(ctx, big).FirstErr(); err != nil {
		t.Fatalf("after raising message.max.bytes: %v", err)
	}
	// Broker 2 runs 0.10.2, which has no DescribeConfigs; ask broker 0.
	bc, err := kadm.NewClient(cl).DescribeBrokerConfigs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rc := range bc {
		for _, c := range rc.Configs {
			if c.Key == "log.retention.ms" && c.MaybeValue() == "86400000" {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("log.retention.ms not applied")
	}
	if err := k.ApplyConfig(ctx, id, map[string]string{"kafka.log.retention.hours": "soon"}); err == nil {
		t.Fatal("bad retention accepted")
	}

	if err := k.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, _ := k.Status(ctx, id); len(st) != 0 {
		t.Fatalf("status after stop: %v", st)
	}
	if err := k.RestartBroker(ctx, id, 0, "2.2.0"); err == nil {
		t.Fatal("restart of a stopped instance succeeded")
	}
}
