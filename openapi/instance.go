package openapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"regexp"
	"slices"
	"strconv"
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

// notServed refuses any value of a parameter of a feature kafkaplane does
// not have, so that a caller is never told a setting took effect when it
// did not.
func notServed(why string) func(string) string {
	return func(string) string { return "kafkaplane does not support it: " + why + "." }
}

// selectedZones parses StartInstance's SelectedZones: a JSON list of zone
// lists, the primary zones first, e.g. [["zonea"],["zoneb"]].
func selectedZones(v string) ([][]string, error) {
	var zones [][]string
	if err := json.Unmarshal([]byte(v), &zones); err != nil {
		return nil, err
	}
	return zones, nil
}

func validSelectedZones(v string) string {
	zones, err := selectedZones(v)
	if err != nil || len(zones) == 0 {
		return `It must be a JSON list of zone lists, e.g. [["zonea"],["zoneb"]].`
	}
	return ""
}

// defaultZone is the zone of an instance started without ZoneId and
// without SelectedZones. alikafka takes the zone of the vSwitch from its
// VPC service; kafkaplane has no VPC service, so it takes the region's
// first zone.
const defaultZone = "zonea"

// startZone is the ZoneId StartInstance records: the one sent, else the
// first primary zone of SelectedZones, else defaultZone.
func startZone(r *Request) string {
	if z := r.String("ZoneId"); z != "" {
		return z
	}
	if zones, err := selectedZones(r.String("SelectedZones")); err == nil && len(zones) > 0 && len(zones[0]) > 0 {
		return zones[0][0]
	}
	return defaultZone
}

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

// randomID returns n characters of lower-case letters and digits, the
// alphabet of alikafka instance ids.
func randomID(n int) string { return randomString("abcdefghijklmnopqrstuvwxyz0123456789", n) }

// randomDigits returns an n-digit number without a leading zero, the shape
// of alikafka order ids.
func randomDigits(n int) string {
	return randomString("123456789", 1) + randomString("0123456789", n-1)
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		x, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// createOrder buys an instance: it waits in ServiceStatus 0 until
// StartInstance deploys it. paidType 1 is pay-as-you-go, 0 subscription.
func (s *Instances) createOrder(paidType int) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		inst, err := s.buy(ctx, r, paidType)
		if err != nil {
			return nil, err
		}
		return Object{{"OrderId", inst.OrderID}}, nil
	}
}

