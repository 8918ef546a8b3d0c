package chaos

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

// TestChaos is the randomized fault run: CHAOS_SEED (random when unset,
// printed), CHAOS_OPS operations (1000) spread over CHAOS_DURATION (45s) across
// CHAOS_ACCOUNTS server processes (2), each SIGKILLed and restarted at
// random moments while franz-go clients produce and consume. It fails on
// any violation.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault run takes about a minute")
	}
	seed := rand.Uint64() >> 12
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: want a number", v)
		}
		seed = s
	}
	duration := 45 * time.Second
	if v := os.Getenv("CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CHAOS_DURATION=%q: %v", v, err)
		}
		duration = d
	}
	t.Logf("seed: %d", seed)

	dir := t.TempDir()
	bin := filepath.Join(dir, "kafkaplane")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kafkaplane/kafkaplane/cmd/kafkaplane").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration+5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{
		Bin: bin, Dir: dir, Seed: seed,
		Ops:         envInt(t, "CHAOS_OPS", 1000),
		Duration:    duration,
		Accounts:    envInt(t, "CHAOS_ACCOUNTS", 2),
		KillMin:     1500 * time.Millisecond,
		KillMax:     4 * time.Second,
		SettleBound: 90 * time.Second,
		SoakOps:     envInt(t, "CHAOS_SOAK_OPS", 300),
		Rate:        200,
		Logf:        t.Logf,
	})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	t.Logf("\n%s", rep)
	if len(rep.Violations) > 0 {
		for _, k := range rep.KillLog {
			t.Log(k)
		}
		t.Errorf("seed %d: %d violations (set CHAOS_KEEP=DIR to keep the server logs and data)", seed, len(rep.Violations))
		if keep := os.Getenv("CHAOS_KEEP"); keep != "" {
			_ = exec.Command("cp", "-r", dir, keep).Run()
		}
	}
}

// TestChaosSequenceIsSeeded checks that a seed fixes the operation
// sequence and that different seeds give different ones.
func TestChaosSequenceIsSeeded(t *testing.T) {
	a, b := sequenceDigest(42, 2, 1000), sequenceDigest(42, 2, 1000)
	if a != b {
		t.Fatalf("seed 42 gave %s and %s", a, b)
	}
	if c := sequenceDigest(43, 2, 1000); c == a {
		t.Fatalf("seeds 42 and 43 gave the same sequence %s", a)
	}
	g := newGenerator(7, 0)
	kinds := map[string]bool{}
	for range 5000 {
		kinds[g.next().kind] = true
	}
	for _, w := range weights {
		if !kinds[w.kind] {
			t.Errorf("%s never drawn in 5000 operations", w.kind)
		}
	}
}
