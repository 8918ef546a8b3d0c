package openapi

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// PortAllocator hands out the loopback ports of a new instance's brokers.
type PortAllocator interface {
	// Allocate returns n ports that no other instance holds.
	Allocate(ctx context.Context, n int) ([]int, error)
}

// Instances is what the instance actions need.
type Instances struct {
	Store      kafkaplane.InstanceService
	Operations kafkaplane.OperationService
	Catalogue  *kafkaplane.VersionCatalogue
	Runtime    kafkaplane.Runtime
	Ports      PortAllocator
	// Topics keeps the topics and consumer groups made through the API;
	// without it the topic actions are not offered.
	Topics kafkaplane.TopicService
	// Security keeps SASL users, ACLs and allowlists; the security
	// actions need it.
	Security kafkaplane.SecurityService
	// SaslCredentials derives the salted credentials the brokers verify a
	// new SASL user's logins with (jobs.SaslCredentials); the security
	// actions need it.
	SaslCredentials func(username, password, mechanism string) (string, error)
	// DefaultAllowedIP is the entry the VPC allowlists of a new instance
	// start with, standing in for alikafka's vSwitch CIDR block
	// (127.0.0.1/32 when empty; docs/dataplane.md).
	DefaultAllowedIP string
	// Wake tells the operations worker that new work is waiting, and
	// WakeScaling the scaling scheduler that a rule changed.
	Wake        func()
	WakeScaling func()
	// AdvertisedHost is the host clients reach the brokers on, and
	// DomainHost the name shown in DomainEndpoint.
	AdvertisedHost string
	DomainHost     string
	// Brokers is the number of brokers per instance (3).
	Brokers int
	Now     func() time.Time
	// MaxInstancesPerAccount caps the live instances of an account across
	// regions; 0 means no cap (docs/limits.md).
	MaxInstancesPerAccount int

	applying sync.Map // instance id → *sync.Mutex serialising ApplyConfig
}

