package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Reset types of UpdateConsumerOffset.
const (
	resetByTimestamp = "timestamp"
	resetByOffset    = "offset"
)

// maxOffsetsDocLen caps UpdateConsumerOffset's Offsets: one entry per
// partition of a topic, at most maxPartitions.
const maxOffsetsDocLen = maxPartitions * 64

func (s *Instances) registerGroupData(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	consumerID := Param{Name: "ConsumerId", Required: true, Validate: validName}
	g.Add(kafkaAction(Action{
		Name: "GetConsumerProgress", RAMAction: "alikafka:ListGroup", Resource: instanceARN, QPS: 100,
		Params: []Param{instanceID, consumerID,
			{Name: "HideLastTimestamp", Kind: Boolean}},
		Handler: s.getConsumerProgress,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetTopicSubscribeStatus", RAMAction: "alikafka:ListTopic", Resource: instanceARN, QPS: 100,
		Params: []Param{instanceID,
			{Name: "Topic", Required: true, Validate: validName}},
		Handler: s.getTopicSubscribeStatus,
	}))
	// Topic left out or empty resets every topic the group has offsets
	// for: the newest SDK sends it empty, the legacy SDK leaves an empty
	// one out.
	g.Add(kafkaAction(Action{
		Name: "UpdateConsumerOffset", RAMAction: "alikafka:UpdateGroup", Resource: instanceARN, QPS: 20,
		Params: []Param{instanceID, consumerID,
			{Name: "Topic", MaxLen: 64},
			{Name: "ResetType", Enum: []string{resetByTimestamp, resetByOffset}},
			{Name: "Time", Kind: Integer, Min: kafkaplane.EarliestOffset, Max: maxMillis},
			{Name: "Offsets", Kind: JSON, MaxLen: maxOffsetsDocLen},
		},
		Handler: s.updateConsumerOffset,
	}))
}

// maxMillis is the greatest Unix time in milliseconds a parameter takes:
// the year 9999.
const maxMillis = 253402300799999

// brokerGroup finds a consumer group on the instance's brokers; nil when
// they hold none of that name.
func (s *Instances) brokerGroup(ctx context.Context, inst *kafkaplane.Instance, name string) (*kafkaplane.GroupState, error) {
	groups, err := s.Runtime.Groups(ctx, inst.ID)
	if err != nil {
		return nil, brokerError(inst, "", err)
	}
	for i := range groups {
		if groups[i].Name == name {
			return &groups[i], nil
		}
	}
	return nil, nil
}

// knownGroup returns a group as the brokers hold it. A group made with
// CreateConsumerGroup that no client used yet is empty; one neither made
// nor used is BIZ_SUBSCRIPTION_NOT_FOUND.
func (s *Instances) knownGroup(ctx context.Context, inst *kafkaplane.Instance, name string) (*kafkaplane.GroupState, error) {
	g, err := s.brokerGroup(ctx, inst, name)
	if err != nil || g != nil {
		return g, err
	}
	if _, err := s.Topics.FindConsumerGroup(ctx, inst.ID, name); err != nil {
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			return nil, apierr.GroupNotFound.Errorf("The consumer group %s does not exist on instance %s.", name, inst.ID)
		}
		return nil, err
	}
	return &kafkaplane.GroupState{Name: name, State: "Empty"}, nil
}