// buy stores the instance an order or Create*Instance request buys.
func (s *Instances) buy(ctx context.Context, r *Request, paidType int) (*kafkaplane.Instance, error) {
	if !r.Has("IoMax") && !r.Has("IoMaxSpec") {
		return nil, apierr.Missing("IoMaxSpec")
	}
	tags, _ := r.TagsOf("Tag")
	prefix := "alikafka_post-"
	if paidType == 0 {
		prefix = "alikafka_pre-"
	}
	now := s.now()
	inst := &kafkaplane.Instance{
		ID:              prefix + regionPrefix(r.RegionID) + "-" + randomID(12),
		AccountID:       r.Caller.AccountID,
		RegionID:        r.RegionID,
		OrderID:         randomDigits(15),
		PaidType:        paidType,
		SpecType:        r.String("SpecType"),
		DeployType:      r.Int("DeployType", 5),
		DiskType:        r.Int("DiskType", 0),
		DiskSize:        r.Int("DiskSize", 0),
		IoMax:           r.Int("IoMax", 0),
		IoMaxSpec:       r.String("IoMaxSpec"),
		EipMax:          r.Int("EipMax", 0),
		TopicQuota:      r.Int("TopicQuota", defaultTopicQuota),
		PartitionNum:    r.Int("PartitionNum", 0),
		ResourceGroupID: r.String("ResourceGroupId"),
		Tags:            tags,
		Config:          map[string]string{},
		CreateTime:      now,
	}
	if inst.SpecType == "" {
		inst.SpecType = "normal"
	}
	if inst.IoMaxSpec == "" {
		inst.IoMaxSpec = "alikafka.hw.2xlarge"
	}
	if paidType == 0 {
		inst.ExpiredTime = now.AddDate(0, r.Int("Duration", 1), 0)
	} else {
		// Pay-as-you-go instances do not expire; alikafka shows a date
		// far in the future.
		inst.ExpiredTime = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	if err := s.Store.CreateInstance(ctx, inst, s.MaxInstancesPerAccount); err != nil {
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded {
			return nil, apierr.InstanceQuotaExceeded.Errorf("The account already holds %d instances, the most allowed; delete one first.", s.MaxInstancesPerAccount)
		}
		return nil, err
	}
	return inst, nil
}

// regionPrefix is the region part of an instance id: alikafka ids read
// alikafka_post-cn-… for Chinese mainland regions and use the region's
// first segment elsewhere.
func regionPrefix(region string) string {
	p, _, _ := strings.Cut(region, "-")
	return p
}

// startInstance deploys a bought instance: 0 → 1 (deploying) now, 5 when
// the START operation has brought its brokers up.
func (s *Instances) startInstance(ctx context.Context, r *Request) (Object, error) {
	if !r.Has("VSwitchId") && len(r.List("VSwitchIds")) == 0 {
		return nil, apierr.Missing("VSwitchId")
	}
	initialUser, err := startUser(r)
	if err != nil {
		return nil, err
	}
	if initialUser != nil && (s.Security == nil || s.SaslCredentials == nil) {
		return nil, apierr.SecurityUnsupported.Errorf("This server keeps no SASL users.")
	}
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := inst.Apply(kafkaplane.EventStart); err != nil {
		return nil, err
	}
	cfg := map[string]string{}
	if c := r.String("Config"); c != "" {
		if cfg, err = parseConfig(c); err != nil {
			return nil, err
		}
	}
	version := r.String("ServiceVersion")
	if version == "" {
		version = s.Catalogue.Default
	}
	// Every instance gets SASL_PLAINTEXT ports, bound from the start so
	// that enable.acl never has to find free ports; internet instances
	// (DeployType 4) also get SASL_SSL ports.
	listeners := 2
	if inst.DeployType == 4 {
		listeners = 3
	}
	ports, err := s.Ports.Allocate(ctx, s.Brokers*listeners)
	if err != nil {
		return nil, err
	}
	ports, inst.SaslPorts, inst.SslPorts = ports[:s.Brokers], ports[s.Brokers:2*s.Brokers], ports[2*s.Brokers:]
	if len(inst.SslPorts) == 0 {
		inst.SslPorts = nil
	}
	inst.VpcID, inst.VSwitchID, inst.ZoneID = r.String("VpcId"), r.String("VSwitchId"), startZone(r)
	inst.SecurityGroup = r.String("SecurityGroup")
	inst.Deployment = kafkaplane.Deployment{
		VSwitchIDs:           r.List("VSwitchIds"),
		SelectedZones:        r.String("SelectedZones"),
		CrossZone:            r.Bool("CrossZone", false),
		IsForceSelectedZones: r.Bool("IsForceSelectedZones", false),
		KMSKeyID:             r.String("KMSKeyId"),
		DeployModule:         r.String("DeployModule"),
		IsEipInner:           r.Bool("IsEipInner", false),
	}
	if inst.VSwitchID == "" {
		inst.VSwitchID = inst.Deployment.VSwitchIDs[0]
	}
	if n := r.String("Name"); n != "" {
		inst.Name = n
	} else {
		inst.Name = inst.ID
	}
	inst.Version, inst.MinorVersion = version, s.Catalogue.LatestMinor(version)
	inst.Config = withDefaults(cfg)
	inst.BrokerPorts = ports
	// The allowlists and the first user are stored before the operation
	// that starts the brokers, which read them when they start.
	if err := s.seedAllowlists(ctx, inst); err != nil {
		return nil, err
	}
	if initialUser != nil {
		u, err := s.newSaslUser(inst.ID, initialUser[0], initialUser[1], "plain", "")
		if err != nil {
			return nil, err
		}
		u.CreateTime = s.now()
		if err := s.Security.PutSaslUser(ctx, u, maxSaslUsers); err != nil {
			return nil, err
		}
	}
	op := kafkaplane.NewStartOperation(inst, newOperationID(), s.now())
	if err := s.Operations.StartOperation(ctx, inst, op); err != nil {
		return nil, s.raced(ctx, r, err, "StartInstance")
	}
	s.wake()
	return Object{}, nil
}

// startUser reads StartInstance's first SASL user: with
// IsSetUserAndPassword=true, Username and Password are required; without
// it they are refused rather than dropped.
func startUser(r *Request) (*[2]string, error) {
	if !r.Bool("IsSetUserAndPassword", false) {
		for _, name := range []string{"Username", "Password"} {
			if r.Has(name) {
				return nil, apierr.Invalid(name, "It applies only with IsSetUserAndPassword=true.")
			}
		}
		return nil, nil
	}
	for _, name := range []string{"Username", "Password"} {
		if r.String(name) == "" {
			return nil, apierr.Missing(name)
		}
	}
	return &[2]string{r.String("Username"), r.String("Password")}, nil
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

func newOperationID() string { return "op-" + randomID(20) }

// configRules are the AllConfig keys an instance accepts and their ranges
// (alikafka's UpdateInstanceConfig documentation).
var configRules = map[string]func(string) error{
	"kafka.log.retention.hours":       intRange(24, 480),
	"kafka.message.max.bytes":         intRange(1048576, 10485760),
	"kafka.offsets.retention.minutes": intRange(1440, 43200),
	"enable.vpc_sasl_ssl":             boolValue,
	"enable.acl":                      boolValue,
	"enable.compact":                  boolValue,
	"enable.tiered":                   boolValue,
	"auto.create.topics.enable":       boolValue,
	"num.partitions":                  intRange(1, 360),
}

func intRange(lo, hi int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be an integer from %d to %d", lo, hi)
		}
		return nil
	}
}

