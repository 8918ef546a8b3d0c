package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/kafkaplane/kafkaplane/broker"
)

// limitsNoThrottle lifts the per-action quotas of the actions the limit
// tests call many times, so that they exercise the limits, not throttling.
func limitsNoThrottle(m *Main) {
	m.QPS = map[string]float64{}
	for _, a := range []string{"CreatePostPayOrder", "CreatePrePayOrder", "StartInstance", "CreateTopic",
		"CreateConsumerGroup", "ModifyPartitionNum", "ReleaseInstance", "DeleteInstance", "GetInstanceList",
		"GetTopicList", "GetConsumerList"} {
		m.QPS[a] = 0
	}
}

// TestParameterLimitsThroughAPI sends values past every kind of declared
// limit through the legacy SDK: each is refused with HTTP 400 and the
// parameter's Invalid code (RAM's own code for RAM parameters), and nothing
// is created.
func TestParameterLimitsThroughAPI(t *testing.T) {
	m := startMain(t, limitsNoThrottle)
	c := legacyClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	order := func(extra ...string) map[string]string {
		p := map[string]string{"DeployType": "5", "DiskSize": "500", "DiskType": "1", "IoMaxSpec": "alikafka.hw.2xlarge"}
		for i := 0; i < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return p
	}
	topic := func(extra ...string) map[string]string {
		p := map[string]string{"InstanceId": "alikafka_post-cn-none", "Topic": "orders", "Remark": "r"}
		for i := 0; i < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return p
	}
	manyIDs := map[string]string{}
	for i := 1; i <= 101; i++ {
		manyIDs[fmt.Sprintf("InstanceId.%d", i)] = fmt.Sprintf("id-%d", i)
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name, version, action string
		params                map[string]string
		code                  string
	}{
		{"topic remark over 64", alikafkaVersion, "CreateTopic", topic("Remark", long(65)), "InvalidRemark"},
		{"topic remark over 64 in runes", alikafkaVersion, "CreateTopic", topic("Remark", strings.Repeat("注", 65)), "InvalidRemark"},
		{"new remark over 64", alikafkaVersion, "ModifyTopicRemark", topic("Remark", long(65)), "InvalidRemark"},
		{"group remark over 64", alikafkaVersion, "CreateConsumerGroup",
			map[string]string{"InstanceId": "alikafka_post-cn-none", "ConsumerId": "billing", "Remark": long(65)}, "InvalidRemark"},
		{"AddPartitionNum 2^63-1", alikafkaVersion, "ModifyPartitionNum", topic("AddPartitionNum", "9223372036854775807"), "InvalidAddPartitionNum"},
		{"AddPartitionNum past int64", alikafkaVersion, "ModifyPartitionNum", topic("AddPartitionNum", "9223372036854775808"), "InvalidAddPartitionNum"},
		{"AddPartitionNum 0", alikafkaVersion, "ModifyPartitionNum", topic("AddPartitionNum", "0"), "InvalidAddPartitionNum"},
		{"PartitionNum 361", alikafkaVersion, "CreateTopic", topic("PartitionNum", "361"), "InvalidPartitionNum"},
		{"ReplicationFactor 4", alikafkaVersion, "CreateTopic", topic("ReplicationFactor", "4"), "InvalidReplicationFactor"},
		{"topic Config over 4096", alikafkaVersion, "CreateTopic", topic("Config", `{"a":"`+long(4096)+`"}`), "InvalidConfig"},
		{"Duration 10^9 months", alikafkaVersion, "CreatePrePayOrder", order("Duration", "1000000000"), "InvalidDuration"},
		{"EipMax -5", alikafkaVersion, "CreatePostPayOrder", order("EipMax", "-5"), "InvalidEipMax"},
		{"TopicQuota -3", alikafkaVersion, "CreatePostPayOrder", order("TopicQuota", "-3"), "InvalidTopicQuota"},
		{"TopicQuota 10^6", alikafkaVersion, "CreatePostPayOrder", order("TopicQuota", "1000000"), "InvalidTopicQuota"},
		{"DiskSize 0", alikafkaVersion, "CreatePostPayOrder", order("DiskSize", "0"), "InvalidDiskSize"},
		{"PartitionNum -1", alikafkaVersion, "CreatePostPayOrder", order("PartitionNum", "-1"), "InvalidPartitionNum"},
		{"ResourceGroupId over its cap", alikafkaVersion, "CreatePostPayOrder", order("ResourceGroupId", long(129)), "InvalidResourceGroupId"},
		{"undeclared cap: VpcId", alikafkaVersion, "StartInstance",
			map[string]string{"InstanceId": "alikafka_post-cn-none", "VpcId": long(129), "VSwitchId": "v", "ZoneId": "z"}, "InvalidVpcId"},
		{"default cap: Password", alikafkaVersion, "StartInstance",
			map[string]string{"InstanceId": "alikafka_post-cn-none", "VpcId": "v", "VSwitchId": "v", "ZoneId": "z", "Password": long(257)}, "InvalidPassword"},
		{"101 InstanceId.N", alikafkaVersion, "GetInstanceList", manyIDs, "InvalidInstanceId"},
		{"RAM DisplayName over 128", ramVersion, "CreateUser", map[string]string{"UserName": "alice", "DisplayName": long(129)},
			"InvalidParameter.DisplayName.Length"},
		{"RAM MaxItems 0", ramVersion, "ListUsers", map[string]string{"MaxItems": "0"}, "InvalidParameter.MaxItems"},
		{"RAM MaxItems 2^63", ramVersion, "ListUsers", map[string]string{"MaxItems": "9223372036854775808"}, "InvalidParameter.MaxItems"},
		{"RAM Marker over 512", ramVersion, "ListUsers", map[string]string{"Marker": long(513)}, "InvalidParameter.Marker"},
		{"RAM group Comments over 128", ramVersion, "CreateGroup", map[string]string{"GroupName": "ops", "Comments": long(129)},
			"InvalidParameter.Comments.Length"},
	}
	for _, tc := range cases {
		res := c.call(t, tc.version, tc.action, tc.params)
		if res.status != 400 || res.code != tc.code {
			t.Errorf("%s: HTTP %d %q (%s), want HTTP 400 %s", tc.name, res.status, res.code, res.msg, tc.code)
		}
	}
	// Bad input changes nothing.
	list := c.call(t, alikafkaVersion, "GetAllInstanceIdList", nil)
	if ids := fmt.Sprint(list.body["InstanceIds"]); ids != "map[]" {
		t.Errorf("instances after refused orders: %s", ids)
	}
	users := c.call(t, ramVersion, "ListUsers", nil)
	if u := fmt.Sprint(users.body["Users"]); strings.Contains(u, "alice") {
		t.Errorf("user created despite a refused DisplayName: %s", u)
	}
	// The limits are inclusive: values at them are accepted.
	if res := c.call(t, alikafkaVersion, "CreatePrePayOrder", order("Duration", "36", "EipMax", "0", "TopicQuota", "3000")); res.code != "" {
		t.Fatalf("order at the limits: HTTP %d %s %s", res.status, res.code, res.msg)
	}
}