// Register adds the instance actions to g.
func (s *Instances) Register(g *Registry) {
	// Lengths and ranges: docs/limits.md.
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	orderParams := []Param{
		{Name: "DeployType", Kind: Integer, Required: true, Min: 4, Max: 5},
		{Name: "DiskSize", Kind: Integer, Required: true, Min: minDiskSize, Max: maxDiskSize},
		{Name: "DiskType", Required: true, Enum: []string{"0", "1"}},
		{Name: "IoMax", Kind: Integer, Min: minIoMax, Max: maxIoMax},
		{Name: "IoMaxSpec", MaxLen: maxIDLen},
		{Name: "EipMax", Kind: Integer, Min: 0, Max: maxIoMax},
		{Name: "SpecType", Enum: []string{"normal", "professional", "professionalForHighRead"}},
		{Name: "PartitionNum", Kind: Integer, Min: 0, Max: maxPartitionQuota},
		{Name: "TopicQuota", Kind: Integer, Min: minTopicQuota, Max: maxTopicQuota},
		{Name: "PaidType", Kind: Integer, Min: 0, Max: 3},
		{Name: "ResourceGroupId", MaxLen: maxIDLen},
		{Name: "Tag", Kind: TagList},
	}
	g.Add(kafkaAction(Action{
		Name: "CreatePostPayOrder", RAMAction: "alikafka:CreatePostPayOrder", Resource: accountARN, QPS: 2,
		Params:  orderParams,
		Handler: s.createOrder(1),
	}))
	g.Add(kafkaAction(Action{
		Name: "CreatePrePayOrder", RAMAction: "alikafka:CreatePrePayOrder", Resource: accountARN, QPS: 2,
		Params:  append(slices.Clone(orderParams), Param{Name: "Duration", Kind: Integer, Min: 1, Max: maxDurationMonths}),
		Handler: s.createOrder(0),
	}))
	g.Add(kafkaAction(Action{
		Name: "StartInstance", RAMAction: "alikafka:StartInstance", Resource: instanceARN, QPS: 2,
		Params: []Param{
			instanceID,
			{Name: "VpcId", Required: true, MaxLen: maxIDLen},
			// VSwitchId or VSwitchIds.N: Terraform sends VSwitchId even when
			// empty, with the vSwitches in VSwitchIds.
			{Name: "VSwitchId", MaxLen: maxIDLen},
			{Name: "VSwitchIds", Kind: RepeatList, MaxLen: maxIDLen},
			{Name: "ZoneId", MaxLen: maxIDLen},
			{Name: "Name", Validate: validName},
			{Name: "ServiceVersion", Validate: s.knownVersion},
			{Name: "Config", Kind: JSON, MaxLen: maxConfigLen},
			{Name: "SecurityGroup", MaxLen: maxIDLen},
			{Name: "DeployModule", Enum: []string{"vpc", "eip"}},
			{Name: "IsEipInner", Kind: Boolean},
			{Name: "CrossZone", Kind: Boolean},
			{Name: "IsForceSelectedZones", Kind: Boolean},
			{Name: "KMSKeyId"},
			{Name: "SelectedZones", MaxLen: 1024, Validate: validSelectedZones},
			// IsSetUserAndPassword creates the instance's first SASL user
			// (plain) from Username and Password. Notifications are not
			// served: those are refused rather than dropped.
			{Name: "IsSetUserAndPassword", Kind: Boolean},
			{Name: "Username", MaxLen: maxSaslNameLen, Validate: validSaslName},
			{Name: "Password", MaxLen: maxSaslPasswordLen},
			{Name: "Notifier", Validate: notServed("notifications are not served")},
			{Name: "UserPhoneNum", Validate: notServed("notifications are not served")},
		},
		Handler: s.startInstance,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetInstanceList", RAMAction: "alikafka:ListInstance", Resource: accountARN, QPS: 100,
		Params: []Param{
			{Name: "InstanceId", Kind: RepeatList, MaxLen: maxIDLen},
			{Name: "OrderId", MaxLen: maxIDLen},
			{Name: "ResourceGroupId", MaxLen: maxIDLen},
			{Name: "Tag", Kind: TagList},
			{Name: "Series", Enum: []string{"v2", "v3", "confluent"}},
		},
		Handler: s.getInstanceList,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetAllInstanceIdList", RAMAction: "alikafka:ListInstance", Resource: accountARN, QPS: 100,
		Handler: s.getAllInstanceIDList,
	}))
	g.Add(kafkaAction(Action{
		Name: "ModifyInstanceName", RAMAction: "alikafka:UpdateInstance", Resource: instanceARN, QPS: 40,
		Params:  []Param{instanceID, {Name: "InstanceName", Required: true, Validate: validName}},
		Handler: s.modifyInstanceName,
	}))
	g.Add(kafkaAction(Action{
		Name: "StopInstance", RAMAction: "alikafka:ReleaseInstance", Resource: instanceARN, QPS: 20,
		Params:  []Param{instanceID},
		Handler: s.stopInstance,
	}))
	g.Add(kafkaAction(Action{
		Name: "ReopenInstance", RAMAction: "alikafka:UpdateInstanceReopen", Resource: instanceARN, QPS: 20,
		Params:  []Param{instanceID},
		Handler: s.reopenInstance,
	}))
	g.Add(kafkaAction(Action{
		Name: "ReleaseInstance", RAMAction: "alikafka:ReleaseInstance", Resource: instanceARN, QPS: 2,
		Params:  []Param{instanceID, {Name: "ReleaseIgnoreTime", Kind: Boolean}, {Name: "ForceDeleteInstance", Kind: Boolean}},
		Handler: s.releaseInstance,
	}))
	g.Add(kafkaAction(Action{
		Name: "DeleteInstance", RAMAction: "alikafka:ReleaseInstance", Resource: instanceARN, QPS: 20,
		Params:  []Param{instanceID},
		Handler: s.deleteInstance,
	}))
	g.Add(kafkaAction(Action{
		Name: "UpdateInstanceConfig", RAMAction: "alikafka:UpdateInstance", Resource: instanceARN, QPS: 2,
		Params:  []Param{instanceID, {Name: "Config", Kind: JSON, Required: true, MaxLen: maxConfigLen}},
		Handler: s.updateInstanceConfig,
	}))
	g.Add(kafkaAction(Action{
		Name: "UpgradeInstanceVersion", RAMAction: "alikafka:UpdateInstance", Resource: instanceARN, QPS: 2,
		Params:  []Param{instanceID, {Name: "TargetVersion", Required: true, MaxLen: maxIDLen}},
		Handler: s.upgradeInstanceVersion,
	}))

	// kafkaplane's extensions: read-only views of an instance's operations
	// and upgrade targets, governed by alikafka:ListInstance.
	g.Add(kafkaAction(Action{
		Name: "ListInstanceOperations", RAMAction: "alikafka:ListInstance", Resource: instanceARN, QPS: 100, Extension: true,
		Params:  []Param{instanceID},
		Handler: s.listInstanceOperations,
	}))
	g.Add(kafkaAction(Action{
		Name: "DescribeInstanceOperation", RAMAction: "alikafka:ListInstance", Resource: instanceARN, QPS: 100, Extension: true,
		Params: []Param{{Name: "OperationId", Required: true, MaxLen: maxIDLen}},
		// The instance is the operation's.
		Derive:  map[string]func(context.Context, *Request) (string, error){"InstanceId": s.operationInstance},
		Handler: s.describeInstanceOperation,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetUpgradableVersions", RAMAction: "alikafka:ListInstance", Resource: instanceARN, QPS: 100, Extension: true,
		Params:  []Param{instanceID},
		Handler: s.getUpgradableVersions,
	}))

	s.registerAutoCreate(g)
	// GetQuotaTip: 80/s is the lower of the two figures alikafka has
	// published (docs/quotas.md).
	g.Add(kafkaAction(Action{
		Name: "GetQuotaTip", RAMAction: "alikafka:ListTopic", Resource: instanceARN, QPS: 80,
		Params:  []Param{instanceID},
		Handler: s.getQuotaTip,
	}))
	s.registerTags(g)
	s.registerTopics(g)
	s.registerResourceGroup(g)
	s.registerScaling(g)
	s.registerOrders(g)
	s.registerTopicData(g)
	s.registerGroupData(g)
	s.registerObservations(g)
	s.registerSecurity(g)
}