func boolValue(v string) error {
	if v != "true" && v != "false" {
		return errors.New("must be true or false")
	}
	return nil
}

// parseConfig reads a Config JSON object whose values may be strings,
// numbers or booleans, and checks every key against configRules.
func parseConfig(doc string) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, apierr.Invalid("Config", "It must be a JSON object.")
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		var v string
		switch x := raw[k].(type) {
		case string:
			v = x
		case bool:
			v = strconv.FormatBool(x)
		case float64:
			v = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return nil, apierr.Invalid("Config", fmt.Sprintf("The value of %s must be a string, number or boolean.", k))
		}
		rule, ok := configRules[k]
		if !ok {
			return nil, apierr.Invalid("Config", fmt.Sprintf("%s is not a configurable key.", k))
		}
		if err := rule(v); err != nil {
			return nil, apierr.Invalid("Config", fmt.Sprintf("%s %v.", k, err))
		}
		out[k] = v
	}
	return out, nil
}

// withDefaults fills the keys alikafka always reports in AllConfig.
func withDefaults(c map[string]string) map[string]string {
	out := map[string]string{
		"enable.vpc_sasl_ssl":       "false",
		"kafka.log.retention.hours": "72",
		"enable.acl":                "false",
		"kafka.message.max.bytes":   "1048576",
	}
	maps.Copy(out, c)
	return out
}

func (s *Instances) endpoints(inst *kafkaplane.Instance, host string) string {
	if len(inst.BrokerPorts) == 0 || inst.ServiceStatus == kafkaplane.ServiceStatusPending {
		return ""
	}
	// A runtime that reports its own endpoints (Strimzi's listener
	// status) is the source for both EndPoint and DomainEndpoint.
	if er, ok := kafkaplane.RuntimeAs[kafkaplane.EndpointReporter](s.Runtime); ok {
		bs, _ := er.Endpoint(inst.ID)
		return bs
	}
	return listenerEndpoints(inst, inst.BrokerPorts, host)
}

