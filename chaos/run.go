package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config is one randomized fault run.
type Config struct {
	Bin      string        // the built kafkaplane binary
	Dir      string        // working directory for data dirs and logs
	Seed     uint64        // operation sequence seed
	Ops      int           // operations to issue, across all accounts
	Duration time.Duration // stop issuing operations after this long
	Accounts int           // server processes, one account each
	// KillMin and KillMax bound the pause between two process kills.
	KillMin, KillMax time.Duration
	// SettleBound is how long an instance may stay deploying or upgrading
	// once the last kill is over.
	SettleBound time.Duration
	SoakOps     int // operations between the two resource measurements
	Rate        int // records produced per second
	Logf        func(format string, args ...any)
}

// Report is what a run found.
type Report struct {
	Seed     uint64
	Sequence string // digest of the operation sequence

	mu         sync.Mutex
	Ops        map[string]int // operations by kind
	Outcomes   map[string]int // answers by outcome and code
	Kills      int
	Terms      int
	Restarts   int
	Produced   int
	Acked      int
	Failed     int
	Consumed   int
	InLog      int
	Lost       int
	Duplicated int
	// AtLeastOnce counts records written twice by a producer without
	// idempotence (no producer id: the instance ran 0.10.2 when the client
	// was made), whose answer a kill cut. Kafka promises such a producer
	// at-least-once delivery, so these are reported, not violations.
	AtLeastOnce int
	// IdempotentFrom is when the idempotent producer took over ("never"
	// when the data instance did not finish its upgrade).
	IdempotentFrom string
	Settle         time.Duration
	// Operations counts the instances' operations by final state;
	// Resumed those claimed more than once (a kill interrupted them).
	Operations map[string]int
	Resumed    int
	// Checked counts what the final check compared with the model.
	Checked    map[string]int
	Usage      []string
	Violations []string
	KillLog    []string
}

