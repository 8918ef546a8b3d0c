package kafkaplane

import (
	"context"
	"time"
)

// ServiceStatus is the deprecated but still widely polled status code of an
// instance (GetInstanceList's ServiceStatus). Terraform waits for 5 and
// treats 10 as gone.
type ServiceStatus int

// ServiceStatus values as alikafka documents them. The list is append-only.
const (
	ServiceStatusPending   ServiceStatus = 0  // bought, not deployed
	ServiceStatusDeploying ServiceStatus = 1  // StartInstance accepted
	ServiceStatusRunning   ServiceStatus = 5  // serving
	ServiceStatusUpgrading ServiceStatus = 8  // UpgradeInstanceVersion in progress
	ServiceStatusReleased  ServiceStatus = 10 // deleted: clients read it as gone
	ServiceStatusChanging  ServiceStatus = 11 // a specification change in progress
	ServiceStatusStopped   ServiceStatus = 15 // frozen: stopped or released, still listed
)

// ViewStatus is the console status code (ViewInstanceStatusCode) that
// replaces ServiceStatus in newer clients.
type ViewStatus int

// ViewStatus values as alikafka documents them. The list is append-only.
const (
	ViewStatusPending       ViewStatus = 0
	ViewStatusDeploying     ViewStatus = 1
	ViewStatusRunning       ViewStatus = 2
	ViewStatusStopped       ViewStatus = 3
	ViewStatusReleased      ViewStatus = 6
	ViewStatusUpgrading     ViewStatus = 7
	ViewStatusStopping      ViewStatus = 21
	ViewStatusStarting      ViewStatus = 22
	ViewStatusReleasing     ViewStatus = 23
	ViewStatusDeployFailed  ViewStatus = 101
	ViewStatusUpgradeFailed ViewStatus = 102
)

// Tag is a key/value label on an instance.
type Tag struct {
	Key   string
	Value string
}

// Instance is one Kafka instance: what was bought (order fields), how it
// was deployed (network fields), and what it runs (version, minor version,
// brokers). Every stored row carries ModifyIndex; updates are
// compare-and-set on it.
type Instance struct {
	ID        string // alikafka_post-cn-… or alikafka_pre-cn-…
	AccountID string
	RegionID  string
	OrderID   string

	Name            string
	PaidType        int // 0 subscription, 1 pay-as-you-go
	SpecType        string
	DeployType      int // 4 internet+VPC, 5 VPC
	DiskType        int
	DiskSize        int
	IoMax           int
	IoMaxSpec       string
	EipMax          int
	TopicQuota      int
	PartitionNum    int
	ResourceGroupID string
	Tags            []Tag

	VpcID         string
	VSwitchID     string
	ZoneID        string
	SecurityGroup string
	// Deployment holds StartInstance's placement and encryption options.
	Deployment Deployment
	// AutoCreateGroup is EnableAutoGroupCreation's switch
	// (AutoCreateGroupEnable).
	AutoCreateGroup bool

	ServiceStatus ServiceStatus
	ViewStatus    ViewStatus

	// Version is the open-source Kafka version (Current2OpenSourceVersion),
	// MinorVersion the internal minor version within it. Both are empty
	// until the instance is started.
	Version      string
	MinorVersion string

	// Config is AllConfig: the broker configuration the user set through
	// StartInstance's Config or UpdateInstanceConfig.
	Config map[string]string

	// BrokerPorts are the loopback ports of the instance's brokers, fixed at
	// StartInstance and kept across restarts.
	BrokerPorts []int
	// SaslPorts and SslPorts are the SASL_PLAINTEXT and SASL_SSL ports of
	// brokers 0, 1, 2…, allocated with BrokerPorts; empty for instances
	// started before the secure endpoints existed.
	SaslPorts []int
	SslPorts  []int

	CreateTime  time.Time
	ExpiredTime time.Time
	ModifyIndex int64
}