// listenerEndpoints is the endpoint string of one listener's ports:
// host:port of every broker, comma-separated; empty before the instance is
// deployed.
func listenerEndpoints(inst *kafkaplane.Instance, ports []int, host string) string {
	if len(ports) == 0 || inst.ServiceStatus == kafkaplane.ServiceStatusPending {
		return ""
	}
	addrs := make([]string, len(ports))
	for i, p := range ports {
		addrs[i] = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return strings.Join(addrs, ",")
}

// instanceVO renders an instance as GetInstanceList's InstanceVO, with the
// use figures of q (GetQuotaTip's).
func (s *Instances) instanceVO(inst *kafkaplane.Instance, q quota) Object {
	cfg, _ := json.Marshal(inst.Config)
	if len(inst.Config) == 0 {
		cfg = []byte("{}")
	}
	// Current SDKs read UpgradeServiceDetailInfo.Current2OpenSourceVersion,
	// older ones UpgradeServiceDetailInfo.UpgradeServiceDetailInfoVO[]; the
	// legacy Go SDK accepts an object with both (docs/wire.md, Response shapes
	// the SDKs decode).
	upgrade := Object{
		{"Current2OpenSourceVersion", inst.Version},
		{"UpgradeServiceDetailInfoVO", []Object{{{"Current2OpenSourceVersion", inst.Version}}}},
	}
	retain, _ := strconv.Atoi(inst.Config["kafka.log.retention.hours"])
	expired := int64(0)
	if !inst.ExpiredTime.IsZero() {
		expired = inst.ExpiredTime.UnixMilli()
	}
	vo := Object{
		{"InstanceId", inst.ID},
		{"Name", inst.Name},
		{"RegionId", inst.RegionID},
		{"ZoneId", inst.ZoneID},
		{"StandardZoneId", standardZone(inst)},
		{"VpcId", inst.VpcID},
		{"VSwitchId", inst.VSwitchID},
		{"SecurityGroup", inst.SecurityGroup},
		{"ServiceStatus", int(inst.ServiceStatus)},
		{"ViewInstanceStatusCode", int(inst.ViewStatus)},
		{"DeployType", inst.DeployType},
		{"SpecType", inst.SpecType},
		{"PaidType", inst.PaidType},
		{"DiskType", inst.DiskType},
		{"DiskSize", inst.DiskSize},
		{"IoMax", inst.IoMax},
		{"IoMaxSpec", inst.IoMaxSpec},
		{"EipMax", inst.EipMax},
		{"TopicNumLimit", inst.TopicQuota},
		{"MsgRetain", retain},
		{"CreateTime", inst.CreateTime.UnixMilli()},
		{"ExpiredTime", expired},
		{"AllConfig", string(cfg)},
		{"EndPoint", s.endpoints(inst, s.AdvertisedHost)},
		{"DomainEndpoint", s.endpoints(inst, s.DomainHost)},
		// The SASL_SSL endpoint of internet instances, and the SASL_PLAINTEXT
		// one while ACLs are enabled (docs/dataplane.md).
		{"SslEndPoint", listenerEndpoints(inst, sslPorts(inst), s.AdvertisedHost)},
		{"SslDomainEndpoint", listenerEndpoints(inst, sslPorts(inst), s.DomainHost)},
		{"SaslEndPoint", listenerEndpoints(inst, saslPorts(inst), s.AdvertisedHost)},
		{"SaslDomainEndpoint", listenerEndpoints(inst, saslPorts(inst), s.DomainHost)},
		{"VpcSaslEndPoint", ""},
		{"VpcSaslDomainEndpoint", ""},
		{"ResourceGroupId", inst.ResourceGroupID},
		// UpgradeServiceDetailInfo and VSwitchIds are always objects:
		// Terraform asserts their type without checking it.
		{"UpgradeServiceDetailInfo", upgrade},
		{"VSwitchIds", Object{{"VSwitchIds", vswitchIDs(inst)}}},
		{"BackupZoneId", backupZone(inst)},
		{"KmsKeyId", inst.Deployment.KMSKeyID},
		{"AutoCreateTopicEnable", autoCreateTopics(inst)},
		{"DefaultPartitionNum", defaultPartitionNum(inst)},
		{"AutoCreateGroupEnable", inst.AutoCreateGroup},
		// The capacity a scheduled scaling rule reserves while it runs.
		{"ReservedPublishCapacity", inst.Deployment.Scaling.ReservedPubFlow},
		{"ReservedSubscribeCapacity", inst.Deployment.Scaling.ReservedSubFlow},
		{"Tags", Object{{"TagVO", tagVOs(inst.Tags)}}},
		{"Series", "v2"},
		{"UsedTopicCount", q.topicUsed},
		{"UsedPartitionCount", q.partitionUsed},
		{"UsedGroupCount", q.groupUsed},
		{"RecommendedPartitionCount", q.partitionQuota},
		// One traffic peak serves reads and writes alike.
		{"IoMaxRead", inst.IoMax},
		{"IoMaxWrite", inst.IoMax},
		{"ScheduledRetirement", false},
		// Confluent instances are not served: their sizes are all zero
		// and they have no components.
		{"ConfluentConfig", noConfluentConfig},
		{"ConfluentInstanceComponents", Object{{"ConfluentInstanceComponentVO", []Object{}}}},
		// kafkaplane extensions: the internal minor version, which alikafka
		// shows only in its console, and the latest one on offer.
		{"KafkaplaneMinorVersion", inst.MinorVersion},
		{"KafkaplaneLatestMinorVersion", s.Catalogue.LatestMinor(inst.Version)},
	}
	// The security groups AddUserDefinedSg added, which no SDK model has
	// a field for; shown only when there are some.
	if sgs := inst.Deployment.UserDefinedSGs; len(sgs) > 0 {
		vo = append(vo, Field{"KafkaplaneUserDefinedSgIds", sgs})
	}
	return vo
}

// noConfluentConfig is InstanceVO's ConfluentConfig of an instance that
// is not a Confluent one, with every field both SDKs' models have.
var noConfluentConfig = func() Object {
	o := Object{}
	for _, k := range []string{"KafkaCU", "KafkaStorage", "KafkaReplica", "ZooKeeperCU", "ZooKeeperStorage",
		"ZooKeeperReplica", "ControlCenterCU", "ControlCenterStorage", "ControlCenterReplica", "SchemaRegistryCU",
		"SchemaRegistryReplica", "ConnectCU", "ConnectReplica", "KsqlCU", "KsqlStorage", "KsqlReplica",
		"KafkaRestProxyCU", "KafkaRestProxyReplica"} {
		o = append(o, Field{k, 0})
	}
	return append(o, Field{"KsqlList", Object{{"ConfluentInstanceComponentResourceVO", []Object{}}}})
}()

// tagVOs renders tags as alikafka's TagVO lists: never null, so that SDKs
// decode an empty list rather than a missing one.
func tagVOs(tags []kafkaplane.Tag) []Object {
	out := make([]Object, 0, len(tags))
	for _, t := range tags {
		out = append(out, Object{{"Key", t.Key}, {"Value", t.Value}})
	}
	return out
}

// vswitchIDs are the instance's vSwitches: VSwitchIds as StartInstance got
// them, or its one VSwitchId; never null.
func vswitchIDs(inst *kafkaplane.Instance) []string {
	if len(inst.Deployment.VSwitchIDs) > 0 {
		return inst.Deployment.VSwitchIDs
	}
	if inst.VSwitchID != "" {
		return []string{inst.VSwitchID}
	}
	return []string{}
}

// backupZone is the first zone of SelectedZones' second (backup) list.
func backupZone(inst *kafkaplane.Instance) string {
	zones, err := selectedZones(inst.Deployment.SelectedZones)
	if err != nil || len(zones) < 2 || len(zones[1]) == 0 {
		return ""
	}
	return zones[1][0]
}

func standardZone(inst *kafkaplane.Instance) string {
	z := strings.TrimPrefix(inst.ZoneID, "zone")
	if z == "" {
		return ""
	}
	return inst.RegionID + "-" + z
}

func (s *Instances) getInstanceList(ctx context.Context, r *Request) (Object, error) {
	tags, _ := r.TagsOf("Tag")
	list, err := s.Store.FindInstances(ctx, kafkaplane.InstanceFilter{
		AccountID:       r.Caller.AccountID,
		RegionID:        r.RegionID,
		IDs:             r.List("InstanceId"),
		OrderID:         r.String("OrderId"),
		ResourceGroupID: r.String("ResourceGroupId"),
		Tags:            tags,
	})
	if err != nil {
		return nil, err
	}
	vos := make([]Object, 0, len(list))
	for _, inst := range list {
		var q quota
		if s.Topics != nil {
			if q, err = s.quotaOf(ctx, inst); err != nil {
				return nil, err
			}
		}
		vos = append(vos, s.instanceVO(inst, q))
	}
	return Object{{"InstanceList", Object{{"InstanceVO", vos}}}}, nil
}

// getAllInstanceIDList answers an object keyed by region: the legacy Go SDK
// decodes InstanceIds as a map and fails on an array (docs/wire.md,
// Response shapes the SDKs decode).
func (s *Instances) getAllInstanceIDList(ctx context.Context, r *Request) (Object, error) {
	list, err := s.Store.FindInstances(ctx, kafkaplane.InstanceFilter{AccountID: r.Caller.AccountID})
	if err != nil {
		return nil, err
	}
	byRegion := map[string][]string{}
	for _, inst := range list {
		byRegion[inst.RegionID] = append(byRegion[inst.RegionID], inst.ID)
	}
	ids := Object{}
	for _, region := range slices.Sorted(maps.Keys(byRegion)) {
		ids = append(ids, Field{region, byRegion[region]})
	}
	return Object{{"InstanceIds", ids}}, nil
}

func (s *Instances) modifyInstanceName(ctx context.Context, r *Request) (Object, error) {
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.State() == kafkaplane.StateReleased {
			return statusError(inst, "ModifyInstanceName")
		}
		inst.Name = r.String("InstanceName")
		return nil
	})
	return Object{}, err
}

