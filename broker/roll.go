package broker

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The roll: one broker restarted onto a version while the instance keeps
// serving, and the order the brokers roll in (docs/upgrade.md, Roll order).

// RestartBroker rolls one broker onto version; see Runtime.
func (k *Kafka) RestartBroker(ctx context.Context, instanceID string, brokerID int32, version string) error {
	av, err := apiVersionFor(version)
	if err != nil {
		return err
	}
	inst, err := k.get(instanceID)
	if err != nil {
		return err
	}
	b := inst.front(brokerID)
	if b == nil {
		return fmt.Errorf("broker: instance %s has no broker %d", instanceID, brokerID)
	}
	inst.rollMu.Lock()
	defer inst.rollMu.Unlock()
	start := time.Now()

	// Controlled shutdown: hand leadership to the others while the
	// broker still answers, so producers learn the new leaders from
	// NOT_LEADER errors on a live connection; only then stop taking
	// clients. Moving first also means metadata never shows a
	// leaderless partition, which clients would back off on.
	//
	// Leaders still owed to an earlier restarted broker go back in the
	// same breath, so clients see one leader change rather than two in
	// quick succession (the second would wait out their metadata
	// refresh back-off).
	if inst.restoreTimer != nil {
		inst.restoreTimer.Stop()
	}
	// Space leader changes apart: a client that just refreshed metadata
	// for the previous change would otherwise wait out its refresh
	// back-off before it learns about this one.
	if wait := time.Until(inst.lastLeaderChange.Add(k.cfg.LeaderChangeSpacing)); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { inst.lastLeaderChange = time.Now() }()
	inst.restoreLeadersLocked(brokerID)
	//
	// The broker leaves metadata just before its leaders move, so the
	// refresh a client makes on its first NOT_LEADER shows both at once:
	// the new leaders, and a broker list without this one, which makes
	// clients close their connections to it. Connections a client keeps
	// idle across the restart would otherwise be found dead only on
	// their next use, costing a retry back-off then.
	moves, err := inst.planLeaderMoves(ctx, brokerID)
	if err != nil {
		return err
	}
	b.up.Store(false)
	moved, err := inst.applyLeaderMoves(moves)
	if err != nil {
		b.listen(k.cfg.ListenHost)
		return err
	}
	// Controlled shutdown: the broker keeps answering (NOT_LEADER for
	// what it led) until its clients have left or HandoffTimeout passes,
	// and produce requests already handed to storage are answered before
	// the rest are dropped.
	handoffUntil := time.Now().Add(k.cfg.HandoffTimeout)
	for b.connCount() > 0 && time.Now().Before(handoffUntil) && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	drainUntil := time.Now().Add(k.cfg.DrainTimeout)
	for b.produceInFlight.Load() > 0 && time.Now().Before(drainUntil) && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	// From here until it listens again the broker is down; clients that
	// connect meanwhile wait and are served by the broker that comes back.
	b.pause()
	b.dropConns()
	b.ver.Store(av)

	select {
	case <-time.After(k.cfg.RestartDowntime):
	case <-ctx.Done():
	}
	// Coming back is not optional once the broker went down: a restart
	// that leaves the broker away would be worse than a late one.
	if err := b.listen(k.cfg.ListenHost); err != nil {
		return err
	}
	if k.cfg.LeaderRebalanceDelay > 0 {
		if inst.restore == nil {
			inst.restore = map[topicPartition]int32{}
		}
		for _, m := range moved {
			inst.restore[m] = brokerID
		}
		if len(inst.restore) > 0 {
			inst.restoreTimer = time.AfterFunc(k.cfg.LeaderRebalanceDelay, func() {
				inst.rollMu.Lock()
				defer inst.rollMu.Unlock()
				inst.restoreLeadersLocked(-1)
				inst.lastLeaderChange = time.Now()
			})
		}
	}
	inst.log.Info("broker restarted", "broker", brokerID, "version", version,
		"moved_leaders", len(moved), "took", time.Since(start))
	return ctx.Err()
}

