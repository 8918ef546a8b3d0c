package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Topic attributes alikafka documents for CreateTopic: 1–360 partitions,
// 12 when PartitionNum is left out; GetTopicList pages hold up to 10000.
// Remarks of topics and groups are at most 64 characters, replicas at most
// the instance's three brokers; docs/limits.md.
const (
	defaultPartitions = 12
	maxPartitions     = 360
	maxPageSize       = 10000
	maxCurrentPage    = 1000000
	maxRemarkLen      = 64
	maxReplicas       = 3
)

// groupsPerTopic is how many consumer groups an instance may hold per topic
// of its TopicNumLimit, as alikafka sizes group quotas (docs/limits.md).
const groupsPerTopic = 2

// topicLimit is the most topics inst may hold: its TopicNumLimit. Instances
// stored without one (TopicQuota 0) have no limit.
func topicLimit(inst *kafkaplane.Instance) int { return inst.TopicQuota }

// groupLimit is the most consumer groups inst may hold.
func groupLimit(inst *kafkaplane.Instance) int { return groupsPerTopic * inst.TopicQuota }

func topicQuotaError(inst *kafkaplane.Instance) error {
	return apierr.TopicQuotaExceeded.Errorf("The instance %s already holds %d topics, its TopicNumLimit.", inst.ID, topicLimit(inst))
}

// topicStatusServing is the Status (and StatusName) GetTopicList shows for
// a topic that can be used.
const (
	topicStatusServing     = 0
	topicStatusServingName = "服务中"
)

// registerTopics adds the topic and consumer-group actions to g.
func (s *Instances) registerTopics(g *Registry) {
	// Lengths and ranges: docs/limits.md.
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	topic := Param{Name: "Topic", Required: true, Validate: validName}
	consumerID := Param{Name: "ConsumerId", Required: true, Validate: validName}
	remark := Param{Name: "Remark", MaxLen: maxRemarkLen}
	paging := []Param{
		{Name: "CurrentPage", Kind: Integer, Min: 1, Max: maxCurrentPage},
		{Name: "PageSize", Kind: Integer, Min: 1, Max: maxPageSize},
	}
	required := func(p Param) Param { p.Required = true; return p }

	g.Add(kafkaAction(Action{
		Name: "CreateTopic", RAMAction: "alikafka:CreateTopic", Resource: instanceARN, QPS: 20,
		Params: []Param{
			instanceID, topic,
			required(remark),
			{Name: "PartitionNum", Kind: Integer, Min: 1, Max: maxPartitions},
			{Name: "CompactTopic", Kind: Boolean},
			{Name: "LocalTopic", Kind: Boolean},
			{Name: "ReplicationFactor", Kind: Integer, Min: 1, Max: maxReplicas},
			{Name: "MinInsyncReplicas", Kind: Integer, Min: 1, Max: maxReplicas},
			{Name: "Config", Kind: JSON, MaxLen: maxConfigLen},
			{Name: "Tag", Kind: TagList},
		},
		Handler: s.createTopic,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetTopicList", RAMAction: "alikafka:ListTopic", Resource: instanceARN, QPS: 100,
		Params:  append([]Param{instanceID, {Name: "Topic", MaxLen: 64}}, paging...),
		Handler: s.getTopicList,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetTopicStatus", RAMAction: "alikafka:ListTopic", Resource: instanceARN, QPS: 100,
		Params:  []Param{instanceID, topic},
		Handler: s.getTopicStatus,
	}))
	g.Add(kafkaAction(Action{
		Name: "ModifyTopicRemark", RAMAction: "alikafka:UpdateTopic", Resource: instanceARN, QPS: 40,
		Params:  []Param{instanceID, topic, required(remark)},
		Handler: s.modifyTopicRemark,
	}))
	g.Add(kafkaAction(Action{
		Name: "ModifyPartitionNum", RAMAction: "alikafka:UpdateTopic", Resource: instanceARN, QPS: 20,
		Params: []Param{instanceID, topic,
			{Name: "AddPartitionNum", Kind: Integer, Required: true, Min: 1, Max: maxPartitions}},
		Handler: s.modifyPartitionNum,
	}))
	g.Add(kafkaAction(Action{
		Name: "DeleteTopic", RAMAction: "alikafka:DeleteTopic", Resource: instanceARN, QPS: 40,
		Params:  []Param{instanceID, topic},
		Handler: s.deleteTopic,
	}))

	g.Add(kafkaAction(Action{
		Name: "CreateConsumerGroup", RAMAction: "alikafka:CreateGroup", Resource: instanceARN, QPS: 40,
		Params:  []Param{instanceID, consumerID, remark, {Name: "Tag", Kind: TagList}},
		Handler: s.createConsumerGroup,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetConsumerList", RAMAction: "alikafka:ListGroup", Resource: instanceARN, QPS: 100,
		Params:  append([]Param{instanceID, {Name: "ConsumerId", MaxLen: 64}}, paging...),
		Handler: s.getConsumerList,
	}))
	g.Add(kafkaAction(Action{
		Name: "DeleteConsumerGroup", RAMAction: "alikafka:DeleteGroup", Resource: instanceARN, QPS: 40,
		Params:  []Param{instanceID, consumerID},
		Handler: s.deleteConsumerGroup,
	}))
}

