package kafkaplane

import (
	"testing"
	"time"
)

func TestScalingRuleWindow(t *testing.T) {
	// Sunday 2030-01-06 23:30 UTC is Monday 07:30 in GMT+8.
	first := time.Date(2030, 1, 6, 23, 30, 0, 0, time.UTC)
	at := ScalingRule{RuleName: "once", Enable: true, ScheduleType: "at", FirstScheduledTime: first, TimeZone: "GMT+8", DurationMinutes: 30}
	daily := ScalingRule{RuleName: "daily", Enable: true, ScheduleType: "repeat", RepeatType: "Daily", FirstScheduledTime: first, TimeZone: "GMT+8", DurationMinutes: 30}
	weekly := ScalingRule{RuleName: "weekly", Enable: true, ScheduleType: "repeat", RepeatType: "Weekly", WeeklyTypes: []string{"Monday"}, FirstScheduledTime: first, TimeZone: "GMT+8", DurationMinutes: 30}
	off := daily
	off.Enable = false
	for _, c := range []struct {
		rule ScalingRule
		now  time.Time
		want bool
	}{
		{at, first.Add(-time.Second), false},
		{at, first, true},
		{at, first.Add(29 * time.Minute), true},
		{at, first.Add(30 * time.Minute), false},
		{at, first.Add(24 * time.Hour), false},
		{daily, first.Add(24*time.Hour + 10*time.Minute), true},
		{daily, first.Add(24*time.Hour + 40*time.Minute), false},
		{weekly, first.Add(24*time.Hour + 10*time.Minute), false}, // Tuesday in GMT+8
		{weekly, first.Add(7*24*time.Hour + 10*time.Minute), true},
		{off, first.Add(10 * time.Minute), false},
	} {
		if _, _, ok := c.rule.Window(c.now); ok != c.want {
			t.Errorf("%s at %v: in a run %v, want %v", c.rule.RuleName, c.now, ok, c.want)
		}
	}
	// The run that began last wins.
	later := at
	later.RuleName, later.FirstScheduledTime, later.ReservedPubFlow = "later", first.Add(10*time.Minute), 7
	got := ScalingAt([]ScalingRule{later, at}, first.Add(15*time.Minute))
	if got.RuleName != "later" || got.ReservedPubFlow != 7 || !got.Until.Equal(first.Add(40*time.Minute)) {
		t.Errorf("ScalingAt = %+v", got)
	}
	for _, tz := range []string{"GMT", "UTC+8", "GMT-3:30"} {
		if _, err := ParseTimeZone(tz); err != nil {
			t.Errorf("%s: %v", tz, err)
		}
	}
	for _, tz := range []string{"Asia/Shanghai", "GMT+15", "UTC+1:60", ""} {
		if _, err := ParseTimeZone(tz); err == nil {
			t.Errorf("%q accepted", tz)
		}
	}
}