// TestInstanceQuotaThroughAPI orders instances concurrently past the
// account's cap: exactly the cap succeed, the rest get
// BIZ_INSTANCE_QUOTA_EXCEEDED, and deleting one makes room again.
func TestInstanceQuotaThroughAPI(t *testing.T) {
	const limit = 3
	m := startMain(t, limitsNoThrottle, func(m *Main) { m.MaxInstances = limit })
	c := kafkaClient(t, m.ListenAddr())
	order := func() error {
		req := alikafka.CreateCreatePostPayOrderRequest()
		req.DeployType, req.DiskSize, req.DiskType, req.IoMaxSpec = "5", "500", "1", "alikafka.hw.2xlarge"
		_, err := c.CreatePostPayOrder(req)
		return err
	}
	var (
		wg        sync.WaitGroup
		ok, quota atomic.Int32
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := order()
			switch {
			case err == nil:
				ok.Add(1)
			case strings.Contains(err.Error(), "BIZ_INSTANCE_QUOTA_EXCEEDED"):
				quota.Add(1)
			default:
				t.Errorf("order: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != limit || quota.Load() != 8-limit {
		t.Fatalf("%d orders accepted and %d refused for the quota, want %d and %d", ok.Load(), quota.Load(), limit, 8-limit)
	}
	list, err := c.GetInstanceList(alikafka.CreateGetInstanceListRequest())
	if err != nil || len(list.InstanceList.InstanceVO) != limit {
		t.Fatalf("GetInstanceList: %v, %d instances, want %d", err, len(list.InstanceList.InstanceVO), limit)
	}
	wantBizErr(t, "order past the quota", order(), 400, "BIZ_INSTANCE_QUOTA_EXCEEDED")

	id := list.InstanceList.InstanceVO[0].InstanceId
	rel := alikafka.CreateReleaseInstanceRequest()
	rel.InstanceId = id
	if _, err := c.ReleaseInstance(rel); err != nil {
		t.Fatal(err)
	}
	wantBizErr(t, "order while the released instance still counts", order(), 400, "BIZ_INSTANCE_QUOTA_EXCEEDED")
	del := alikafka.CreateDeleteInstanceRequest()
	del.InstanceId = id
	if _, err := c.DeleteInstance(del); err != nil {
		t.Fatal(err)
	}
	if err := order(); err != nil {
		t.Fatalf("order after a delete: %v", err)
	}
}

// TestTopicAndGroupQuotasThroughAPI fills an instance to its TopicNumLimit
// (50) and its consumer-group limit (twice that), the last ones from
// concurrent callers: exactly the quota is created, the brokers hold no
// refused topic, and the rest are refused with the quota codes.
func TestTopicAndGroupQuotasThroughAPI(t *testing.T) {
	m := startMain(t, limitsNoThrottle)
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	if vo := describe(t, c, id); vo.TopicNumLimit != 50 {
		t.Fatalf("TopicNumLimit %d, want 50", vo.TopicNumLimit)
	}
	createTopic := func(name string) error {
		req := alikafka.CreateCreateTopicRequest()
		req.InstanceId, req.Topic, req.Remark, req.PartitionNum = id, name, "r", "1"
		_, err := c.CreateTopic(req)
		return err
	}
	createGroup := func(name string) error {
		req := alikafka.CreateCreateConsumerGroupRequest()
		req.InstanceId, req.ConsumerId = id, name
		_, err := c.CreateConsumerGroup(req)
		return err
	}
	fill := func(what string, create func(string) error, quota int, code string) {
		for i := range quota - 2 {
			if err := create(fmt.Sprintf("%s-%03d", what, i)); err != nil {
				t.Fatalf("%s %d: %v", what, i, err)
			}
		}
		var (
			wg          sync.WaitGroup
			ok, refused atomic.Int32
		)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := create(fmt.Sprintf("%s-last-%d", what, i))
				switch {
				case err == nil:
					ok.Add(1)
				case strings.Contains(err.Error(), code):
					refused.Add(1)
				default:
					t.Errorf("%s: %v", what, err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 2 || refused.Load() != 4 {
			t.Fatalf("%s: %d of the last 6 created and %d refused, want 2 and 4", what, ok.Load(), refused.Load())
		}
		wantBizErr(t, what+" past the quota", create(what+"-over"), 400, code)
	}
	fill("topic", createTopic, 50, "BIZ_TOPIC_QUOTA_EXCEEDED")
	fill("group", createGroup, 100, "BIZ_SUBSCRIPTION_QUOTA_EXCEEDED")

	req := alikafka.CreateGetTopicListRequest()
	req.InstanceId = id
	topics, err := c.GetTopicList(req)
	if err != nil || topics.Total != 50 {
		t.Fatalf("GetTopicList: %v, Total %d, want 50", err, topics.Total)
	}
	states, err := m.Runtime.Topics(context.Background(), id)
	if err != nil || len(states) != 50 {
		t.Fatalf("brokers hold %d topics (%v), want 50", len(states), err)
	}
	groups, err := m.DB.ListConsumerGroups(context.Background(), id)
	if err != nil || len(groups) != 100 {
		t.Fatalf("store holds %d groups (%v), want 100", len(groups), err)
	}
}

// TestModifyPartitionNumConcurrentThroughAPI adds one partition at a time
// from concurrent callers to a topic on real brokers: every addition counts.
func TestModifyPartitionNumConcurrentThroughAPI(t *testing.T) {
	m := startMain(t, withKafka(t), limitsNoThrottle)
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	ct := alikafka.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.Remark, ct.PartitionNum = id, "grows", "r", "1"
	if _, err := c.CreateTopic(ct); err != nil {
		t.Fatal(err)
	}
	const callers = 8
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := alikafka.CreateModifyPartitionNumRequest()
			req.InstanceId, req.Topic, req.AddPartitionNum = id, "grows", "1"
			if _, err := c.ModifyPartitionNum(req); err != nil {
				t.Errorf("ModifyPartitionNum: %v", err)
			}
		}()
	}
	wg.Wait()
	if vo := topicList(t, c, id)["grows"]; vo.PartitionNum != 1+callers {
		t.Errorf("PartitionNum %d after %d concurrent additions of one to 1, want %d", vo.PartitionNum, callers, 1+callers)
	}
	rec, err := m.DB.FindTopic(context.Background(), id, "grows")
	if err != nil || rec.PartitionNum != 1+callers {
		t.Errorf("stored PartitionNum %v (%v), want %d", rec, err, 1+callers)
	}
	// The limit counts what the topic has: 9 + 352 = 361 is refused.
	req := alikafka.CreateModifyPartitionNumRequest()
	req.InstanceId, req.Topic, req.AddPartitionNum = id, "grows", "352"
	_, err = c.ModifyPartitionNum(req)
	wantBizErr(t, "growing past 360", err, 400, "InvalidAddPartitionNum")
}

// TestDeleteInstanceDestroysDataFirst deletes a released instance whose
// brokers' data cannot be destroyed: the instance stays listed (released)
// so the call can be repeated, and once it succeeds the instance's topics
// and consumer groups are gone from the store too.
func TestDeleteInstanceDestroysDataFirst(t *testing.T) {
	m := startMain(t, limitsNoThrottle)
	var failDestroy atomic.Bool
	m.Runtime.(*broker.Fake).FailOn = func(call string) error {
		if failDestroy.Load() && strings.HasPrefix(call, "destroy ") {
			return fmt.Errorf("disk is read-only")
		}
		return nil
	}
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	ct := alikafka.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.Remark = id, "orders", "r"
	if _, err := c.CreateTopic(ct); err != nil {
		t.Fatal(err)
	}
	cg := alikafka.CreateCreateConsumerGroupRequest()
	cg.InstanceId, cg.ConsumerId = id, "billing"
	if _, err := c.CreateConsumerGroup(cg); err != nil {
		t.Fatal(err)
	}
	rel := alikafka.CreateReleaseInstanceRequest()
	rel.InstanceId = id
	if _, err := c.ReleaseInstance(rel); err != nil {
		t.Fatal(err)
	}

	failDestroy.Store(true)
	del := alikafka.CreateDeleteInstanceRequest()
	del.InstanceId = id
	if _, err := c.DeleteInstance(del); err == nil {
		t.Fatal("DeleteInstance succeeded although the data could not be destroyed")
	}
	if vo := describe(t, c, id); vo.ServiceStatus != 15 || vo.ViewInstanceStatusCode != 6 {
		t.Fatalf("after a failed destroy: ServiceStatus %d/%d, want 15/6 (released, deletable again)", vo.ServiceStatus, vo.ViewInstanceStatusCode)
	}

	failDestroy.Store(false)
	if _, err := c.DeleteInstance(del); err != nil {
		t.Fatalf("DeleteInstance again: %v", err)
	}
	list := alikafka.CreateGetInstanceListRequest()
	list.InstanceId = &[]string{id}
	if resp, err := c.GetInstanceList(list); err != nil || len(resp.InstanceList.InstanceVO) != 0 {
		t.Fatalf("after DeleteInstance: %v %+v", err, resp)
	}
	ctx := context.Background()
	if topics, err := m.DB.ListTopics(ctx, id); err != nil || len(topics) != 0 {
		t.Errorf("topics of the deleted instance: %d (%v)", len(topics), err)
	}
	if groups, err := m.DB.ListConsumerGroups(ctx, id); err != nil || len(groups) != 0 {
		t.Errorf("consumer groups of the deleted instance: %d (%v)", len(groups), err)
	}
}
