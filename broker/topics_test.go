package broker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// findTopic returns the named topic of a Topics listing.
func findTopic(states []broker.TopicState, name string) (broker.TopicState, bool) {
	for _, s := range states {
		if s.Name == name {
			return s, true
		}
	}
	return broker.TopicState{}, false
}

// clientPartitions polls a fresh client of the fronts until it sees topic
// with want partitions (want 0: until the topic is gone).
func clientPartitions(t *testing.T, addrs []string, version, topic string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got string
	for ctx.Err() == nil {
		cl := newClient(t, addrs, kgo.MaxVersions(versionOf(version)))
		tds, err := kadm.NewClient(cl).ListTopics(ctx)
		cl.Close()
		if err == nil {
			td, ok := tds[topic]
			switch {
			case want == 0 && !ok:
				return
			case ok && td.Err == nil && len(td.Partitions) == want:
				return
			}
			got = fmt.Sprintf("present %v, %d partitions", ok, len(td.Partitions))
		} else {
			got = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s through the fronts: %s, want %d partitions", topic, got, want)
}

func listTopics(t *testing.T, k broker.Runtime, id string) []broker.TopicState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	states, err := k.Topics(ctx, id)
	if err != nil {
		t.Fatalf("topics: %v", err)
	}
	return states
}

// checkLogs verifies a listed topic: partitions in order, nothing deleted,
// records all counted, and non-empty partitions appended within
// [from, to].
func checkLogs(t *testing.T, ts broker.TopicState, partitions, records int, from, to time.Time) {
	t.Helper()
	if len(ts.Partitions) != partitions {
		t.Fatalf("%s: %d partitions, want %d", ts.Name, len(ts.Partitions), partitions)
	}
	var sum int64
	for i, p := range ts.Partitions {
		if p.Partition != int32(i) || p.LogStart != 0 {
			t.Fatalf("%s: partition %d: %+v", ts.Name, i, p)
		}
		sum += p.HighWater
		switch {
		case p.HighWater == 0 && !p.LastAppend.IsZero():
			t.Errorf("%s/%d: empty but LastAppend %v", ts.Name, i, p.LastAppend)
		case p.HighWater > 0 && (p.LastAppend.Before(from.Add(-time.Second)) || p.LastAppend.After(to.Add(time.Second))):
			t.Errorf("%s/%d: LastAppend %v, want within [%v, %v]", ts.Name, i, p.LastAppend, from, to)
		}
	}
	if sum != int64(records) {
		t.Fatalf("%s: high waters sum to %d, want %d", ts.Name, sum, records)
	}
}

func TestTopicCalls(t *testing.T) {
	for _, version := range []string{"0.10.2", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			k := newRuntime(t, t.TempDir())
			defer k.Close()
			id := "alikafka_post-topics"
			addrs := startInstance(t, k, id, version, freePorts(t, 3))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			if got := listTopics(t, k, id); len(got) != 0 {
				t.Fatalf("new instance lists %+v", got)
			}
			if err := k.CreateTopic(ctx, id, broker.TopicSpec{Name: "t", Partitions: 3}); err != nil {
				t.Fatal(err)
			}
			clientPartitions(t, addrs, version, "t", 3)

			const n = 300
			before := time.Now()
			cl := newClient(t, addrs, kgo.MaxVersions(versionOf(version)))
			produceN(t, cl, "t", "r", n, version != "0.10.2")
			after := time.Now()
			if got := consumeAll(t, addrs, "t", n, kgo.MaxVersions(versionOf(version))); len(got) != n {
				t.Fatalf("consumed %d records, want %d", len(got), n)
			}
			ts, ok := findTopic(listTopics(t, k, id), "t")
			if !ok {
				t.Fatal("topic t is not listed")
			}
			checkLogs(t, ts, 3, n, before, after)

			if err := k.CreateTopic(ctx, id, broker.TopicSpec{Name: "t", Partitions: 1}); !errors.Is(err, broker.ErrTopicExists) {
				t.Fatalf("second create: %v, want ErrTopicExists", err)
			}
			if err := k.CreatePartitions(ctx, id, "t", 5); err != nil {
				t.Fatal(err)
			}
			ts, _ = findTopic(listTopics(t, k, id), "t")
			checkLogs(t, ts, 5, n, before, after)
			clientPartitions(t, addrs, version, "t", 5)
			// The new partitions take records through the fronts.
			produceN(t, cl, "t", "s", 50, false)
			for _, total := range []int32{5, 4} {
				if err := k.CreatePartitions(ctx, id, "t", total); err == nil || errors.Is(err, broker.ErrTopicNotFound) {
					t.Fatalf("create partitions to %d of 5: %v, want a refusal", total, err)
				}
			}
			if err := k.CreatePartitions(ctx, id, "missing", 5); !errors.Is(err, broker.ErrTopicNotFound) {
				t.Fatalf("create partitions of a missing topic: %v, want ErrTopicNotFound", err)
			}

			if err := k.CreateTopic(ctx, id, broker.TopicSpec{Name: "compacted", Partitions: 1, Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
				t.Fatal(err)
			}
			if version == "2.2.0" {
				rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, "compacted")
				if err != nil {
					t.Fatal(err)
				}
				rc, err := rcs.On("compacted", nil)
				if err != nil {
					t.Fatal(err)
				}
				var policy string
				for _, c := range rc.Configs {
					if c.Key == "cleanup.policy" {
						policy = c.MaybeValue()
					}
				}
				if policy != "compact" {
					t.Fatalf("cleanup.policy through the front is %q, want compact", policy)
				}
			}

			if err := k.DeleteTopic(ctx, id, "t"); err != nil {
				t.Fatal(err)
			}
			if _, ok := findTopic(listTopics(t, k, id), "t"); ok {
				t.Fatal("deleted topic t is still listed")
			}
			clientPartitions(t, addrs, version, "t", 0)
			if err := k.DeleteTopic(ctx, id, "t"); !errors.Is(err, broker.ErrTopicNotFound) {
				t.Fatalf("second delete: %v, want ErrTopicNotFound", err)
			}
			for _, name := range []string{"__consumer_offsets", "../x", ""} {
				if err := k.CreateTopic(ctx, id, broker.TopicSpec{Name: name, Partitions: 1}); err == nil {
					t.Errorf("create topic %q succeeded", name)
				}
				if err := k.DeleteTopic(ctx, id, name); !errors.Is(err, broker.ErrTopicNotFound) {
					t.Errorf("delete topic %q: %v, want ErrTopicNotFound", name, err)
				}
			}
			if err := k.CreateTopic(ctx, id, broker.TopicSpec{Name: "none", Partitions: 0}); err == nil {
				t.Error("create topic with no partitions succeeded")
			}
			got := listTopics(t, k, id)
			if len(got) != 1 || got[0].Name != "compacted" {
				t.Fatalf("topics %+v, want only compacted", got)
			}
		})
	}
}

func TestTopicsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	id := "alikafka_post-topics-restart"
	ports := freePorts(t, 3)
	k := newRuntime(t, dir)
	addrs := startInstance(t, k, id, "2.2.0", ports)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, name := range []string{"b", "a"} {
		if err := k.CreateTopic(ctx, id, broker.TopicSpec{Name: name, Partitions: 2}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 100
	before := time.Now()
	produceN(t, newClient(t, addrs), "a", "r", n, true)
	after := time.Now()
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}

	k2 := newRuntime(t, dir)
	defer k2.Close()
	addrs = startInstance(t, k2, id, "0.10.2", ports)
	got := listTopics(t, k2, id)
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("topics after restart %+v, want a then b", got)
	}
	checkLogs(t, got[0], 2, n, before, after)
	checkLogs(t, got[1], 2, 0, before, after)
	if recs := consumeAll(t, addrs, "a", n, kgo.MaxVersions(versionOf("0.10.2"))); len(recs) != n {
		t.Fatalf("after restart consumed %d records, want %d", len(recs), n)
	}
}

func TestTopicCallsNeedStartedInstance(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	id := "alikafka_post-topics-stopped"
	startInstance(t, k, id, "2.2.0", freePorts(t, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := k.CreateTopic(ctx, id, broker.TopicSpec{Name: "t", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if err := k.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, inst := range []string{id, "alikafka_post-unknown"} {
		checkNotStarted(t, ctx, k, inst)
	}
}

// checkNotStarted expects ErrNotStarted from every topic call on id.
func checkNotStarted(t *testing.T, ctx context.Context, rt broker.Runtime, id string) {
	t.Helper()
	_, terr := rt.Topics(ctx, id)
	for call, err := range map[string]error{
		"create":            rt.CreateTopic(ctx, id, broker.TopicSpec{Name: "t", Partitions: 1}),
		"delete":            rt.DeleteTopic(ctx, id, "t"),
		"delete internal":   rt.DeleteTopic(ctx, id, "__consumer_offsets"),
		"create partitions": rt.CreatePartitions(ctx, id, "t", 2),
		"topics":            terr,
	} {
		if !errors.Is(err, broker.ErrNotStarted) {
			t.Errorf("%s on %s: %v, want ErrNotStarted", call, id, err)
		}
	}
}

func TestFakeTopics(t *testing.T) {
	ctx := context.Background()
	f := broker.NewFake()
	id := "alikafka_post-fake"
	if _, err := f.Start(ctx, broker.Spec{InstanceID: id, Version: "2.2.0", Ports: []int{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		call func() error
		want error // nil: success; errAny: any error but the sentinels
	}{
		{"create", func() error {
			return f.CreateTopic(ctx, id, broker.TopicSpec{Name: "t", Partitions: 3, Configs: map[string]string{"cleanup.policy": "compact"}})
		}, nil},
		{"create again", func() error { return f.CreateTopic(ctx, id, broker.TopicSpec{Name: "t", Partitions: 1}) }, broker.ErrTopicExists},
		{"create invalid", func() error { return f.CreateTopic(ctx, id, broker.TopicSpec{Name: "a/b", Partitions: 1}) }, errAny},
		{"create empty", func() error { return f.CreateTopic(ctx, id, broker.TopicSpec{Name: "u", Partitions: 0}) }, errAny},
		{"grow", func() error { return f.CreatePartitions(ctx, id, "t", 5) }, nil},
		{"grow to same", func() error { return f.CreatePartitions(ctx, id, "t", 5) }, errAny},
		{"shrink", func() error { return f.CreatePartitions(ctx, id, "t", 2) }, errAny},
		{"grow missing", func() error { return f.CreatePartitions(ctx, id, "missing", 5) }, broker.ErrTopicNotFound},
		{"delete missing", func() error { return f.DeleteTopic(ctx, id, "missing") }, broker.ErrTopicNotFound},
		{"create other", func() error { return f.CreateTopic(ctx, id, broker.TopicSpec{Name: "a", Partitions: 1}) }, nil},
	} {
		err := c.call()
		switch {
		case c.want == nil && err != nil, c.want == errAny && err == nil,
			c.want == errAny && (errors.Is(err, broker.ErrTopicExists) || errors.Is(err, broker.ErrTopicNotFound) || errors.Is(err, broker.ErrNotStarted)),
			c.want != nil && c.want != errAny && !errors.Is(err, c.want):
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	got, err := f.Topics(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "t" || len(got[0].Partitions) != 1 || len(got[1].Partitions) != 5 {
		t.Fatalf("topics %+v", got)
	}
	for i, p := range got[1].Partitions {
		if (p != broker.PartitionState{Partition: int32(i)}) {
			t.Fatalf("partition %d: %+v", i, p)
		}
	}
	if c := f.TopicConfigs(id, "t"); c["cleanup.policy"] != "compact" {
		t.Fatalf("configs of t: %v", c)
	}

	// FailOn sees topic calls like any other, and a failed call is not
	// logged.
	f.FailOn = func(call string) error {
		if call == "delete-topic "+id+" t" {
			return errors.New("injected")
		}
		return nil
	}
	if err := f.DeleteTopic(ctx, id, "t"); err == nil || err.Error() != "injected" {
		t.Fatalf("delete with FailOn: %v", err)
	}
	f.FailOn = nil
	if err := f.DeleteTopic(ctx, id, "t"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteTopic(ctx, id, "t"); !errors.Is(err, broker.ErrTopicNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	calls := f.Calls()
	for _, want := range []string{"create-topic " + id + " t 3", "create-partitions " + id + " t 5", "delete-topic " + id + " t", "topics " + id} {
		found := false
		for _, c := range calls {
			found = found || c == want
		}
		if !found {
			t.Errorf("call %q not logged in %q", want, calls)
		}
	}

	// Topics outlive a stop, but the calls need the instance up.
	if err := f.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	checkNotStarted(t, ctx, f, id)
	checkNotStarted(t, ctx, f, "alikafka_post-unknown")
	if _, err := f.Start(ctx, broker.Spec{InstanceID: id, Version: "2.2.0", Ports: []int{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Topics(ctx, id); err != nil || len(got) != 1 || got[0].Name != "a" {
		t.Fatalf("topics after restart: %+v %v", got, err)
	}
}

var errAny = errors.New("any error")

// TestFakeCallLogBounded runs a Fake far past its log size, as a long
// `serve --broker-runtime fake` does: the log keeps the latest calls only.
func TestFakeCallLogBounded(t *testing.T) {
	ctx := context.Background()
	f := broker.NewFake()
	spec := broker.Spec{InstanceID: "alikafka_post-cn-log", Version: "2.2.0", Ports: []int{1, 2, 3}}
	const rounds = 5 * broker.FakeCallLogSize
	for range rounds {
		if _, err := f.Start(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if err := f.Stop(ctx, spec.InstanceID); err != nil {
			t.Fatal(err)
		}
	}
	calls := f.Calls()
	if len(calls) != broker.FakeCallLogSize {
		t.Fatalf("%d calls logged after %d, want the latest %d", len(calls), 2*rounds, broker.FakeCallLogSize)
	}
	if last := calls[len(calls)-1]; last != "stop "+spec.InstanceID {
		t.Errorf("last call %q", last)
	}
	if first := calls[0]; first != "start "+spec.InstanceID {
		t.Errorf("first kept call %q", first)
	}
}
