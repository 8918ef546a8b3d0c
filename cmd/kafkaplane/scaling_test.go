package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ruleClock is an injected clock for scheduled scaling rules.
type ruleClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ruleClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ruleClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// TestScheduledScalingRules drives the scaling rule actions with the V3 SDK
// (the legacy SDK has none of them) and checks that the scheduler applies
// a weekly rule on its days, for its duration, and stops when it is
// disabled.
func TestScheduledScalingRules(t *testing.T) {
	// Monday 2030-01-07 09:00 UTC.
	base := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
	clk := &ruleClock{t: base}
	m := startMain(t, func(m *Main) { m.RuleNow = clk.now })
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	v3 := teaClient{addr: m.ListenAddr(), id: testKeyID, secret: testKeySecret, region: testRegion}
	models := newestModels(t)
	call := func(action string, p map[string]string) result {
		t.Helper()
		p["InstanceId"] = id
		return v3.call(t, "2019-09-16", action, p)
	}
	must := func(action string, p map[string]string) map[string]any {
		t.Helper()
		r := call(action, p)
		if r.code != "" {
			t.Fatalf("%s: %s %s", action, r.code, r.msg)
		}
		if missing := missingNewest(models[action], r.body, action); len(missing) > 0 {
			t.Errorf("the answer lacks fields of the newest SDK's model: %s", strings.Join(missing, ", "))
		}
		return r.body
	}
	reserved := func() (int, int) {
		vo := describe(t, c, id)
		return vo.ReservedPublishCapacity, vo.ReservedSubscribeCapacity
	}
	waitReserved := func(pub, sub int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			p, s := reserved()
			if p == pub && s == sub {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("reserved capacity %d/%d, want %d/%d", p, s, pub, sub)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	first := base.Add(time.Hour) // 18:00 in GMT+8
	rule := map[string]string{
		"RuleName": "evening", "ScheduleType": "repeat", "RepeatType": "Weekly",
		"WeeklyTypes": `["Monday","Wednesday"]`, "FirstScheduledTime": strconv.FormatInt(first.UnixMilli(), 10),
		"TimeZone": "GMT+8", "DurationMinutes": "60", "ReservedPubFlow": "120", "ReservedSubFlow": "240",
	}
	must("CreateScheduledScalingRule", rule)
	if r := call("CreateScheduledScalingRule", rule); r.code != "BIZ_SCHEDULED_SCALING_RULE_EXISTED" {
		t.Fatalf("duplicate rule: %+v", r)
	}
	for _, bad := range []struct{ key, value, code string }{
		{"RepeatType", "", "MissingRepeatType"},
		{"TimeZone", "Asia/Shanghai", "InvalidTimeZone"},
		{"DurationMinutes", "5", "InvalidDurationMinutes"},
		{"WeeklyTypes", `["Someday"]`, "InvalidWeeklyTypes"},
	} {
		p := map[string]string{}
		for k, v := range rule {
			p[k] = v
		}
		p["RuleName"] = "other"
		if bad.value == "" {
			delete(p, bad.key)
		} else {
			p[bad.key] = bad.value
		}
		if r := call("CreateScheduledScalingRule", p); r.code != bad.code {
			t.Errorf("%s=%q: got %q, want %s", bad.key, bad.value, r.code, bad.code)
		}
	}

	body := must("GetAutoScalingConfiguration", map[string]string{})
	got := fmt.Sprint(body["Data"])
	want := fmt.Sprintf("map[ScheduledScalingRules:map[ScheduledScalingRules:[map[DurationMinutes:60 Enable:true EstimatedElasticScalingDownTimeSecs:1 EstimatedElasticScalingUpTimeSecs:1 FirstScheduledTime:%d RepeatType:Weekly ReservedPubFlow:120 ReservedSubFlow:240 RuleId:1 RuleName:evening ScheduleType:repeat TimeZone:GMT+8 WeeklyTypes:map[WeeklyTypes:[Monday Wednesday]]]]]]", first.UnixMilli())
	if got != want {
		t.Fatalf("GetAutoScalingConfiguration Data:\n got %s\nwant %s", got, want)
	}

	ctx := context.Background()
	m.Scaling.Pass(ctx)
	if p, s := reserved(); p != 0 || s != 0 {
		t.Fatalf("before the first run: %d/%d", p, s)
	}
	// Monday 18:05 GMT+8: the scheduler's own timer applies the rule.
	clk.set(first.Add(5 * time.Minute))
	waitReserved(120, 240)
	// 19:01: the run is over.
	clk.set(first.Add(61 * time.Minute))
	waitReserved(0, 0)
	// Tuesday is not one of its days.
	clk.set(first.Add(24*time.Hour + 5*time.Minute))
	m.Scaling.Pass(ctx)
	if p, s := reserved(); p != 0 || s != 0 {
		t.Fatalf("Tuesday: %d/%d", p, s)
	}
	// Wednesday is.
	clk.set(first.Add(48*time.Hour + 5*time.Minute))
	waitReserved(120, 240)
	// Disabling the rule ends its run at once.
	must("ModifyScheduledScalingRule", map[string]string{"RuleName": "evening", "Enable": "false"})
	waitReserved(0, 0)

	must("DeleteScheduledScalingRule", map[string]string{"RuleName": "evening"})
	if r := call("DeleteScheduledScalingRule", map[string]string{"RuleName": "evening"}); r.code != "BIZ_SCHEDULED_SCALING_RULE_NOT_FOUND" {
		t.Fatalf("second delete: %+v", r)
	}
	body = must("GetAutoScalingConfiguration", map[string]string{})
	if got := fmt.Sprint(body["Data"]); got != "map[ScheduledScalingRules:map[ScheduledScalingRules:[]]]" {
		t.Fatalf("after delete: %s", got)
	}
}