// Deployment is what StartInstance was told beyond the vSwitch and zone:
// the vSwitches of a multi-zone deployment, the zones chosen for it, the
// KMS key of disk encryption and the internet (EIP) module; and the
// security groups and scaling rules later actions add. kafkaplane's
// brokers run on loopback, so these are kept and shown, not enforced.
type Deployment struct {
	VSwitchIDs []string `json:"vswitch_ids,omitempty"`
	// SelectedZones is the JSON text StartInstance got, e.g.
	// [["zonea"],["zoneb"]]: the primary zones, then the backup zones.
	SelectedZones        string `json:"selected_zones,omitempty"`
	CrossZone            bool   `json:"cross_zone,omitempty"`
	IsForceSelectedZones bool   `json:"is_force_selected_zones,omitempty"`
	KMSKeyID             string `json:"kms_key_id,omitempty"`
	DeployModule         string `json:"deploy_module,omitempty"` // vpc or eip
	IsEipInner           bool   `json:"is_eip_inner,omitempty"`

	// UserDefinedSGs are the security groups AddUserDefinedSg added.
	UserDefinedSGs []string `json:"user_defined_sgs,omitempty"`
	// ScalingRules are the scheduled scaling rules, Scaling what the
	// scheduler applied from them last (see scaling.go).
	ScalingRules []ScalingRule  `json:"scaling_rules,omitempty"`
	Scaling      AppliedScaling `json:"scaling,omitzero"`
	// PendingSpec is the specification a running change operation sets
	// when it finishes.
	PendingSpec *Specification `json:"pending_spec,omitempty"`
}

// Specification is what a specification change (Upgrade…Order, Downgrade…Order)
// sets on an instance.
type Specification struct {
	SpecType     string `json:"spec_type"`
	DeployType   int    `json:"deploy_type"`
	DiskSize     int    `json:"disk_size"`
	IoMax        int    `json:"io_max"`
	IoMaxSpec    string `json:"io_max_spec"`
	EipMax       int    `json:"eip_max"`
	TopicQuota   int    `json:"topic_quota"`
	PartitionNum int    `json:"partition_num"`
}

// Specification returns the instance's current specification.
func (inst *Instance) Specification() Specification {
	return Specification{SpecType: inst.SpecType, DeployType: inst.DeployType, DiskSize: inst.DiskSize, IoMax: inst.IoMax,
		IoMaxSpec: inst.IoMaxSpec, EipMax: inst.EipMax, TopicQuota: inst.TopicQuota, PartitionNum: inst.PartitionNum}
}

// SetSpecification gives the instance specification sp.
func (inst *Instance) SetSpecification(sp Specification) {
	inst.SpecType, inst.DeployType, inst.DiskSize, inst.IoMax = sp.SpecType, sp.DeployType, sp.DiskSize, sp.IoMax
	inst.IoMaxSpec, inst.EipMax, inst.TopicQuota, inst.PartitionNum = sp.IoMaxSpec, sp.EipMax, sp.TopicQuota, sp.PartitionNum
}

// InstanceFilter selects instances of one account and region. Empty fields
// do not filter.
type InstanceFilter struct {
	AccountID       string
	RegionID        string // empty: every region (GetAllInstanceIdList)
	IDs             []string
	OrderID         string
	ResourceGroupID string
	Tags            []Tag // an empty Value matches any value of the Key
	// IncludeDeleted returns rows that DeleteInstance removed; off by default.
	IncludeDeleted bool
}

// InstanceService stores instances.
type InstanceService interface {
	// CreateInstance stores a new instance; inst.ModifyIndex is set. A
	// limit above zero caps the account's live instances: CodeLimitExceeded
	// when it already has limit, decided atomically with the insert.
	CreateInstance(ctx context.Context, inst *Instance, limit int) error
	// FindInstance returns the instance with that id in the account and
	// region, or an error with CodeInstanceNotFound.
	FindInstance(ctx context.Context, accountID, regionID, id string) (*Instance, error)
	// FindInstances returns the matching instances ordered by creation.
	FindInstances(ctx context.Context, f InstanceFilter) ([]*Instance, error)
	// UpdateInstance writes inst if its stored ModifyIndex still equals
	// inst.ModifyIndex, and then advances inst.ModifyIndex; otherwise it
	// returns CodeConflict and changes nothing.
	UpdateInstance(ctx context.Context, inst *Instance) error
	// DeleteInstance removes the instance row (CAS on ModifyIndex) and,
	// with it, the instance's topics and consumer groups.
	DeleteInstance(ctx context.Context, inst *Instance) error
}