// stopInstance takes a pay-as-you-go instance's brokers down and keeps
// their data; subscription instances cannot be stopped. The row changes
// first: a concurrent upgrade then loses its compare-and-set instead of
// rolling brokers that are going away.
func (s *Instances) stopInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.PaidType == 0 {
			return apierr.InstanceStatus.Errorf("Subscription instances cannot be stopped.")
		}
		return inst.Apply(kafkaplane.EventStop)
	})
	if err != nil {
		return nil, err
	}
	return Object{}, s.Runtime.Stop(ctx, inst.ID)
}

// reopenInstance brings a stopped instance's brokers back with their data.
// The status changes first, so a concurrent ReleaseInstance either sees a
// running instance (and stops it) or loses; if the brokers cannot start,
// the instance goes back to stopped.
func (s *Instances) reopenInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		return inst.Apply(kafkaplane.EventReopen)
	})
	if err != nil {
		return nil, err
	}
	ops, err := s.Operations.FindOperations(ctx, kafkaplane.OperationFilter{AccountID: inst.AccountID, InstanceID: inst.ID})
	if err == nil {
		_, err = s.Runtime.Start(ctx, kafkaplane.SpecFor(inst, ops))
	}
	if err != nil {
		_, _ = s.change(ctx, r, func(inst *kafkaplane.Instance) error {
			return inst.Apply(kafkaplane.EventReopenFailed)
		})
		return nil, err
	}
	return Object{}, nil
}

