package broker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// withClient runs fn with a client of the instance's storage nodes built
// with opts, holding the instance's rollMu as withStorage does.
func (k *Kafka) withClient(ctx context.Context, id string, opts []kgo.Opt, fn func(*instance, *kgo.Client) error) error {
	inst, err := k.get(id)
	if err != nil {
		return err
	}
	inst.rollMu.Lock()
	defer inst.rollMu.Unlock()
	if inst.stopped {
		return notStarted(id)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(inst.upstream...),
		kgo.ClientID("kafkaplane"),
		kgo.DialTimeout(5 * time.Second),
		kgo.RetryTimeout(10 * time.Second),
	}, opts...)...)
	if err != nil {
		return fmt.Errorf("broker: storage client: %w", err)
	}
	defer cl.Close()
	return fn(inst, cl)
}

// topicConfig is the rule for the values of one topic config, as Kafka
// defines it: a number of at least min, or one of values.
type topicConfig struct {
	min    int64
	values []string
}

// topicConfigs are the topic configs the brokers take, with Kafka's rules
// for their values. Storage checks names but not every value, so the
// values are checked here, before anything changes.
var topicConfigs = map[string]topicConfig{
	"cleanup.policy":         {values: []string{"delete", "compact", "compact,delete", "delete,compact"}},
	"compression.type":       {values: []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}},
	"delete.retention.ms":    {min: 0},
	"max.message.bytes":      {min: 0},
	"message.timestamp.type": {values: []string{"CreateTime", "LogAppendTime"}},
	"min.insync.replicas":    {min: 1},
	"retention.bytes":        {min: -1},
	"retention.ms":           {min: -1},
	"segment.bytes":          {min: 14},
	"segment.ms":             {min: 1},
}

// checkTopicConfig applies topicConfigs to name=value.
func checkTopicConfig(name, value string) error {
	rule, ok := topicConfigs[name]
	if !ok {
		return fmt.Errorf("%w: %s is not a topic config", ErrInvalidConfig, name)
	}
	if rule.values != nil {
		if !slices.Contains(rule.values, value) {
			return fmt.Errorf("%w: %s must be one of %v", ErrInvalidConfig, name, rule.values)
		}
		return nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < rule.min {
		return fmt.Errorf("%w: %s must be an integer of at least %d", ErrInvalidConfig, name, rule.min)
	}
	return nil
}

// SetTopicConfig sets a topic config in storage; see Runtime.
func (k *Kafka) SetTopicConfig(ctx context.Context, instanceID, topic, name, value string) (string, error) {
	if err := checkTopicConfig(name, value); err != nil {
		return "", err
	}
	if checkTopicName(topic) != nil {
		if _, err := k.get(instanceID); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
	}
	var now string
	err := k.withStorage(ctx, instanceID, func(inst *instance, adm *kadm.Client) error {
		if err := topicExists(ctx, adm, topic); err != nil {
			return err
		}
		rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: name, Value: kadm.StringPtr(value)}}, topic)
		if err != nil {
			return fmt.Errorf("broker: alter configs of %s: %w", topic, err)
		}
		for _, r := range rs {
			switch {
			case errors.Is(r.Err, kerr.InvalidConfig), errors.Is(r.Err, kerr.InvalidRequest):
				return fmt.Errorf("%w: %s=%s", ErrInvalidConfig, name, value)
			case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
				return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
			case r.Err != nil:
				return fmt.Errorf("broker: alter configs of %s: %w", topic, withMessage(r.Err, r.ErrMessage))
			}
		}
		rcs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			return fmt.Errorf("broker: describe configs of %s: %w", topic, err)
		}
		rc, err := rcs.On(topic, nil)
		if err != nil || rc.Err != nil {
			return fmt.Errorf("broker: describe configs of %s: %w", topic, errors.Join(err, rc.Err))
		}
		for _, c := range rc.Configs {
			if c.Key == name {
				now = c.MaybeValue()
			}
		}
		inst.log.Info("topic config set", "topic", topic, "config", name, "value", now)
		return nil
	})
	return now, err
}

