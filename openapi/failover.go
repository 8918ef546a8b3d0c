package openapi

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Limits of the observation and failover actions' parameters.
const (
	maxRiskPage = 100
	// clientIPDays is the longest window GetKafkaClientIp takes, in days
	// (TimeLimitDay), and clientIPLookbackDays how far back a window may
	// start (SearchTimeRange).
	clientIPDays         = 1
	clientIPLookbackDays = 7
)

func (s *Instances) registerObservations(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	notServed := func(what string) func(string) string {
		return func(string) string { return what }
	}
	// Every FailoverTest parameter besides these is refused: the test
	// restarts one broker at once and cannot be scheduled or shaped.
	g.Add(kafkaAction(Action{
		Name: "FailoverTest", RAMAction: "alikafka:UpdateInstance", Resource: instanceARN, QPS: 2,
		Params: []Param{instanceID,
			{Name: "Name", MaxLen: 64},
			{Name: "Description", MaxLen: 256},
			{Name: "Type", Validate: notServed("Failover tests of other types are not served; leave Type out for a broker fault.")},
			{Name: "Configs", Validate: notServed("Failover tests take no Configs.")},
			{Name: "Duration", Kind: Integer, Min: 0, Max: math.MaxInt32, Validate: notServed("The fault lasts as long as the broker's restart; Duration is not served.")},
			{Name: "ExecuteTime", Kind: Integer, Min: 0, Max: math.MaxInt64, Validate: notServed("Failover tests run at once; ExecuteTime is not served.")},
		},
		Handler: s.failoverTest,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetKafkaClientIp", RAMAction: "alikafka:ListInstance", Resource: instanceARN, QPS: 100,
		Params: []Param{instanceID,
			{Name: "StartTime", Kind: Integer, Required: true, Min: 0, Max: maxMillis},
			{Name: "EndTime", Kind: Integer, Required: true, Min: 0, Max: maxMillis},
			{Name: "Type", Required: true, Enum: []string{kafkaplane.RoleProducer, kafkaplane.RoleConsumer}},
			{Name: "Topic", Validate: validName},
			{Name: "Group", Validate: validName},
		},
		Handler: s.getKafkaClientIP,
	}))
	g.Add(kafkaAction(Action{
		Name: "ListRebalanceInfo", RAMAction: "alikafka:ListGroup", Resource: instanceARN, QPS: 100,
		Params: []Param{instanceID,
			{Name: "ConsumerId", Required: true, Validate: validName}},
		Handler: s.listRebalanceInfo,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetRiskList", RAMAction: "alikafka:ListInstance", Resource: instanceARN, QPS: 100,
		Params: []Param{instanceID,
			{Name: "PageSize", Kind: Integer, Min: 1, Max: maxRiskPage},
			{Name: "StartIndex", Kind: Integer, Min: 0, Max: math.MaxInt32},
		},
		Handler: s.getRiskList,
	}))
}

// failoverTest restarts one broker of a Running instance, as an operation
// with steps (ListInstanceOperations shows it): FAIL_BROKER restarts the
// first broker of the roll order (not the controller) on its version the
// way an upgrade rolls it, so its clients are cut off and move, and
// CHECK_RECOVERY checks every broker afterwards. The instance stays
// Running; one operation at a time runs per instance.
func (s *Instances) failoverTest(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.running(ctx, r)
	if err != nil {
		return nil, err
	}
	if _, ok := kafkaplane.RuntimeAs[kafkaplane.FaultInjector](s.Runtime); !ok {
		return nil, apierr.RuntimeUnsupported.Errorf("The broker runtime of instance %s cannot take a broker down on its own version.", inst.ID)
	}
	order, err := s.Runtime.RollOrder(ctx, inst.ID)
	if err != nil || len(order) == 0 {
		return nil, errors.Join(brokerError(inst, "", err), apierr.InstanceStatus.Errorf("The brokers of instance %s are not running.", inst.ID))
	}
	var detail []string
	if n := r.String("Name"); n != "" {
		detail = append(detail, n)
	}
	if d := r.String("Description"); d != "" {
		detail = append(detail, d)
	}
	op := kafkaplane.NewFailoverOperation(inst, order[0], strings.Join(detail, ": "), newOperationID(), s.now())
	if err := s.Operations.StartOperation(ctx, inst, op); err != nil {
		return nil, s.raced(ctx, r, err, "FailoverTest")
	}
	s.wake()
	return Object{}, nil
}