// restoreLeadersLocked gives restarted brokers back the partitions they
// led, as a real cluster's preferred-leader rebalance does, so a roll
// does not end with the last broker leading nothing. It runs a while after
// a restart (or right before the next one) rather than at once: two leader
// changes in quick succession would make clients wait out their metadata
// refresh back-off. Partitions owed to skip stay owed. Callers hold rollMu.
func (i *instance) restoreLeadersLocked(skip int32) {
	if i.stopped {
		return
	}
	for tp, id := range i.restore {
		if id == skip {
			continue
		}
		delete(i.restore, tp)
		b := i.front(id)
		if b == nil || !b.up.Load() || i.cluster.LeaderFor(tp.topic, tp.partition) == id {
			continue
		}
		if err := i.cluster.MoveTopicPartition(tp.topic, tp.partition, id); err != nil {
			i.log.Warn("restore leader", "topic", tp.topic, "partition", tp.partition, "err", err)
		}
	}
}

type topicPartition struct {
	topic     string
	partition int32
}

// planLeaderMoves hands every partition led by id to the other up brokers
// in turn; nothing moves until applyLeaderMoves.
func (i *instance) planLeaderMoves(ctx context.Context, id int32) ([]leaderMove, error) {
	var targets []int32
	for _, b := range i.brokers {
		if b.id != id && b.up.Load() {
			targets = append(targets, b.id)
		}
	}
	if len(targets) == 0 {
		return nil, nil // a single broker has nobody to hand over to
	}
	meta, err := i.storageMetadata(ctx)
	if err != nil {
		return nil, err
	}
	var moves []leaderMove
	for _, t := range meta.Topics {
		if t.Topic == nil {
			continue
		}
		for _, p := range t.Partitions {
			if p.Leader != id {
				continue
			}
			to := targets[len(moves)%len(targets)]
			moves = append(moves, leaderMove{topicPartition{*t.Topic, p.Partition}, to})
		}
	}
	return moves, nil
}

// leaderMove hands one partition's leadership to broker to.
type leaderMove struct {
	tp topicPartition
	to int32
}

// applyLeaderMoves carries out moves in the storage engine and returns the
// partitions it moved.
func (i *instance) applyLeaderMoves(moves []leaderMove) ([]topicPartition, error) {
	moved := make([]topicPartition, 0, len(moves))
	for _, m := range moves {
		if err := i.cluster.MoveTopicPartition(m.tp.topic, m.tp.partition, m.to); err != nil {
			return moved, err
		}
		moved = append(moved, m.tp)
	}
	return moved, nil
}

// storageMetadata asks the storage engine directly for all topics.
func (i *instance) storageMetadata(ctx context.Context) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 1
	req.Topics = nil
	resp, err := roundTrip(ctx, i.upstream[0], req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.MetadataResponse), nil
}

// RollOrder returns the brokers lightest first: fewest group coordinators,
// and among equals the controller last.
func (k *Kafka) RollOrder(ctx context.Context, instanceID string) ([]int32, error) {
	inst, err := k.get(instanceID)
	if err != nil {
		return nil, err
	}
	load := make(map[int32]int, len(inst.brokers))
	for node, addr := range inst.upstream {
		req := kmsg.NewPtrListGroupsRequest()
		req.Version = 0
		resp, err := roundTrip(ctx, addr, req)
		if err != nil {
			return nil, fmt.Errorf("broker: list groups on node %d: %w", node, err)
		}
		// A node lists the groups it coordinates.
		load[int32(node)] += len(resp.(*kmsg.ListGroupsResponse).Groups)
	}
	meta, err := inst.storageMetadata(ctx)
	if err != nil {
		return nil, err
	}
	controller := meta.ControllerID
	ids := make([]int32, len(inst.brokers))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortStableFunc(ids, func(a, b int32) int {
		if load[a] != load[b] {
			return load[a] - load[b]
		}
		switch {
		case a == controller:
			return 1
		case b == controller:
			return -1
		}
		return int(a - b)
	})
	return ids, nil
}
