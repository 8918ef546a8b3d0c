package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// TestThrottleBurst calls UpgradeInstanceVersion as fast as possible as one
// account for three (simulated) seconds: it is let through exactly as often
// as GCRA allows at 2 QPS with a burst of 2, while a second account calling
// at the same time is never throttled. The server's clock advances 10 ms per
// call, so the bound is exact: 2 at t=0 and one every 500 ms after, 7 in
// [0 s, 3 s).
func TestThrottleBurst(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	m := startMain(t, func(m *Main) {
		m.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		m.FakeStepDelay = 0
	})
	other := &kafkaplane.AccessKey{ID: "LTAIsecondaccount0000001", Secret: "secondaccountsecret", AccountID: "6543210987654321", Status: kafkaplane.AccessKeyActive, CreateDate: time.Now()}
	if err := m.DB.CreateAccessKey(context.Background(), other, 0); err != nil {
		t.Fatal(err)
	}
	a := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion, typedErrors: true}
	b := teaClient{addr: m.ListenAddr(), id: other.ID, secret: other.Secret, region: testRegion}
	params := map[string]string{"InstanceId": "alikafka_post-cn-nosuchinstance", "TargetVersion": "2.2.0"}

	// Requests that fail authentication never use up the account's quota.
	forged := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: "not-the-secret", region: testRegion}
	for i := 0; i < 20; i++ {
		if r := forged.call(t, "2019-09-16", "UpgradeInstanceVersion", params); r.code != "SignatureDoesNotMatch" {
			t.Fatalf("forged request answered %+v", r)
		}
	}

	passedA, throttledA, passedB := 0, 0, 0
	for i := 0; i < 300; i++ {
		r := a.call(t, "2019-09-16", "UpgradeInstanceVersion", params)
		switch r.code {
		case "Throttling.User":
			throttledA++
			if r.status != 400 || r.retryAfter <= 0 || r.retryAfter > 500 {
				t.Fatalf("throttled answer: HTTP %d, RetryAfter %d ms", r.status, r.retryAfter)
			}
		case kafkaplane.CodeInstanceNotFound:
			// Let through: the handler ran and found no such instance.
			passedA++
		default:
			t.Fatalf("unexpected answer %+v", r)
		}
		if i%60 == 0 { // every 600 ms, under the limit
			if r := b.call(t, "2019-09-16", "UpgradeInstanceVersion", params); r.code == "Throttling.User" {
				t.Fatalf("second account throttled at call %d", i)
			}
			passedB++
		}
		clock.Add(int64(10 * time.Millisecond))
	}
	if passedA != 7 || throttledA != 293 {
		t.Errorf("account A: %d let through, %d throttled; want 7 and 293", passedA, throttledA)
	}
	if passedB != 5 {
		t.Errorf("account B: %d calls, want 5", passedB)
	}
}

// frozenWorld is a server whose clock stands still unless the test moves
// it, so that token buckets refill only when told.
func frozenWorld(t *testing.T) (*world, *atomic.Int64) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	m := startMain(t, func(m *Main) {
		m.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		m.FakeStepDelay = 0
	})
	return &world{t: t, m: m, root: principal{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret}}, &clock
}

// TestThrottleDeniedCallerOwnBucket: a RAM user without permission
// calling UpgradeInstanceVersion (2/s) as fast as it can does not use up
// the account's quota: its denials are limited by a bucket of its own
// AccessKey (2 denials, then Throttling.User), and the root key still gets
// its 2 calls through at the same instant.
func TestThrottleDeniedCallerOwnBucket(t *testing.T) {
	w, _ := frozenWorld(t)
	nobody := w.user("nobody")
	second := w.user("second")
	params := map[string]string{"InstanceId": "alikafka_post-cn-nosuchinstance", "TargetVersion": "2.2.0"}
	count := func(p principal, n int) map[string]int {
		c := teaClient{addr: w.m.ListenAddr(), id: p.id, secret: p.secret, region: testRegion, typedErrors: true}
		out := map[string]int{}
		for range n {
			out[c.call(t, "2019-09-16", "UpgradeInstanceVersion", params).code]++
		}
		return out
	}
	if got := count(nobody, 50); got["Forbidden.RAM"] != 2 || got["Throttling.User"] != 48 {
		t.Errorf("denied caller: %v, want 2 Forbidden.RAM and 48 Throttling.User", got)
	}
	// Another key's denials have their own bucket.
	if got := count(second, 3); got["Forbidden.RAM"] != 2 || got["Throttling.User"] != 1 {
		t.Errorf("second denied caller: %v, want 2 Forbidden.RAM and 1 Throttling.User", got)
	}
	if got := count(w.root, 3); got[kafkaplane.CodeInstanceNotFound] != 2 || got["Throttling.User"] != 1 {
		t.Errorf("root after the denials: %v, want 2 let through and 1 throttled", got)
	}
}

// TestThrottleNonRegionalIgnoresRegionId: RAM actions are not regional,
// so a RegionId sent with them is no part of the throttle key: 200
// ListUsers calls at one instant, each with a different RegionId, get
// exactly the 20 of RAM's per-account limit through.
func TestThrottleNonRegionalIgnoresRegionId(t *testing.T) {
	w, _ := frozenWorld(t)
	c := teaClient{addr: w.m.ListenAddr(), id: testKeyID, secret: testKeySecret, typedErrors: true}
	got := map[string]int{}
	for i := range 200 {
		got[c.call(t, "2015-05-01", "ListUsers", map[string]string{"RegionId": fmt.Sprintf("region-%d", i)}).code]++
	}
	if got[""] != 20 || got["Throttling.User"] != 180 {
		t.Errorf("ListUsers with varying RegionId: %v, want 20 let through and 180 throttled", got)
	}
}