func (r *Report) violation(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

func (r *Report) operation(state string, attempts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Operations[state]++
	if attempts > 1 {
		r.Resumed++
	}
}

func (r *Report) checked(what string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Checked[what] += n
}

func (r *Report) count(kind string, a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Ops[kind]++
	key := [...]string{"accepted", "refused", "uncertain", "down"}[a.out]
	if a.code != "" {
		key += ":" + a.code
	}
	r.Outcomes[key]++
}

// String prints the report: seed, operation counts, kills and restarts,
// records, and the violations.
func (r *Report) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "seed: %d (CHAOS_SEED=%d reproduces the operation sequence %s)\n", r.Seed, r.Seed, r.Sequence)
	total := 0
	for _, n := range r.Ops {
		total += n
	}
	fmt.Fprintf(&b, "operations: %d\n", total)
	for _, k := range sortedKeys(r.Ops) {
		fmt.Fprintf(&b, "  %-36s %d\n", k, r.Ops[k])
	}
	fmt.Fprintf(&b, "answers:\n")
	for _, k := range sortedKeys(r.Outcomes) {
		fmt.Fprintf(&b, "  %-52s %d\n", k, r.Outcomes[k])
	}
	fmt.Fprintf(&b, "kills: %d SIGKILL, %d SIGTERM; restarts: %d\n", r.Kills, r.Terms, r.Restarts)
	fmt.Fprintf(&b, "records: %d produced, %d acknowledged, %d failed, %d consumed live, %d in the log; lost %d, duplicated %d\n",
		r.Produced, r.Acked, r.Failed, r.Consumed, r.InLog, r.Lost, r.Duplicated)
	fmt.Fprintf(&b, "producer: idempotent from %s; %d records written twice before that, without a producer id (at-least-once)\n",
		r.IdempotentFrom, r.AtLeastOnce)
	fmt.Fprintf(&b, "operations of the remaining instances: %v, %d resumed after a kill; settled %v after the last kill\n",
		r.Operations, r.Resumed, r.Settle.Round(time.Millisecond))
	fmt.Fprintf(&b, "checked against the model: %v\n", r.Checked)
	for _, u := range r.Usage {
		fmt.Fprintf(&b, "%s\n", u)
	}
	fmt.Fprintf(&b, "violations: %d\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "  - %s\n", v)
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Run performs a randomized fault run and returns its report; the error
// is for a run that could not be set up at all.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Accounts <= 0 {
		cfg.Accounts = 2
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	rep := &Report{Seed: cfg.Seed, Ops: map[string]int{}, Outcomes: map[string]int{}, Operations: map[string]int{}, Checked: map[string]int{},
		Sequence: sequenceDigest(cfg.Seed, cfg.Accounts, cfg.Ops/cfg.Accounts)}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer hc.CloseIdleConnections()

	taken := map[int]bool{}
	var drivers []*driver
	for i := range cfg.Accounts {
		dir := filepath.Join(cfg.Dir, fmt.Sprintf("account-%d", i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		base, err := portBlock(taken)
		if err != nil {
			return nil, err
		}
		srv, err := newServer(cfg.Bin, dir, fmt.Sprintf("%d", 1111111111111111*(i+1)), base)
		if err != nil {
			return nil, err
		}
		if err := srv.start(ctx); err != nil {
			return nil, err
		}
		defer srv.stop(syscall.SIGTERM)
		d := &driver{rep: rep, hc: hc, srv: srv, acct: newAccount(), root: srv.root, name: "account " + srv.account}
		if err := d.setup(ctx, i == 0); err != nil {
			return nil, fmt.Errorf("%s: setup: %w (log: %s)", d.name, err, filepath.Join(dir, "server.log"))
		}
		drivers = append(drivers, d)
	}
	tr, err := startTraffic(drivers[0].dataEndpoint, max(cfg.Rate, 1))
	if err != nil {
		return nil, err
	}

	// The operations, one stream per account, while a killer SIGKILLs and
	// restarts the servers at random moments.
	deadline := time.Now().Add(cfg.Duration)
	killCtx, stopKiller := context.WithCancel(ctx)
	killerDone := make(chan struct{})
	hints, inflight := make(chan *driver, 1), make(chan *driver)
	for _, d := range drivers {
		d.hints, d.inflight = hints, inflight
	}
	go func() {
		defer close(killerDone)
		killer(killCtx, cfg, rep, drivers, hints, inflight)
	}()
	var wg sync.WaitGroup
	for i, d := range drivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGenerator(cfg.Seed, uint64(i))
			n := cfg.Ops / cfg.Accounts
			// The operations are spread over the duration so that the
			// kills land among them.
			pace := cfg.Duration / time.Duration(max(n, 1))
			start := time.Now()
			for k := range n {
				if time.Now().After(deadline) || ctx.Err() != nil {
					return
				}
				if wait := time.Until(start.Add(time.Duration(k) * pace)); wait > 0 {
					time.Sleep(wait)
				}
				d.exec(ctx, g.next())
			}
		}()
	}
	wg.Wait()
	for _, d := range drivers {
		d.hints, d.inflight = nil, nil
	}
	stopKiller()
	<-killerDone
	lastKill := time.Now()

	// Every instance leaves deploying and upgrading within its bound.
	for _, d := range drivers {
		d.settle(ctx, lastKill, cfg.SettleBound)
	}
	rep.Settle = time.Since(lastKill)

	// Every acknowledged record is in the log exactly once.
	tr.finish()
	seen, where, idem, inLog, err := readBack(drivers[0].dataEndpoint)
	if err != nil {
		rep.violation("reading %s back: %v", dataTopic, err)
	}
	tr.mu.Lock()
	rep.Produced, rep.Acked, rep.Failed, rep.Consumed, rep.InLog = tr.produced, len(tr.acked), tr.failures, tr.consumed, inLog
	rep.IdempotentFrom = "never"
	if !tr.idemSince.IsZero() {
		rep.IdempotentFrom = tr.idemSince.Format("15:04:05.000")
	}
	for v := range tr.acked {
		switch seen[v] {
		case 0:
			rep.Lost++
		case 1:
		default:
			if !idem[v] {
				rep.AtLeastOnce++
				continue
			}
			rep.Duplicated++
			if rep.Duplicated <= 5 {
				rep.violation("%s: acknowledged record %s (sent %s, acknowledged %s) is in the log %d times, at %s", dataTopic, v,
					tr.sentAt[v].Format("15:04:05.000"), tr.ackedAt[v].Format("15:04:05.000"), seen[v], strings.Join(where[v], ", "))
			}
		}
	}
	for v, n := range seen {
		if n > 1 && !tr.acked[v] {
			if !idem[v] {
				rep.AtLeastOnce++
				continue
			}
			rep.Duplicated++
			rep.violation("%s: unacknowledged record %s is in the log %d times, at %s", dataTopic, v, n, strings.Join(where[v], ", "))
		}
	}
	if len(tr.firstErr) > 0 {
		cfg.Logf("first produce errors: %s", strings.Join(tr.firstErr, "; "))
	}
	tr.mu.Unlock()
	if rep.Lost > 0 || rep.Duplicated > 0 {
		rep.violation("%s: %d acknowledged records lost, %d duplicated", dataTopic, rep.Lost, rep.Duplicated)
	}
	if rep.Acked == 0 {
		rep.violation("%s: no record was acknowledged at all", dataTopic)
	}

	// Resource growth, with the Kafka clients gone: measure, run a soak of
	// operations without kills (the instance count stays put), measure,
	// soak again, measure; then restart each server gracefully and measure
	// the fresh process, which holds the same instances. What the first
	// soak adds can be warm-up (caches, pooled connections); a leak grows
	// again in the second, and leaves the old process above the fresh one.
	m0 := measureAll(hc, drivers)
	soak(ctx, cfg, drivers, 100)
	m1 := measureAll(hc, drivers)
	soak(ctx, cfg, drivers, 200)
	m2 := measureAll(hc, drivers)
	for _, d := range drivers {
		d.srv.stop(syscall.SIGTERM)
		if err := d.srv.start(ctx); err != nil {
			rep.violation("%s: final restart: %v", d.name, err)
		}
		d.settle(ctx, time.Now(), cfg.SettleBound)
	}
	m3 := measureAll(hc, drivers)
	for i, d := range drivers {
		rep.Usage = append(rep.Usage, fmt.Sprintf("%s: fds %d → %d → %d (fresh %d), goroutines %d → %d → %d (fresh %d), threads %d → %d → %d (fresh %d), two soaks of %d operations",
			d.name, m0[i].fds, m1[i].fds, m2[i].fds, m3[i].fds, m0[i].goroutines, m1[i].goroutines, m2[i].goroutines, m3[i].goroutines,
			m0[i].threads, m1[i].threads, m2[i].threads, m3[i].threads, cfg.SoakOps/cfg.Accounts))
		if m2[i].fds > m1[i].fds+fdSlack || m2[i].goroutines > m1[i].goroutines+goroutineSlack {
			rep.violation("%s: resources grew in the second soak: fds %d → %d (slack %d; %s), goroutines %d → %d (slack %d)",
				d.name, m1[i].fds, m2[i].fds, fdSlack, filesDiff(m1[i], m2[i]), m1[i].goroutines, m2[i].goroutines, goroutineSlack)
		}
		// Storage files are opened as they are first written, so against
		// a fresh process only sockets, pipes and the like count; a file
		// leak shows as one file open many times.
		if m2[i].nonData() > m3[i].nonData()+fdSlack || m2[i].goroutines > m3[i].goroutines+goroutineSlack {
			rep.violation("%s: the process held %d sockets/pipes and %d goroutines at the end of the run, a fresh one with the same instances %d and %d (%s)",
				d.name, m2[i].nonData(), m2[i].goroutines, m3[i].nonData(), m3[i].goroutines, filesDiff(m3[i], m2[i]))
		}
		for f, n := range m2[i].files {
			if strings.HasPrefix(f, "DATA/") && n > maxOpenPerFile {
				rep.violation("%s: %s is open %d times", d.name, f, n)
			}
		}
	}

	// Every instance, topic, group, user, policy and attachment is in a
	// state the accepted calls could have produced.
	for _, d := range drivers {
		d.check(ctx)
	}
	return rep, nil
}

