package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kafkaplane/kafkaplane"
)

// raceCreates runs n creates at once, alternating between two handles on
// one database as two kafkaplane processes would, and checks that exactly
// limit succeed and the rest are CodeLimitExceeded.
func raceCreates(t *testing.T, what string, n, limit int, create func(i int) error) {
	t.Helper()
	var (
		wg       sync.WaitGroup
		ok, over atomic.Int32
		others   = make(chan error, n)
		start    = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := create(i)
			switch {
			case err == nil:
				ok.Add(1)
			case kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded:
				over.Add(1)
			default:
				others <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(others)
	for err := range others {
		t.Errorf("%s: unexpected error: %v", what, err)
	}
	if int(ok.Load()) != limit || int(over.Load()) != n-limit {
		t.Fatalf("%s: %d created and %d refused, want %d and %d", what, ok.Load(), over.Load(), limit, n-limit)
	}
}

// testQuotasConcurrent races creates of instances (per account), topics
// and consumer groups (per instance) past their limits: the count and the
// insert are one step, so exactly the limit is stored.
func testQuotasConcurrent(t *testing.T, dsn string) {
	ctx := context.Background()
	dbs := []*DB{openStore(t, dsn), openStore(t, dsn)}
	const n, limit = 16, 3
	raceCreates(t, "instances", n, limit, func(i int) error {
		region := []string{"cn-hangzhou", "cn-beijing"}[i%2] // the cap spans regions
		return dbs[i%2].CreateInstance(ctx, newInstance(fmt.Sprintf("i-%02d", i), "acct1", region), limit)
	})
	all, err := dbs[0].FindInstances(ctx, kafkaplane.InstanceFilter{AccountID: "acct1"})
	must(t, err)
	if len(all) != limit {
		t.Fatalf("%d instances stored, want %d", len(all), limit)
	}
	// Another account has its own count; a deleted instance counts no more.
	must(t, dbs[1].CreateInstance(ctx, newInstance("i-other", "acct2", "cn-hangzhou"), limit))
	must(t, dbs[0].DeleteInstance(ctx, all[0]))
	must(t, dbs[1].CreateInstance(ctx, newInstance("i-again", "acct1", "cn-hangzhou"), limit))
	wantCode(t, dbs[0].CreateInstance(ctx, newInstance("i-over", "acct1", "cn-hangzhou"), limit), kafkaplane.CodeLimitExceeded)

	inst := all[1]
	raceCreates(t, "topics", n, limit, func(i int) error {
		return dbs[i%2].CreateTopic(ctx, &kafkaplane.Topic{InstanceID: inst.ID, Name: fmt.Sprintf("t-%02d", i), PartitionNum: 1}, limit)
	})
	raceCreates(t, "groups", n, 2*limit, func(i int) error {
		return dbs[i%2].CreateConsumerGroup(ctx, &kafkaplane.ConsumerGroup{InstanceID: inst.ID, ConsumerID: fmt.Sprintf("g-%02d", i)}, 2*limit)
	})
	topics, err := dbs[0].ListTopics(ctx, inst.ID)
	must(t, err)
	groups, err := dbs[0].ListConsumerGroups(ctx, inst.ID)
	must(t, err)
	if len(topics) != limit || len(groups) != 2*limit {
		t.Fatalf("%d topics and %d groups stored, want %d and %d", len(topics), len(groups), limit, 2*limit)
	}
	// Without a limit nothing is counted.
	must(t, dbs[1].CreateTopic(ctx, &kafkaplane.Topic{InstanceID: inst.ID, Name: "t-extra"}, 0))
	must(t, dbs[1].CreateConsumerGroup(ctx, &kafkaplane.ConsumerGroup{InstanceID: inst.ID, ConsumerID: "g-extra"}, 0))
}

// testDeleteInstanceTakesTopics deletes an instance: its topics and
// consumer groups go with it, another instance's stay.
func testDeleteInstanceTakesTopics(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	a := mustCreateInstance(t, db, newInstance("i-a", "acct1", "cn-hangzhou"))
	b := mustCreateInstance(t, db, newInstance("i-b", "acct1", "cn-hangzhou"))
	for _, inst := range []*kafkaplane.Instance{a, b} {
		must(t, db.CreateTopic(ctx, &kafkaplane.Topic{InstanceID: inst.ID, Name: "orders"}, 0))
		must(t, db.CreateConsumerGroup(ctx, &kafkaplane.ConsumerGroup{InstanceID: inst.ID, ConsumerID: "billing"}, 0))
	}
	stale := *a
	must(t, db.DeleteInstance(ctx, a))
	// A stale delete changes nothing.
	wantCode(t, db.DeleteInstance(ctx, &stale), kafkaplane.CodeInstanceNotFound)
	for _, c := range []struct {
		inst *kafkaplane.Instance
		want int
	}{{a, 0}, {b, 1}} {
		topics, err := db.ListTopics(ctx, c.inst.ID)
		must(t, err)
		groups, err := db.ListConsumerGroups(ctx, c.inst.ID)
		must(t, err)
		if len(topics) != c.want || len(groups) != c.want {
			t.Errorf("instance %s: %d topics and %d groups, want %d of each", c.inst.ID, len(topics), len(groups), c.want)
		}
	}
}
