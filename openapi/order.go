package openapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// specOrder is one of the four specification-change actions: which
// instances it applies to (paidType: 1 pay-as-you-go, 0 subscription),
// which way sizes may move, and whether its answer carries the new order's
// OrderId (the subscription actions' models have one).
type specOrder struct {
	name      string
	ramAction string
	paidType  int
	shrink    bool
	orderID   bool
}

// specOrders is every specification change kafkaplane serves. They share
// parameters, checks and effect; only the table's columns differ.
var specOrders = []specOrder{
	// RAM actions: UpgradePostPayOrder's is published, the others follow
	// its pattern (docs/ram.md).
	{"UpgradePostPayOrder", "alikafka:UpgradePostPayOrder", 1, false, false},
	{"DowngradePostPayOrder", "alikafka:DowngradePostPayOrder", 1, true, false},
	{"UpgradePrePayOrder", "alikafka:UpgradePrePayOrder", 0, false, true},
	{"DowngradePrePayOrder", "alikafka:DowngradePrePayOrder", 0, true, true},
}

// unservedObjects are the object parameters of kinds of instance
// kafkaplane does not run (Serverless, Confluent). They come as JSON text
// from the newest SDK and as Name.Field from the legacy one; either form
// is refused, never dropped.
var unservedObjects = map[string]string{
	"ServerlessConfig": "Serverless instances are not served",
	"ConfluentConfig":  "Confluent instances are not served",
}

// refuseUnservedObjects refuses a flattened Name.Field form of an
// unservedObjects parameter; the JSON text form is refused by the
// parameter's declaration.
func refuseUnservedObjects(r *Request) error {
	for k := range r.Params {
		name, _, ok := strings.Cut(k, ".")
		if why, unserved := unservedObjects[name]; ok && unserved {
			return apierr.Invalid(name, "kafkaplane does not support it: "+why+".")
		}
	}
	return nil
}

// onlyPaidType accepts only PaidType n of an action whose model allows
// others for instance kinds kafkaplane does not run.
func onlyPaidType(n, why string) func(string) string {
	return func(v string) string {
		if v != n {
			return "kafkaplane does not support it: only " + n + " is served; " + why + "."
		}
		return ""
	}
}

// specParams are the parameters of a specification change.
func specParams(o specOrder) []Param {
	ps := []Param{
		{Name: "InstanceId", Required: true, MaxLen: maxIDLen},
		{Name: "DiskSize", Kind: Integer, Min: minDiskSize, Max: maxDiskSize},
		{Name: "IoMax", Kind: Integer, Min: minIoMax, Max: maxIoMax},
		{Name: "IoMaxSpec", MaxLen: maxIDLen},
		{Name: "SpecType", Enum: []string{"normal", "professional", "professionalForHighRead"}},
		{Name: "EipModel", Kind: Boolean},
		{Name: "EipMax", Kind: Integer, Min: 0, Max: maxIoMax},
		{Name: "PartitionNum", Kind: Integer, Min: 0, Max: maxPartitionQuota},
		{Name: "TopicQuota", Kind: Integer, Min: minTopicQuota, Max: maxTopicQuota},
	}
	if o.paidType == 1 {
		return append(ps, Param{Name: "ServerlessConfig", Validate: notServed(unservedObjects["ServerlessConfig"])})
	}
	return append(ps,
		Param{Name: "ConfluentConfig", MaxLen: 4096, Validate: notServed(unservedObjects["ConfluentConfig"])},
		Param{Name: "PaidType", Kind: Integer, Min: 0, Max: 4, Validate: onlyPaidType("0", "Confluent instances (4) are not served")},
	)
}

