package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxTopicNameLen is Kafka's own limit: it leaves room in a 255-byte file
// name for the partition number and suffixes storage adds to a topic's
// directories.
const maxTopicNameLen = 249

func notStarted(id string) error { return fmt.Errorf("%w: %s", ErrNotStarted, id) }

// internalTopic reports names the brokers keep for themselves
// (__consumer_offsets, __transaction_state, …).
func internalTopic(name string) bool { return strings.HasPrefix(name, "__") }

// checkTopicName applies Kafka's topic name rules. Storage does not check
// them itself, and it names directories after topics, so a name like
// "../x" must never reach it. Names of internal topics are refused too:
// Topics leaves them out, so such a topic could not be seen again.
func checkTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("broker: topic name is empty")
	case len(name) > maxTopicNameLen:
		return fmt.Errorf("broker: topic name %.20q… is longer than %d characters", name, maxTopicNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("broker: topic name %q is not allowed", name)
	case internalTopic(name):
		return fmt.Errorf("broker: topic name %q is reserved for internal topics", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("broker: topic name %q: only ASCII letters, digits, '.', '_' and '-' are allowed", name)
		}
	}
	return nil
}

// withStorage runs fn with an admin client of the instance's storage
// nodes. The fronts are bypassed: they speak an old protocol version and
// may be mid-restart. Holding rollMu makes Stop wait for the call instead
// of closing storage under it, and keeps restarts and leader rebalances
// from moving leaders while the call looks them up.
func (k *Kafka) withStorage(ctx context.Context, id string, fn func(*instance, *kadm.Client) error) error {
	inst, err := k.get(id)
	if err != nil {
		return err
	}
	inst.rollMu.Lock()
	defer inst.rollMu.Unlock()
	if inst.stopped {
		return notStarted(id)
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(inst.upstream...),
		kgo.ClientID("kafkaplane"),
		kgo.DialTimeout(5*time.Second),
		// Storage is local: a request that keeps failing will not
		// recover by waiting longer.
		kgo.RetryTimeout(10*time.Second),
	)
	if err != nil {
		return fmt.Errorf("broker: storage client: %w", err)
	}
	// One client per call rather than one per instance: these calls are
	// rare, and an instance that never makes them keeps no client
	// goroutines around.
	defer cl.Close()
	return fn(inst, kadm.NewClient(cl))
}

func withMessage(err error, msg string) error {
	if msg == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, msg)
}

// CreateTopic creates a topic in storage; see Runtime.
func (k *Kafka) CreateTopic(ctx context.Context, instanceID string, t TopicSpec) error {
	if err := checkTopicName(t.Name); err != nil {
		return err
	}
	if t.Partitions < 1 {
		return fmt.Errorf("broker: topic %s: %d partitions, want at least 1", t.Name, t.Partitions)
	}
	configs := make(map[string]*string, len(t.Configs))
	for name, v := range t.Configs {
		configs[name] = kadm.StringPtr(v)
	}
	return k.withStorage(ctx, instanceID, func(inst *instance, adm *kadm.Client) error {
		// Replication factor -1 lets storage pick its default for the
		// instance's broker count.
		resp, err := adm.CreateTopic(ctx, t.Partitions, -1, configs, t.Name)
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists):
			return fmt.Errorf("%w: %s", ErrTopicExists, t.Name)
		case err != nil:
			return fmt.Errorf("broker: create topic %s: %w", t.Name, withMessage(err, resp.ErrMessage))
		}
		inst.log.Info("topic created", "topic", t.Name, "partitions", t.Partitions)
		return nil
	})
}

// DeleteTopic deletes a topic and its records from storage; see Runtime.
func (k *Kafka) DeleteTopic(ctx context.Context, instanceID, topic string) error {
	// A name that could not have been created is not there; internal
	// topics are not the control plane's to delete.
	if checkTopicName(topic) != nil {
		if _, err := k.get(instanceID); err != nil {
			return err
		}
		return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
	}
	return k.withStorage(ctx, instanceID, func(inst *instance, adm *kadm.Client) error {
		resp, err := adm.DeleteTopic(ctx, topic)
		switch {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		case err != nil:
			return fmt.Errorf("broker: delete topic %s: %w", topic, withMessage(err, resp.ErrMessage))
		}
		inst.log.Info("topic deleted", "topic", topic)
		return nil
	})
}

// CreatePartitions grows a topic in storage to total partitions; see
// Runtime.
func (k *Kafka) CreatePartitions(ctx context.Context, instanceID, topic string, total int32) error {
	_, err := k.growPartitions(ctx, instanceID, topic, func(have int32) (int32, error) {
		// Storage accepts an unchanged count as a no-op; Kafka refuses
		// it, and so does the contract.
		if total <= have {
			return 0, fmt.Errorf("broker: topic %s has %d partitions; partitions can only be added, so %d is not allowed", topic, have, total)
		}
		return total, nil
	})
	return err
}