// topicExists returns ErrTopicNotFound when storage has no such topic.
func topicExists(ctx context.Context, adm *kadm.Client, topic string) error {
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
	return nil
}

// Groups describes the consumer groups in storage; see Runtime.
func (k *Kafka) Groups(ctx context.Context, instanceID string) ([]GroupState, error) {
	var out []GroupState
	err := k.withStorage(ctx, instanceID, func(_ *instance, adm *kadm.Client) error {
		var err error
		out, err = describeGroups(ctx, adm)
		return err
	})
	return out, err
}

func describeGroups(ctx context.Context, adm *kadm.Client) ([]GroupState, error) {
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("broker: list groups: %w", err)
	}
	names := listed.Groups()
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	described, err := adm.DescribeGroups(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("broker: describe groups: %w", err)
	}
	fetched := adm.FetchManyOffsets(ctx, names...)
	var topics []string
	for _, f := range fetched {
		if f.Err != nil {
			return nil, fmt.Errorf("broker: fetch offsets of %s: %w", f.Group, f.Err)
		}
		topics = append(topics, f.Fetched.Partitions().Topics()...)
	}
	slices.Sort(topics)
	topics = slices.Compact(topics)
	var ends kadm.ListedOffsets
	if len(topics) > 0 {
		if ends, err = adm.ListEndOffsets(ctx, topics...); err != nil {
			return nil, fmt.Errorf("broker: list end offsets: %w", err)
		}
	}
	out := make([]GroupState, 0, len(names))
	for _, name := range names {
		g := GroupState{Name: name}
		if d, ok := described[name]; ok {
			g.State = d.State
			for _, m := range d.Members {
				gm := GroupMember{MemberID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost}
				if c, ok := m.Assigned.AsConsumer(); ok {
					for _, t := range c.Topics {
						for _, p := range t.Partitions {
							gm.Assigned = append(gm.Assigned, TopicPartition{Topic: t.Topic, Partition: p})
						}
					}
				}
				g.Members = append(g.Members, gm)
			}
		}
		fetched[name].Fetched.Each(func(o kadm.OffsetResponse) {
			if o.Err != nil || o.At < 0 {
				return
			}
			end := int64(-1)
			if e, ok := ends.Lookup(o.Topic, o.Partition); ok && e.Err == nil {
				end = e.Offset
			}
			g.Offsets = append(g.Offsets, GroupOffset{Topic: o.Topic, Partition: o.Partition, Committed: o.At, LogEnd: end})
		})
		slices.SortFunc(g.Offsets, func(a, b GroupOffset) int {
			return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
		})
		out = append(out, g)
	}
	return out, nil
}

// ConsumedTimes reads the record before each committed offset; see
// Runtime.
func (k *Kafka) ConsumedTimes(ctx context.Context, instanceID string, offsets []GroupOffset) (map[TopicPartition]time.Time, error) {
	want := map[string]map[int32]kgo.Offset{}
	left := 0
	for _, o := range offsets {
		if o.Committed <= 0 {
			continue
		}
		if want[o.Topic] == nil {
			want[o.Topic] = map[int32]kgo.Offset{}
		}
		want[o.Topic][o.Partition] = kgo.NewOffset().At(o.Committed - 1)
		left++
	}
	out := map[TopicPartition]time.Time{}
	if left == 0 {
		return out, nil
	}
	err := k.withClient(ctx, instanceID, []kgo.Opt{kgo.ConsumePartitions(want)}, func(_ *instance, cl *kgo.Client) error {
		seen := map[TopicPartition]bool{}
		return pollUntil(ctx, cl, func(r *kgo.Record) bool {
			tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
			if seen[tp] {
				return left == 0
			}
			// The first record read is the one before the committed
			// offset, or a later one when compaction removed it: then
			// the group's last record is unknown and left out.
			seen[tp] = true
			left--
			if r.Offset == want[r.Topic][r.Partition].EpochOffset().Offset {
				out[tp] = r.Timestamp
			}
			return left == 0
		})
	})
	return out, err
}

