package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// must sends r until it is accepted, for the setup that the run stands on.
func (d *driver) must(ctx context.Context, kind string, r request) (answer, error) {
	var a answer
	for range 10 {
		if a = d.do(ctx, kind, r); a.out == accepted {
			return a, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return a, fmt.Errorf("%s %s: HTTP %d %s %v %.300s", r.product, r.action, a.status, a.code, a.err, a.raw)
}

// setup makes the account's two RAM users (full and read-only access to
// alikafka) and, for the data account, the instance the producers use.
func (d *driver) setup(ctx context.Context, withData bool) error {
	for _, u := range []struct {
		p      *principal
		name   string
		policy string
	}{{&d.full, "chaos-full", "AliyunKafkaFullAccess"}, {&d.ro, "chaos-ro", "AliyunKafkaReadOnlyAccess"}} {
		if _, err := d.must(ctx, "setup", d.ram("CreateUser", vals("UserName", u.name), "v3")); err != nil {
			return err
		}
		a, err := d.must(ctx, "setup", d.ram("CreateAccessKey", vals("UserName", u.name), "v3"))
		if err != nil {
			return err
		}
		key, _ := a.body["AccessKey"].(map[string]any)
		id, _ := key["AccessKeyId"].(string)
		secret, _ := key["AccessKeySecret"].(string)
		*u.p = principal{name: u.name, id: id, secret: secret}
		if _, err := d.must(ctx, "setup", d.ram("AttachPolicyToUser", vals("UserName", u.name, "PolicyName", u.policy, "PolicyType", "System"), "v3")); err != nil {
			return err
		}
	}
	if !withData {
		return nil
	}
	a, err := d.must(ctx, "setup", d.kafka("CreatePostPayOrder", vals("DeployType", "5", "DiskSize", "500", "DiskType", "1", "IoMaxSpec", "alikafka.hw.2xlarge"), "v3"))
	if err != nil {
		return err
	}
	orderID, _ := a.body["OrderId"].(string)
	in := newInstance(orderID)
	d.resolve(ctx, in)
	if in.id == "" {
		return errors.New("the data instance's id is not found by its OrderId")
	}
	if _, err := d.must(ctx, "setup", d.kafka("StartInstance", vals("InstanceId", in.id, "VpcId", "vpc-chaos", "VSwitchId", "vsw-chaos", "ZoneId", "zonei", "ServiceVersion", "0.10.2"), "v3")); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := d.do(ctx, "setup", d.kafka("GetInstanceList", vals("InstanceId", in.id), "v3"))
		if vos := instanceVOs(a.body); len(vos) == 1 && num(vos[0]["ServiceStatus"]) == 5 {
			d.dataEndpoint, _ = vos[0]["EndPoint"].(string)
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the data instance did not reach Running")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := d.must(ctx, "setup", d.kafka("CreateTopic", vals("InstanceId", in.id, "Topic", dataTopic, "Remark", "chaos", "PartitionNum", "3"), "v3")); err != nil {
		return err
	}
	in.data = true
	in.states = map[istate]bool{{l: lRunning, ver: "0.10.2"}: true}
	in.topics[dataTopic] = maybePresent
	d.data = in
	d.acct.all = append(d.acct.all, in)
	return nil
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// transient is the ServiceStatus of an instance an operation is moving.
func transient(ss int) bool { return ss == 1 || ss == 8 }

// settle waits until no instance of the account is deploying or upgrading;
// one still moving bound after the last kill is stuck.
func (d *driver) settle(ctx context.Context, since time.Time, bound time.Duration) {
	for {
		a := d.do(ctx, "settle:GetInstanceList", d.kafka("GetInstanceList", url.Values{}, "v3"))
		var moving []string
		for _, vo := range instanceVOs(a.body) {
			if ss := num(vo["ServiceStatus"]); transient(ss) {
				moving = append(moving, fmt.Sprintf("%v (ServiceStatus %d, ViewInstanceStatusCode %d)", vo["InstanceId"], ss, num(vo["ViewInstanceStatusCode"])))
			}
		}
		if a.out == accepted && len(moving) == 0 {
			return
		}
		if time.Since(since) > bound {
			d.rep.violation("%s: stuck outside Running %v after the last kill: %s", d.name, bound, strings.Join(moving, ", "))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lifeOf maps a ServiceStatus and ViewInstanceStatusCode pair back to the
// model's lifecycle state; Stopped and Released share ServiceStatus 15 and
// differ in the view code.
func lifeOf(ss, view int) (life, bool) {
	for l, s := range serviceStatus {
		if s == ss && viewStatus[l] == view {
			return l, true
		}
	}
	return 0, false
}

// check compares what the API shows now with what the model allows.
func (d *driver) check(ctx context.Context) {
	for _, in := range d.acct.all {
		if in.id == "" {
			d.resolve(ctx, in)
		}
	}
	a := d.do(ctx, "check", d.kafka("GetInstanceList", url.Values{}, "v3"))
	if a.out != accepted {
		d.violate(fmt.Sprintf("final GetInstanceList: HTTP %d %s %v", a.status, a.code, a.err))
		return
	}
	observed := map[string]map[string]any{}
	for _, vo := range instanceVOs(a.body) {
		id, _ := vo["InstanceId"].(string)
		observed[id] = vo
	}
	known := map[string]bool{}
	for _, in := range d.acct.all {
		if in.id == "" {
			// Bought, never found by its OrderId: it may show as an
			// extra pending instance.
			d.acct.maybeOrders++
			continue
		}
		known[in.id] = true
		if in.lost {
			continue
		}
		vo, ok := observed[in.id]
		if !ok {
			d.rep.checked("instances gone", 1)
			if !in.states[istate{l: lDeleted}] {
				d.violate(fmt.Sprintf("instance %s is gone; the model allows only %s", in.id, in.stateList()))
			}
			continue
		}
		ss, view := num(vo["ServiceStatus"]), num(vo["ViewInstanceStatusCode"])
		info, _ := vo["UpgradeServiceDetailInfo"].(map[string]any)
		ver, _ := info["Current2OpenSourceVersion"].(string)
		l, okL := lifeOf(ss, view)
		match := false
		for s := range in.states {
			if okL && s.l == l && (s.ver == ver || l == lPending) {
				match = true
			}
		}
		if !match {
			d.violate(fmt.Sprintf("instance %s shows ServiceStatus %d/%d version %q; the model allows only %s", in.id, ss, view, ver, in.stateList()))
			continue
		}
		d.rep.checked("instances "+l.String(), 1)
		if view != viewStatus[l] {
			d.violate(fmt.Sprintf("instance %s shows ServiceStatus %d with ViewInstanceStatusCode %d, want %d", in.id, ss, view, viewStatus[l]))
		}
		d.checkOperations(ctx, in.id)
		if l == lRunning {
			d.checkNames(ctx, in, "GetTopicList", "TopicList", "TopicVO", "Topic", in.topics, "t-")
			d.checkNames(ctx, in, "GetConsumerList", "ConsumerList", "ConsumerVO", "ConsumerId", in.groups, "g-")
		}
	}
	extra := 0
	for id, vo := range observed {
		if known[id] {
			continue
		}
		extra++
		if ss := num(vo["ServiceStatus"]); ss != 0 {
			d.violate(fmt.Sprintf("instance %s, which no accepted call made, shows ServiceStatus %d", id, ss))
		}
	}
	if extra > d.acct.maybeOrders {
		d.violate(fmt.Sprintf("%d instances no accepted call made, but only %d orders had an unknown outcome", extra, d.acct.maybeOrders))
	}
	d.checkRAM(ctx)
}

// checkNames compares an instance's topics or groups with the model; names
// made by Kafka clients (AutoCreate) and outside the model's prefix are
// not the model's.
func (d *driver) checkNames(ctx context.Context, in *instance, action, list, item, field string, model map[string]tri, prefix string) {
	a := d.do(ctx, "check", d.kafka(action, vals("InstanceId", in.id, "PageSize", "1000"), "v3"))
	if a.out != accepted {
		d.violate(fmt.Sprintf("final %s %s: HTTP %d %s %v", action, in.id, a.status, a.code, a.err))
		return
	}
	seen := map[string]bool{}
	l, _ := a.body[list].(map[string]any)
	items, _ := l[item].([]any)
	for _, x := range items {
		m, _ := x.(map[string]any)
		name, _ := m[field].(string)
		if auto, _ := m["AutoCreate"].(bool); auto {
			continue
		}
		seen[name] = true
		if _, ok := model[name]; !ok && (strings.HasPrefix(name, prefix) || name == dataTopic) {
			d.violate(fmt.Sprintf("%s %s on %s: no accepted call made it", action, name, in.id))
		}
	}
	d.rep.checked(action+" names", len(model))
	for name, t := range model {
		if seen[name] && t&maybePresent == 0 || !seen[name] && t&maybeAbsent == 0 {
			d.violate(fmt.Sprintf("%s on %s: %s is %s; the model says %s", action, in.id, name, presenceWord(seen[name]), t))
		}
	}
}

// checkRAM compares users, custom policies and attachments with the model.
func (d *driver) checkRAM(ctx context.Context) {
	names := func(action, list, item, field string, params url.Values) (map[string]bool, bool) {
		a := d.do(ctx, "check", d.ram(action, params, "v3"))
		if a.out != accepted {
			d.violate(fmt.Sprintf("final %s: HTTP %d %s %v", action, a.status, a.code, a.err))
			return nil, false
		}
		out := map[string]bool{}
		l, _ := a.body[list].(map[string]any)
		items, _ := l[item].([]any)
		for _, x := range items {
			m, _ := x.(map[string]any)
			if t, ok := m["PolicyType"].(string); ok && t != "Custom" {
				continue
			}
			n, _ := m[field].(string)
			out[n] = true
		}
		return out, true
	}
	compare := func(what string, seen map[string]bool, model map[string]tri, all []string) {
		kind, _, _ := strings.Cut(what, " of ")
		d.rep.checked(kind, len(all))
		for _, n := range all {
			t, ok := model[n]
			if !ok {
				t = maybeAbsent
			}
			if seen[n] && t&maybePresent == 0 || !seen[n] && t&maybeAbsent == 0 {
				d.violate(fmt.Sprintf("%s %s is %s; the model says %s", what, n, presenceWord(seen[n]), t))
			}
		}
	}
	var users, policies []string
	for i := range userNames {
		users = append(users, userName(i))
	}
	for i := range policyNames {
		policies = append(policies, policyName(i))
	}
	u, ok := names("ListUsers", "Users", "User", "UserName", vals("MaxItems", "1000"))
	if !ok {
		return
	}
	if !u["chaos-full"] || !u["chaos-ro"] {
		d.violate("the setup's RAM users are gone")
	}
	compare("RAM user", u, d.acct.users, users)
	p, ok := names("ListPolicies", "Policies", "Policy", "PolicyName", vals("PolicyType", "Custom", "MaxItems", "1000"))
	if !ok {
		return
	}
	compare("custom policy", p, d.acct.policies, policies)
	for _, user := range users {
		if !u[user] {
			continue
		}
		att, ok := names("ListPoliciesForUser", "Policies", "Policy", "PolicyName", vals("UserName", user))
		if !ok {
			continue
		}
		model := map[string]tri{}
		for _, pol := range policies {
			model[pol] = d.acct.attachment(user, pol)
		}
		compare("attachment of "+user+" to", att, model, policies)
	}
}

// checkOperations requires every operation of an instance to have
// completed: none failed, none left behind by a kill.
func (d *driver) checkOperations(ctx context.Context, id string) {
	a := d.do(ctx, "check", d.kafka("ListInstanceOperations", vals("InstanceId", id), "v3"))
	if a.out != accepted {
		d.violate(fmt.Sprintf("final ListInstanceOperations %s: HTTP %d %s %v", id, a.status, a.code, a.err))
		return
	}
	l, _ := a.body["Operations"].(map[string]any)
	items, _ := l["OperationVO"].([]any)
	for _, x := range items {
		op, _ := x.(map[string]any)
		state, _ := op["OperationState"].(string)
		d.rep.operation(state, num(op["Attempts"]))
		if state != "COMPLETE" {
			d.violate(fmt.Sprintf("operation %v (%v) of %s is %s after %d claims: %v", op["OperationId"], op["OperationType"], id, state, num(op["Attempts"]), op["ErrorInfo"]))
		}
	}
}