// getConsumerProgress reports a group's committed offsets against the
// ends of the logs: per partition the broker (log end) and consumer
// offsets, their difference, the member that holds the partition, and when
// the last record the group consumed was written (left out with
// HideLastTimestamp); per topic and for the group the sums and latest
// times; and the group's recent rebalances.
func (s *Instances) getConsumerProgress(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.serving(ctx, r)
	if err != nil {
		return nil, err
	}
	g, err := s.knownGroup(ctx, inst, r.String("ConsumerId"))
	if err != nil {
		return nil, err
	}
	hide := r.Bool("HideLastTimestamp", false)
	var times map[kafkaplane.TopicPartition]time.Time
	if !hide {
		if times, err = s.Runtime.ConsumedTimes(ctx, inst.ID, g.Offsets); err != nil {
			return nil, brokerError(inst, "", err)
		}
	}
	holder := map[kafkaplane.TopicPartition]kafkaplane.GroupMember{}
	for _, m := range g.Members {
		for _, tp := range m.Assigned {
			holder[tp] = m
		}
	}
	var topics []Object
	var total, last int64
	for i := 0; i < len(g.Offsets); {
		name := g.Offsets[i].Topic
		var items []Object
		var diff, topicLast int64
		for ; i < len(g.Offsets) && g.Offsets[i].Topic == name; i++ {
			o := g.Offsets[i]
			tp := kafkaplane.TopicPartition{Topic: o.Topic, Partition: o.Partition}
			lag := max(o.LogEnd-o.Committed, 0)
			diff += lag
			m := holder[tp]
			item := Object{
				{"Partition", o.Partition},
				{"BrokerOffset", o.LogEnd},
				{"ConsumerOffset", o.Committed},
				{"Accumulate", lag},
				{"MemberId", m.MemberID},
				{"ClientId", m.ClientID},
				{"ClientIp", hostOnly(m.ClientHost)},
			}
			if !hide {
				at := millis(times[tp])
				topicLast = max(topicLast, at)
				item = append(item, Field{"LastTimestamp", at})
			}
			items = append(items, item)
		}
		total += diff
		last = max(last, topicLast)
		t := Object{{"Topic", name}, {"TotalDiff", diff}}
		if !hide {
			t = append(t, Field{"LastTimestamp", topicLast})
		}
		topics = append(topics, append(t, Field{"OffsetList", Object{{"OffsetList", items}}}))
	}
	rebalances, err := s.rebalanceVOs(ctx, inst, g.Name)
	if err != nil {
		return nil, err
	}
	progress := Object{{"TotalDiff", total}}
	if !hide {
		progress = append(progress, Field{"LastTimestamp", last})
	}
	progress = append(progress,
		Field{"TopicList", Object{{"TopicList", orEmpty(topics)}}},
		Field{"RebalanceInfoList", Object{{"RebalanceInfoList", rebalances}}},
		Field{"state", g.State},
	)
	return Object{{"ConsumerProgress", progress}}, nil
}

// orEmpty makes a nil list an empty one, so that it renders as [].
func orEmpty(l []Object) []Object {
	if l == nil {
		return []Object{}
	}
	return l
}

// hostOnly is a member's client host without Kafka's leading slash.
func hostOnly(h string) string {
	if len(h) > 0 && h[0] == '/' {
		return h[1:]
	}
	return h
}

// getTopicSubscribeStatus lists the groups that consume a topic: those with
// committed offsets on it or a member assigned one of its partitions.
func (s *Instances) getTopicSubscribeStatus(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.serving(ctx, r)
	if err != nil {
		return nil, err
	}
	name := r.String("Topic")
	if _, err := s.brokerTopic(ctx, inst, name); err != nil {
		return nil, err
	}
	groups, err := s.Runtime.Groups(ctx, inst.ID)
	if err != nil {
		return nil, brokerError(inst, name, err)
	}
	subscribed := []string{}
	for _, g := range groups {
		if subscribes(g, name) {
			subscribed = append(subscribed, g.Name)
		}
	}
	return Object{{"TopicSubscribeStatus", Object{
		{"Topic", name},
		{"ConsumerGroups", subscribed},
	}}}, nil
}

func subscribes(g kafkaplane.GroupState, topic string) bool {
	if slices.ContainsFunc(g.Offsets, func(o kafkaplane.GroupOffset) bool { return o.Topic == topic }) {
		return true
	}
	return slices.ContainsFunc(g.Members, func(m kafkaplane.GroupMember) bool {
		return slices.ContainsFunc(m.Assigned, func(tp kafkaplane.TopicPartition) bool { return tp.Topic == topic })
	})
}

// offsetEntry is one item of UpdateConsumerOffset's Offsets. The newest
// SDK sends numbers, the legacy Go SDK numbers in strings
// ({"Partition":"0","Offset":"2"}); both are read.
type offsetEntry struct {
	Partition json.RawMessage `json:"Partition"`
	Offset    json.RawMessage `json:"Offset"`
}