// readTimeout bounds a read of records from storage: what is asked for is
// already written, so a read that takes longer has met a log with fewer
// records than expected (deleted by retention meanwhile).
const readTimeout = 5 * time.Second

// pollUntil polls cl until take reports that it has all it wants or
// readTimeout passes.
func pollUntil(ctx context.Context, cl *kgo.Client, take func(*kgo.Record) (done bool)) error {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if !done {
				done = take(r)
			}
		})
		if done {
			return nil
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("broker: read %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
	}
}

// ResetOffsets commits new offsets for an inactive group; see Runtime.
func (k *Kafka) ResetOffsets(ctx context.Context, instanceID, group string, r OffsetReset) ([]GroupOffset, error) {
	var written []GroupOffset
	err := k.withStorage(ctx, instanceID, func(inst *instance, adm *kadm.Client) error {
		described, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return fmt.Errorf("broker: describe group %s: %w", group, err)
		}
		if d, ok := described[group]; ok && len(d.Members) > 0 {
			return fmt.Errorf("%w: %s has %d members (%s)", ErrGroupActive, group, len(d.Members), d.State)
		}
		topics := r.Topics
		if len(topics) == 0 {
			f, err := adm.FetchOffsets(ctx, group)
			if err != nil {
				return fmt.Errorf("broker: fetch offsets of %s: %w", group, err)
			}
			topics = f.Partitions().Topics()
		}
		if len(topics) == 0 {
			return nil
		}
		for _, t := range topics {
			if err := topicExists(ctx, adm, t); err != nil {
				return err
			}
		}
		starts, err := adm.ListStartOffsets(ctx, topics...)
		if err != nil {
			return fmt.Errorf("broker: list start offsets: %w", err)
		}
		ends, err := adm.ListEndOffsets(ctx, topics...)
		if err != nil {
			return fmt.Errorf("broker: list end offsets: %w", err)
		}
		var at kadm.ListedOffsets
		if r.Offsets == nil && r.At >= 0 {
			if at, err = adm.ListOffsetsAfterMilli(ctx, r.At, topics...); err != nil {
				return fmt.Errorf("broker: list offsets by time: %w", err)
			}
		}
		commit := kadm.Offsets{}
		var problem error
		ends.Each(func(e kadm.ListedOffset) {
			if problem != nil {
				return
			}
			s, err := listed(starts, e.Topic, e.Partition)
			if err == nil {
				err = e.Err
			}
			if err != nil {
				problem = err
				return
			}
			var to int64
			switch {
			case r.Offsets != nil:
				o, ok := r.Offsets[e.Partition]
				if !ok {
					return
				}
				to = min(max(o, s.Offset), e.Offset)
			case r.At == LatestOffset:
				to = e.Offset
			case r.At == EarliestOffset:
				to = s.Offset
			default:
				to = e.Offset
				if a, ok := at.Lookup(e.Topic, e.Partition); ok && a.Err == nil && a.Offset >= 0 {
					to = min(max(a.Offset, s.Offset), e.Offset)
				}
			}
			commit.Add(kadm.Offset{Topic: e.Topic, Partition: e.Partition, At: to, LeaderEpoch: -1})
			written = append(written, GroupOffset{Topic: e.Topic, Partition: e.Partition, Committed: to, LogEnd: e.Offset})
		})
		if problem != nil {
			return fmt.Errorf("broker: list offsets: %w", problem)
		}
		for p := range r.Offsets {
			if _, ok := ends.Lookup(topics[0], p); !ok {
				return fmt.Errorf("%w: %s has no partition %d", ErrTopicNotFound, topics[0], p)
			}
		}
		if len(commit) == 0 {
			return nil
		}
		rs, err := adm.CommitOffsets(ctx, group, commit)
		if err == nil {
			err = rs.Error()
		}
		// A member that joined since the check above makes the
		// coordinator refuse a commit from outside the group.
		if errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) || errors.Is(err, kerr.RebalanceInProgress) {
			return fmt.Errorf("%w: %s: %v", ErrGroupActive, group, err)
		}
		if err != nil {
			return fmt.Errorf("broker: commit offsets of %s: %w", group, err)
		}
		slices.SortFunc(written, func(a, b GroupOffset) int {
			return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
		})
		inst.log.Info("group offsets reset", "group", group, "partitions", len(written))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return written, nil
}

