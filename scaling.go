package kafkaplane

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// ScalingRule is a scheduled scaling rule (CreateScheduledScalingRule): from
// each of its start times for DurationMinutes the instance's reserved
// publish and subscribe capacity are ReservedPubFlow and ReservedSubFlow.
type ScalingRule struct {
	RuleID   int64  `json:"rule_id"`
	RuleName string `json:"rule_name"`
	Enable   bool   `json:"enable"`
	// ScheduleType is "at" (once, at FirstScheduledTime) or "repeat".
	ScheduleType string `json:"schedule_type"`
	// RepeatType is "Daily" or "Weekly" for a repeating rule; a weekly
	// rule starts on the WeeklyTypes days (Monday … Sunday).
	RepeatType  string   `json:"repeat_type,omitempty"`
	WeeklyTypes []string `json:"weekly_types,omitempty"`
	// FirstScheduledTime is the first start; a repeating rule starts again
	// at the same time of day in TimeZone (GMT+8, UTC-3:30 …).
	FirstScheduledTime time.Time `json:"first_scheduled_time"`
	TimeZone           string    `json:"time_zone"`
	DurationMinutes    int       `json:"duration_minutes"`
	ReservedPubFlow    int       `json:"reserved_pub_flow"`
	ReservedSubFlow    int       `json:"reserved_sub_flow"`
}

// AppliedScaling is the scaling rule the scheduler applied last and the
// capacity it set; RuleName is empty when no rule is in force.
type AppliedScaling struct {
	RuleName        string    `json:"rule_name,omitempty"`
	ReservedPubFlow int       `json:"reserved_pub_flow,omitempty"`
	ReservedSubFlow int       `json:"reserved_sub_flow,omitempty"`
	Since           time.Time `json:"since,omitzero"`
	Until           time.Time `json:"until,omitzero"`
}

var tzRE = regexp.MustCompile(`^(?:GMT|UTC)(?:([+-])(\d{1,2})(?::(\d{2}))?)?$`)

// ParseTimeZone reads a rule's TimeZone: GMT or UTC with an optional
// offset of whole or h:mm hours, e.g. GMT+8 or UTC-3:30.
func ParseTimeZone(s string) (*time.Location, error) {
	m := tzRE.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("time zone %q is not GMT±h or UTC±h:mm", s)
	}
	h, _ := strconv.Atoi(m[2])
	mins, _ := strconv.Atoi(m[3])
	if h > 14 || mins >= 60 {
		return nil, fmt.Errorf("time zone %q is out of range", s)
	}
	off := h*3600 + mins*60
	if m[1] == "-" {
		off = -off
	}
	return time.FixedZone(s, off), nil
}

// Weekdays are the names WeeklyTypes takes.
var Weekdays = map[string]time.Weekday{
	"Monday": time.Monday, "Tuesday": time.Tuesday, "Wednesday": time.Wednesday,
	"Thursday": time.Thursday, "Friday": time.Friday, "Saturday": time.Saturday, "Sunday": time.Sunday,
}

// Window returns the start and end of the rule's run that holds now, if
// one does. Each run lasts DurationMinutes; a daily rule runs every day
// and a weekly one on each of its days, at FirstScheduledTime's time of
// day in TimeZone, never before FirstScheduledTime.
func (r *ScalingRule) Window(now time.Time) (start, end time.Time, ok bool) {
	d := time.Duration(r.DurationMinutes) * time.Minute
	first := r.FirstScheduledTime
	if !r.Enable || d <= 0 || now.Before(first) {
		return time.Time{}, time.Time{}, false
	}
	if r.ScheduleType != "repeat" {
		return first, first.Add(d), now.Before(first.Add(d))
	}
	loc, err := ParseTimeZone(r.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	f := first.In(loc)
	// Runs are at most a week long (CreateScheduledScalingRule's limit),
	// so the run that holds now started within the last eight days.
	n := now.In(loc)
	for back := 0; back <= 8; back++ {
		day := n.AddDate(0, 0, -back)
		s := time.Date(day.Year(), day.Month(), day.Day(), f.Hour(), f.Minute(), f.Second(), 0, loc)
		if s.Before(first) || s.After(now) {
			continue
		}
		if r.RepeatType == "Weekly" && !r.runsOn(s.Weekday()) {
			continue
		}
		if now.Before(s.Add(d)) {
			return s, s.Add(d), true
		}
	}
	return time.Time{}, time.Time{}, false
}

func (r *ScalingRule) runsOn(w time.Weekday) bool {
	for _, n := range r.WeeklyTypes {
		if Weekdays[n] == w {
			return true
		}
	}
	return false
}

// ScalingAt is what the instance's rules put in force at now: the rule
// whose current run began last wins.
func ScalingAt(rules []ScalingRule, now time.Time) AppliedScaling {
	var out AppliedScaling
	for i := range rules {
		s, e, ok := rules[i].Window(now)
		if !ok || (out.RuleName != "" && !s.After(out.Since)) {
			continue
		}
		out = AppliedScaling{RuleName: rules[i].RuleName, ReservedPubFlow: rules[i].ReservedPubFlow,
			ReservedSubFlow: rules[i].ReservedSubFlow, Since: s.UTC(), Until: e.UTC()}
	}
	return out
}

// Same reports whether a and b put the same rule and capacity in force.
func (a AppliedScaling) Same(b AppliedScaling) bool {
	return a.RuleName == b.RuleName && a.ReservedPubFlow == b.ReservedPubFlow &&
		a.ReservedSubFlow == b.ReservedSubFlow && a.Since.Equal(b.Since) && a.Until.Equal(b.Until)
}