// registerOrders adds the specification changes, the conversion to
// subscription and the Create*Instance purchases.
func (s *Instances) registerOrders(g *Registry) {
	// The order actions' QPS is 2, as alikafka publishes for the orders it
	// has figures for (docs/quotas.md).
	for _, o := range specOrders {
		g.Add(kafkaAction(Action{
			Name: o.name, RAMAction: o.ramAction, Resource: instanceARN, QPS: 2,
			Params: specParams(o), Handler: s.changeSpec(o),
		}))
	}
	g.Add(kafkaAction(Action{
		Name: "ConvertPostPayOrder", RAMAction: "alikafka:ConvertPostPayOrder", Resource: instanceARN, QPS: 2,
		Params: []Param{
			{Name: "InstanceId", Required: true, MaxLen: maxIDLen},
			{Name: "Duration", Kind: Integer, Min: 1, Max: maxDurationMonths},
			{Name: "PaidType", Kind: Integer, Min: 0, Max: 4, Validate: onlyPaidType("0", "an instance converts to subscription (0)")},
		},
		Handler: s.convertPostPayOrder,
	}))

	// The Create*Instance actions buy an instance as Create*Order does and
	// answer with its id as well.
	buyParams := func(paidType int) []Param {
		ps := []Param{
			{Name: "DeployType", Kind: Integer, Required: paidType == 1, Min: 4, Max: 5},
			{Name: "DiskSize", Kind: Integer, Min: minDiskSize, Max: maxDiskSize},
			{Name: "DiskType", Enum: []string{"0", "1"}},
			{Name: "IoMaxSpec", MaxLen: maxIDLen},
			{Name: "EipMax", Kind: Integer, Min: 0, Max: maxIoMax},
			{Name: "SpecType", Enum: []string{"normal", "professional", "professionalForHighRead"}},
			{Name: "PartitionNum", Kind: Integer, Min: 0, Max: maxPartitionQuota},
			{Name: "ResourceGroupId", MaxLen: maxIDLen},
			{Name: "Tag", Kind: TagList},
		}
		if paidType == 1 {
			return append(ps,
				Param{Name: "PaidType", Kind: Integer, Min: 0, Max: 4, Validate: onlyPaidType("1", "Serverless instances (3) are not served")},
				Param{Name: "ServerlessConfig", Validate: notServed(unservedObjects["ServerlessConfig"])})
		}
		return append(ps,
			Param{Name: "Duration", Kind: Integer, Min: 1, Max: maxDurationMonths},
			Param{Name: "PaidType", Kind: Integer, Min: 0, Max: 4, Validate: onlyPaidType("0", "Confluent instances (4) are not served")},
			Param{Name: "ConfluentConfig", MaxLen: 4096, Validate: notServed(unservedObjects["ConfluentConfig"])})
	}
	g.Add(kafkaAction(Action{
		Name: "CreatePostPayInstance", RAMAction: "alikafka:CreatePostPayOrder", Resource: accountARN, QPS: 2,
		Params: buyParams(1), Handler: s.createInstance(1),
	}))
	g.Add(kafkaAction(Action{
		Name: "CreatePrePayInstance", RAMAction: "alikafka:CreatePrePayOrder", Resource: accountARN, QPS: 2,
		Params: buyParams(0), Handler: s.createInstance(0),
	}))
}

// Defaults of the Create*Instance parameters that their models leave
// optional but an order needs: the smallest disk, cloud SSD, VPC only.
var createInstanceDefaults = map[string]string{"DiskSize": "500", "DiskType": "1", "DeployType": "5", "IoMaxSpec": "alikafka.hw.2xlarge"}

// createInstance buys an instance and answers Data.InstanceId and
// Data.OrderId (a number in both models).
func (s *Instances) createInstance(paidType int) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		if err := refuseUnservedObjects(r); err != nil {
			return nil, err
		}
		for k, v := range createInstanceDefaults {
			if !r.Has(k) {
				r.Params.Set(k, v)
			}
		}
		inst, err := s.buy(ctx, r, paidType)
		if err != nil {
			return nil, err
		}
		return Object{{"Data", Object{{"InstanceId", inst.ID}, {"OrderId", orderNumber(inst.OrderID)}}}}, nil
	}
}