// releaseInstance releases a pay-as-you-go instance: its brokers stop and
// it stays listed with ServiceStatus 15 (ViewInstanceStatusCode 6) until
// DeleteInstance removes it, which is what Terraform's destroy waits for.
// With ForceDeleteInstance the brokers' data goes at once; without it the
// data is kept until DeleteInstance.
func (s *Instances) releaseInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.PaidType == 0 {
			return apierr.InstanceStatus.Errorf("Subscription instances are released when they expire; ReleaseInstance applies to pay-as-you-go instances.")
		}
		return inst.Apply(kafkaplane.EventRelease)
	})
	if err != nil {
		return nil, err
	}
	if r.Bool("ForceDeleteInstance", false) {
		return Object{}, s.Runtime.Destroy(ctx, inst.ID)
	}
	return Object{}, s.Runtime.Stop(ctx, inst.ID)
}

// deleteInstance removes a released instance and its data. The brokers'
// data goes first and the row last, so a destroy that fails leaves the
// instance listed as released, and DeleteInstance can be called again
// (Destroy of what is already gone succeeds). The store removes the
// instance's topics and consumer groups with the row. A released instance
// runs no operation and cannot be reopened, so nothing starts its brokers
// again in between. Deleted, it leaves every list, and its id answers
// BIZ_INSTANCE_NOT_FOUND from then on.
func (s *Instances) deleteInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := inst.Apply(kafkaplane.EventDelete); err != nil {
		return nil, err
	}
	if err := s.Runtime.Destroy(ctx, inst.ID); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteInstance(ctx, inst); err != nil {
		return nil, s.raced(ctx, r, err, "DeleteInstance")
	}
	return Object{}, nil
}

