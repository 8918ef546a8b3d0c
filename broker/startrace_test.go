package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
)

// TestStartDuringRestartLeavesTheRoll calls Start (as the control plane's
// data plane check may) while a broker is down for a restart onto 2.2.0:
// Start waits for the restart instead of bringing the broker back itself
// on the spec's older version, and the broker ends up on 2.2.0.
func TestStartDuringRestartLeavesTheRoll(t *testing.T) {
	k, err := broker.NewKafka(broker.KafkaConfig{DataDir: t.TempDir(), RestartDowntime: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	const id = "alikafka_post-startrace"
	ports := freePorts(t, 3)
	startInstance(t, k, id, "0.10.2", ports)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- k.RestartBroker(ctx, id, 1, "2.2.0") }()
	for {
		st, err := k.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !st[1].Up {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("restart ended (%v) before the broker was seen down", err)
		default:
		}
		time.Sleep(time.Millisecond)
	}
	st, err := k.Start(ctx, broker.Spec{InstanceID: id, Version: "0.10.2", Ports: ports})
	if err != nil {
		t.Fatalf("Start during a restart: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("restart: %v", err)
	}
	if !st[1].Up || st[1].Version != "2.2.0" {
		t.Fatalf("Start during a restart reports broker 1 %+v, want up on 2.2.0", st[1])
	}
	if st, _ = k.Status(ctx, id); !st[1].Up || st[1].Version != "2.2.0" {
		t.Fatalf("broker 1 after the restart: %+v, want up on 2.2.0", st[1])
	}
}
