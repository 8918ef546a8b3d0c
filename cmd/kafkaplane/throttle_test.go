package main

import (
	"context"
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
