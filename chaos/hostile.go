package chaos

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// hostile sends one malformed, unauthorised or oversized request. Each
// must be refused with an error envelope (HTTP 4xx): an accepted one, or
// a 5xx, is a violation. None of them may change anything, which the final
// model check sees.
func (d *driver) hostile(ctx context.Context, o op) {
	_, id := d.slotID(ctx, o.slot)
	kind := "Hostile:" + o.arg
	var r request
	switch o.arg {
	case "unknown-action":
		r = d.kafka("DescribeChaosNothing", vals("InstanceId", id), o.sig)
	case "bad-signature":
		r = d.kafka("CreatePostPayOrder", vals("DeployType", "5", "DiskSize", "500", "DiskType", "1", "IoMaxSpec", "alikafka.hw.2xlarge"), o.sig)
		r.as.secret += "x"
	case "unknown-key":
		r = d.kafka("ReleaseInstance", vals("InstanceId", id), o.sig)
		r.as = principal{id: "LTAIchaosnosuchkey0001", secret: "nosuchsecret"}
	case "stale-timestamp":
		r = d.kafka("StopInstance", vals("InstanceId", id), o.sig)
		d.hostileAt(ctx, kind, r, time.Now().Add(-2*time.Hour))
		return
	case "bad-version":
		r = d.kafka("DeleteInstance", vals("InstanceId", id), o.sig)
		r.version = "2000-01-01"
	case "negative-disk":
		r = d.kafka("CreatePostPayOrder", vals("DeployType", "5", "DiskSize", "-500", "DiskType", "1", "IoMaxSpec", "alikafka.hw.2xlarge"), o.sig)
	case "negative-partitions":
		r = d.kafka("CreateTopic", vals("InstanceId", id, "Topic", topicName(o.n), "Remark", "x", "PartitionNum", "-3"), o.sig)
	case "huge-partitions":
		r = d.kafka("CreateTopic", vals("InstanceId", id, "Topic", topicName(o.n), "Remark", "x", "PartitionNum", "99999999999999999999"), o.sig)
	case "negative-page":
		r = d.kafka("GetTopicList", vals("InstanceId", id, "CurrentPage", "-5", "PageSize", "-1"), o.sig)
	case "bad-max-items":
		r = d.ram("ListUsers", vals("MaxItems", "-5"), o.sig)
	case "huge-query-string":
		r = d.kafka("ModifyInstanceName", vals("InstanceId", id, "InstanceName", strings.Repeat("n", 100_000)), o.sig)
	case "huge-form-body":
		r = d.kafka("ModifyTopicRemark", vals("InstanceId", id, "Topic", topicName(o.n)), o.sig)
		r.body = vals("Remark", strings.Repeat("r", 2<<20))
	case "duplicate-instance-id":
		r = d.kafka("StopInstance", url.Values{}, o.sig)
		r.extra = url.Values{"InstanceId": {"alikafka_post-cn-chaosdupa", "alikafka_post-cn-chaosdupb"}}
	case "missing-required":
		r = d.kafka("StartInstance", vals("InstanceId", id, "VSwitchId", "vsw", "ZoneId", "zonei"), o.sig)
	case "injection-id":
		r = d.kafka("DeleteInstance", vals("InstanceId", "x' OR '1'='1"), o.sig)
	case "nul-topic":
		r = d.kafka("CreateTopic", vals("InstanceId", id, "Topic", "t\x00-"+topicName(o.n), "Remark", "x"), o.sig)
	case "bad-config-json":
		r = d.kafka("UpdateInstanceConfig", vals("InstanceId", id, "Config", `{"kafka.log.retention.hours":`), o.sig)
	case "bad-target-version":
		r = d.kafka("UpgradeInstanceVersion", vals("InstanceId", id, "TargetVersion", "../../2.2.0"), o.sig)
	case "long-topic-name":
		r = d.kafka("CreateTopic", vals("InstanceId", id, "Topic", strings.Repeat("t", 65), "Remark", "x"), o.sig)
	case "duplicate-action":
		r = d.kafka("DeleteInstance", vals("InstanceId", "alikafka_post-cn-chaosdup"), "v1")
		r.extra = url.Values{"Action": {"DescribeChaosNothing"}}
	case "bad-path":
		// A client whose endpoint carries a path.
		r = d.kafka("GetInstanceList", url.Values{}, o.sig)
		r.mutate = func(req *http.Request) { req.URL.Path = "/api/" }
	case "wrong-method":
		r = d.kafka("GetInstanceList", url.Values{}, o.sig)
		r.mutate = func(req *http.Request) { req.Method = http.MethodPut }
	case "xml-default":
		// No Format: the error comes in Alibaba's default, XML.
		r = d.kafka("DescribeChaosNothing", url.Values{}, "v1")
		r.mutate = func(req *http.Request) {
			q := req.URL.Query()
			q.Del("Format")
			req.URL.RawQuery = q.Encode()
		}
	case "replay":
		d.replay(ctx, kind, d.kafka("GetInstanceList", url.Values{}, o.sig))
		return
	default:
		panic("chaos: no hostile request " + o.arg)
	}
	d.hostileAt(ctx, kind, r, time.Now())
}

// hostileAt sends r signed at now and requires a refusal.
func (d *driver) hostileAt(ctx context.Context, kind string, r request, now time.Time) {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	d.srv.waitUp(wctx)
	cancel()
	req, err := r.build(ctx, d.srv.addr, now)
	if err != nil {
		d.rep.violation("%s: %s: cannot build: %v", d.name, kind, err)
		return
	}
	a, envErr := send(d.hc, req, r.product)
	d.rep.count(kind, a)
	if envErr != nil {
		d.rep.violation("%s: %s (%s): not a well-formed envelope: %v", d.name, kind, r.action, envErr)
		return
	}
	d.mustRefuse(kind, r.action, a)
}

func (d *driver) mustRefuse(kind, action string, a answer) {
	switch {
	case a.err != nil:
		// A kill cut the connection; the model check still sees any effect.
	case a.out == accepted:
		d.rep.violation("%s: %s (%s) was accepted: %.200s", d.name, kind, action, a.raw)
	case a.status >= 500:
		d.rep.violation("%s: %s (%s) answered HTTP %d %s; bad input wants a 4xx", d.name, kind, action, a.status, a.code)
	}
}

// replay sends one signed request twice: the second must be refused.
func (d *driver) replay(ctx context.Context, kind string, r request) {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	d.srv.waitUp(wctx)
	cancel()
	req, err := r.build(ctx, d.srv.addr, time.Now())
	if err != nil {
		d.rep.violation("%s: %s: cannot build: %v", d.name, kind, err)
		return
	}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	again := func() *http.Request {
		c := req.Clone(ctx)
		c.Body = io.NopCloser(strings.NewReader(string(body)))
		return c
	}
	first, envErr := send(d.hc, again(), r.product)
	d.rep.count(kind+"(first)", first)
	if envErr != nil {
		d.rep.violation("%s: %s first send: %v", d.name, kind, envErr)
	}
	if first.out != accepted {
		return
	}
	second, envErr := send(d.hc, again(), r.product)
	d.rep.count(kind, second)
	if envErr != nil {
		d.rep.violation("%s: %s: not a well-formed envelope: %v", d.name, kind, envErr)
		return
	}
	d.mustRefuse(kind, r.action+" sent twice", second)
	if second.out == refused && second.code != "SignatureNonceUsed" {
		d.rep.violation("%s: a replayed request was refused with %s, want SignatureNonceUsed", d.name, second.code)
	}
}
