package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
)

// legacyCall is one typed call of the legacy Go SDK: the action and its
// parameters by the request struct's parameter names. A value "k=v" of a
// struct-list parameter (Tag) is one item with Key k and Value v; a value
// of a string-list parameter is split at commas.
type legacyCall struct {
	action string
	params map[string]string
}

// invokeLegacy builds the action's typed request by reflection (as its
// Create…Request function does), calls the client's method of that name
// and returns the typed response.
func invokeLegacy(t *testing.T, c *alikafka.Client, lc legacyCall) (any, error) {
	t.Helper()
	mv := reflect.ValueOf(c).MethodByName(lc.action)
	if !mv.IsValid() {
		t.Fatalf("the legacy client has no method %s", lc.action)
	}
	reqPtr := reflect.New(mv.Type().In(0).Elem())
	rpc := &requests.RpcRequest{}
	rpc.InitWithApiInfo("alikafka", "2019-09-16", lc.action, "alikafka", "openAPI")
	rpc.Method = requests.POST
	if lc.action == "QueryMessage" {
		rpc.Method = requests.GET
	}
	req := reqPtr.Elem()
	req.FieldByName("RpcRequest").Set(reflect.ValueOf(rpc))
	for name, v := range lc.params {
		if name == "RegionId" {
			rpc.RegionId = v
			continue
		}
		f, ok := fieldByParam(req, name)
		if !ok {
			t.Fatalf("%s has no parameter %s", lc.action, name)
		}
		setParam(t, f, v)
	}
	out := mv.Call([]reflect.Value{reqPtr})
	err, _ := out[1].Interface().(error)
	return out[0].Interface(), err
}

