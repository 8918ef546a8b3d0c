package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dataTopicPartitions and dataPerPartition shape the log the data tests
// write: record i of partition p has key k-i, value v-p-i and the
// timestamp dataBase + i seconds.
const (
	dataTopicPartitions = 3
	dataPerPartition    = 10
)

var dataBase = time.UnixMilli(1_700_000_000_000)

func writeDataLog(t *testing.T, endpoint, topic string) {
	t.Helper()
	cl := kgoClient(t, endpoint, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for p := int32(0); p < dataTopicPartitions; p++ {
		for i := 0; i < dataPerPartition; i++ {
			r := &kgo.Record{Topic: topic, Partition: p, Key: []byte(fmt.Sprintf("k-%d", i)),
				Value: []byte(fmt.Sprintf("v-%d-%d", p, i)), Timestamp: dataBase.Add(time.Duration(i) * time.Second)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// groupConsumer joins group and reads until it has want records, and
// commits them; it stays a member until closed.
func groupConsumer(t *testing.T, endpoint, group, topic string, want int) (*kgo.Client, []*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds(endpoint)...), kgo.MetadataMinAge(250*time.Millisecond),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(), kgo.ClientID("billing-app"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, r) })
	}
	if len(got) < want {
		t.Fatalf("group %s consumed %d records, want %d", group, len(got), want)
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	return cl, got
}

func progress(t *testing.T, c *alikafka.Client, id, group string) alikafka.ConsumerProgress {
	t.Helper()
	req := alikafka.CreateGetConsumerProgressRequest()
	req.InstanceId, req.ConsumerId = id, group
	resp, err := c.GetConsumerProgress(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.ConsumerProgress
}

// consumerOffsets maps partition to ConsumerOffset of a topic in p.
func consumerOffsets(p alikafka.ConsumerProgress, topic string) map[int]int64 {
	out := map[int]int64{}
	for _, tl := range p.TopicList.TopicListItem {
		if tl.Topic == topic {
			for _, o := range tl.OffsetList.OffsetListItem {
				out[o.Partition] = o.ConsumerOffset
			}
		}
	}
	return out
}

// TestTopicDataThroughAPI checks the data actions against what Kafka
// clients wrote and see: QueryMessage returns a producer's records by
// offset and by time, GetConsumerProgress a real group's committed offsets
// and lag, UpdateConsumerOffset moves the group (refused while it has
// members) so that its next consumer starts there, UpdateTopicConfig
// changes the brokers' topic config, and BatchDeleteTopics deletes topics.
func TestTopicDataThroughAPI(t *testing.T) {
	m := startMain(t, withKafka(t))
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	endpoint := describe(t, c, id).EndPoint
	const topic, group = "events", "billing"

	ct := alikafka.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.Remark, ct.PartitionNum = id, topic, "events", fmt.Sprint(dataTopicPartitions)
	if _, err := c.CreateTopic(ct); err != nil {
		t.Fatal(err)
	}
	cg := alikafka.CreateCreateConsumerGroupRequest()
	cg.InstanceId, cg.ConsumerId = id, group
	if _, err := c.CreateConsumerGroup(cg); err != nil {
		t.Fatal(err)
	}
	writeDataLog(t, endpoint, topic)

	// QueryMessage by offset: partition 1 from offset 3.
	qm := alikafka.CreateQueryMessageRequest()
	qm.Method = requests.GET
	qm.InstanceId, qm.Topic, qm.QueryType, qm.Partition, qm.Offset = id, topic, "byOffset", "1", "3"
	qr, err := c.QueryMessage(qm)
	if err != nil {
		t.Fatal(err)
	}
	if len(qr.MessageList) != dataPerPartition-3 {
		t.Fatalf("QueryMessage byOffset: %d records, want %d: %+v", len(qr.MessageList), dataPerPartition-3, qr.MessageList)
	}
	for j, msg := range qr.MessageList {
		i := 3 + j
		want := alikafka.MessageVO{Topic: topic, Partition: 1, Offset: int64(i), Timestamp: dataBase.Add(time.Duration(i) * time.Second).UnixMilli(),
			TimestampType: "CreateTime", Key: fmt.Sprintf("k-%d", i), Value: fmt.Sprintf("v-1-%d", i),
			SerializedKeySize: 3, SerializedValueSize: 5, TruncatedKeySize: 3, TruncatedValueSize: 5, Checksum: msg.Checksum}
		if msg != want || msg.Checksum == 0 {
			t.Errorf("QueryMessage byOffset record %d:\n got %+v\nwant %+v", j, msg, want)
		}
	}
	// By time: from each partition the records written at dataBase+7s and later.
	qm = alikafka.CreateQueryMessageRequest()
	qm.Method = requests.GET
	qm.InstanceId, qm.Topic, qm.QueryType = id, topic, "byTimestamp"
	qm.BeginTime = requests.NewInteger64(dataBase.Add(7 * time.Second).UnixMilli())
	qr, err = c.QueryMessage(qm)
	if err != nil {
		t.Fatal(err)
	}
	var byTime []string
	for _, msg := range qr.MessageList {
		byTime = append(byTime, msg.Value)
	}
	if got, want := strings.Join(byTime, " "), "v-0-7 v-0-8 v-0-9 v-1-7 v-1-8 v-1-9 v-2-7 v-2-8 v-2-9"; got != want {
		t.Errorf("QueryMessage byTimestamp: %s, want %s", got, want)
	}
	qm.Partition = "0"
	_, err = c.QueryMessage(qm)
	wantBizErr(t, "QueryMessage byTimestamp with a Partition", err, 400, "InvalidPartition")

	// A real group consumes everything and stays a member.
	member, _ := groupConsumer(t, endpoint, group, topic, dataTopicPartitions*dataPerPartition)
	produce(t, kgoClient(t, endpoint), topic, "late", 4, false) // lag 4 in total
	p := progress(t, c, id, group)
	if p.TotalDiff != 4 || len(p.TopicList.TopicListItem) != 1 {
		t.Errorf("GetConsumerProgress with lag 4: %+v", p)
	}
	for _, o := range p.TopicList.TopicListItem[0].OffsetList.OffsetListItem {
		if o.ConsumerOffset != dataPerPartition || o.BrokerOffset < dataPerPartition ||
			o.LastTimestamp != dataBase.Add((dataPerPartition-1)*time.Second).UnixMilli() {
			t.Errorf("GetConsumerProgress partition %+v", o)
		}
	}
	tea := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	raw := tea.call(t, "2019-09-16", "GetConsumerProgress", map[string]string{"InstanceId": id, "ConsumerId": group})
	cp, _ := raw.body["ConsumerProgress"].(map[string]any)
	if cp["state"] != "Stable" || !strings.Contains(fmt.Sprint(cp["TopicList"]), "ClientId:billing-app") {
		t.Errorf("GetConsumerProgress of a group with a member (V3): %v", raw.body)
	}

	// What the brokers saw: the group's member and producer addresses,
	// and the rebalance that formed the group's generation.
	now := time.Now().UnixMilli()
	window := map[string]string{"InstanceId": id, "StartTime": fmt.Sprint(now - 60_000), "EndTime": fmt.Sprint(now + 1000)}
	ips := tea.call(t, "2019-09-16", "GetKafkaClientIp", withParams(window, "Type", "consumer", "Group", group))
	if got := fmt.Sprint(ips.body["Data"]); ips.status != 200 || !strings.Contains(got, "Name:"+group) || !strings.Contains(got, "Ip:127.0.0.1") {
		t.Errorf("GetKafkaClientIp consumers: %d %v", ips.status, ips.body)
	}
	ips = tea.call(t, "2019-09-16", "GetKafkaClientIp", withParams(window, "Type", "producer", "Topic", topic))
	if got := fmt.Sprint(ips.body["Data"]); ips.status != 200 || !strings.Contains(got, "Name:"+topic) || !strings.Contains(got, "Ip:127.0.0.1") {
		t.Errorf("GetKafkaClientIp producers: %d %v", ips.status, ips.body)
	}
	ips = tea.call(t, "2019-09-16", "GetKafkaClientIp", withParams(window, "Type", "producer", "Topic", "no-such-topic"))
	if got := fmt.Sprint(ips.body["Data"]); strings.Contains(got, "Ip:") {
		t.Errorf("GetKafkaClientIp for a topic nobody wrote: %v", got)
	}
	rb := tea.call(t, "2019-09-16", "ListRebalanceInfo", map[string]string{"InstanceId": id, "ConsumerId": group})
	if got := fmt.Sprint(rb.body["Data"]); rb.status != 200 || !strings.Contains(got, "GroupId:"+group) || !strings.Contains(got, "RebalanceSuccess:true") ||
		!strings.Contains(got, "Reason:new member joined (client billing-app)") {
		t.Errorf("ListRebalanceInfo: %d %v", rb.status, rb.body)
	}
	if len(p.RebalanceInfoList.RebalanceInfoListItem) == 0 || p.RebalanceInfoList.RebalanceInfoListItem[0].GroupId != group {
		t.Errorf("GetConsumerProgress RebalanceInfoList: %+v", p.RebalanceInfoList)
	}

	ss := alikafka.CreateGetTopicSubscribeStatusRequest()
	ss.InstanceId, ss.Topic = id, topic
	sr, err := c.GetTopicSubscribeStatus(ss)
	if err != nil {
		t.Fatal(err)
	}
	if sr.TopicSubscribeStatus.Topic != topic || strings.Join(sr.TopicSubscribeStatus.ConsumerGroups, ",") != group {
		t.Errorf("GetTopicSubscribeStatus: %+v", sr.TopicSubscribeStatus)
	}

	// Resetting an active group is refused, as Kafka's tool refuses it.
	uo := alikafka.CreateUpdateConsumerOffsetRequest()
	uo.InstanceId, uo.ConsumerId, uo.Topic, uo.ResetType = id, group, topic, "offset"
	uo.Offsets = &[]alikafka.UpdateConsumerOffsetOffsets{{Partition: "0", Offset: "2"}}
	_, err = c.UpdateConsumerOffset(uo)
	wantBizErr(t, "UpdateConsumerOffset of an active group", err, 400, "BIZ_CONSUMER_GROUP_ACTIVE")
	if got := consumerOffsets(progress(t, c, id, group), topic); got[0] != dataPerPartition {
		t.Errorf("a refused reset moved partition 0 to %d", got[0])
	}
	member.Close() // leaves the group
	if _, err := c.UpdateConsumerOffset(uo); err != nil {
		t.Fatal(err)
	}
	byTimeReset := alikafka.CreateUpdateConsumerOffsetRequest()
	byTimeReset.InstanceId, byTimeReset.ConsumerId, byTimeReset.Topic, byTimeReset.ResetType = id, group, "", "timestamp"
	byTimeReset.Time = fmt.Sprint(dataBase.Add(5 * time.Second).UnixMilli())
	byTimeReset.Offsets = &[]alikafka.UpdateConsumerOffsetOffsets{{Partition: "0", Offset: "2"}}
	_, err = c.UpdateConsumerOffset(byTimeReset)
	wantBizErr(t, "UpdateConsumerOffset timestamp with Offsets", err, 400, "InvalidOffsets")
	p = progress(t, c, id, group)
	if got := consumerOffsets(p, topic); got[0] != 2 || got[1] != dataPerPartition {
		t.Errorf("after the offset reset: %v, want partition 0 at 2, 1 at %d", got, dataPerPartition)
	}
	// The next member of the group starts where the reset put it.
	next, recs := groupConsumer(t, endpoint, group, topic, int(p.TotalDiff))
	first := map[int32]int64{}
	for _, r := range recs {
		if _, ok := first[r.Partition]; !ok {
			first[r.Partition] = r.Offset
		}
	}
	if o, ok := first[0]; !ok || o != 2 || len(recs) != int(p.TotalDiff) {
		t.Errorf("after the reset the group read %d records, partition 0 from %d (%v), want %d from 2", len(recs), o, ok, p.TotalDiff)
	}
	next.Close()

	// Every topic of the group to the first record at dataBase+5s.
	byTimeReset.Offsets = nil
	if _, err := c.UpdateConsumerOffset(byTimeReset); err != nil {
		t.Fatal(err)
	}
	for part, off := range consumerOffsets(progress(t, c, id, group), topic) {
		if off != 5 {
			t.Errorf("after the reset by time partition %d is at %d, want 5", part, off)
		}
	}

	// UpdateTopicConfig changes the brokers' config and TopicConfig.
	uc := alikafka.CreateUpdateTopicConfigRequest()
	uc.InstanceId, uc.Topic, uc.Config, uc.Value = id, topic, "retention.ms", "3600000"
	ur, err := c.UpdateTopicConfig(uc)
	if err != nil {
		t.Fatal(err)
	}
	if ur.Data != "3600000" {
		t.Errorf("UpdateTopicConfig Data %q", ur.Data)
	}
	adm := kadm.NewClient(kgoClient(t, endpoint))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On(topic, nil)
	found := false
	for _, cfg := range rc.Configs {
		found = found || (cfg.Key == "retention.ms" && cfg.MaybeValue() == "3600000")
	}
	if !found {
		t.Errorf("the brokers do not hold retention.ms=3600000: %+v", rc.Configs)
	}
	// TopicConfig is a field of the newest SDK only.
	tl := tea.call(t, "2019-09-16", "GetTopicList", map[string]string{"InstanceId": id, "Topic": topic})
	if !strings.Contains(fmt.Sprint(tl.body["TopicList"]), `TopicConfig:{"retention.ms":"3600000"}`) {
		t.Errorf("GetTopicList after UpdateTopicConfig: %v", tl.body)
	}
	uc.Value = "soon"
	_, err = c.UpdateTopicConfig(uc)
	wantBizErr(t, "UpdateTopicConfig with a bad value", err, 400, "InvalidConfig")

	// GetRiskList: a group far behind is a risk, named with its topic.
	risks := tea.call(t, "2019-09-16", "GetRiskList", map[string]string{"InstanceId": id})
	if got := fmt.Sprint(risks.body["Data"]); risks.status != 200 || !strings.Contains(got, "Total:0") {
		t.Errorf("GetRiskList with little lag: %d %v", risks.status, risks.body)
	}
	bulk := kgoClient(t, endpoint)
	for i := 0; i < 1000; i++ {
		bulk.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte("bulk")}, nil)
	}
	if err := bulk.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	risks = tea.call(t, "2019-09-16", "GetRiskList", map[string]string{"InstanceId": id})
	if got := fmt.Sprint(risks.body["Data"]); !strings.Contains(got, "Name:ConsumerLag") || !strings.Contains(got, "RelationList:["+group+" "+topic+"]") {
		t.Errorf("GetRiskList with a group 1000 behind: %v", risks.body)
	}

	// BatchDeleteTopics, which only the newest SDK knows.
	res := tea.call(t, "2019-09-16", "BatchDeleteTopics", map[string]string{"InstanceId": id, "Topics": `["events","ghost-topic"]`})
	data, _ := res.body["Data"].(map[string]any)
	if res.status != 200 || fmt.Sprintf("%v %v %v", data["SuccessCount"], data["FailedCount"], data["Total"]) != "1 1 2" ||
		!strings.Contains(fmt.Sprint(data["Results"]), "DynamicCode:BIZ_TOPIC_NOT_FOUND") {
		t.Errorf("BatchDeleteTopics: %d %v", res.status, res.body)
	}
	tds, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tds.Has(topic) {
		t.Errorf("BatchDeleteTopics left %s on the brokers", topic)
	}
}

// withParams returns a copy of base with the name/value pairs added.
func withParams(base map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestRiskListPartitionQuota: partitions at 80 % of GetQuotaTip's
// partition quota are a risk, named with the figures GetQuotaTip shows.
func TestRiskListPartitionQuota(t *testing.T) {
	m := startMain(t) // the fake runtime holds many partitions cheaply
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	tea := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	riskNames := func() string {
		r := tea.call(t, "2019-09-16", "GetRiskList", map[string]string{"InstanceId": id, "PageSize": "10", "StartIndex": "0"})
		if r.status != 200 {
			t.Fatalf("GetRiskList: %d %s %s", r.status, r.code, r.msg)
		}
		return fmt.Sprint(r.body["Data"])
	}
	if got := riskNames(); !strings.Contains(got, "Total:0") {
		t.Fatalf("GetRiskList of an empty instance: %s", got)
	}
	for i := 0; i < 3; i++ { // 1080 partitions of a quota of 1000
		ct := alikafka.CreateCreateTopicRequest()
		ct.InstanceId, ct.Topic, ct.Remark, ct.PartitionNum = id, fmt.Sprintf("wide-%d", i), "wide", "360"
		if _, err := c.CreateTopic(ct); err != nil {
			t.Fatal(err)
		}
	}
	got := riskNames()
	if !strings.Contains(got, "Name:PartitionQuota") || !strings.Contains(got, "Value:1080") || !strings.Contains(got, "ReportValue:1000") {
		t.Errorf("GetRiskList at 1080 of 1000 partitions: %s", got)
	}
	r := tea.call(t, "2019-09-16", "GetRiskList", map[string]string{"InstanceId": id, "StartIndex": "1"})
	if got := fmt.Sprint(r.body["Data"]); !strings.Contains(got, "RiskList:[]") || !strings.Contains(got, "Total:1") {
		t.Errorf("GetRiskList from index 1: %s", got)
	}
}

// TestTopicDataRefusals: a parameter the data actions cannot honour is
// refused with its Invalid or Missing code, never ignored.
func TestTopicDataRefusals(t *testing.T) {
	m := startMain(t)
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	ct := alikafka.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.Remark = id, "events", "events"
	if _, err := c.CreateTopic(ct); err != nil {
		t.Fatal(err)
	}
	cg := alikafka.CreateCreateConsumerGroupRequest()
	cg.InstanceId, cg.ConsumerId = id, "billing"
	if _, err := c.CreateConsumerGroup(cg); err != nil {
		t.Fatal(err)
	}
	tea := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	now := fmt.Sprint(time.Now().UnixMilli())
	base := map[string]string{"InstanceId": id}
	for _, tc := range []struct {
		action string
		params map[string]string
		code   string
	}{
		{"QueryMessage", withParams(base, "Topic", "events", "QueryType", "byOffset", "Offset", "0"), "MissingPartition"},
		{"QueryMessage", withParams(base, "Topic", "events", "QueryType", "byOffset", "Partition", "0", "Offset", "0", "BeginTime", now), "InvalidBeginTime"},
		{"QueryMessage", withParams(base, "Topic", "events", "QueryType", "byKey"), "InvalidQueryType"},
		{"QueryMessage", withParams(base, "Topic", "ghost-topic", "QueryType", "byTimestamp", "BeginTime", now), "BIZ_TOPIC_NOT_FOUND"},
		{"UpdateConsumerOffset", withParams(base, "ConsumerId", "billing", "Topic", "events", "ResetType", "offset", "Time", "-1", "Offsets", `[{"Partition":0,"Offset":0}]`), "InvalidTime"},
		{"UpdateConsumerOffset", withParams(base, "ConsumerId", "billing", "ResetType", "offset", "Offsets", `[{"Partition":0,"Offset":0}]`), "InvalidTopic"},
		{"UpdateConsumerOffset", withParams(base, "ConsumerId", "billing", "Topic", "events", "ResetType", "offset", "Offsets", `[{"Partition":0}]`), "InvalidOffsets"},
		{"UpdateConsumerOffset", withParams(base, "ConsumerId", "billing", "Topic", "events", "Time", "-3"), "InvalidTime"},
		{"UpdateConsumerOffset", withParams(base, "ConsumerId", "billing", "Topic", "events"), "MissingTime"},
		{"UpdateConsumerOffset", withParams(base, "ConsumerId", "nobody-group", "Topic", "events", "Time", "-1"), "BIZ_SUBSCRIPTION_NOT_FOUND"},
		{"GetConsumerProgress", withParams(base, "ConsumerId", "nobody-group"), "BIZ_SUBSCRIPTION_NOT_FOUND"},
		{"GetKafkaClientIp", withParams(base, "Type", "consumer", "StartTime", "0", "EndTime", now), "InvalidEndTime"},
		{"GetKafkaClientIp", withParams(base, "Type", "admin", "StartTime", now, "EndTime", now), "InvalidType"},
		{"GetKafkaClientIp", withParams(base, "Type", "producer", "Group", "billing", "StartTime", now, "EndTime", now), "InvalidGroup"},
		{"BatchDeleteTopics", withParams(base, "Topics", `{"events":true}`), "InvalidTopics"},
		{"BatchDeleteTopics", withParams(base, "Topics", `["events","events"]`), "InvalidTopics"},
		{"UpdateTopicConfig", withParams(base, "Topic", "events", "Config", "unclean.leader.election.enable", "Value", "true"), "InvalidConfig"},
		{"FailoverTest", withParams(base, "ExecuteTime", now), "InvalidExecuteTime"},
		{"FailoverTest", withParams(base, "Type", "zone"), "InvalidType"},
		{"GetRiskList", withParams(base, "PageSize", "1000"), "InvalidPageSize"},
	} {
		r := tea.call(t, "2019-09-16", tc.action, tc.params)
		if r.status != 400 || r.code != tc.code {
			t.Errorf("%s %v: %d %s (%s), want 400 %s", tc.action, tc.params, r.status, r.code, r.msg, tc.code)
		}
	}
	// Nothing changed: the topic is there and no operation was started.
	if _, ok := topicList(t, c, id)["events"]; !ok {
		t.Error("a refused BatchDeleteTopics deleted the topic")
	}
	ops := tea.call(t, "2019-09-16", "ListInstanceOperations", map[string]string{"InstanceId": id})
	if n := len(lcArray(ops.body, "Operations", "OperationVO")); n != 1 {
		t.Errorf("%d operations after refused FailoverTests, want the start only", n)
	}
}
