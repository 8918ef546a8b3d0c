package throttle

import (
	"context"
	"testing"
	"time"
)

func TestDecideTable(t *testing.T) {
	t0 := time.Unix(1000, 0)
	T := 500 * time.Millisecond
	tests := []struct {
		name      string
		tat, now  time.Time
		tolerance time.Duration
		allowed   bool
		newTAT    time.Time
		retry     time.Duration
	}{
		{"new key", time.Time{}, t0, T, true, t0.Add(T), 0},
		{"within burst", t0.Add(T), t0, T, true, t0.Add(2 * T), 0},
		{"burst used up", t0.Add(2 * T), t0, T, false, t0.Add(2 * T), T},
		{"partly recovered", t0.Add(2 * T), t0.Add(200 * time.Millisecond), T, false, t0.Add(2 * T), 300 * time.Millisecond},
		{"exactly at bound", t0.Add(2 * T), t0.Add(T), T, true, t0.Add(3 * T), 0},
		{"idle key", t0, t0.Add(time.Hour), T, true, t0.Add(time.Hour + T), 0},
		{"no burst", t0.Add(T), t0, 0, false, t0.Add(T), T},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, retry := Decide(tt.tat, tt.now, T, tt.tolerance)
			if ok != tt.allowed || !got.Equal(tt.newTAT) || retry != tt.retry {
				t.Errorf("Decide = (%v, %v, %v), want (%v, %v, %v)", got.Sub(t0), ok, retry, tt.newTAT.Sub(t0), tt.allowed, tt.retry)
			}
		})
	}
}

// TestMemoryBound checks the GCRA bound: at 2/s with burst 2, calls every
// 10 ms over [0, 5 s) are allowed 2 at t=0 and then one per 500 ms: 11.
func TestMemoryBound(t *testing.T) {
	m := NewMemory()
	now := time.Unix(0, 0)
	l := &Limiter{Store: m, Now: func() time.Time { return now }}
	lim := Limit{PerSecond: 2, Burst: 2}
	var a, b int
	for i := 0; i < 500; i++ {
		now = time.Unix(0, 0).Add(time.Duration(i) * 10 * time.Millisecond)
		if d, _ := l.Allow(context.Background(), "acct-a", lim); d.Allowed {
			a++
		}
		if i%50 == 0 { // a second, slow key is never limited by the first
			if d, _ := l.Allow(context.Background(), "acct-b", lim); d.Allowed {
				b++
			}
		}
	}
	if a != 11 {
		t.Errorf("key a allowed %d times, want 11", a)
	}
	if b != 10 {
		t.Errorf("key b allowed %d times, want 10", b)
	}
}

func TestUnlimited(t *testing.T) {
	l := &Limiter{Store: NewMemory()}
	for i := 0; i < 100; i++ {
		if d, _ := l.Allow(context.Background(), "k", Limit{}); !d.Allowed {
			t.Fatal("a zero limit must not throttle")
		}
	}
}

func TestSweep(t *testing.T) {
	m := NewMemory()
	now := time.Unix(0, 0)
	for _, k := range []string{"a", "b", "c"} {
		m.TakeGCRA(context.Background(), k, now, time.Second, 0)
	}
	m.TakeGCRA(context.Background(), "d", now.Add(2*time.Minute), time.Second, 0)
	if m.Len() != 1 {
		t.Errorf("after sweep %d keys remain, want 1", m.Len())
	}
}

// FuzzDecide checks GCRA's invariants for arbitrary inputs: an allowed
// request never moves TAT backwards, and a refused one reports a positive
// wait after which the same request is allowed.
func FuzzDecide(f *testing.F) {
	f.Add(int64(0), int64(0), int64(500), int64(500))
	f.Add(int64(2000), int64(100), int64(500), int64(0))
	f.Fuzz(func(t *testing.T, tatMs, nowMs, intervalMs, tolMs int64) {
		if intervalMs <= 0 || intervalMs > 1e6 || tolMs < 0 || tolMs > 1e7 || tatMs < 0 || nowMs < 0 || tatMs > 1e12 || nowMs > 1e12 {
			return
		}
		tat, now := time.UnixMilli(tatMs), time.UnixMilli(nowMs)
		iv, tol := time.Duration(intervalMs)*time.Millisecond, time.Duration(tolMs)*time.Millisecond
		got, ok, retry := Decide(tat, now, iv, tol)
		if ok {
			if got.Before(tat) || got.Before(now) {
				t.Fatalf("allowed request moved TAT back: %v from %v at %v", got, tat, now)
			}
			return
		}
		if retry <= 0 || !got.Equal(tat) {
			t.Fatalf("refused request: retry %v, TAT %v → %v", retry, tat, got)
		}
		if _, ok2, _ := Decide(tat, now.Add(retry), iv, tol); !ok2 {
			t.Fatalf("request still refused after waiting %v", retry)
		}
	})
}
