package throttle

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limit is a sustained rate and the number of requests that may arrive at
// once.
type Limit struct {
	PerSecond float64
	Burst     int
}

// Interval is GCRA's emission interval T = 1/rate.
func (l Limit) Interval() time.Duration {
	if l.PerSecond <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / l.PerSecond)
}

// Tolerance is GCRA's burst tolerance τ = T·(burst−1).
func (l Limit) Tolerance() time.Duration {
	b := max(l.Burst, 1)
	return l.Interval() * time.Duration(b-1)
}

// Decide is GCRA for one request arriving at now against a key whose
// theoretical arrival time is tat (zero for a new key). A request is allowed
// when max(tat, now) − now ≤ tolerance; it then moves tat to
// max(tat, now) + interval. When refused, tat is unchanged and retryAfter is
// how long until the request would be allowed.
func Decide(tat, now time.Time, interval, tolerance time.Duration) (newTAT time.Time, allowed bool, retryAfter time.Duration) {
	base := tat
	if base.Before(now) {
		base = now
	}
	if wait := base.Sub(now) - tolerance; wait > 0 {
		return tat, false, wait
	}
	return base.Add(interval), true, 0
}

// Store holds GCRA state. TakeGCRA applies Decide atomically for key.
type Store interface {
	TakeGCRA(ctx context.Context, key string, now time.Time, interval, tolerance time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// Memory is a Store for one process. Keys idle for longer than their
// tolerance carry no information and are swept.
type Memory struct {
	mu        sync.Mutex
	tat       map[string]time.Time
	lastSweep time.Time
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{tat: map[string]time.Time{}} }

// TakeGCRA implements Store.
func (m *Memory) TakeGCRA(_ context.Context, key string, now time.Time, interval, tolerance time.Duration) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[key]
	newTAT, allowed, retry := Decide(tat, now, interval, tolerance)
	if allowed || !ok {
		m.tat[key] = newTAT
	}
	if now.Sub(m.lastSweep) > time.Minute {
		m.sweep(now)
	}
	return allowed, retry, nil
}

// sweep drops keys whose TAT is in the past: Decide treats them exactly as
// new keys.
func (m *Memory) sweep(now time.Time) {
	for k, t := range m.tat {
		if t.Before(now) {
			delete(m.tat, k)
		}
	}
	m.lastSweep = now
}

// Len reports how many keys the store holds.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}

// Decision is the outcome of Limiter.Allow.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration
	Limit      Limit
}

// Limiter applies limits through a Store with a clock.
type Limiter struct {
	Store Store
	Now   func() time.Time
}

// Allow takes one request for key under limit. A zero or negative rate
// means unlimited.
func (l *Limiter) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	if limit.PerSecond <= 0 || math.IsInf(limit.PerSecond, 1) {
		return Decision{Allowed: true, Limit: limit}, nil
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	ok, retry, err := l.Store.TakeGCRA(ctx, key, now, limit.Interval(), limit.Tolerance())
	if err != nil {
		return Decision{}, err
	}
	return Decision{Allowed: ok, RetryAfter: retry, Limit: limit}, nil
}