// running loads the caller's instance and requires it to serve: topics
// live on its brokers.
func (s *Instances) running(ctx context.Context, r *Request) (*kafkaplane.Instance, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	if inst.ServiceStatus != kafkaplane.ServiceStatusRunning {
		return nil, statusError(inst, r.Action.Name)
	}
	return inst, nil
}

// brokerError maps a runtime failure of a topic call onto the wire.
func brokerError(inst *kafkaplane.Instance, topic string, err error) error {
	switch {
	case errors.Is(err, kafkaplane.ErrTopicExists):
		return apierr.TopicExisted.Errorf("The topic %s already exists on instance %s.", topic, inst.ID)
	case errors.Is(err, kafkaplane.ErrTopicNotFound):
		return apierr.TopicNotFound.Errorf("The topic %s does not exist on instance %s.", topic, inst.ID)
	case errors.Is(err, kafkaplane.ErrNotStarted):
		return apierr.InstanceStatus.Errorf("The brokers of instance %s are not running.", inst.ID)
	case errors.Is(err, kafkaplane.ErrUnsupported):
		return apierr.RuntimeUnsupported.Errorf("The broker runtime of instance %s does not support this action: %v", inst.ID, err)
	}
	return err
}

func (s *Instances) createTopic(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	tags, _ := r.TagsOf("Tag")
	t := &kafkaplane.Topic{
		InstanceID:   inst.ID,
		Name:         r.String("Topic"),
		Remark:       r.String("Remark"),
		PartitionNum: int32(r.Int("PartitionNum", defaultPartitions)),
		CompactTopic: r.Bool("CompactTopic", false),
		LocalTopic:   r.Bool("LocalTopic", false),
		Tags:         tags,
		CreateTime:   s.now(),
	}
	configs, err := topicConfigs(r.String("Config"))
	if err != nil {
		return nil, err
	}
	if len(configs) > 0 {
		t.Config = maps.Clone(configs)
	}
	if t.CompactTopic {
		configs["cleanup.policy"] = "compact"
	}
	if _, err := s.Topics.FindTopic(ctx, inst.ID, t.Name); err == nil {
		return nil, apierr.TopicExisted.Errorf("The topic %s already exists on instance %s.", t.Name, inst.ID)
	} else if kafkaplane.ErrorCode(err) != kafkaplane.CodeNotFound {
		return nil, err
	}
	// A full instance is refused before the brokers are touched; the
	// store's count-and-insert below decides between concurrent calls.
	if recs, err := s.Topics.ListTopics(ctx, inst.ID); err != nil {
		return nil, err
	} else if limit := topicLimit(inst); limit > 0 && len(recs) >= limit {
		return nil, topicQuotaError(inst)
	}
	// The brokers first: a topic there that the store does not know (made
	// by a Kafka client) must be refused, not recorded twice.
	if err := s.Runtime.CreateTopic(ctx, inst.ID, kafkaplane.TopicSpec{Name: t.Name, Partitions: t.PartitionNum, Configs: configs}); err != nil {
		return nil, brokerError(inst, t.Name, err)
	}
	if err := s.Topics.CreateTopic(ctx, t, topicLimit(inst)); err != nil {
		switch kafkaplane.ErrorCode(err) {
		case kafkaplane.CodeAlreadyExists:
			return nil, apierr.TopicExisted.Errorf("The topic %s already exists on instance %s.", t.Name, inst.ID)
		case kafkaplane.CodeLimitExceeded:
			err = topicQuotaError(inst)
		}
		// The record is what makes the topic the API's; without it the
		// topic goes again rather than linger half-made.
		if derr := s.Runtime.DeleteTopic(ctx, inst.ID, t.Name); derr != nil && !errors.Is(derr, kafkaplane.ErrTopicNotFound) {
			return nil, errors.Join(err, derr)
		}
		return nil, err
	}
	return Object{}, nil
}