// soak runs cfg.SoakOps operations of soakKinds, drawn from their own
// seeded stream.
func soak(ctx context.Context, cfg Config, drivers []*driver, stream uint64) {
	var wg sync.WaitGroup
	for i, d := range drivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGenerator(cfg.Seed, stream+uint64(i))
			for n := 0; n < cfg.SoakOps/cfg.Accounts && ctx.Err() == nil; {
				if o := g.next(); soakKinds[o.kind] {
					d.exec(ctx, o)
					n++
				}
			}
		}()
	}
	wg.Wait()
}

// Slack of the resource check: a keep-alive connection or two and the
// runtime's own helpers come and go.
const (
	// inflightOdds: one request in this many, once the pause has not yet
	// run out, is followed by a kill.
	inflightOdds   = 40
	maxOpenPerFile = 8 // the database pool may hold the same file a few times
	fdSlack        = 8
	goroutineSlack = 25
)

// soakKinds are the operations of the soak: none starts or stops brokers.
var soakKinds = map[string]bool{
	"GetInstanceList": true, "GetTopicList": true, "ListInstanceOperations": true, "ListUsers": true,
	"ModifyTopicRemark": true, "CreateUser": true, "DeleteUser": true, "CreatePolicy": true,
	"DeletePolicy": true, "AttachPolicyToUser": true, "DetachPolicyFromUser": true,
	"ReadOnlyUserRead": true, "ReadOnlyUserWrite": true, "Hostile": true, "ModifyInstanceName": true,
}

