package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// wantBizErr checks an alikafka business error as the legacy SDK reports
// it: HTTP status and string code.
func wantBizErr(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("%s: got %v, want HTTP %d %s", what, err, status, code)
	}
	if se.HttpStatus() != status || se.ErrorCode() != code {
		t.Errorf("%s: got HTTP %d %s (%s), want HTTP %d %s", what, se.HttpStatus(), se.ErrorCode(), se.Message(), status, code)
	}
}

func topicList(t *testing.T, c *alikafka.Client, id string) map[string]alikafka.TopicVO {
	t.Helper()
	req := alikafka.CreateGetTopicListRequest()
	req.InstanceId = id
	resp, err := c.GetTopicList(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Total != len(resp.TopicList.TopicVO) || !resp.Success || resp.Code != 200 {
		t.Errorf("GetTopicList: Total %d for %d topics, Success %v, Code %d", resp.Total, len(resp.TopicList.TopicVO), resp.Success, resp.Code)
	}
	out := map[string]alikafka.TopicVO{}
	for _, vo := range resp.TopicList.TopicVO {
		out[vo.Topic] = vo
	}
	return out
}

// TestTopicsThroughAPI manages topics and consumer groups of a 0.10.2
// instance with real brokers the way Terraform's alicloud_alikafka_topic
// and alicloud_alikafka_consumer_group do, through the legacy SDK, and
// checks that Kafka clients see exactly what the API made.
func TestTopicsThroughAPI(t *testing.T) {
	m := startMain(t, withKafka(t))
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "0.10.2")
	endpoint := describe(t, c, id).EndPoint
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	ct := alikafka.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.Remark, ct.PartitionNum = id, "orders", "order events", "6"
	ct.Tag = &[]alikafka.CreateTopicTag{{Key: "team", Value: "billing"}}
	created, err := c.CreateTopic(ct)
	if err != nil {
		t.Fatal(err)
	}
	if !created.Success || created.Code != 200 || created.RequestId == "" {
		t.Errorf("CreateTopic: %+v", created)
	}
	_, err = c.CreateTopic(ct)
	wantBizErr(t, "CreateTopic again", err, 400, "BIZ_TOPIC_EXISTED")
	bad := alikafka.CreateCreateTopicRequest()
	bad.InstanceId, bad.Topic, bad.Remark, bad.PartitionNum = id, "ok-name", "r", "0"
	_, err = c.CreateTopic(bad)
	wantBizErr(t, "CreateTopic PartitionNum 0", err, 400, "InvalidPartitionNum")
	bad.Topic, bad.PartitionNum = "x!", "3"
	_, err = c.CreateTopic(bad)
	wantBizErr(t, "CreateTopic bad name", err, 400, "InvalidTopic")

	vo, ok := topicList(t, c, id)["orders"]
	if !ok || vo.PartitionNum != 6 || vo.Remark != "order events" || vo.Status != 0 || vo.AutoCreate || vo.InstanceId != id ||
		vo.CreateTime <= 0 || len(vo.Tags.TagVO) != 1 || vo.Tags.TagVO[0].Key != "team" {
		t.Errorf("GetTopicList orders: %+v", vo)
	}

	// A 0.10.2 client finds the topic with its six partitions and writes
	// to it; GetTopicStatus counts what it wrote.
	cl := kgoClient(t, endpoint, kgo.MaxVersions(kversion.V0_10_2()), kgo.ProducerLinger(0))
	const n = 120
	for i := range n {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: fmt.Appendf(nil, "order-%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	md, err := adm.Metadata(ctx, "orders")
	if err != nil || len(md.Topics["orders"].Partitions) != 6 {
		t.Fatalf("client metadata for orders: %v %+v", err, md.Topics["orders"])
	}
	gs := alikafka.CreateGetTopicStatusRequest()
	gs.InstanceId, gs.Topic = id, "orders"
	status, err := c.GetTopicStatus(gs)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range status.TopicStatus.OffsetTable.OffsetTableItem {
		sum += p.MaxOffset - p.MinOffset
		if p.Topic != "orders" {
			t.Errorf("OffsetTable item %+v", p)
		}
	}
	if status.TopicStatus.TotalCount != n || sum != n || len(status.TopicStatus.OffsetTable.OffsetTableItem) != 6 {
		t.Errorf("GetTopicStatus: %+v", status.TopicStatus)
	}
	if ts := status.TopicStatus.LastTimeStamp; ts != 0 && time.Since(time.UnixMilli(ts)) > time.Minute {
		t.Errorf("GetTopicStatus LastTimeStamp %d is not recent", ts)
	}

	// Remark and partitions change through the API.
	mr := alikafka.CreateModifyTopicRemarkRequest()
	mr.InstanceId, mr.Topic, mr.Remark = id, "orders", "all order events"
	if _, err := c.ModifyTopicRemark(mr); err != nil {
		t.Fatal(err)
	}
	mp := alikafka.CreateModifyPartitionNumRequest()
	mp.InstanceId, mp.Topic, mp.AddPartitionNum = id, "orders", "2"
	if _, err := c.ModifyPartitionNum(mp); err != nil {
		t.Fatal(err)
	}
	if vo := topicList(t, c, id)["orders"]; vo.Remark != "all order events" || vo.PartitionNum != 8 {
		t.Errorf("after ModifyTopicRemark and ModifyPartitionNum: %+v", vo)
	}
	// franz-go answers metadata requests from its cache for
	// MetadataMinAge (250 ms here), so the new count shows after that.
	for start := time.Now(); ; {
		md, err = adm.Metadata(ctx, "orders")
		if err == nil && len(md.Topics["orders"].Partitions) == 8 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("client metadata after ModifyPartitionNum: %v %d partitions", err, len(md.Topics["orders"].Partitions))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A topic a Kafka client creates shows up as AutoCreate, and can be
	// deleted through the API.
	if resp, err := adm.CreateTopic(ctx, 2, 1, nil, "direct"); err != nil || resp.Err != nil {
		t.Fatalf("client CreateTopic: %v %v", err, resp.Err)
	}
	if vo, ok := topicList(t, c, id)["direct"]; !ok || !vo.AutoCreate || vo.PartitionNum != 2 {
		t.Errorf("client-made topic in GetTopicList: %v %+v", ok, vo)
	}
	// Topic selects the topic of exactly that name, not every name that
	// contains it: clients read element 0 as the topic.
	gl := alikafka.CreateGetTopicListRequest()
	gl.InstanceId, gl.Topic = id, "orders"
	filtered, err := c.GetTopicList(gl)
	if err != nil || filtered.Total != 1 || filtered.TopicList.TopicVO[0].Topic != "orders" {
		t.Errorf("GetTopicList Topic=orders: %v %+v", err, filtered)
	}
	gl.Topic = "ord"
	if filtered, err = c.GetTopicList(gl); err != nil || filtered.Total != 0 {
		t.Errorf("GetTopicList Topic=ord: %v %+v", err, filtered)
	}

	dt := alikafka.CreateDeleteTopicRequest()
	dt.InstanceId = id
	for _, name := range []string{"orders", "direct"} {
		dt.Topic = name
		if _, err := c.DeleteTopic(dt); err != nil {
			t.Fatalf("DeleteTopic %s: %v", name, err)
		}
	}
	if left := topicList(t, c, id); len(left) != 0 {
		t.Errorf("topics after DeleteTopic: %v", left)
	}
	_, err = c.DeleteTopic(dt)
	wantBizErr(t, "DeleteTopic again", err, 400, "BIZ_TOPIC_NOT_FOUND")
	_, err = c.GetTopicStatus(gs)
	wantBizErr(t, "GetTopicStatus of a deleted topic", err, 400, "BIZ_TOPIC_NOT_FOUND")
	md, err = adm.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"orders", "direct"} {
		if td, ok := md.Topics[name]; ok && td.Err == nil {
			t.Errorf("client still sees topic %s after DeleteTopic", name)
		}
	}

	// Consumer groups.
	cg := alikafka.CreateCreateConsumerGroupRequest()
	cg.InstanceId, cg.ConsumerId, cg.Remark = id, "billing-consumers", "billing"
	if _, err := c.CreateConsumerGroup(cg); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateConsumerGroup(cg)
	wantBizErr(t, "CreateConsumerGroup again", err, 400, "BIZ_SUBSCRIPTION_EXISTED")
	lg := alikafka.CreateGetConsumerListRequest()
	lg.InstanceId = id
	groups, err := c.GetConsumerList(lg)
	if err != nil {
		t.Fatal(err)
	}
	if groups.Total != 1 || len(groups.ConsumerList.ConsumerVO) != 1 || groups.ConsumerList.ConsumerVO[0].ConsumerId != "billing-consumers" ||
		groups.ConsumerList.ConsumerVO[0].Remark != "billing" || groups.ConsumerList.ConsumerVO[0].InstanceId != id {
		t.Errorf("GetConsumerList: %+v", groups)
	}
	dg := alikafka.CreateDeleteConsumerGroupRequest()
	dg.InstanceId, dg.ConsumerId = id, "billing-consumers"
	if _, err := c.DeleteConsumerGroup(dg); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteConsumerGroup(dg)
	wantBizErr(t, "DeleteConsumerGroup again", err, 400, "BIZ_SUBSCRIPTION_NOT_FOUND")

	// A stopped instance keeps its topics but makes none.
	if _, err := c.CreateTopic(ct); err != nil {
		t.Fatal(err)
	}
	stop := alikafka.CreateStopInstanceRequest()
	stop.InstanceId = id
	if _, err := c.StopInstance(stop); err != nil {
		t.Fatal(err)
	}
	ct.Topic = "while-stopped"
	_, err = c.CreateTopic(ct)
	wantBizErr(t, "CreateTopic on a stopped instance", err, 400, "BIZ_INSTANCE_STATUS_ERROR")
	if _, ok := topicList(t, c, id)["orders"]; !ok {
		t.Errorf("a stopped instance's GetTopicList lost orders")
	}
}