// AddPartitions grows a topic in storage by add partitions; see Runtime.
func (k *Kafka) AddPartitions(ctx context.Context, instanceID, topic string, add, max int32) (int32, error) {
	return k.growPartitions(ctx, instanceID, topic, func(have int32) (int32, error) {
		return partitionsAfter(topic, have, add, max)
	})
}

// growPartitions reads a topic's partition count, asks target for the new
// one and grows the topic to it. withStorage holds the instance's rollMu
// throughout, so two calls on one instance never both read the same count.
func (k *Kafka) growPartitions(ctx context.Context, instanceID, topic string, target func(have int32) (int32, error)) (int32, error) {
	if checkTopicName(topic) != nil {
		if _, err := k.get(instanceID); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
	}
	var total int32
	err := k.withStorage(ctx, instanceID, func(inst *instance, adm *kadm.Client) error {
		tds, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return fmt.Errorf("broker: describe topic %s: %w", topic, err)
		}
		td, ok := tds[topic]
		switch {
		case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		case td.Err != nil:
			return fmt.Errorf("broker: describe topic %s: %w", topic, td.Err)
		}
		if total, err = target(int32(len(td.Partitions))); err != nil {
			return err
		}
		rs, err := adm.UpdatePartitions(ctx, int(total), topic)
		if err != nil {
			return fmt.Errorf("broker: create partitions of %s: %w", topic, err)
		}
		r, ok := rs[topic]
		switch {
		case !ok:
			return fmt.Errorf("broker: create partitions of %s: no answer for the topic", topic)
		case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
			return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		case r.Err != nil:
			return fmt.Errorf("broker: create partitions of %s: %w", topic, withMessage(r.Err, r.ErrMessage))
		}
		inst.log.Info("partitions created", "topic", topic, "total", total)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// Topics describes the instance's topics from storage; see Runtime.
//
// Offsets come from ListOffsets (earliest, latest), which the client
// sends as one request per partition leader. LastAppend is the greatest
// record timestamp in the partition (ListOffsets with the max-timestamp
// query of KIP-734, again one request per leader): the last record's own
// timestamp unless producers sent timestamps out of order. A partition whose
// records were all deleted has none, and no LastAppend.
func (k *Kafka) Topics(ctx context.Context, instanceID string) ([]TopicState, error) {
	var out []TopicState
	err := k.withStorage(ctx, instanceID, func(inst *instance, adm *kadm.Client) error {
		md, err := adm.Metadata(ctx)
		if err != nil {
			return fmt.Errorf("broker: list topics: %w", err)
		}
		var names []string
		for name, td := range md.Topics {
			if td.IsInternal || internalTopic(name) {
				continue
			}
			if td.Err != nil {
				return fmt.Errorf("broker: list topics: %s: %w", name, td.Err)
			}
			names = append(names, name)
		}
		if len(names) == 0 {
			return nil // the listings below would take no names as all topics
		}
		slices.Sort(names)
		starts, err := adm.ListStartOffsets(ctx, names...)
		if err != nil {
			return fmt.Errorf("broker: list start offsets: %w", err)
		}
		ends, err := adm.ListEndOffsets(ctx, names...)
		if err != nil {
			return fmt.Errorf("broker: list end offsets: %w", err)
		}
		// LastAppend is informative: storage that cannot answer the
		// max-timestamp query leaves it zero rather than failing the
		// listing.
		maxes, err := adm.ListMaxTimestampOffsets(ctx, names...)
		if err != nil {
			inst.log.Warn("list max timestamps", "err", err)
		}
		for _, name := range names {
			ts := TopicState{Name: name}
			for _, p := range slices.Sorted(maps.Keys(md.Topics[name].Partitions)) {
				start, serr := listed(starts, name, p)
				end, eerr := listed(ends, name, p)
				if err := errors.Join(serr, eerr); err != nil {
					return err
				}
				ps := PartitionState{Partition: p, LogStart: start.Offset, HighWater: end.Offset}
				if m, ok := maxes.Lookup(name, p); ok && m.Err == nil && m.Offset >= 0 && m.Timestamp >= 0 && ps.HighWater > ps.LogStart {
					ps.LastAppend = time.UnixMilli(m.Timestamp)
				}
				ts.Partitions = append(ts.Partitions, ps)
			}
			out = append(out, ts)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listed returns one partition's listed offset, or why there is none.
func listed(l kadm.ListedOffsets, topic string, p int32) (kadm.ListedOffset, error) {
	o, ok := l.Lookup(topic, p)
	switch {
	case !ok:
		return o, fmt.Errorf("broker: list offsets: no answer for %s/%d", topic, p)
	case o.Err != nil:
		return o, fmt.Errorf("broker: list offsets of %s/%d: %w", topic, p, o.Err)
	}
	return o, nil
}