// Limits of the instance actions' parameters; docs/limits.md gives their
// sources. maxIDLen caps identifiers (instance, VPC, zone, order ids), which
// are far shorter in practice.
const (
	maxIDLen          = 128
	maxConfigLen      = 4096
	minDiskSize       = 500
	maxDiskSize       = 96000
	minIoMax          = 20
	maxIoMax          = 3000
	maxPartitionQuota = 20000
	minTopicQuota     = 50
	maxTopicQuota     = 3000
	defaultTopicQuota = 50
	maxDurationMonths = 36
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{3,64}$`)

// validName applies alikafka's instance-name rule: 3–64 letters, digits,
// underscores or hyphens.
func validName(v string) string {
	if !nameRE.MatchString(v) {
		return "It must be 3 to 64 characters of letters, digits, underscores and hyphens."
	}
	return ""
}

func (s *Instances) knownVersion(v string) string {
	if _, ok := s.Catalogue.Lookup(v); !ok {
		var vs []string
		for _, o := range s.Catalogue.Versions {
			vs = append(vs, o.Version)
		}
		return "Valid values: " + strings.Join(vs, ", ") + "."
	}
	return ""
}

func (s *Instances) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// find loads an instance of the caller's account in the request's region.
func (s *Instances) find(ctx context.Context, r *Request) (*kafkaplane.Instance, error) {
	inst, err := s.Store.FindInstance(ctx, r.Caller.AccountID, r.RegionID, r.String("InstanceId"))
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeInstanceNotFound {
		return nil, apierr.InstanceNotFound.Errorf("The instance %s does not exist in region %s.", r.String("InstanceId"), r.RegionID)
	}
	return inst, err
}

func statusError(inst *kafkaplane.Instance, action string) error {
	return apierr.InstanceStatus.Errorf("The instance %s is in status %d (%s) and cannot be the target of %s now.",
		inst.ID, inst.ServiceStatus, inst.State().Phrase(), action)
}

func (s *Instances) wake() {
	if s.Wake != nil {
		s.Wake()
	}
}

// raced turns a lost compare-and-set into the status error the caller
// would have seen had it arrived a moment later.
func (s *Instances) raced(ctx context.Context, r *Request, err error, action string) error {
	if kafkaplane.ErrorCode(err) != kafkaplane.CodeConflict {
		return err
	}
	if inst, ferr := s.find(ctx, r); ferr == nil {
		return statusError(inst, action)
	}
	return err
}

// change applies fn to the stored instance and writes it with
// compare-and-set, reading again when a concurrent writer won. fn checks
// its preconditions on every read, so the caller gets what it would have
// got arriving a moment later, never a spurious conflict.
func (s *Instances) change(ctx context.Context, r *Request, fn func(*kafkaplane.Instance) error) (*kafkaplane.Instance, error) {
	for attempt := 0; ; attempt++ {
		inst, err := s.find(ctx, r)
		if err != nil {
			return nil, err
		}
		if err := fn(inst); err != nil {
			return nil, err
		}
		err = s.Store.UpdateInstance(ctx, inst)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeConflict && attempt < 20 {
			continue
		}
		return inst, err
	}
}
