package noncelog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

func TestReplayRefusedAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	ctx := context.Background()
	l, err := Open(dir, 15*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "line\nbreak \"quoted\"", ""} {
		if fresh, err := l.UseNonce(ctx, "key1", n, now, now.Add(15*time.Minute), 1000); err != nil || !fresh {
			t.Fatalf("first use of %q: %v %v", n, fresh, err)
		}
		if fresh, _ := l.UseNonce(ctx, "key1", n, now, now.Add(15*time.Minute), 1000); fresh {
			t.Fatalf("second use of %q was fresh", n)
		}
	}
	if fresh, _ := l.UseNonce(ctx, "key2", "a", now, now.Add(15*time.Minute), 1000); !fresh {
		t.Fatal("the same nonce of another key must be fresh")
	}
	// Simulate a crash: no Close, reopen from the files.
	l2, err := Open(dir, 15*time.Minute, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "line\nbreak \"quoted\"", ""} {
		if fresh, _ := l2.UseNonce(ctx, "key1", n, now.Add(time.Minute), now.Add(time.Minute).Add(15*time.Minute), 1000); fresh {
			t.Errorf("after reopen, %q was fresh", n)
		}
	}
	// Outside the window a nonce is forgotten (its timestamp would be
	// refused anyway).
	later := now.Add(20 * time.Minute)
	if fresh, _ := l2.UseNonce(ctx, "key1", "a", later, later.Add(15*time.Minute), 1000); !fresh {
		t.Error("a nonce older than the window should be fresh again")
	}
	l2.Close()
}

func TestRotationRemovesOldSegments(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l, err := Open(dir, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		at := now.Add(time.Duration(i) * 70 * time.Second)
		if fresh, err := l.UseNonce(ctx, "k", fmt.Sprint(i), at, at.Add(time.Minute), 1000); err != nil || !fresh {
			t.Fatal(fresh, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) > 3 {
		t.Errorf("%d segments kept, want at most 3", len(entries))
	}
	l.Close()
}

func TestTornLineIgnored(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/nonces-1.log", []byte(formatLine(1_800_000_000_000_000, "k", "ok")+`1800000000000000 "k" "tor`), 0o600)
	l, err := Open(dir, time.Hour, time.UnixMicro(1_800_000_000_000_000-1))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 1 {
		t.Errorf("loaded %d nonces, want 1", l.Len())
	}
}

func TestConcurrentUseOneFresh(t *testing.T) {
	l, err := Open(t.TempDir(), time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := l.UseNonce(context.Background(), "k", "same", time.Now(), time.Now().Add(time.Minute), 1000); ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Errorf("%d fresh answers, want 1", fresh)
	}
}

func FuzzLine(f *testing.F) {
	f.Add(int64(1), "key", "nonce")
	f.Add(int64(0), "", "a b\n\"c\"")
	f.Fuzz(func(t *testing.T, at int64, key, nonce string) {
		line := formatLine(at, key, nonce)
		gotAt, gotKey, gotNonce, ok := parseLine(line[:len(line)-1])
		if !ok || gotAt != at || gotKey != key || gotNonce != nonce {
			t.Fatalf("round trip of (%d, %q, %q) gave (%d, %q, %q, %v)", at, key, nonce, gotAt, gotKey, gotNonce, ok)
		}
	})
}

// TestKeptUntilItsOwnExpiry: a nonce is remembered until the expiry its
// request asked for, however far after its use, across a reopen as well.
func TestKeptUntilItsOwnExpiry(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(29 * time.Minute)
	l, err := Open(dir, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err := l.UseNonce(ctx, "k", "ahead", now, exp, 10); err != nil || !fresh {
		t.Fatal(fresh, err)
	}
	for _, d := range []time.Duration{16 * time.Minute, 20 * time.Minute} {
		at := now.Add(d)
		if fresh, err := l.UseNonce(ctx, "k", "ahead", at, at.Add(15*time.Minute), 10); err != nil || fresh {
			t.Fatalf("%v later: fresh=%v %v", d, fresh, err)
		}
		// Other keys' traffic rotates segments meanwhile.
		l.UseNonce(ctx, "other", fmt.Sprint(d), at, at.Add(time.Minute), 10)
	}
	l.Close()
	at := now.Add(28 * time.Minute)
	l2, err := Open(dir, time.Minute, at)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if fresh, err := l2.UseNonce(ctx, "k", "ahead", at, at.Add(15*time.Minute), 10); err != nil || fresh {
		t.Fatalf("after reopen: fresh=%v %v", fresh, err)
	}
	at = exp.Add(time.Second)
	if fresh, err := l2.UseNonce(ctx, "k", "ahead", at, at.Add(15*time.Minute), 10); err != nil || !fresh {
		t.Fatalf("after its expiry: fresh=%v %v", fresh, err)
	}
}

// TestLegacyLineKeptForTheOldWindow: lines written before expiries were
// recorded carry the time of use and are kept for 15 minutes after it.
func TestLegacyLineKeptForTheOldWindow(t *testing.T) {
	dir := t.TempDir()
	used := time.Unix(1_800_000_000, 0)
	os.WriteFile(dir+"/nonces-1.log", []byte(fmt.Sprintf("%d \"k\" \"old\"\n", used.UnixMicro())), 0o600)
	at := used.Add(14 * time.Minute)
	l, err := Open(dir, time.Hour, at)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if fresh, _ := l.UseNonce(context.Background(), "k", "old", at, at.Add(time.Minute), 10); fresh {
		t.Error("a legacy nonce within its window was fresh")
	}
}

// TestLimitPerKey: a key at its limit is refused rather than having
// nonces forgotten; replays are still recognised, other keys are
// unaffected, and expiry makes room again.
func TestLimitPerKey(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l, err := Open(t.TempDir(), time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		if fresh, err := l.UseNonce(ctx, "k", fmt.Sprint(i), now, now.Add(time.Duration(10+i)*time.Minute), 3); err != nil || !fresh {
			t.Fatal(i, fresh, err)
		}
	}
	fresh, err := l.UseNonce(ctx, "k", "3", now, now.Add(15*time.Minute), 3)
	var lim *kafkaplane.NonceLimitError
	if fresh || !errors.As(err, &lim) || lim.Limit != 3 || lim.RetryAfter != 10*time.Minute {
		t.Fatalf("over the limit: fresh=%v err=%v", fresh, err)
	}
	if fresh, err := l.UseNonce(ctx, "k", "1", now, now.Add(15*time.Minute), 3); fresh || err != nil {
		t.Fatalf("replay at the limit: fresh=%v err=%v", fresh, err)
	}
	if fresh, err := l.UseNonce(ctx, "other", "3", now, now.Add(15*time.Minute), 3); !fresh || err != nil {
		t.Fatalf("another key: fresh=%v err=%v", fresh, err)
	}
	at := now.Add(10*time.Minute + time.Second)
	if fresh, err := l.UseNonce(ctx, "k", "3", at, at.Add(15*time.Minute), 3); !fresh || err != nil {
		t.Fatalf("after one expired: fresh=%v err=%v", fresh, err)
	}
	if fresh, _ := l.UseNonce(ctx, "k", "1", at, at.Add(15*time.Minute), 3); fresh {
		t.Fatal("an unexpired nonce was forgotten to make room")
	}
}
