package broker

import (
	"fmt"
	"testing"
	"time"
)

// TestObserverBounds checks that an instance's memory of clients and
// rebalances stays within its bounds however many it sees, drops the least
// recently seen client first, and says when it dropped something.
func TestObserverBounds(t *testing.T) {
	o := newObserver()
	at := time.Unix(1_700_000_000, 0)
	o.client("10.0.0.1", RoleProducer, "keep", "", at)
	for i := 0; i < 3*maxClientsSeen; i++ {
		at = at.Add(time.Millisecond)
		o.client(fmt.Sprintf("10.1.%d.%d", i/256, i%256), RoleProducer, "t", "", at)
		if i%10 == 0 { // seen again and again: never the least recent
			o.client("10.0.0.1", RoleProducer, "keep", "", at)
		}
	}
	for g := 0; g < 2*maxRebalances; g++ {
		o.joinRequested("g", "new member joined", at)
		o.joinAnswered("g", int32(g+1), true, at.Add(time.Duration(g)*time.Millisecond))
	}
	obs := o.snapshot()
	if len(obs.Clients) != maxClientsSeen || len(obs.Rebalances) != maxRebalances || !obs.Forgotten {
		t.Fatalf("%d clients, %d rebalances, forgotten %v; want %d, %d, true", len(obs.Clients), len(obs.Rebalances), obs.Forgotten, maxClientsSeen, maxRebalances)
	}
	kept := false
	for _, c := range obs.Clients {
		kept = kept || (c.IP == "10.0.0.1" && c.Count > 1)
	}
	if !kept {
		t.Error("the client seen most recently was dropped")
	}
	if g := obs.Rebalances[0].Generation; g != 2*maxRebalances {
		t.Errorf("newest rebalance is generation %d, want %d", g, 2*maxRebalances)
	}
	if fresh := newObserver().snapshot(); fresh.Forgotten {
		t.Error("a fresh observer reports dropped entries")
	}
}
