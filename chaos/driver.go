package chaos

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// driver issues one account's operations, one at a time, and keeps its
// model.
type driver struct {
	rep      *Report
	hc       *http.Client
	srv      *server
	acct     *account
	root     principal
	full, ro principal // RAM users with AliyunKafkaFullAccess / ReadOnlyAccess
	data     *instance
	name     string
	// dataEndpoint is the data instance's bootstrap list.
	dataEndpoint string
	// hints tells the killer that an operation (deploy, roll) has just
	// begun on this account's server: a moment to kill it.
	hints chan<- *driver
	// inflight tells the killer that a request is being sent: a moment
	// to cut it, between the server's commit and its answer.
	inflight chan<- *driver
}

func (d *driver) hint(a answer) {
	if a.out != accepted || d.hints == nil {
		return
	}
	select {
	case d.hints <- d:
	default:
	}
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// do sends r, waiting for the server and retrying while the connection is
// refused (the request never arrived), checks the envelope and counts the
// outcome under kind.
func (d *driver) do(ctx context.Context, kind string, r request) answer {
	var a answer
	for attempt := 0; attempt < 5; attempt++ {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		d.srv.waitUp(wctx)
		cancel()
		req, err := r.build(ctx, d.srv.addr, time.Now())
		if err != nil {
			d.rep.violation("%s: %s %s: cannot build the request: %v", d.name, kind, r.action, err)
			return answer{out: down}
		}
		if d.inflight != nil {
			select {
			case d.inflight <- d:
			default:
			}
		}
		var envErr error
		a, envErr = send(d.hc, req, r.product)
		if envErr != nil {
			d.rep.violation("%s: %s (%s %s): not a well-formed envelope: %v", d.name, kind, r.product, r.action, envErr)
		}
		if a.out != down {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.rep.count(kind, a)
	return a
}

func (d *driver) kafka(action string, params url.Values, sig string) request {
	return request{product: "alikafka", action: action, params: withRegion(params), sig: sig, as: d.root}
}

func (d *driver) ram(action string, params url.Values, sig string) request {
	return request{product: "ram", action: action, params: params, sig: sig, as: d.root}
}

func withRegion(v url.Values) url.Values {
	if v.Get("RegionId") == "" {
		v.Set("RegionId", "cn-hangzhou")
	}
	return v
}

// slotID is the id of the instance in slot, or an id no instance has.
func (d *driver) slotID(ctx context.Context, slot int) (*instance, string) {
	in := d.acct.slots[slot]
	if in != nil && in.id == "" {
		d.resolve(ctx, in)
	}
	if in == nil || in.id == "" {
		return nil, fmt.Sprintf("alikafka_post-cn-chaosnoslot%d", slot)
	}
	return in, in.id
}

// resolve finds the id of an instance bought by OrderId.
func (d *driver) resolve(ctx context.Context, in *instance) {
	a := d.do(ctx, "GetInstanceList", d.kafka("GetInstanceList", vals("OrderId", in.orderID), "v1"))
	if a.out != accepted {
		return
	}
	for _, vo := range instanceVOs(a.body) {
		if id, _ := vo["InstanceId"].(string); id != "" {
			in.id = id
		}
	}
}

func instanceVOs(body map[string]any) []map[string]any {
	list, _ := body["InstanceList"].(map[string]any)
	raw, _ := list["InstanceVO"].([]any)
	var out []map[string]any
	for _, x := range raw {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (d *driver) violate(v string) {
	if v != "" {
		d.rep.violation("%s: %s", d.name, v)
	}
}

func topicName(n int) string { return fmt.Sprintf("t-%d", n%topicNames) }
func groupName(n int) string { return fmt.Sprintf("g-%d", n%groupNames) }
func userName(n int) string  { return fmt.Sprintf("u-%d", n%userNames) }
func policyName(m int) string {
	return fmt.Sprintf("p-%d", m%policyNames)
}

const customPolicy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["alikafka:List*"],"Resource":"*"}]}`

// running is f for calls that need a running instance and leave it so.
func running(s istate) (istate, bool) { return s, s.l == lRunning }

// exec runs one operation and folds its outcome into the model.
func (d *driver) exec(ctx context.Context, o op) {
	switch o.kind {
	case "CreatePostPayOrder":
		if in := d.acct.slots[o.slot]; in != nil && !in.only(lDeleted) && !in.lost {
			// The slot is taken: read instead, the sequence stays the same.
			d.do(ctx, "GetInstanceList", d.kafka("GetInstanceList", url.Values{}, o.sig))
			return
		}
		a := d.do(ctx, o.kind, d.kafka(o.kind, vals("DeployType", "5", "DiskSize", "500", "DiskType", "1",
			"IoMaxSpec", "alikafka.hw.2xlarge"), o.sig))
		switch a.out {
		case accepted:
			orderID, _ := a.body["OrderId"].(string)
			in := newInstance(orderID)
			d.acct.slots[o.slot] = in
			d.acct.all = append(d.acct.all, in)
			d.resolve(ctx, in)
		case uncertain:
			d.acct.maybeOrders++
		}
	case "StartInstance":
		in, id := d.slotID(ctx, o.slot)
		a := d.do(ctx, o.kind, d.kafka(o.kind, vals("InstanceId", id, "VpcId", "vpc-chaos", "VSwitchId", "vsw-chaos",
			"ZoneId", "zonei", "ServiceVersion", o.arg), o.sig))
		d.instanceEffect(in, id, o.kind, a, func(s istate) (istate, bool) {
			return istate{l: lDeploying, ver: o.arg}, s.l == lPending
		})
		d.hint(a)
	case "StopInstance", "ReopenInstance", "ReleaseInstance", "DeleteInstance", "ModifyInstanceName":
		in, id := d.slotID(ctx, o.slot)
		p := vals("InstanceId", id)
		switch o.kind {
		case "ReleaseInstance":
			p.Set("ReleaseIgnoreTime", "true")
		case "ModifyInstanceName":
			p.Set("InstanceName", fmt.Sprintf("chaos-name-%d", o.n))
		}
		a := d.do(ctx, o.kind, d.kafka(o.kind, p, o.sig))
		d.instanceEffect(in, id, o.kind, a, lifecycle[o.kind])
	case "UpgradeInstanceVersion", "UpgradeDataInstance":
		in, id := d.slotID(ctx, o.slot)
		target := o.arg
		if o.kind == "UpgradeDataInstance" {
			if d.data == nil {
				// This account carries no traffic: read instead.
				d.do(ctx, "GetInstanceList", d.kafka("GetInstanceList", url.Values{}, o.sig))
				return
			}
			in, id, target = d.data, d.data.id, "2.2.0"
		}
		a := d.do(ctx, o.kind, d.kafka("UpgradeInstanceVersion", vals("InstanceId", id, "TargetVersion", target), o.sig))
		d.instanceEffect(in, id, o.kind, a, func(s istate) (istate, bool) {
			return istate{l: lUpgrading, ver: s.ver, to: target}, s.l == lRunning && s.ver == "0.10.2" && target == "2.2.0"
		})
		d.hint(a)
	case "CreateTopic", "DeleteTopic", "FullUserCreateTopic":
		in, id := d.slotID(ctx, o.slot)
		action := strings.TrimPrefix(o.kind, "FullUser")
		p := vals("InstanceId", id, "Topic", topicName(o.n))
		if action == "CreateTopic" {
			p.Set("Remark", "chaos")
			p.Set("PartitionNum", strconv.Itoa(1+o.n%3))
		}
		r := d.kafka(action, p, o.sig)
		if o.kind == "FullUserCreateTopic" {
			r.as = d.full
		}
		a := d.do(ctx, o.kind, r)
		d.instanceEffect(in, id, o.kind, a, running)
		if in != nil && !in.lost && setTri(in.topics, topicName(o.n), action == "CreateTopic", a.out) {
			d.violate(fmt.Sprintf("%s %s on %s was accepted, but the model says the topic is %s", action, topicName(o.n), id, presenceWord(action == "CreateTopic")))
		}
	case "ModifyTopicRemark":
		_, id := d.slotID(ctx, o.slot)
		d.do(ctx, o.kind, d.kafka(o.kind, vals("InstanceId", id, "Topic", topicName(o.n), "Remark", fmt.Sprintf("remark-%d", o.m)), o.sig))
	case "CreateConsumerGroup", "DeleteConsumerGroup":
		in, id := d.slotID(ctx, o.slot)
		a := d.do(ctx, o.kind, d.kafka(o.kind, vals("InstanceId", id, "ConsumerId", groupName(o.n)), o.sig))
		d.instanceEffect(in, id, o.kind, a, running)
		if in != nil && !in.lost && setTri(in.groups, groupName(o.n), o.kind == "CreateConsumerGroup", a.out) {
			d.violate(fmt.Sprintf("%s %s on %s was accepted, but the model says the group is %s", o.kind, groupName(o.n), id, presenceWord(o.kind == "CreateConsumerGroup")))
		}
	case "GetInstanceList":
		d.do(ctx, o.kind, d.kafka(o.kind, url.Values{}, o.sig))
	case "GetTopicList", "ListInstanceOperations":
		_, id := d.slotID(ctx, o.slot)
		d.do(ctx, o.kind, d.kafka(o.kind, vals("InstanceId", id), o.sig))
	case "CreateUser", "DeleteUser":
		u := userName(o.n)
		a := d.do(ctx, o.kind, d.ram(o.kind, vals("UserName", u), o.sig))
		if setTri(d.acct.users, u, o.kind == "CreateUser", a.out) {
			d.violate(fmt.Sprintf("%s %s was accepted, but the model says the user is %s", o.kind, u, presenceWord(o.kind == "CreateUser")))
		}
		if o.kind == "DeleteUser" {
			d.acct.dropAttachments(u, false, a.out)
		}
	case "CreatePolicy", "DeletePolicy":
		p := policyName(o.m)
		params := vals("PolicyName", p)
		if o.kind == "CreatePolicy" {
			params.Set("PolicyDocument", customPolicy)
		}
		a := d.do(ctx, o.kind, d.ram(o.kind, params, o.sig))
		if setTri(d.acct.policies, p, o.kind == "CreatePolicy", a.out) {
			d.violate(fmt.Sprintf("%s %s was accepted, but the model says the policy is %s", o.kind, p, presenceWord(o.kind == "CreatePolicy")))
		}
		if o.kind == "DeletePolicy" {
			d.acct.dropAttachments(p, true, a.out)
		}
	case "AttachPolicyToUser", "DetachPolicyFromUser":
		u, p := userName(o.n), policyName(o.m)
		a := d.do(ctx, o.kind, d.ram(o.kind, vals("UserName", u, "PolicyName", p, "PolicyType", "Custom"), o.sig))
		attach := o.kind == "AttachPolicyToUser"
		if a.out == accepted && attach && (d.acct.users[u]&maybePresent == 0 || d.acct.policies[p]&maybePresent == 0) {
			d.violate(fmt.Sprintf("AttachPolicyToUser %s %s was accepted, but the model says user %s and policy %s", u, p, d.acct.users[u], d.acct.policies[p]))
		}
		m := map[string]tri{"x": d.acct.attachment(u, p)}
		if setTri(m, "x", attach, a.out) {
			d.violate(fmt.Sprintf("%s %s %s was accepted, but the model says the attachment is %s", o.kind, u, p, presenceWord(attach)))
		}
		d.acct.attached[[2]string{u, p}] = m["x"]
	case "ListUsers":
		d.do(ctx, o.kind, d.ram(o.kind, url.Values{}, o.sig))
	case "ReadOnlyUserRead":
		r := d.kafka("GetInstanceList", url.Values{}, o.sig)
		r.as = d.ro
		a := d.do(ctx, o.kind, r)
		if a.out == refused && !strings.HasPrefix(a.code, "Throttling") {
			d.violate(fmt.Sprintf("GetInstanceList as a user with AliyunKafkaReadOnlyAccess was refused: %d %s", a.status, a.code))
		}
	case "ReadOnlyUserWrite":
		_, id := d.slotID(ctx, o.slot)
		r := d.kafka("CreateTopic", vals("InstanceId", id, "Topic", topicName(o.n), "Remark", "ro"), o.sig)
		r.as = d.ro
		a := d.do(ctx, o.kind, r)
		if a.out == accepted || (a.out == refused && a.code != "Forbidden.RAM" && !strings.HasPrefix(a.code, "Throttling")) {
			d.violate(fmt.Sprintf("CreateTopic on %s as a user with AliyunKafkaReadOnlyAccess: HTTP %d %s, want 403 Forbidden.RAM", id, a.status, a.code))
		}
	case "Hostile":
		d.hostile(ctx, o)
	default:
		panic("chaos: no executor for " + o.kind)
	}
}

func presenceWord(create bool) string {
	if create {
		return "present"
	}
	return "absent"
}

// lifecycle maps each lifecycle action to the transition it makes.
var lifecycle = map[string]func(istate) (istate, bool){
	"StopInstance": func(s istate) (istate, bool) { return istate{l: lStopped, ver: s.ver}, s.l == lRunning },
	"ReopenInstance": func(s istate) (istate, bool) {
		return istate{l: lRunning, ver: s.ver}, s.l == lStopped
	},
	"ReleaseInstance": func(s istate) (istate, bool) {
		return istate{l: lReleased, ver: s.ver}, s.l == lRunning || s.l == lStopped || s.l == lPending
	},
	"DeleteInstance":     func(s istate) (istate, bool) { return istate{l: lDeleted}, s.l == lReleased },
	"ModifyInstanceName": func(s istate) (istate, bool) { return s, s.l != lDeleted },
}

// instanceEffect folds an instance call's answer into in's model; calls
// on ids the model does not know must not be accepted.
func (d *driver) instanceEffect(in *instance, id, kind string, a answer, f func(istate) (istate, bool)) {
	if in == nil {
		if a.out == accepted {
			d.violate(fmt.Sprintf("%s on %s, an id no accepted call produced, was accepted", kind, id))
		}
		return
	}
	d.violate(in.apply(kind, a.out, f))
}