// updateInstanceConfig merges Config into AllConfig.
func (s *Instances) updateInstanceConfig(ctx context.Context, r *Request) (Object, error) {
	cfg, err := parseConfig(r.String("Config"))
	if err != nil {
		return nil, err
	}
	return Object{}, s.applyConfig(ctx, r, "UpdateInstanceConfig", cfg)
}

// applyConfig merges cfg into a running instance's AllConfig. The stored
// config is the truth: it is written first, then whatever is stored is
// applied to the brokers under a per-instance lock, so concurrent calls
// leave the brokers with the same config as the row.
func (s *Instances) applyConfig(ctx context.Context, r *Request, action string, cfg map[string]string) error {
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.ServiceStatus != kafkaplane.ServiceStatusRunning {
			return statusError(inst, action)
		}
		inst.Config = mergeConfig(inst.Config, cfg)
		return nil
	})
	if err != nil {
		return err
	}
	unlock := s.lockApply(r.String("InstanceId"))
	defer unlock()
	stored, err := s.find(ctx, r)
	if err != nil {
		return err
	}
	if err := s.Runtime.ApplyConfig(ctx, stored.ID, stored.Config); err != nil {
		return err
	}
	// enable.acl opens the SASL_PLAINTEXT endpoint and turns ACLs on; it
	// is the one key of AllConfig the brokers' security depends on.
	if _, acl := cfg["enable.acl"]; !acl || s.Security == nil {
		return nil
	}
	return s.applySecurityLocked(ctx, stored)
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

// upgradeInstanceVersion accepts an upgrade per the seed's TargetVersion
// table. Acceptance is one transaction: the instance leaves Running
// (ServiceStatus 8, ViewInstanceStatusCode 7) and the operation is written;
// of concurrent calls exactly one wins the compare-and-set.
func (s *Instances) upgradeInstanceVersion(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	target := r.String("TargetVersion")
	// The version rules come first: a request that could never be
	// accepted says why, whatever the instance is doing.
	plan, err := s.Catalogue.PlanUpgrade(inst.Version, inst.MinorVersion, target)
	if inst.ServiceStatus != kafkaplane.ServiceStatusRunning {
		if err != nil && kafkaplane.ErrorCode(err) != kafkaplane.CodeNothingToUpgrade {
			return nil, err
		}
		return nil, statusError(inst, "UpgradeInstanceVersion")
	}
	if err != nil {
		return nil, err
	}
	if err := inst.Apply(kafkaplane.EventUpgrade); err != nil {
		return nil, err
	}
	op := kafkaplane.NewUpgradeOperation(inst, plan, newOperationID(), s.now())
	if err := s.Operations.StartOperation(ctx, inst, op); err != nil {
		return nil, s.raced(ctx, r, err, "UpgradeInstanceVersion")
	}
	s.wake()
	return Object{}, nil
}