// jsonInt reads a JSON number, or a number in a JSON string; false when v
// is neither.
func jsonInt(v json.RawMessage) (int64, bool) {
	var s string
	if json.Unmarshal(v, &s) != nil {
		s = string(v)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// updateConsumerOffset moves a group's committed offsets, as Kafka's reset
// tool does, and only while the group has no members:
//
//   - ResetType timestamp (the default) with Time: -1 the log ends, -2 the
//     log starts, or a Unix time in milliseconds (each partition's first
//     record written at or after it); Topic names one topic or, empty or
//     left out, every topic the group has offsets for;
//   - ResetType offset with Offsets, a JSON list of {Partition, Offset} of
//     the one topic Topic names; an offset outside a partition's log is
//     held to it.
//
// A parameter of the other reset type is refused; an Offsets of null or []
// (the legacy Go SDK sends null for a request without offsets) is none.
func (s *Instances) updateConsumerOffset(ctx context.Context, r *Request) (Object, error) {
	topic := r.String("Topic")
	if topic != "" {
		if why := validName(topic); why != "" {
			return nil, apierr.Invalid("Topic", why)
		}
	}
	reset := kafkaplane.OffsetReset{}
	if topic != "" {
		reset.Topics = []string{topic}
	}
	kind := r.String("ResetType")
	if kind == "" {
		kind = resetByTimestamp
	}
	switch kind {
	case resetByTimestamp:
		if offsets := r.String("Offsets"); offsets != "" && offsets != "null" && offsets != "[]" {
			return nil, apierr.Invalid("Offsets", "It applies only to ResetType offset.")
		}
		if !r.Has("Time") {
			return nil, apierr.Missing("Time")
		}
		reset.At = int64Param(r, "Time")
		if reset.At < 0 && reset.At != kafkaplane.LatestOffset && reset.At != kafkaplane.EarliestOffset {
			return nil, apierr.Invalid("Time", "It must be -1 (the latest offsets), -2 (the earliest) or a Unix time in milliseconds.")
		}
	case resetByOffset:
		if r.Has("Time") {
			return nil, apierr.Invalid("Time", "It applies only to ResetType timestamp.")
		}
		if topic == "" {
			return nil, apierr.Invalid("Topic", "ResetType offset resets the partitions of one topic; name it.")
		}
		offsets, err := parseOffsets(r.String("Offsets"))
		if err != nil {
			return nil, err
		}
		reset.Offsets = offsets
	}
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	group := r.String("ConsumerId")
	if _, err := s.knownGroup(ctx, inst, group); err != nil {
		return nil, err
	}
	_, err = s.Runtime.ResetOffsets(ctx, inst.ID, group, reset)
	switch {
	case errors.Is(err, kafkaplane.ErrGroupActive):
		return nil, apierr.GroupActive.Errorf("The consumer group %s of instance %s has active members; stop its consumers before resetting its offsets.", group, inst.ID)
	case err != nil:
		return nil, brokerError(inst, topic, err)
	}
	return Object{}, nil
}

// parseOffsets reads UpdateConsumerOffset's Offsets.
func parseOffsets(doc string) (map[int32]int64, error) {
	if doc == "" {
		return nil, apierr.Missing("Offsets")
	}
	var entries []offsetEntry
	if err := json.Unmarshal([]byte(doc), &entries); err != nil || len(entries) == 0 {
		return nil, apierr.Invalid("Offsets", "It must be a JSON list of {\"Partition\": n, \"Offset\": n}.")
	}
	out := make(map[int32]int64, len(entries))
	for _, e := range entries {
		p, pok := jsonInt(e.Partition)
		o, ook := jsonInt(e.Offset)
		switch {
		case !pok || !ook:
			return nil, apierr.Invalid("Offsets", "Every entry needs a Partition and an Offset, each an integer.")
		case p < 0 || p >= maxPartitions || o < 0:
			return nil, apierr.Invalid("Offsets", "Partitions are 0 to "+strconv.Itoa(maxPartitions-1)+" and offsets not negative.")
		}
		if _, dup := out[int32(p)]; dup {
			return nil, apierr.Invalid("Offsets", "Partition "+strconv.FormatInt(p, 10)+" is named twice.")
		}
		out[int32(p)] = o
	}
	return out, nil
}