// topicConfigs reads CreateTopic's Config, a JSON object of topic
// configs. Values may be strings, numbers or booleans, as alikafka's
// examples write them ({"retention.ms": 86400000}).
func topicConfigs(doc string) (map[string]string, error) {
	configs := map[string]string{}
	if doc == "" {
		return configs, nil
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, apierr.Invalid("Config", "It must be a JSON object of topic configs.")
	}
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			configs[k] = v
		case float64:
			configs[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			configs[k] = strconv.FormatBool(v)
		default:
			return nil, apierr.Invalid("Config", "The value of "+k+" must be a string, a number or a boolean.")
		}
	}
	return configs, nil
}

// topicView is one topic as GetTopicList shows it: the record, when the
// topic was made through the API, joined with what the brokers hold.
type topicView struct {
	rec   *kafkaplane.Topic
	state *kafkaplane.TopicState
}

// topicViews lists an instance's topics: recorded ones, and ones Kafka
// clients created on the brokers (AutoCreate). Brokers that are not
// running leave the records alone.
func (s *Instances) topicViews(ctx context.Context, inst *kafkaplane.Instance) ([]topicView, error) {
	recs, err := s.Topics.ListTopics(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	var states []kafkaplane.TopicState
	if inst.ServiceStatus == kafkaplane.ServiceStatusRunning || inst.ServiceStatus == kafkaplane.ServiceStatusUpgrading {
		states, err = s.Runtime.Topics(ctx, inst.ID)
		if err != nil && !errors.Is(err, kafkaplane.ErrNotStarted) {
			return nil, err
		}
	}
	byName := map[string]*kafkaplane.TopicState{}
	for i := range states {
		byName[states[i].Name] = &states[i]
	}
	views := make([]topicView, 0, len(recs)+len(states))
	for _, rec := range recs {
		views = append(views, topicView{rec: rec, state: byName[rec.Name]})
		delete(byName, rec.Name)
	}
	for _, st := range states {
		if byName[st.Name] != nil {
			views = append(views, topicView{state: byName[st.Name]})
		}
	}
	return views, nil
}

// topicPartitions is a topic's partition count: the brokers' when they
// run, the record's otherwise.
func topicPartitions(v topicView) int {
	if v.state != nil {
		return len(v.state.Partitions)
	}
	return int(v.rec.PartitionNum)
}

func (v topicView) name() string {
	if v.rec != nil {
		return v.rec.Name
	}
	return v.state.Name
}

func (s *Instances) topicVO(inst *kafkaplane.Instance, v topicView) Object {
	rec := v.rec
	if rec == nil { // made by a Kafka client: the brokers know only its name
		rec = &kafkaplane.Topic{Name: v.state.Name}
	}
	partitions := topicPartitions(v)
	return Object{
		{"Topic", rec.Name},
		{"InstanceId", inst.ID},
		{"RegionId", inst.RegionID},
		{"Remark", rec.Remark},
		{"PartitionNum", partitions},
		{"CompactTopic", compacted(rec)},
		{"LocalTopic", rec.LocalTopic},
		{"AutoCreate", v.rec == nil},
		{"Status", topicStatusServing},
		{"StatusName", topicStatusServingName},
		{"CreateTime", millis(rec.CreateTime)},
		{"TopicConfig", topicConfigText(rec.Config)},
		{"Tags", Object{{"TagVO", tagVOs(rec.Tags)}}},
	}
}

// compacted is CompactTopic: the cleanup.policy UpdateTopicConfig last
// set, else what CreateTopic's CompactTopic chose.
func compacted(t *kafkaplane.Topic) bool {
	if p, ok := t.Config["cleanup.policy"]; ok {
		return strings.Contains(p, "compact")
	}
	return t.CompactTopic
}

// topicConfigText is TopicConfig: the configs CreateTopic was given, as a
// JSON object of strings, so that a client comparing it with what it sent
// sees the same document; empty when none were given.
func topicConfigText(c map[string]string) string {
	if len(c) == 0 {
		return ""
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// nameFilter is how GetTopicList's Topic and GetConsumerList's ConsumerId
// select: the one resource of exactly that name. Clients read the first
// element as the resource and wait for an empty list after deleting it,
// so a name contained in another (orders, orders-dlq) must not match it.
func nameFilter(q string) func(string) bool {
	return func(name string) bool { return q == "" || name == q }
}

// page cuts CurrentPage/PageSize out of n items, as alikafka's list
// actions page: pages count from 1.
func page(r *Request, n int) (from, to, current, size int) {
	current, size = r.Int("CurrentPage", 1), r.Int("PageSize", maxPageSize)
	from, to = numberedPage(n, current, size)
	return from, to, current, size
}

func (s *Instances) getTopicList(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	views, err := s.topicViews(ctx, inst)
	if err != nil {
		return nil, err
	}
	match := nameFilter(r.String("Topic"))
	views = slices.DeleteFunc(views, func(v topicView) bool { return !match(v.name()) })
	from, to, current, size := page(r, len(views))
	vos := make([]Object, 0, to-from)
	for _, v := range views[from:to] {
		vos = append(vos, s.topicVO(inst, v))
	}
	return Object{
		{"CurrentPage", current},
		{"PageSize", size},
		{"Total", len(views)},
		{"TopicList", Object{{"TopicVO", vos}}},
	}, nil
}

// brokerTopic finds a topic on the instance's brokers.
func (s *Instances) brokerTopic(ctx context.Context, inst *kafkaplane.Instance, name string) (*kafkaplane.TopicState, error) {
	states, err := s.Runtime.Topics(ctx, inst.ID)
	if err != nil {
		return nil, brokerError(inst, name, err)
	}
	for i := range states {
		if states[i].Name == name {
			return &states[i], nil
		}
	}
	return nil, apierr.TopicNotFound.Errorf("The topic %s does not exist on instance %s.", name, inst.ID)
}

func (s *Instances) getTopicStatus(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	if inst.ServiceStatus != kafkaplane.ServiceStatusRunning && inst.ServiceStatus != kafkaplane.ServiceStatusUpgrading {
		return nil, statusError(inst, r.Action.Name)
	}
	st, err := s.brokerTopic(ctx, inst, r.String("Topic"))
	if err != nil {
		return nil, err
	}
	var total, last int64
	items := make([]Object, 0, len(st.Partitions))
	for _, p := range st.Partitions {
		total += p.HighWater - p.LogStart
		at := millis(p.LastAppend)
		last = max(last, at)
		items = append(items, Object{
			{"Topic", st.Name},
			{"Partition", p.Partition},
			{"MinOffset", p.LogStart},
			{"MaxOffset", p.HighWater},
			{"LastUpdateTimestamp", at},
		})
	}
	return Object{{"TopicStatus", Object{
		{"TotalCount", total},
		{"LastTimeStamp", last},
		{"OffsetTable", Object{{"OffsetTable", items}}},
	}}}, nil
}

// topicRecord returns the record of a topic, making one for a topic that
// Kafka clients created on the brokers, so that the API can manage it too.
func (s *Instances) topicRecord(ctx context.Context, inst *kafkaplane.Instance, name string) (*kafkaplane.Topic, error) {
	t, err := s.Topics.FindTopic(ctx, inst.ID, name)
	if kafkaplane.ErrorCode(err) != kafkaplane.CodeNotFound {
		return t, err
	}
	st, err := s.brokerTopic(ctx, inst, name)
	if err != nil {
		return nil, err
	}
	t = &kafkaplane.Topic{InstanceID: inst.ID, Name: name, PartitionNum: int32(len(st.Partitions)), CreateTime: s.now()}
	// The topic exists already; its record is bookkeeping, not a new
	// topic, so no quota applies.
	if err := s.Topics.CreateTopic(ctx, t, 0); err != nil && kafkaplane.ErrorCode(err) != kafkaplane.CodeAlreadyExists {
		return nil, err
	}
	return s.Topics.FindTopic(ctx, inst.ID, name)
}

// changeTopic applies fn to a topic's record with compare-and-set,
// reading it again when a concurrent request won.
func (s *Instances) changeTopic(ctx context.Context, inst *kafkaplane.Instance, name string, fn func(*kafkaplane.Topic) error) error {
	for attempt := 0; ; attempt++ {
		t, err := s.topicRecord(ctx, inst, name)
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		err = s.Topics.UpdateTopic(ctx, t)
		if kafkaplane.ErrorCode(err) != kafkaplane.CodeConflict || attempt == 5 {
			if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
				return apierr.TopicNotFound.Errorf("The topic %s does not exist on instance %s.", name, inst.ID)
			}
			return err
		}
	}
}

func (s *Instances) modifyTopicRemark(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	return Object{}, s.changeTopic(ctx, inst, r.String("Topic"), func(t *kafkaplane.Topic) error {
		t.Remark = r.String("Remark")
		return nil
	})
}

// modifyPartitionNum adds partitions. The brokers add them in one step
// (read and grow under one lock), so concurrent calls each add theirs; the
// record keeps the largest count any of them reported, whatever order the
// calls finish in.
func (s *Instances) modifyPartitionNum(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	name := r.String("Topic")
	add := int32(r.Int("AddPartitionNum", 0)) // 1..maxPartitions by its declaration
	total, err := s.Runtime.AddPartitions(ctx, inst.ID, name, add, maxPartitions)
	if errors.Is(err, kafkaplane.ErrPartitionLimit) {
		return nil, apierr.Invalid("AddPartitionNum", "A topic may have at most "+strconv.Itoa(maxPartitions)+" partitions.")
	}
	if err != nil {
		return nil, brokerError(inst, name, err)
	}
	return Object{}, s.changeTopic(ctx, inst, name, func(t *kafkaplane.Topic) error {
		t.PartitionNum = max(t.PartitionNum, total)
		return nil
	})
}

func (s *Instances) deleteTopic(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	return Object{}, s.removeTopic(ctx, inst, r.String("Topic"))
}

func (s *Instances) createConsumerGroup(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	tags, _ := r.TagsOf("Tag")
	g := &kafkaplane.ConsumerGroup{
		InstanceID: inst.ID,
		ConsumerID: r.String("ConsumerId"),
		Remark:     r.String("Remark"),
		Tags:       tags,
		CreateTime: s.now(),
	}
	if err := s.Topics.CreateConsumerGroup(ctx, g, groupLimit(inst)); err != nil {
		switch kafkaplane.ErrorCode(err) {
		case kafkaplane.CodeAlreadyExists:
			return nil, apierr.GroupExisted.Errorf("The consumer group %s already exists on instance %s.", g.ConsumerID, inst.ID)
		case kafkaplane.CodeLimitExceeded:
			return nil, apierr.GroupQuotaExceeded.Errorf("The instance %s already holds %d consumer groups, the most allowed (%d per topic of its TopicNumLimit).", inst.ID, groupLimit(inst), groupsPerTopic)
		}
		return nil, err
	}
	return Object{}, nil
}

func (s *Instances) getConsumerList(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	groups, err := s.Topics.ListConsumerGroups(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	match := nameFilter(r.String("ConsumerId"))
	groups = slices.DeleteFunc(groups, func(g *kafkaplane.ConsumerGroup) bool { return !match(g.ConsumerID) })
	from, to, current, size := page(r, len(groups))
	vos := make([]Object, 0, to-from)
	for _, g := range groups[from:to] {
		vos = append(vos, Object{
			{"ConsumerId", g.ConsumerID},
			{"InstanceId", inst.ID},
			{"RegionId", inst.RegionID},
			{"Remark", g.Remark},
			{"AutomaticallyCreatedGroup", false},
			{"CreateTime", millis(g.CreateTime)},
			{"Tags", Object{{"TagVO", tagVOs(g.Tags)}}},
		})
	}
	return Object{
		{"CurrentPage", current},
		{"PageSize", size},
		{"Total", len(groups)},
		{"ConsumerList", Object{{"ConsumerVO", vos}}},
	}, nil
}

func (s *Instances) deleteConsumerGroup(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	id := r.String("ConsumerId")
	if err := s.Topics.DeleteConsumerGroup(ctx, inst.ID, id); err != nil {
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			return nil, apierr.GroupNotFound.Errorf("The consumer group %s does not exist on instance %s.", id, inst.ID)
		}
		return nil, err
	}
	return Object{}, nil
}
