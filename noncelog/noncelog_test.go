package noncelog

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
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
		if fresh, err := l.UseNonce(ctx, "key1", n, now, 15*time.Minute); err != nil || !fresh {
			t.Fatalf("first use of %q: %v %v", n, fresh, err)
		}
		if fresh, _ := l.UseNonce(ctx, "key1", n, now, 15*time.Minute); fresh {
			t.Fatalf("second use of %q was fresh", n)
		}
	}
	if fresh, _ := l.UseNonce(ctx, "key2", "a", now, 15*time.Minute); !fresh {
		t.Fatal("the same nonce of another key must be fresh")
	}
	// Simulate a crash: no Close, reopen from the files.
	l2, err := Open(dir, 15*time.Minute, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "line\nbreak \"quoted\"", ""} {
		if fresh, _ := l2.UseNonce(ctx, "key1", n, now.Add(time.Minute), 15*time.Minute); fresh {
			t.Errorf("after reopen, %q was fresh", n)
		}
	}
	// Outside the window a nonce is forgotten (its timestamp would be
	// refused anyway).
	later := now.Add(20 * time.Minute)
	if fresh, _ := l2.UseNonce(ctx, "key1", "a", later, 15*time.Minute); !fresh {
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
		if fresh, err := l.UseNonce(ctx, "k", fmt.Sprint(i), at, time.Minute); err != nil || !fresh {
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
	l, err := Open(dir, time.Hour, time.UnixMicro(1_800_000_000_000_000))
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
			if ok, _ := l.UseNonce(context.Background(), "k", "same", time.Now(), time.Minute); ok {
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
		gotAt, gotKey, gotNonce, ok := parseLine(formatLine(at, key, nonce)[:len(formatLine(at, key, nonce))-1])
		if !ok || gotAt != at || gotKey != key || gotNonce != nonce {
			t.Fatalf("round trip of (%d, %q, %q) gave (%d, %q, %q, %v)", at, key, nonce, gotAt, gotKey, gotNonce, ok)
		}
	})
}