// ReadRecords reads records from storage; see Runtime.
func (k *Kafka) ReadRecords(ctx context.Context, instanceID string, q RecordQuery) ([]Record, error) {
	if checkTopicName(q.Topic) != nil {
		if _, err := k.get(instanceID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s", ErrTopicNotFound, q.Topic)
	}
	// Where each partition's read starts and ends, found first with an
	// admin client, so the reading client asks for nothing past the end.
	from := map[int32]int64{}
	until := map[int32]int64{}
	err := k.withStorage(ctx, instanceID, func(_ *instance, adm *kadm.Client) error {
		if err := topicExists(ctx, adm, q.Topic); err != nil {
			return err
		}
		starts, err := adm.ListStartOffsets(ctx, q.Topic)
		if err != nil {
			return fmt.Errorf("broker: list start offsets: %w", err)
		}
		ends, err := adm.ListEndOffsets(ctx, q.Topic)
		if err != nil {
			return fmt.Errorf("broker: list end offsets: %w", err)
		}
		var at kadm.ListedOffsets
		if q.ByTime {
			if at, err = adm.ListOffsetsAfterMilli(ctx, q.At, q.Topic); err != nil {
				return fmt.Errorf("broker: list offsets by time: %w", err)
			}
		} else if _, ok := ends.Lookup(q.Topic, q.Partition); !ok {
			return fmt.Errorf("%w: %s has no partition %d", ErrTopicNotFound, q.Topic, q.Partition)
		}
		var problem error
		ends.Each(func(e kadm.ListedOffset) {
			s, err := listed(starts, e.Topic, e.Partition)
			if err == nil {
				err = e.Err
			}
			if err != nil {
				problem = err
				return
			}
			start := q.Offset
			if q.ByTime {
				a, ok := at.Lookup(e.Topic, e.Partition)
				if !ok || a.Err != nil || a.Offset < 0 {
					return
				}
				start = a.Offset
			} else if e.Partition != q.Partition {
				return
			}
			start = max(start, s.Offset)
			if start < e.Offset {
				from[e.Partition], until[e.Partition] = start, min(e.Offset, start+int64(q.Max))
			}
		})
		return problem
	})
	if err != nil || len(from) == 0 {
		return nil, err
	}
	want := map[string]map[int32]kgo.Offset{q.Topic: {}}
	for p, o := range from {
		want[q.Topic][p] = kgo.NewOffset().At(o)
	}
	var out []Record
	left := len(from)
	err = k.withClient(ctx, instanceID, []kgo.Opt{kgo.ConsumePartitions(want)}, func(_ *instance, cl *kgo.Client) error {
		done := map[int32]bool{}
		return pollUntil(ctx, cl, func(r *kgo.Record) bool {
			end, ok := until[r.Partition]
			if !ok || done[r.Partition] || r.Offset < from[r.Partition] {
				return left == 0
			}
			if r.Offset < end {
				out = append(out, Record{
					Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
					Timestamp: r.Timestamp, LogAppendTime: r.Attrs.TimestampType() == 1,
					Key: r.Key, Value: r.Value,
				})
			}
			// The partition is read once its last wanted offset, or a
			// later one (compaction may have removed that record), came.
			if r.Offset >= end-1 {
				done[r.Partition] = true
				left--
			}
			return left == 0
		})
	})
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
	return out, err
}
