package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file replays, call for call, what Terraform's alicloud provider
// (docs/terraform.md) sends for alicloud_alikafka_instance,
// alicloud_alikafka_topic and alicloud_alikafka_consumer_group: its
// generic RPC client (form body, V1 signature) for almost everything and
// the legacy Go SDK's typed requests for the instance's tags. Every field
// a read sets is checked for the JSON type the provider decodes it as.

// tfProvider is the provider's two clients against one server.
type tfProvider struct {
	t      *testing.T
	rpc    teaClient
	legacy *alikafka.Client
}

func newTFProvider(t *testing.T, m *Main) *tfProvider {
	return &tfProvider{
		t:      t,
		rpc:    teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion, v1: true},
		legacy: lcRegionClient(t, m.ListenAddr(), testRegion),
	}
}

// call is client.RpcPost: an error answer is returned, and a success must
// carry Success true (the provider fails on Success false).
func (p *tfProvider) call(action string, params map[string]string) result {
	p.t.Helper()
	r := p.rpc.call(p.t, "2019-09-16", action, params)
	if r.code == "" {
		if s, ok := r.body["Success"]; ok && s != true {
			p.t.Fatalf("%s: Success %v", action, s)
		}
	}
	return r
}

// must is call for a step whose error fails the apply.
func (p *tfProvider) must(action string, params map[string]string) map[string]any {
	p.t.Helper()
	r := p.call(action, params)
	if r.code != "" {
		p.t.Fatalf("%s %v: HTTP %d %s: %s", action, params, r.status, r.code, r.msg)
	}
	return r.body
}

// instance is the provider's DescribeAliKafkaInstance: the element of
// GetInstanceList whose InstanceId is id and whose ServiceStatus is not
// 10; nil is "not found".
func (p *tfProvider) instance(id string) map[string]any {
	p.t.Helper()
	body := p.must("GetInstanceList", map[string]string{"InstanceId.1": id})
	list, ok := lcGet(body, "InstanceList", "InstanceVO").([]any)
	if !ok {
		p.t.Fatalf("GetInstanceList: InstanceList.InstanceVO is %T, want a list", lcGet(body, "InstanceList", "InstanceVO"))
	}
	for _, e := range list {
		vo, _ := e.(map[string]any)
		if fmt.Sprint(vo["InstanceId"]) == id && fmt.Sprint(vo["ServiceStatus"]) != "10" {
			return vo
		}
	}
	return nil
}

