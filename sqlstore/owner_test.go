package sqlstore

import (
	"context"
	"sync"
	"testing"
	"time"
)

// testDataPlaneLease: of two processes only one holds the data plane
// lease; the holder renews it, the other takes it only once it has ended
// or been released, and concurrent claims of a free lease have one winner.
func testDataPlaneLease(t *testing.T, dsn string) {
	ctx := context.Background()
	a, b := openStore(t, dsn), openStore(t, dsn)
	const ttl = 10 * time.Second

	l, err := a.DataPlane(ctx)
	must(t, err)
	if l.Held(t0) {
		t.Fatalf("fresh store: lease %+v is held", l)
	}
	l, ok, err := a.AcquireDataPlane(ctx, "worker-a", "127.0.0.1:1", t0, ttl)
	must(t, err)
	if !ok || l.Holder != "worker-a" || l.Addr != "127.0.0.1:1" || !l.Until.Equal(t0.Add(ttl)) {
		t.Fatalf("first acquire: %v %+v", ok, l)
	}
	// Another process cannot take a lease in force, and sees its holder.
	l, ok, err = b.AcquireDataPlane(ctx, "worker-b", "127.0.0.1:2", t0.Add(ttl-time.Millisecond), ttl)
	must(t, err)
	if ok || l.Holder != "worker-a" || !l.Held(t0.Add(ttl-time.Millisecond)) {
		t.Fatalf("acquire of a held lease: %v %+v", ok, l)
	}
	// The holder renews it.
	_, ok, err = a.AcquireDataPlane(ctx, "worker-a", "127.0.0.1:1", t0.Add(5*time.Second), ttl)
	must(t, err)
	if !ok {
		t.Fatal("renewal refused")
	}
	// Once it has ended, another process takes it over.
	end := t0.Add(15 * time.Second)
	l, ok, err = b.AcquireDataPlane(ctx, "worker-b", "127.0.0.1:2", end, ttl)
	must(t, err)
	if !ok || l.Holder != "worker-b" || l.Addr != "127.0.0.1:2" {
		t.Fatalf("takeover of an ended lease: %v %+v", ok, l)
	}
	// The former holder cannot renew, and releasing what it no longer
	// holds changes nothing.
	if _, ok, err = a.AcquireDataPlane(ctx, "worker-a", "127.0.0.1:1", end, ttl); err != nil || ok {
		t.Fatalf("renewal by the former holder: %v %v", ok, err)
	}
	must(t, a.ReleaseDataPlane(ctx, "worker-a"))
	if l, _ = b.DataPlane(ctx); !l.Held(end) || l.Holder != "worker-b" {
		t.Fatalf("after a release by a non-holder: %+v", l)
	}
	// A release frees it at once.
	must(t, b.ReleaseDataPlane(ctx, "worker-b"))
	if l, _ = a.DataPlane(ctx); l.Held(end) {
		t.Fatalf("after release: %+v", l)
	}
	// Concurrent claims of the free lease: exactly one wins.
	var mu sync.Mutex
	var wg sync.WaitGroup
	winners := 0
	for i, db := range []*DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := db.AcquireDataPlane(ctx, "racer-"+string(rune('a'+i)), "", end, ttl)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d processes won a free lease, want 1", winners)
	}
}