// orderNumber is an order id as a number, the type the Create*Instance
// models give it; order ids are 15 digits, well inside int64.
func orderNumber(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// changeSpec changes a running instance's specification: disk size, I/O
// and EIP bandwidth, the bought partitions and topics, the I/O and
// edition specs, and (EipModel) whether it is reachable from the internet
// (DeployType 4) or from its VPC only (5). An upgrade may only grow sizes
// and a downgrade only shrink them, never below what the instance holds
// (its topics and consumer groups); a PartitionNum or TopicQuota of 0
// keeps the current value, as Terraform sends 0 for an unset
// partition_num.
//
// Acceptance is one transaction: the instance goes Changing
// (ServiceStatus 11, ViewInstanceStatusCode 7) with the new specification
// pending, and a CHANGE_SPECIFICATION operation is written; the worker
// checks the brokers and then writes the specification and brings the
// instance back to Running (5), which is what Terraform waits for. A
// request that changes nothing answers at once.
func (s *Instances) changeSpec(o specOrder) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		if err := refuseUnservedObjects(r); err != nil {
			return nil, err
		}
		inst, err := s.find(ctx, r)
		if err != nil {
			return nil, err
		}
		if inst.PaidType != o.paidType {
			kind := map[int]string{0: "a subscription", 1: "a pay-as-you-go"}
			return nil, apierr.InstanceStatus.Errorf("The instance %s is %s instance; %s changes %s instances.", inst.ID, kind[inst.PaidType], o.name, strings.TrimPrefix(kind[o.paidType], "a "))
		}
		if _, ok := kafkaplane.Next(inst.State(), kafkaplane.EventChangeSpec); !ok {
			return nil, statusError(inst, o.name)
		}
		target := *inst
		if err := s.applySpec(ctx, r, o, &target); err != nil {
			return nil, err
		}
		var answer Object
		if o.orderID {
			answer = Object{{"OrderId", randomDigits(15)}}
		} else {
			answer = Object{}
		}
		spec := target.Specification()
		if spec == inst.Specification() {
			return answer, nil
		}
		if err := inst.Apply(kafkaplane.EventChangeSpec); err != nil {
			return nil, err
		}
		inst.Deployment.PendingSpec = &spec
		op := kafkaplane.NewSpecOperation(inst, newOperationID(), s.now())
		if err := s.Operations.StartOperation(ctx, inst, op); err != nil {
			return nil, s.raced(ctx, r, err, o.name)
		}
		s.wake()
		return answer, nil
	}
}

// applySpec writes the request's sizes and specs into inst, or says why
// it cannot.
func (s *Instances) applySpec(ctx context.Context, r *Request, o specOrder, inst *kafkaplane.Instance) error {
	way := "grow"
	if o.shrink {
		way = "shrink"
	}
	for _, f := range []struct {
		name      string
		cur       *int
		zeroKeeps bool
	}{
		{"DiskSize", &inst.DiskSize, false},
		{"IoMax", &inst.IoMax, false},
		{"EipMax", &inst.EipMax, false},
		{"PartitionNum", &inst.PartitionNum, true},
		{"TopicQuota", &inst.TopicQuota, true},
	} {
		if !r.Has(f.name) {
			continue
		}
		n := r.Int(f.name, 0)
		if n == 0 && f.zeroKeeps {
			continue
		}
		if (!o.shrink && n < *f.cur) || (o.shrink && n > *f.cur) {
			return apierr.Invalid(f.name, fmt.Sprintf("It may only %s: the instance has %d.", way, *f.cur))
		}
		*f.cur = n
	}
	if o.shrink {
		q, err := s.quotaOf(ctx, inst)
		if err != nil {
			return err
		}
		if inst.TopicQuota > 0 && q.topicUsed > topicLimit(inst) {
			return apierr.Invalid("TopicQuota", fmt.Sprintf("The instance holds %d topics, more than %d.", q.topicUsed, topicLimit(inst)))
		}
		if inst.TopicQuota > 0 && q.groupUsed > groupLimit(inst) {
			return apierr.Invalid("TopicQuota", fmt.Sprintf("The instance holds %d consumer groups, more than the %d it would allow.", q.groupUsed, groupLimit(inst)))
		}
	}
	if v := r.String("IoMaxSpec"); v != "" {
		inst.IoMaxSpec = v
	}
	if v := r.String("SpecType"); v != "" {
		inst.SpecType = v
	}
	if r.Has("EipModel") {
		inst.DeployType = 5
		if r.Bool("EipModel", false) {
			inst.DeployType = 4
		}
	}
	return nil
}

// convertPostPayOrder turns a pay-as-you-go instance into a subscription
// one (PaidType 0) for Duration months (1 when left out), with a new
// order; its id stays as it is, as alikafka's does.
func (s *Instances) convertPostPayOrder(ctx context.Context, r *Request) (Object, error) {
	orderID := randomDigits(15)
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.PaidType != 1 {
			return apierr.InstanceStatus.Errorf("The instance %s is a subscription instance already.", inst.ID)
		}
		if !slices.Contains([]kafkaplane.InstanceState{kafkaplane.StateRunning, kafkaplane.StateUpgradeFailed, kafkaplane.StatePending}, inst.State()) {
			return statusError(inst, "ConvertPostPayOrder")
		}
		inst.PaidType = 0
		inst.OrderID = orderID
		inst.ExpiredTime = s.now().AddDate(0, r.Int("Duration", 1), 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return Object{{"OrderId", orderID}}, nil
}