// measureAll measures every server at a quiet point: idle client
// connections closed, the smallest of a few samples.
func measureAll(hc *http.Client, drivers []*driver) []usage {
	hc.CloseIdleConnections()
	out := make([]usage, len(drivers))
	for i, d := range drivers {
		best := usage{fds: 1 << 30, goroutines: 1 << 30, threads: 1 << 30}
		for range 5 {
			time.Sleep(200 * time.Millisecond)
			u, err := d.srv.measure()
			hc.CloseIdleConnections()
			if err != nil {
				continue
			}
			if u.fds < best.fds {
				best.fds, best.files = u.fds, u.files
			}
			best.goroutines, best.threads = min(best.goroutines, u.goroutines), min(best.threads, u.threads)
		}
		out[i] = best
	}
	return out
}

// killer ends a random server at random moments, SIGKILL mostly and
// SIGTERM sometimes, and restarts it on the same data dir and port. Half
// the time an operation has just begun (a hint), it kills that server
// within the next 800 ms, inside the deploy or the roll; and once in a
// while it kills one within 0.5 ms of a request being sent, so that some
// calls are cut between the server's commit and its answer.
func killer(ctx context.Context, cfg Config, rep *Report, drivers []*driver, hints, inflight <-chan *driver) {
	r := rand.New(rand.NewPCG(cfg.Seed, 99))
	for {
		pause := cfg.KillMin + time.Duration(r.Int64N(int64(cfg.KillMax-cfg.KillMin)+1))
		var d *driver
		timer := time.NewTimer(pause)
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
				d = drivers[r.IntN(len(drivers))]
				break wait
			case h := <-inflight:
				if r.IntN(inflightOdds) != 0 {
					continue
				}
				timer.Stop()
				time.Sleep(time.Duration(r.IntN(500)) * time.Microsecond)
				d = h
				break wait
			case h := <-hints:
				if r.IntN(2) == 0 {
					continue
				}
				timer.Stop()
				time.Sleep(time.Duration(r.IntN(800)) * time.Millisecond)
				d = h
				break wait
			}
		}
		sig := syscall.SIGKILL
		if r.IntN(5) == 0 {
			sig = syscall.SIGTERM
		}
		downFor := time.Duration(50+r.IntN(400)) * time.Millisecond
		d.srv.stop(sig)
		rep.mu.Lock()
		if sig == syscall.SIGKILL {
			rep.Kills++
		} else {
			rep.Terms++
		}
		rep.KillLog = append(rep.KillLog, fmt.Sprintf("%s %v %s, down %v", time.Now().Format("15:04:05.000"), sig, d.name, downFor))
		rep.mu.Unlock()
		cfg.Logf("%v %s, restarting after %v", sig, d.name, downFor)
		time.Sleep(downFor)
		if err := d.srv.start(context.Background()); err != nil {
			rep.violation("%s: restart failed: %v", d.name, err)
			return
		}
		rep.mu.Lock()
		rep.Restarts++
		rep.mu.Unlock()
	}
}
