package openapi

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkaplane/kafkaplane"
)

// InstanceVO: how GetInstanceList and GetAllInstanceIdList show an
// instance (docs/wire.md, Response shapes the SDKs decode).

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