func fieldByParam(req reflect.Value, name string) (reflect.Value, bool) {
	rt := req.Type()
	for i := range rt.NumField() {
		if rt.Field(i).Tag.Get("name") == name {
			return req.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func setParam(t *testing.T, f reflect.Value, v string) {
	t.Helper()
	switch {
	case f.Kind() == reflect.String:
		f.SetString(v)
	case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Slice:
		et := f.Type().Elem().Elem()
		s := reflect.MakeSlice(f.Type().Elem(), 0, 1)
		for _, item := range strings.Split(v, ",") {
			if et.Kind() == reflect.String {
				s = reflect.Append(s, reflect.ValueOf(item))
				continue
			}
			k, val, _ := strings.Cut(item, "=")
			e := reflect.New(et).Elem()
			e.FieldByName("Key").SetString(k)
			e.FieldByName("Value").SetString(val)
			s = reflect.Append(s, e)
		}
		p := reflect.New(f.Type().Elem())
		p.Elem().Set(s)
		f.Set(p)
	default:
		t.Fatalf("cannot set a parameter of type %s", f.Type())
	}
}

// missingFields lists the json fields of the response model t that the
// answer v lacks, recursively into objects and every element of lists.
func missingFields(t reflect.Type, v any, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: not an object (%T)", path, v)}
		}
		var out []string
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				continue
			}
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "" || key == "-" {
				continue
			}
			sub, ok := m[key]
			if !ok {
				out = append(out, path+"."+key)
				continue
			}
			out = append(out, missingFields(f.Type, sub, path+"."+key)...)
		}
		return out
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: not a list (%T)", path, v)}
		}
		var out []string
		for i, e := range l {
			out = append(out, missingFields(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	return nil
}

// emptyLists lists the lists of objects in the answer v of model t that
// are empty, so that a call whose answer has nothing in them shows that
// their items' fields went unchecked.
func emptyLists(t reflect.Type, v any, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, _ := v.(map[string]any)
		var out []string
		for i := range t.NumField() {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous || key == "" {
				continue
			}
			out = append(out, emptyLists(f.Type, m[key], path+"."+key)...)
		}
		return out
	case reflect.Slice:
		l, _ := v.([]any)
		if t.Elem().Kind() == reflect.Struct && len(l) == 0 {
			return []string{path}
		}
		var out []string
		for i, e := range l {
			out = append(out, emptyLists(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	return nil
}

// TestLegacySDKTypedClient drives every action of the legacy Go SDK's
// typed client against a running server, in an order that gives each
// answer something to list, and checks that the answer carries every
// field of the action's response model, in the legacy SDK and in the
// newest one (the SDK itself leaves a missing
// field at its zero value without a word). Actions this build does not
// serve are skipped; TestEveryActionServed names them.
func TestLegacySDKTypedClient(t *testing.T) {
	m := startMain(t, withKafka(t), func(m *Main) {
		// Room above the 2/s actions' limits for a test that calls them
		// in quick succession.
		m.QPS = map[string]float64{}
		for _, a := range []string{"CreatePostPayOrder", "CreatePrePayOrder", "StartInstance", "UpdateInstanceConfig",
			"UpgradeInstanceVersion", "UpgradePostPayOrder", "UpgradePrePayOrder", "ConvertPostPayOrder", "ReleaseInstance"} {
			m.QPS[a] = 1000
		}
	})
	c := kafkaClient(t, m.ListenAddr())
	reg := m.Server.Registry()
	models := newestModels(t)

	// The instance under test and a second one for the subscription
	// actions are made through the same client.
	id := createRunning(t, c, "0.10.2")
	pre := createRunning(t, c, "2.2.0")
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	in := func(kv ...string) map[string]string {
		p := map[string]string{"InstanceId": id}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	topicRes := "Kafka_" + id + "_orders"
	calls := []legacyCall{
		{"CreatePostPayOrder", map[string]string{"DeployType": "5", "DiskSize": "500", "DiskType": "1", "IoMaxSpec": "alikafka.hw.2xlarge", "Tag": "team=a"}},
		{"CreatePrePayOrder", map[string]string{"DeployType": "5", "DiskSize": "500", "DiskType": "1", "IoMaxSpec": "alikafka.hw.2xlarge", "Duration": "1"}},
		{"GetAllInstanceIdList", map[string]string{}},
		{"ModifyInstanceName", in("InstanceName", "orders-main")},
		{"UpdateInstanceConfig", in("Config", `{"kafka.log.retention.hours":"72"}`)},
		{"EnableAutoTopicCreation", in("Operate", "enable")},
		{"EnableAutoGroupCreation", in("Enable", "true")},
		{"CreateTopic", in("Topic", "orders", "Remark", "orders", "PartitionNum", "6", "Tag", "team=a")},
		{"ModifyTopicRemark", in("Topic", "orders", "Remark", "all orders")},
		{"ModifyPartitionNum", in("Topic", "orders", "AddPartitionNum", "2")},
		{"UpdateTopicConfig", in("Topic", "orders", "Config", "retention.ms", "Value", "86400000")},
		{"GetTopicList", in()},
		{"GetTopicStatus", in("Topic", "orders")},
		{"CreateConsumerGroup", in("ConsumerId", "billing", "Remark", "billing", "Tag", "team=a")},
		{"GetConsumerList", in()},
		{"GetConsumerProgress", in("ConsumerId", "billing")},
		{"GetTopicSubscribeStatus", in("Topic", "orders")},
		{"UpdateConsumerOffset", in("ConsumerId", "billing", "Topic", "orders", "ResetType", "timestamp", "Time", now)},
		{"QueryMessage", in("Topic", "orders", "QueryType", "byOffset", "Partition", "0", "Offset", "0")},
		{"TagResources", map[string]string{"ResourceType": "instance", "ResourceId": id, "Tag": "env=test"}},
		{"ListTagResources", map[string]string{"ResourceType": "instance", "ResourceId": id}},
		{"UntagResources", map[string]string{"ResourceType": "TOPIC", "ResourceId": topicRes, "TagKey": "team"}},
		{"GetQuotaTip", in()},
		{"CreateSaslUser", in("Username", "alice", "Password", "alice-secret-1", "Type", "scram", "Mechanism", "SCRAM-SHA-256")},
		{"DescribeSaslUsers", in()},
		{"CreateAcl", in("Username", "alice", "AclResourceType", "Topic", "AclResourceName", "orders", "AclResourcePatternType", "LITERAL", "AclOperationType", "Read")},
		{"DescribeAcls", in("Username", "alice", "AclResourceType", "Topic", "AclResourceName", "orders")},
		{"DeleteAcl", in("Username", "alice", "AclResourceType", "Topic", "AclResourceName", "orders", "AclResourcePatternType", "LITERAL", "AclOperationType", "Read")},
		{"DeleteSaslUser", in("Username", "alice", "Type", "scram", "Mechanism", "SCRAM-SHA-256")},
		{"UpdateAllowedIp", in("AllowedListType", "vpc", "PortRange", "9092/9092", "AllowedListIp", "10.0.0.0/8", "UpdateType", "add", "Description", "office")},
		{"GetAllowedIpList", in()},
		{"UpgradePostPayOrder", in("DiskSize", "900", "EipModel", "false")},
		{"ChangeResourceGroup", map[string]string{"ResourceId": id, "NewResourceGroupId": "rg-orders"}},
		{"GetInstanceList", map[string]string{"InstanceId": id}},
		{"UpgradeInstanceVersion", in("TargetVersion", "2.2.0")},
		{"ConvertPostPayOrder", map[string]string{"InstanceId": pre}},
		{"UpgradePrePayOrder", map[string]string{"InstanceId": pre, "DiskSize": "800", "PaidType": "0"}},
		{"DeleteConsumerGroup", in("ConsumerId", "billing")},
		{"DeleteTopic", in("Topic", "orders")},
		{"StopInstance", in()},
		{"ReopenInstance", in()},
		{"ReleaseInstance", in("ForceDeleteInstance", "true")},
		{"DeleteInstance", in()},
	}
	// StartInstance ran in createRunning; it is checked here on a third
	// instance.
	or, err := c.CreatePostPayOrder(func() *alikafka.CreatePostPayOrderRequest {
		r := alikafka.CreateCreatePostPayOrderRequest()
		r.DeployType, r.DiskSize, r.DiskType, r.IoMaxSpec = "5", "500", "1", "alikafka.hw.2xlarge"
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	list := alikafka.CreateGetInstanceListRequest()
	list.OrderId = or.OrderId
	lr, err := c.GetInstanceList(list)
	if err != nil || len(lr.InstanceList.InstanceVO) != 1 {
		t.Fatalf("GetInstanceList(OrderId): %v", err)
	}
	calls = append([]legacyCall{{"StartInstance", map[string]string{"InstanceId": lr.InstanceList.InstanceVO[0].InstanceId,
		"VpcId": "vpc-1", "VSwitchId": "vsw-1", "ZoneId": "zonea", "ServiceVersion": "2.2.0"}}}, calls...)

	var driven []string
	queryPartition := "0" // a partition that holds records, once produced
	for _, lc := range calls {
		driven = append(driven, lc.action)
		t.Run(lc.action, func(t *testing.T) {
			if _, err := reg.Lookup("2019-09-16", lc.action); err != nil {
				t.Skipf("%s is not served by this build", lc.action)
			}
			// Each call needs the instance settled from the one before (an
			// upgrade, a specification change, a stop).
			waitSettled(t, c, id)
			if lc.action == "GetConsumerProgress" {
				// Records to find and a group that consumed and committed
				// some, so that the lists of messages and progress have
				// items whose fields are checked too.
				endpoint := describe(t, c, id).EndPoint
				produce(t, kgoClient(t, endpoint), "orders", "order", 20, false)
				cl, got := groupConsumer(t, endpoint, "billing", "orders", 20)
				cl.Close()
				queryPartition = strconv.Itoa(int(got[0].Partition))
			}
			if lc.action == "QueryMessage" {
				lc.params["Partition"] = queryPartition
			}
			resp, err := invokeLegacy(t, c, lc)
			if err != nil {
				t.Fatalf("%s: %v", lc.action, err)
			}
			raw := resp.(responses.AcsResponse).GetHttpContentBytes()
			var body any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("%s: answer is not JSON: %v", lc.action, err)
			}
			rt := reflect.TypeOf(resp)
			if missing := missingFields(rt, body, lc.action); len(missing) > 0 {
				t.Errorf("the answer lacks fields of the SDK's model: %s\n%s", strings.Join(missing, ", "), raw)
			}
			if missing := missingNewest(models[lc.action], body, lc.action); len(missing) > 0 {
				t.Errorf("the answer lacks fields of the newest SDK's model: %s\n%s", strings.Join(missing, ", "), raw)
			}
			if empty := emptyLists(rt, body, lc.action); len(empty) > 0 {
				t.Logf("lists with no items, whose item fields went unchecked: %s", strings.Join(empty, ", "))
			}
		})
	}
	slices.Sort(driven)
	if want := legacySDKActions(); !slices.Equal(driven, want) {
		t.Errorf("driven actions %v\nwant the SDK's %v", driven, want)
	}
}

// waitSettled waits until the instance is in a settled status: running,
// stopped or released (ServiceStatus 5 or 15), or gone.
func waitSettled(t *testing.T, c *alikafka.Client, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req := alikafka.CreateGetInstanceListRequest()
		req.InstanceId = &[]string{id}
		resp, err := c.GetInstanceList(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.InstanceList.InstanceVO) == 0 {
			return
		}
		if s := resp.InstanceList.InstanceVO[0].ServiceStatus; s == 5 || s == 15 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s did not settle: %+v", id, resp.InstanceList.InstanceVO[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