func (s *Instances) listInstanceOperations(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	ops, err := s.Operations.FindOperations(ctx, kafkaplane.OperationFilter{AccountID: inst.AccountID, InstanceID: inst.ID})
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(ops))
	for _, op := range ops {
		out = append(out, operationVO(op))
	}
	return Object{{"Operations", Object{{"OperationVO", out}}}}, nil
}

// findOperation returns an operation of the caller's account in the
// request's region; any other is reported as not found.
func (s *Instances) findOperation(ctx context.Context, r *Request) (*kafkaplane.Operation, error) {
	op, err := s.Operations.FindOperation(ctx, r.Caller.AccountID, r.String("OperationId"))
	if err == nil && op.RegionID != r.RegionID {
		err = kafkaplane.Errorf(kafkaplane.CodeOperationNotFound, "")
	}
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeOperationNotFound {
		return nil, apierr.OperationNotFound.Errorf("The operation %s does not exist in region %s.", r.String("OperationId"), r.RegionID)
	}
	return op, err
}

// operationInstance is the instance an OperationId names, for
// authorization. An operation the caller's account does not have in the
// region names no instance: the request is authorized on all the
// account's instances ("*"), which tells the caller nothing about
// operations of other accounts, and the handler then reports it missing.
func (s *Instances) operationInstance(ctx context.Context, r *Request) (string, error) {
	op, err := s.findOperation(ctx, r)
	if kafkaplane.ErrorCode(err) == apierr.OperationNotFound.Code {
		return "*", nil
	}
	if err != nil {
		return "", err
	}
	return op.InstanceID, nil
}

func (s *Instances) describeInstanceOperation(ctx context.Context, r *Request) (Object, error) {
	op, err := s.findOperation(ctx, r)
	if err != nil {
		return nil, err
	}
	return Object{{"Operation", operationVO(op)}}, nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func operationVO(op *kafkaplane.Operation) Object {
	steps := make([]Object, 0, len(op.Steps))
	for _, st := range op.Steps {
		o := Object{{"StepName", st.Name}, {"StepStatus", string(st.Status)}}
		if st.BrokerID >= 0 {
			o = append(o, Field{"BrokerId", st.BrokerID})
		}
		o = append(o, Field{"Detail", st.Detail}, Field{"StartTime", millis(st.StartedAt)}, Field{"EndTime", millis(st.FinishedAt)})
		steps = append(steps, o)
	}
	return Object{
		{"OperationId", op.ID},
		{"InstanceId", op.InstanceID},
		{"RegionId", op.RegionID},
		{"OperationType", string(op.Type)},
		{"OperationState", string(op.State)},
		{"SourceVersion", op.SourceVersion},
		{"SourceMinorVersion", op.SourceMinor},
		{"TargetVersion", op.TargetVersion},
		{"TargetMinorVersion", op.TargetMinor},
		{"Steps", Object{{"StepVO", steps}}},
		{"ErrorInfo", Object{{"ErrorCode", op.ErrorCode}, {"ErrorString", op.ErrorMessage}}},
		{"Attempts", op.Attempts},
		{"CreateTime", millis(op.CreatedAt)},
		{"UpdateTime", millis(op.UpdatedAt)},
		{"EndTime", millis(op.FinishedAt)},
	}
}

// getUpgradableVersions lists the versions UpgradeInstanceVersion would
// accept for the instance now, like MSK's GetCompatibleKafkaVersions.
func (s *Instances) getUpgradableVersions(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	targets := []Object{}
	for _, v := range s.Catalogue.UpgradeTargets(inst.Version, inst.MinorVersion) {
		targets = append(targets, Object{{"TargetVersion", v}, {"TargetMinorVersion", s.Catalogue.LatestMinor(v)}})
	}
	return Object{
		{"CurrentVersion", inst.Version},
		{"CurrentMinorVersion", inst.MinorVersion},
		{"LatestMinorVersion", s.Catalogue.LatestMinor(inst.Version)},
		{"UpgradableVersions", Object{{"UpgradableVersionVO", targets}}},
	}, nil
}
