package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
)

// TestPortAllocator checks that allocations never overlap, that stored
// instances keep their ports, and that a deleted instance gives its ports
// back.
func TestPortAllocator(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	base := portBlock(t)
	now := time.Now()
	p := &broker.PortAllocator{Store: m.DB, Range: broker.PortRange{Min: base, Max: base + 5}, Now: func() time.Time { return now }}
	first, err := p.Allocate(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Allocate(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range second {
		if slices.Contains(first, port) {
			t.Fatalf("ports %v and %v overlap", first, second)
		}
	}

	// A stored instance holds its ports after the reservation is gone.
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	inst, err := m.DB.FindInstance(ctx, m.AccountID, testRegion, id)
	if err != nil {
		t.Fatal(err)
	}
	inst.BrokerPorts = first
	if err := m.DB.UpdateInstance(ctx, inst); err != nil {
		t.Fatal(err)
	}
	now = now.Add(broker.PortReservation + time.Second)
	// Of the six ports, the stored instance holds three: the next
	// allocation gets the other three, and then none are left.
	third, err := p.Allocate(ctx, 3)
	if err != nil || !slices.Equal(third, second) {
		t.Fatalf("got %v %v, want %v", third, err, second)
	}
	if got, err := p.Allocate(ctx, 3); err == nil {
		t.Fatalf("a range with no free ports allocated %v", got)
	}

	// Deleting the instance frees its ports.
	if err := m.DB.DeleteInstance(ctx, inst); err != nil {
		t.Fatal(err)
	}
	now = now.Add(broker.PortReservation + time.Second)
	again, err := p.Allocate(ctx, 3)
	if err != nil || !slices.Equal(again, first) {
		t.Fatalf("after delete got %v %v, want %v", again, err, first)
	}
}