// observed returns what the instance's brokers saw of their clients.
func (s *Instances) observed(ctx context.Context, inst *kafkaplane.Instance) (kafkaplane.Observations, error) {
	obs, err := s.Runtime.Observed(ctx, inst.ID)
	if err != nil {
		return obs, brokerError(inst, "", err)
	}
	return obs, nil
}

// getKafkaClientIp lists the addresses the brokers saw between StartTime
// and EndTime: producers (Type producer) by the topic they wrote, or
// consumer group members (Type consumer) by group. Topic and Group narrow
// the list; Alert is set when the brokers' bounded memory of clients has
// dropped entries, so older clients may be missing.
func (s *Instances) getKafkaClientIP(ctx context.Context, r *Request) (Object, error) {
	start, end := int64Param(r, "StartTime"), int64Param(r, "EndTime")
	role, topic, group := r.String("Type"), r.String("Topic"), r.String("Group")
	switch {
	case end < start:
		return nil, apierr.Invalid("EndTime", "It must not be before StartTime.")
	case end-start > clientIPDays*dayMillis:
		return nil, apierr.Invalid("EndTime", "A window spans at most one day.")
	case start < s.now().UnixMilli()-clientIPLookbackDays*dayMillis:
		return nil, apierr.Invalid("StartTime", "A window starts at most 7 days back.")
	case role == kafkaplane.RoleProducer && group != "":
		return nil, apierr.Invalid("Group", "Producers belong to no group; Group applies to Type consumer.")
	}
	inst, err := s.serving(ctx, r)
	if err != nil {
		return nil, err
	}
	obs, err := s.observed(ctx, inst)
	if err != nil {
		return nil, err
	}
	type ipCount struct {
		ip  string
		num int64
	}
	var names []string
	byName := map[string][]ipCount{}
	for _, c := range obs.Clients {
		if c.Role != role || c.Last.UnixMilli() < start || c.First.UnixMilli() > end ||
			(topic != "" && c.Name != topic) || (group != "" && c.Group != group) {
			continue
		}
		name := c.Name
		if role == kafkaplane.RoleConsumer {
			name = c.Group
		}
		if _, ok := byName[name]; !ok {
			names = append(names, name)
		}
		list := byName[name]
		found := false
		for i := range list {
			if list[i].ip == c.IP {
				list[i].num += c.Count
				found = true
			}
		}
		if !found {
			list = append(list, ipCount{c.IP, c.Count})
		}
		byName[name] = list
	}
	items := make([]Object, 0, len(names))
	for _, n := range names {
		ips := make([]Object, 0, len(byName[n]))
		for _, ic := range byName[n] {
			ips = append(ips, Object{{"Ip", ic.ip}, {"Num", ic.num}})
		}
		items = append(items, Object{{"Name", n}, {"Data", Object{{"Data", ips}}}})
	}
	return Object{{"Data", Object{
		{"Alert", obs.Forgotten},
		{"StartDate", start},
		{"EndDate", end},
		{"TimeLimitDay", clientIPDays},
		{"SearchTimeRange", clientIPLookbackDays},
		{"Data", Object{{"Data", items}}},
	}}}, nil
}

const dayMillis = 24 * 60 * 60 * 1000

// listRebalanceInfo lists a group's rebalances the brokers saw, newest
// first.
func (s *Instances) listRebalanceInfo(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.serving(ctx, r)
	if err != nil {
		return nil, err
	}
	g, err := s.knownGroup(ctx, inst, r.String("ConsumerId"))
	if err != nil {
		return nil, err
	}
	vos, err := s.rebalanceVOs(ctx, inst, g.Name)
	if err != nil {
		return nil, err
	}
	return Object{{"Data", Object{{"RebalanceInfoList", vos}}}}, nil
}

// rebalanceVOs lists the rebalances of a group the brokers saw, newest
// first: the generation formed, when the round ended, how long it took
// from the first JoinGroup to the last answer, and why it began.
func (s *Instances) rebalanceVOs(ctx context.Context, inst *kafkaplane.Instance, group string) ([]Object, error) {
	obs, err := s.observed(ctx, inst)
	if err != nil {
		return nil, err
	}
	out := []Object{}
	for _, rb := range obs.Rebalances {
		if rb.Group != group {
			continue
		}
		out = append(out, Object{
			{"GroupId", rb.Group},
			{"Generation", rb.Generation},
			{"LastRebalanceTimestamp", rb.Finished.UnixMilli()},
			{"RebalanceTimeConsuming", rb.Finished.Sub(rb.Started).Milliseconds()},
			{"RebalanceSuccess", rb.Success},
			{"Reason", rb.Reason},
		})
	}
	return out, nil
}