// waitFor is BuildStateConf with an empty pending list: poll until
// field(read()) prints as target; a read that finds nothing counts as not
// found, and target "" means "until not found".
func (p *tfProvider) waitFor(what, target string, read func() (map[string]any, bool), field func(map[string]any) any) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := "not found"
	for time.Now().Before(deadline) {
		obj, found := read()
		switch {
		case !found && target == "":
			return
		case found && target != "":
			if last = fmt.Sprint(field(obj)); last == target {
				return
			}
		case found:
			last = "still there"
		default:
			last = "not found"
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("waiting for %s = %q: last %s", what, target, last)
}

func (p *tfProvider) waitInstance(id, field, target string) {
	p.t.Helper()
	p.waitFor(id+" "+field, target, func() (map[string]any, bool) {
		vo := p.instance(id)
		return vo, vo != nil
	}, func(vo map[string]any) any { return vo[field] })
}

// JSON type checks, as the provider's type assertions and
// fmt.Sprint comparisons meet them. The generic client keeps numbers as
// their literal text (json.Number); float64 is what a round trip through
// map[string]any leaves.
func isNumber(v any) bool {
	switch v.(type) {
	case json.Number, float64:
		return true
	}
	return false
}

func tfCheckTypes(t *testing.T, what string, obj map[string]any, numbers, strs, bools []string) {
	t.Helper()
	for _, k := range numbers {
		if !isNumber(obj[k]) {
			t.Errorf("%s: %s is %T (%v), want a number", what, k, obj[k], obj[k])
		}
	}
	for _, k := range strs {
		if _, ok := obj[k].(string); !ok {
			t.Errorf("%s: %s is %T (%v), want a string", what, k, obj[k], obj[k])
		}
	}
	for _, k := range bools {
		if _, ok := obj[k].(bool); !ok {
			t.Errorf("%s: %s is %T (%v), want a bool", what, k, obj[k], obj[k])
		}
	}
}

// readInstance is the provider's resourceAliCloudAlikafkaInstanceRead:
// GetInstanceList, GetQuotaTip and ListTagResources (legacy SDK), with
// every field it sets. It returns the InstanceVO, the quota and the tags.
func (p *tfProvider) readInstance(id string) (map[string]any, map[string]any, map[string]string) {
	t := p.t
	t.Helper()
	vo := p.instance(id)
	if vo == nil {
		t.Fatalf("read: instance %s not found", id)
	}
	tfCheckTypes(t, "InstanceVO", vo,
		[]string{"DiskType", "DiskSize", "DeployType", "PaidType", "IoMax", "EipMax", "ServiceStatus",
			"DefaultPartitionNum", "ReservedPublishCapacity", "ReservedSubscribeCapacity", "CreateTime", "ExpiredTime", "MsgRetain"},
		[]string{"Name", "IoMaxSpec", "ResourceGroupId", "VpcId", "VSwitchId", "ZoneId", "SpecType", "SecurityGroup",
			"EndPoint", "SslEndPoint", "DomainEndpoint", "SslDomainEndpoint", "SaslDomainEndpoint", "VpcSaslDomainEndpoint",
			"KmsKeyId", "AllConfig"},
		[]string{"AutoCreateGroupEnable", "AutoCreateTopicEnable"})
	// Objects the provider asserts without checking.
	upgrade, ok := vo["UpgradeServiceDetailInfo"].(map[string]any)
	if !ok {
		t.Fatalf("UpgradeServiceDetailInfo is %T, want an object", vo["UpgradeServiceDetailInfo"])
	}
	if _, ok := upgrade["Current2OpenSourceVersion"].(string); !ok {
		t.Errorf("Current2OpenSourceVersion is %T", upgrade["Current2OpenSourceVersion"])
	}
	vsw, ok := vo["VSwitchIds"].(map[string]any)
	if !ok {
		t.Fatalf("VSwitchIds is %T, want an object", vo["VSwitchIds"])
	}
	for _, v := range lcArray(vsw, "VSwitchIds") {
		if _, ok := v.(string); !ok {
			t.Errorf("VSwitchIds.VSwitchIds holds %T", v)
		}
	}
	if v, present := vo["ConfluentConfig"]; present {
		if _, ok := v.(map[string]any); !ok {
			t.Errorf("ConfluentConfig is %T; absent or an object, never null", v)
		}
	}
	// AllConfig: a JSON object whose values are all strings.
	var cfg map[string]string
	if err := json.Unmarshal([]byte(vo["AllConfig"].(string)), &cfg); err != nil {
		t.Errorf("AllConfig %q does not decode into string→string: %v", vo["AllConfig"], err)
	}

	// GetQuotaTip, for PaidType 0 and 1.
	quota, ok := lcGet(p.must("GetQuotaTip", map[string]string{"InstanceId": id}), "QuotaData").(map[string]any)
	if !ok {
		t.Fatal("GetQuotaTip: QuotaData is not an object")
	}
	tfCheckTypes(t, "QuotaData", quota, []string{"TopicQuota", "PartitionNumOfBuy", "TopicNumOfBuy", "TopicUsed", "TopicLeft",
		"PartitionUsed", "PartitionLeft", "GroupUsed", "GroupLeft", "IsPartitionBuy"}, nil, nil)

	// ListTagResources through the legacy SDK's typed response.
	req := alikafka.CreateListTagResourcesRequest()
	req.ResourceType, req.ResourceId = "instance", &[]string{id}
	resp, err := p.legacy.ListTagResources(req)
	if err != nil {
		t.Fatalf("ListTagResources: %v", err)
	}
	tags := map[string]string{}
	for _, tr := range resp.TagResources.TagResource {
		tags[tr.TagKey] = tr.TagValue
	}
	return vo, quota, tags
}

// setInstanceTags is the provider's tag update: UntagResources for removed
// or changed keys, then TagResources, both through the legacy SDK.
func (p *tfProvider) setInstanceTags(id string, old, want map[string]string) {
	p.t.Helper()
	var drop []string
	for k, v := range old {
		if w, ok := want[k]; !ok || w != v {
			drop = append(drop, k)
		}
	}
	if len(drop) > 0 {
		req := alikafka.CreateUntagResourcesRequest()
		req.ResourceType, req.ResourceId, req.TagKey = "instance", &[]string{id}, &drop
		if _, err := p.legacy.UntagResources(req); err != nil {
			p.t.Fatalf("UntagResources: %v", err)
		}
	}
	var add []alikafka.TagResourcesTag
	for k, v := range want {
		if old[k] != v || !hasKey(old, k) {
			add = append(add, alikafka.TagResourcesTag{Key: k, Value: v})
		}
	}
	if len(add) > 0 {
		req := alikafka.CreateTagResourcesRequest()
		req.ResourceType, req.ResourceId, req.Tag = "instance", &[]string{id}, &add
		if _, err := p.legacy.TagResources(req); err != nil {
			p.t.Fatalf("TagResources: %v", err)
		}
	}
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// tfFastQPS lifts the per-second limits the replay's polls would meet.
func tfFastQPS(m *Main) {
	lcFastQPS(m)
	for _, a := range []string{"GetInstanceList", "GetQuotaTip", "GetTopicList", "GetConsumerList", "ListTagResources",
		"TagResources", "UntagResources", "EnableAutoTopicCreation", "EnableAutoGroupCreation", "DeleteInstance",
		"UpgradePostPayOrder"} {
		m.QPS[a] = 1000
	}
}

func TestTerraformInstance(t *testing.T) {
	m := startMain(t, tfFastQPS)
	p := newTFProvider(t, m)

	// Create: order, find by OrderId, start, wait for 5.
	order := p.must("CreatePostPayOrder", map[string]string{
		"DeployType": "5", "DiskType": "1", "DiskSize": "500", "PartitionNum": "50",
		"IoMaxSpec": "alikafka.hw.2xlarge", "SpecType": "normal", "EipMax": "0", "PaidType": "1",
	})
	orderID, _ := order["OrderId"].(string)
	var id string
	for range 100 {
		list := lcArray(p.must("GetInstanceList", map[string]string{"OrderId": orderID}), "InstanceList", "InstanceVO")
		if len(list) > 0 {
			id = lcStr(list[0], "InstanceId")
			break
		}
	}
	if id == "" {
		t.Fatalf("order %s: no instance", orderID)
	}
	p.must("StartInstance", map[string]string{
		"InstanceId": id, "VSwitchId": "", "VSwitchIds.1": "vsw-a", "VSwitchIds.2": "vsw-b", "VpcId": "vpc-1",
		"DeployModule": "eip", "IsEipInner": "true", "Name": "tf-kafka", "ServiceVersion": "0.10.2",
		"KMSKeyId": "key-1", "SelectedZones": `[["zonea"],["zoneb"]]`,
	})
	p.waitInstance(id, "ServiceStatus", "5")

	// The update pass of a new resource: tags, enable_auto_group (and its
	// wait), enable_auto_topic, default_topic_partition_num against the
	// server's DefaultPartitionNum.
	p.setInstanceTags(id, nil, map[string]string{"env": "test", "team": "data"})
	p.must("EnableAutoGroupCreation", map[string]string{"InstanceId": id, "Enable": "true"})
	p.waitInstance(id, "AutoCreateGroupEnable", "true")
	p.must("EnableAutoTopicCreation", map[string]string{"InstanceId": id, "Operate": "enable"})
	if got := fmt.Sprint(p.instance(id)["DefaultPartitionNum"]); got != "6" {
		p.must("EnableAutoTopicCreation", map[string]string{"InstanceId": id, "Operate": "updatePartition", "UpdatePartition": "true", "PartitionNum": "6"})
	}

	// Read, as after create and on every refresh.
	vo, quota, tags := p.readInstance(id)
	want := map[string]string{
		"Name": "tf-kafka", "DiskType": "1", "DiskSize": "500", "DeployType": "5", "PaidType": "1",
		"IoMaxSpec": "alikafka.hw.2xlarge", "VpcId": "vpc-1", "VSwitchId": "vsw-a", "ZoneId": "zonea",
		"SpecType": "normal", "ServiceStatus": "5", "KmsKeyId": "key-1", "AutoCreateGroupEnable": "true",
		"AutoCreateTopicEnable": "true", "DefaultPartitionNum": "6", "BackupZoneId": "zoneb",
	}
	for k, w := range want {
		if got := fmt.Sprint(vo[k]); got != w {
			t.Errorf("InstanceVO %s = %q, want %q", k, got, w)
		}
	}
	if got := lcArray(vo, "VSwitchIds", "VSwitchIds"); fmt.Sprint(got) != "[vsw-a vsw-b]" {
		t.Errorf("VSwitchIds = %v", got)
	}
	if got := lcStr(vo, "UpgradeServiceDetailInfo", "Current2OpenSourceVersion"); got != "0.10.2" {
		t.Errorf("service_version %q", got)
	}
	// topic_quota = 1000 + partition_num; the provider suppresses the
	// diff only when that holds.
	for k, w := range map[string]string{"TopicQuota": "1050", "PartitionNumOfBuy": "50", "IsPartitionBuy": "1",
		"TopicUsed": "0", "GroupUsed": "0", "TopicLeft": "1050", "GroupLeft": "2100"} {
		if got := fmt.Sprint(quota[k]); got != w {
			t.Errorf("QuotaData %s = %s, want %s", k, got, w)
		}
	}
	if fmt.Sprint(tags) != "map[env:test team:data]" {
		t.Errorf("tags %v", tags)
	}
	// A second apply with nothing changed sends no EnableAutoTopicCreation:
	// DefaultPartitionNum prints as the configured value.
	if got := fmt.Sprint(p.instance(id)["DefaultPartitionNum"]); got != "6" {
		t.Errorf("DefaultPartitionNum %s after updatePartition", got)
	}

	// Tags change: a value changed and a key removed.
	p.setInstanceTags(id, tags, map[string]string{"env": "prod"})
	if _, _, tags = p.readInstance(id); fmt.Sprint(tags) != "map[env:prod]" {
		t.Errorf("tags after update %v", tags)
	}
	// enable_auto_topic = disable.
	p.must("EnableAutoTopicCreation", map[string]string{"InstanceId": id, "Operate": "disable"})
	if got := p.instance(id)["AutoCreateTopicEnable"]; got != false {
		t.Errorf("AutoCreateTopicEnable after disable: %v", got)
	}

	// service_version: UpgradeInstanceVersion, then wait for 5; the same
	// version again answers ONS_INIT_ENV_ERROR, which the provider takes
	// as "no need to update version".
	p.must("UpgradeInstanceVersion", map[string]string{"InstanceId": id, "TargetVersion": "2.2.0"})
	p.waitInstance(id, "ServiceStatus", "5")
	if r := p.call("UpgradeInstanceVersion", map[string]string{"InstanceId": id, "TargetVersion": "2.2.0"}); r.code != "ONS_INIT_ENV_ERROR" {
		t.Errorf("UpgradeInstanceVersion to the current version: %q", r.code)
	}
	if vo, _, _ = p.readInstance(id); lcStr(vo, "UpgradeServiceDetailInfo", "Current2OpenSourceVersion") != "2.2.0" {
		t.Errorf("service_version after upgrade: %v", vo["UpgradeServiceDetailInfo"])
	}

	// Specification change (partition_num 50→60, disk_size 500→600,
	// io_max_spec): UpgradePostPayOrder, then a wait for each changed
	// field and for ServiceStatus 5; the partitions show in GetQuotaTip.
	spec := map[string]string{"InstanceId": id, "PartitionNum": "60", "DiskSize": "600", "IoMaxSpec": "alikafka.hw.3xlarge",
		"SpecType": "normal", "EipModel": "false", "EipMax": "0"}
	p.must("UpgradePostPayOrder", spec)
	p.waitInstance(id, "DiskSize", "600")
	p.waitInstance(id, "IoMaxSpec", "alikafka.hw.3xlarge")
	p.waitInstance(id, "ServiceStatus", "5")
	if _, quota, _ = p.readInstance(id); fmt.Sprint(quota["TopicQuota"]) != "1060" || fmt.Sprint(quota["PartitionNumOfBuy"]) != "60" {
		t.Errorf("quota after the spec change: %v", quota)
	}
	// disk_size may only grow; a refused change changes nothing.
	before := p.instance(id)
	spec["DiskSize"] = "500"
	if r := p.call("UpgradePostPayOrder", spec); r.code != "InvalidDiskSize" {
		t.Errorf("shrinking DiskSize: %q", r.code)
	}
	if after := p.instance(id); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused spec change changed the instance:\n%v\n%v", before, after)
	}

	// Destroy: DeleteInstance before release is refused; ReleaseInstance
	// with ForceDeleteInstance, wait for 15 (listed, not 10), DeleteInstance,
	// wait until gone.
	if r := p.call("DeleteInstance", map[string]string{"InstanceId": id}); r.code != "BIZ_INSTANCE_STATUS_ERROR" {
		t.Errorf("DeleteInstance of a running instance: %q", r.code)
	}
	p.must("ReleaseInstance", map[string]string{"InstanceId": id, "ForceDeleteInstance": "true"})
	p.waitInstance(id, "ServiceStatus", "15")
	if got := fmt.Sprint(p.instance(id)["ViewInstanceStatusCode"]); got != "6" {
		t.Errorf("released instance: ViewInstanceStatusCode %s, want 6", got)
	}
	p.must("DeleteInstance", map[string]string{"InstanceId": id})
	p.waitInstance(id, "ServiceStatus", "")
	// A read of the gone instance is an empty list, not an error.
	if list := lcArray(p.must("GetInstanceList", map[string]string{"InstanceId.1": id}), "InstanceList", "InstanceVO"); len(list) != 0 {
		t.Errorf("deleted instance listed: %v", list)
	}
}

// tfRunning makes a started instance the way the provider does.
func tfRunning(t *testing.T, p *tfProvider) string {
	t.Helper()
	order := p.must("CreatePostPayOrder", map[string]string{"DeployType": "5", "DiskType": "1", "DiskSize": "500",
		"TopicQuota": "50", "IoMaxSpec": "alikafka.hw.2xlarge", "SpecType": "normal", "PaidType": "1"})
	list := lcArray(p.must("GetInstanceList", map[string]string{"OrderId": fmt.Sprint(order["OrderId"])}), "InstanceList", "InstanceVO")
	if len(list) != 1 {
		t.Fatalf("order: %v", list)
	}
	id := lcStr(list[0], "InstanceId")
	p.must("StartInstance", map[string]string{"InstanceId": id, "VSwitchId": "vsw-1", "VpcId": "vpc-1", "ZoneId": "zonei"})
	p.waitInstance(id, "ServiceStatus", "5")
	return id
}

func TestTerraformTopicAndGroup(t *testing.T) {
	m := startMain(t, tfFastQPS)
	p := newTFProvider(t, m)
	id := tfRunning(t, p)

	// Ordered with TopicQuota (the topic model): partition_num reads 0 and
	// topic_quota 1000.
	q := lcGet(p.must("GetQuotaTip", map[string]string{"InstanceId": id}), "QuotaData")
	if lcStr(q, "TopicQuota") != "1000" || lcStr(q, "PartitionNumOfBuy") != "0" || lcStr(q, "IsPartitionBuy") != "0" || lcStr(q, "TopicNumOfBuy") != "50" {
		t.Errorf("topic-model quota: %v", q)
	}

	// A topic whose name contains the resource's is made first: reads and
	// waits take element 0 of the filtered list.
	p.must("CreateTopic", map[string]string{"InstanceId": id, "Topic": "orders-dlq", "Remark": "dead letters"})
	configs := `{"max.message.bytes":"10485760","retention.ms":"3600000"}`
	p.must("CreateTopic", map[string]string{"InstanceId": id, "Topic": "orders", "Remark": "orders",
		"PartitionNum": "6", "CompactTopic": "false", "LocalTopic": "false", "Tag.1.Key": "env", "Tag.1.Value": "test", "Config": configs})
	topic := func() (map[string]any, bool) {
		list := lcArray(p.must("GetTopicList", map[string]string{"InstanceId": id, "Topic": "orders"}), "TopicList", "TopicVO")
		if len(list) == 0 {
			return nil, false
		}
		vo, _ := list[0].(map[string]any)
		return vo, true
	}
	p.waitFor("topic status", "0", topic, func(vo map[string]any) any { return vo["Status"] })
	vo, _ := topic()
	tfCheckTypes(t, "TopicVO", vo, []string{"CreateTime", "PartitionNum", "Status"},
		[]string{"Topic", "Remark", "InstanceId", "RegionId", "TopicConfig"}, []string{"CompactTopic", "LocalTopic"})
	if vo["Topic"] != "orders" || vo["Remark"] != "orders" || lcStr(vo, "PartitionNum") != "6" {
		t.Errorf("topic read: %v", vo)
	}
	var gotCfg, wantCfg map[string]any
	_ = json.Unmarshal([]byte(fmt.Sprint(vo["TopicConfig"])), &gotCfg)
	_ = json.Unmarshal([]byte(configs), &wantCfg)
	if fmt.Sprint(gotCfg) != fmt.Sprint(wantCfg) {
		t.Errorf("TopicConfig %v, want %s", vo["TopicConfig"], configs)
	}
	if got := lcArray(vo, "Tags", "TagVO"); len(got) != 1 || lcStr(got[0], "Key") != "env" {
		t.Errorf("topic tags %v", got)
	}

	// Update: remark, partitions, tags (TOPIC, Kafka_<instance>_<topic>).
	p.must("ModifyTopicRemark", map[string]string{"InstanceId": id, "Topic": "orders", "Remark": "order events"})
	p.must("ModifyPartitionNum", map[string]string{"InstanceId": id, "Topic": "orders", "AddPartitionNum": "2"})
	rid := "Kafka_" + id + "_orders"
	p.must("UntagResources", map[string]string{"ResourceType": "TOPIC", "ResourceId.1": rid, "TagKey.1": "env"})
	p.must("TagResources", map[string]string{"InstanceId": id, "ResourceType": "TOPIC", "ResourceId.1": rid,
		"Tag.1.Key": "env", "Tag.1.Value": "prod", "Tag.2.Key": "owner", "Tag.2.Value": "shop"})
	vo, _ = topic()
	tags := map[string]string{}
	for _, tg := range lcArray(vo, "Tags", "TagVO") {
		tags[lcStr(tg, "Key")] = lcStr(tg, "Value")
	}
	if vo["Remark"] != "order events" || lcStr(vo, "PartitionNum") != "8" || fmt.Sprint(tags) != "map[env:prod owner:shop]" {
		t.Errorf("topic after update: %v", vo)
	}

	// Consumer group, again after one whose id contains it.
	p.must("CreateConsumerGroup", map[string]string{"InstanceId": id, "ConsumerId": "CID-orders-audit", "Remark": "audit"})
	p.must("CreateConsumerGroup", map[string]string{"InstanceId": id, "ConsumerId": "CID-orders", "Remark": "readers",
		"Tag.1.Key": "env", "Tag.1.Value": "test"})
	group := func() (map[string]any, bool) {
		list := lcArray(p.must("GetConsumerList", map[string]string{"InstanceId": id, "ConsumerId": "CID-orders"}), "ConsumerList", "ConsumerVO")
		if len(list) == 0 {
			return nil, false
		}
		vo, _ := list[0].(map[string]any)
		return vo, true
	}
	gvo, found := group()
	if !found {
		t.Fatal("group not found")
	}
	tfCheckTypes(t, "ConsumerVO", gvo, []string{"CreateTime"}, []string{"ConsumerId", "Remark", "InstanceId", "RegionId"}, nil)
	if gvo["ConsumerId"] != "CID-orders" || gvo["Remark"] != "readers" || lcInt(gvo, "CreateTime") == 0 {
		t.Errorf("group read: %v", gvo)
	}
	grid := "Kafka_" + id + "_CID-orders"
	p.must("TagResources", map[string]string{"InstanceId": id, "ResourceType": "CONSUMERGROUP", "ResourceId.1": grid,
		"Tag.1.Key": "tier", "Tag.1.Value": "gold"})
	p.must("UntagResources", map[string]string{"ResourceType": "CONSUMERGROUP", "ResourceId.1": grid, "TagKey.1": "env"})
	gvo, _ = group()
	if got := lcArray(gvo, "Tags", "TagVO"); len(got) != 1 || lcStr(got[0], "Key") != "tier" {
		t.Errorf("group tags %v", got)
	}

	// The quota counts what exists now.
	q = lcGet(p.must("GetQuotaTip", map[string]string{"InstanceId": id}), "QuotaData")
	if lcStr(q, "TopicUsed") != "2" || lcStr(q, "PartitionUsed") != "20" || lcStr(q, "GroupUsed") != "2" ||
		lcStr(q, "TopicLeft") != "998" || lcStr(q, "PartitionLeft") != "980" || lcStr(q, "GroupLeft") != "1998" {
		t.Errorf("quota with 2 topics (8+12 partitions) and 2 groups: %v", q)
	}

	// Delete: a not-found answer would be "done"; then the waits for an
	// empty filtered list end although the longer names remain.
	p.must("DeleteTopic", map[string]string{"InstanceId": id, "Topic": "orders"})
	p.waitFor("topic gone", "", topic, nil)
	p.must("DeleteConsumerGroup", map[string]string{"InstanceId": id, "ConsumerId": "CID-orders"})
	p.waitFor("group gone", "", group, nil)
	if list := lcArray(p.must("GetTopicList", map[string]string{"InstanceId": id, "Topic": "orders-dlq"}), "TopicList", "TopicVO"); len(list) != 1 {
		t.Errorf("orders-dlq after deleting orders: %v", list)
	}
}

// TestTagRules: limits, resource id forms, paging and refusals that
// change nothing.
func TestTagRules(t *testing.T) {
	m := startMain(t, tfFastQPS)
	p := newTFProvider(t, m)
	a, b := tfRunning(t, p), tfRunning(t, p)

	tag := func(id string, from, n int) map[string]string {
		params := map[string]string{"ResourceType": "instance", "ResourceId.1": id}
		for i := range n {
			params["Tag."+strconv.Itoa(i+1)+".Key"] = fmt.Sprintf("k%02d", from+i)
			params["Tag."+strconv.Itoa(i+1)+".Value"] = "v"
		}
		return params
	}
	p.must("TagResources", tag(a, 0, 20))
	p.must("TagResources", tag(b, 0, 20))
	// A 21st key on a resource with 20 is refused for every resource of
	// the request; a new value for an existing key is not a new tag.
	over := tag(a, 20, 1)
	over["ResourceId.2"] = b
	if r := p.call("TagResources", over); r.code != "QuotaExceed.TagsPerResource" || r.status != 400 {
		t.Errorf("21st tag: HTTP %d %q", r.status, r.code)
	}
	p.must("TagResources", map[string]string{"ResourceType": "INSTANCE", "ResourceId.1": a, "Tag.1.Key": "k00", "Tag.1.Value": "new"})

	// Paging: 40 pairs over pages of 50 → one page; topics add more.
	list := func(params map[string]string) (pairs []string) {
		params["ResourceType"] = "instance"
		for {
			body := p.must("ListTagResources", params)
			for _, tr := range lcArray(body, "TagResources", "TagResource") {
				pairs = append(pairs, lcStr(tr, "ResourceId")+"/"+lcStr(tr, "TagKey")+"="+lcStr(tr, "TagValue"))
			}
			next, _ := body["NextToken"].(string)
			if next == "" {
				return pairs
			}
			params["NextToken"] = next
		}
	}
	all := list(map[string]string{})
	if len(all) != 40 || !slices.Contains(all, a+"/k00=new") || !slices.Contains(all, b+"/k19=v") {
		t.Errorf("ListTagResources of every instance: %d pairs %v", len(all), all)
	}
	c := tfRunning(t, p)
	p.must("TagResources", tag(c, 0, 20))
	if got := list(map[string]string{}); len(got) != 60 {
		t.Errorf("three instances' tags over pages: %d pairs", len(got))
	}
	if got := list(map[string]string{"ResourceId.1": b}); len(got) != 20 {
		t.Errorf("one instance's tags: %d", len(got))
	}
	if got := list(map[string]string{"Tag.1.Key": "k00", "Tag.1.Value": "new"}); len(got) != 20 || !strings.HasPrefix(got[0], a+"/") {
		t.Errorf("filtered by tag: %v", got)
	}

	// Bad ids, types and tokens are refused; a topic that does not exist
	// is BIZ_TOPIC_NOT_FOUND.
	for _, tc := range []struct {
		params map[string]string
		code   string
	}{
		{map[string]string{"ResourceType": "TOPIC", "ResourceId.1": "orders", "Tag.1.Key": "k", "Tag.1.Value": "v"}, "InvalidResourceId"},
		{map[string]string{"ResourceType": "TOPIC", "ResourceId.1": "Kafka_" + a + "_none", "Tag.1.Key": "k", "Tag.1.Value": "v"}, "BIZ_TOPIC_NOT_FOUND"},
		{map[string]string{"ResourceType": "CONSUMERGROUP", "ResourceId.1": "Kafka_" + a + "_CID-none", "Tag.1.Key": "k", "Tag.1.Value": "v"}, "BIZ_SUBSCRIPTION_NOT_FOUND"},
		{map[string]string{"ResourceType": "VOLUME", "ResourceId.1": a, "Tag.1.Key": "k", "Tag.1.Value": "v"}, "InvalidResourceType"},
		{map[string]string{"ResourceType": "instance", "ResourceId.1": "alikafka_post-cn-none", "Tag.1.Key": "k", "Tag.1.Value": "v"}, "BIZ_INSTANCE_NOT_FOUND"},
		{map[string]string{"ResourceType": "instance", "ResourceId.1": a, "Tag.1.Key": "acs:x", "Tag.1.Value": "v"}, "InvalidTag"},
		{map[string]string{"ResourceType": "instance", "ResourceId.1": a, "Tag.1.Key": strings.Repeat("k", 129), "Tag.1.Value": "v"}, "InvalidTag"},
	} {
		if r := p.call("TagResources", tc.params); r.code != tc.code {
			t.Errorf("TagResources %v: %q, want %q", tc.params, r.code, tc.code)
		}
	}
	if r := p.call("ListTagResources", map[string]string{"ResourceType": "instance", "NextToken": "garbage!"}); r.code != "InvalidNextToken" {
		t.Errorf("bad NextToken: %q", r.code)
	}
	if got := list(map[string]string{"ResourceId.1": a}); len(got) != 20 {
		t.Errorf("refusals changed the tags: %v", got)
	}

	// UntagResources All=true clears a resource.
	p.must("UntagResources", map[string]string{"ResourceType": "instance", "ResourceId.1": c, "All": "true"})
	if got := list(map[string]string{"ResourceId.1": c}); len(got) != 0 {
		t.Errorf("after All: %v", got)
	}
}

// TestStopIsNotRelease: a stopped instance shows 15 like a released one
// but ViewInstanceStatusCode 3, cannot be deleted, and can be released.
func TestStopIsNotRelease(t *testing.T) {
	m := startMain(t, tfFastQPS)
	p := newTFProvider(t, m)
	id := tfRunning(t, p)
	p.must("StopInstance", map[string]string{"InstanceId": id})
	vo := p.instance(id)
	if lcStr(vo, "ServiceStatus") != "15" || lcStr(vo, "ViewInstanceStatusCode") != "3" {
		t.Fatalf("stopped: %v/%v", vo["ServiceStatus"], vo["ViewInstanceStatusCode"])
	}
	if r := p.call("DeleteInstance", map[string]string{"InstanceId": id}); r.code != "BIZ_INSTANCE_STATUS_ERROR" {
		t.Errorf("DeleteInstance of a stopped instance: %q", r.code)
	}
	p.must("ReleaseInstance", map[string]string{"InstanceId": id, "ForceDeleteInstance": "false"})
	vo = p.instance(id)
	if lcStr(vo, "ServiceStatus") != "15" || lcStr(vo, "ViewInstanceStatusCode") != "6" {
		t.Fatalf("released: %v/%v", vo["ServiceStatus"], vo["ViewInstanceStatusCode"])
	}
	if r := p.call("ReopenInstance", map[string]string{"InstanceId": id}); r.code != "BIZ_INSTANCE_STATUS_ERROR" {
		t.Errorf("ReopenInstance of a released instance: %q", r.code)
	}
	p.must("DeleteInstance", map[string]string{"InstanceId": id})
	if p.instance(id) != nil {
		t.Error("deleted instance still listed")
	}
}

// TestUnknownActionLogged: the log line of an action kafkaplane does not
// serve names the action the client sent.
func TestUnknownActionLogged(t *testing.T) {
	var logs syncBuffer
	m := startMain(t, func(m *Main) { m.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	p := newTFProvider(t, m)
	if r := p.call("DescribeInstanceSpecs", map[string]string{"InstanceId": "x"}); r.code != "InvalidApi.NotFound" {
		t.Fatalf("unknown action: %q", r.code)
	}
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "request" && rec["code"] == "InvalidApi.NotFound" {
			found = true
			if rec["action"] != "DescribeInstanceSpecs" {
				t.Errorf("logged action %v, want DescribeInstanceSpecs", rec["action"])
			}
		}
	}
	if !found {
		t.Fatalf("no request log line:\n%s", logs.String())
	}
}

// TestTagAuthorization: a tag request is authorized on the instance its
// resources belong to, so a user allowed one instance can tag it and its
// topics but not another instance's, nor several instances at once.
func TestTagAuthorization(t *testing.T) {
	w := newWorld(t)
	a, b := w.instance(), w.instance()
	w.kafka("CreateTopic", map[string]string{"InstanceId": b, "Topic": "other", "Remark": "b's"})
	w.kafka("CreateTopic", map[string]string{"InstanceId": a, "Topic": "mine", "Remark": "a's"})
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["alikafka:TagResources","alikafka:ListTagResources"],` +
		`"Resource":"acs:alikafka:*:*:` + a + `"}]}`
	u := w.user("tagger", doc)
	tag := map[string]string{"Tag.1.Key": "env", "Tag.1.Value": "x"}
	with := func(extra map[string]string) map[string]string {
		out := maps.Clone(tag)
		maps.Copy(out, extra)
		return out
	}
	ok(t, "own instance", u.tea(t, false, alikafkaVersion, "TagResources", with(map[string]string{"ResourceType": "instance", "ResourceId.1": a})))
	ok(t, "own topic", u.tea(t, false, alikafkaVersion, "TagResources", with(map[string]string{"ResourceType": "TOPIC", "ResourceId.1": "Kafka_" + a + "_mine"})))
	wantDenied(t, "other instance", u.tea(t, false, alikafkaVersion, "TagResources", with(map[string]string{"ResourceType": "instance", "ResourceId.1": b})),
		"alikafka:TagResources", "tagger", "ImplicitDeny")
	wantDenied(t, "other instance's topic with own InstanceId",
		u.tea(t, false, alikafkaVersion, "TagResources", with(map[string]string{"ResourceType": "TOPIC", "InstanceId": a, "ResourceId.1": "Kafka_" + b + "_other"})),
		"alikafka:TagResources", "tagger", "ImplicitDeny")
	wantDenied(t, "both instances", u.tea(t, false, alikafkaVersion, "TagResources", with(map[string]string{"ResourceType": "instance", "ResourceId.1": a, "ResourceId.2": b})),
		"alikafka:TagResources", "tagger", "ImplicitDeny")
	wantDenied(t, "every instance's tags", u.tea(t, false, alikafkaVersion, "ListTagResources", map[string]string{"ResourceType": "instance"}),
		"alikafka:ListTagResources", "tagger", "ImplicitDeny")
	body := ok(t, "own tags", u.tea(t, false, alikafkaVersion, "ListTagResources", map[string]string{"ResourceType": "instance", "ResourceId.1": a}))
	if got := lcArray(body, "TagResources", "TagResource"); len(got) != 1 {
		t.Errorf("own tags: %v", got)
	}
	// b's tags are untouched.
	body = ok(t, "root reads b", w.root.tea(t, false, alikafkaVersion, "ListTagResources", map[string]string{"ResourceType": "instance", "ResourceId.1": b}))
	if got := lcArray(body, "TagResources", "TagResource"); len(got) != 0 {
		t.Errorf("b's tags after denied calls: %v", got)
	}
}

// TestAutoTopicCreationThroughAPI: EnableAutoTopicCreation reaches the
// real brokers: a producer's unknown topic is created with
// DefaultPartitionNum partitions while it is enabled, shows in
// GetTopicList as AutoCreate and in GetQuotaTip, and is not created once
// it is disabled.
func TestAutoTopicCreationThroughAPI(t *testing.T) {
	m := startMain(t, withKafka(t), tfFastQPS)
	p := newTFProvider(t, m)
	id := tfRunning(t, p)
	endpoint := lcStr(p.instance(id), "EndPoint")

	p.must("EnableAutoTopicCreation", map[string]string{"InstanceId": id, "Operate": "enable"})
	p.must("EnableAutoTopicCreation", map[string]string{"InstanceId": id, "Operate": "updatePartition", "UpdatePartition": "true", "PartitionNum": "4"})
	cl := kgoClient(t, endpoint, kgo.AllowAutoTopicCreation())
	produce(t, cl, "made-by-producer", "auto", 3, false)
	list := lcArray(p.must("GetTopicList", map[string]string{"InstanceId": id, "Topic": "made-by-producer"}), "TopicList", "TopicVO")
	if len(list) != 1 || lcStr(list[0], "AutoCreate") != "true" || lcStr(list[0], "PartitionNum") != "4" {
		t.Fatalf("auto-created topic in GetTopicList: %v", list)
	}
	q := lcGet(p.must("GetQuotaTip", map[string]string{"InstanceId": id}), "QuotaData")
	if lcStr(q, "TopicUsed") != "1" || lcStr(q, "PartitionUsed") != "4" {
		t.Errorf("quota after auto-creation: %v", q)
	}

	p.must("EnableAutoTopicCreation", map[string]string{"InstanceId": id, "Operate": "disable"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("not-made")
	req.Topics, req.AllowAutoTopicCreation = append(req.Topics, rt), true
	resp, err := req.RequestWith(ctx, kgoClient(t, endpoint))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("metadata for an unknown topic with auto-creation disabled: %+v", resp.Topics)
	}
	if list := lcArray(p.must("GetTopicList", map[string]string{"InstanceId": id}), "TopicList", "TopicVO"); len(list) != 1 {
		t.Errorf("topics after disabling: %v", list)
	}
}

// TestStartInstanceRefusals: StartInstance parameters kafkaplane cannot
// honour are refused, not ignored, and a refused start changes nothing.
func TestStartInstanceRefusals(t *testing.T) {
	m := startMain(t, tfFastQPS)
	p := newTFProvider(t, m)
	order := p.must("CreatePostPayOrder", map[string]string{"DeployType": "5", "DiskType": "1", "DiskSize": "500",
		"IoMaxSpec": "alikafka.hw.2xlarge", "PaidType": "1"})
	id := lcStr(lcArray(p.must("GetInstanceList", map[string]string{"OrderId": fmt.Sprint(order["OrderId"])}), "InstanceList", "InstanceVO")[0], "InstanceId")
	base := map[string]string{"InstanceId": id, "VpcId": "vpc-1", "VSwitchId": "vsw-1"}
	with := func(k, v string) map[string]string {
		out := maps.Clone(base)
		out[k] = v
		return out
	}
	for _, tc := range []struct {
		params map[string]string
		code   string
	}{
		{with("Password", "secret-1"), "InvalidPassword"},
		{with("Username", "admin"), "InvalidUsername"},
		{with("IsSetUserAndPassword", "true"), "MissingUsername"},
		{with("Notifier", "ops"), "InvalidNotifier"},
		{with("SelectedZones", "zonea"), "InvalidSelectedZones"},
		{with("VSwitchId", ""), "MissingVSwitchId"},
	} {
		if r := p.call("StartInstance", tc.params); r.code != tc.code {
			t.Errorf("StartInstance %v: %q (%s), want %q", tc.params, r.code, r.msg, tc.code)
		}
	}
	if vo := p.instance(id); lcStr(vo, "ServiceStatus") != "0" || lcStr(vo, "VpcId") != "" {
		t.Fatalf("refused starts changed the instance: %v", vo)
	}
	// Without ZoneId the zone is the first selected zone.
	p.must("StartInstance", with("SelectedZones", `[["zonec","zoned"],["zonee"]]`))
	vo := p.instance(id)
	if lcStr(vo, "ZoneId") != "zonec" || lcStr(vo, "BackupZoneId") != "zonee" || lcStr(vo, "StandardZoneId") != "cn-hangzhou-c" {
		t.Errorf("zones: %v %v %v", vo["ZoneId"], vo["BackupZoneId"], vo["StandardZoneId"])
	}
}
