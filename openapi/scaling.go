package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Limits of the scheduled scaling rules (docs/limits.md): a run lasts 15
// minutes to 7 days, reserved flows are MB/s, a first start is an epoch
// time in milliseconds before 2100.
const (
	maxScalingRules     = 20
	minScalingMinutes   = 15
	maxScalingMinutes   = 7 * 24 * 60
	maxReservedFlow     = 100000
	maxScheduledTimeMs  = 4102444800000
	scalingEstimateSecs = 1 // the scheduler's tick: a run is applied within it
)

var ruleNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validRuleName(v string) string {
	if !ruleNameRE.MatchString(v) {
		return "It must be 1 to 64 characters of letters, digits, underscores and hyphens."
	}
	return ""
}

func validTimeZone(v string) string {
	if _, err := kafkaplane.ParseTimeZone(v); err != nil {
		return "It must be GMT or UTC with an offset such as GMT+8 or UTC-3:30."
	}
	return ""
}

// weeklyTypes parses WeeklyTypes: JSON text of a list of weekday names.
func weeklyTypes(v string) ([]string, error) {
	var days []string
	if err := json.Unmarshal([]byte(v), &days); err != nil {
		return nil, err
	}
	for _, d := range days {
		if _, ok := kafkaplane.Weekdays[d]; !ok {
			return nil, fmt.Errorf("%q is not a weekday", d)
		}
	}
	return days, nil
}

func validWeeklyTypes(v string) string {
	if _, err := weeklyTypes(v); err != nil {
		return `It must be a JSON list of weekdays, e.g. ["Monday","Friday"].`
	}
	return ""
}

// registerScaling adds the scheduled scaling rule actions. The jobs
// package's ScalingScheduler applies the rules when they come due.
func (s *Instances) registerScaling(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	ruleName := Param{Name: "RuleName", Required: true, Validate: validRuleName}
	// 50/s as alikafka publishes for these actions; RAM actions follow
	// the product's pattern (docs/ram.md).
	rule := func(name string, params []Param, h Handler) *Action {
		return kafkaAction(Action{
			Name: name, RAMAction: "alikafka:" + name, Resource: instanceARN, QPS: 50,
			Params: params, Handler: h,
		})
	}
	g.Add(rule("CreateScheduledScalingRule", []Param{
		instanceID, ruleName,
		{Name: "ScheduleType", Required: true, Enum: []string{"at", "repeat"}},
		{Name: "RepeatType", Enum: []string{"Daily", "Weekly"}},
		{Name: "WeeklyTypes", Kind: JSON, Validate: validWeeklyTypes},
		{Name: "FirstScheduledTime", Kind: Integer, Required: true, Min: 0, Max: maxScheduledTimeMs},
		{Name: "TimeZone", Required: true, MaxLen: 16, Validate: validTimeZone},
		{Name: "DurationMinutes", Kind: Integer, Required: true, Min: minScalingMinutes, Max: maxScalingMinutes},
		{Name: "ReservedPubFlow", Kind: Integer, Required: true, Min: 0, Max: maxReservedFlow},
		{Name: "ReservedSubFlow", Kind: Integer, Required: true, Min: 0, Max: maxReservedFlow},
		{Name: "Enable", Kind: Boolean},
	}, s.createScalingRule))
	g.Add(rule("ModifyScheduledScalingRule", []Param{instanceID, ruleName, {Name: "Enable", Kind: Boolean, Required: true}}, s.modifyScalingRule))
	g.Add(rule("DeleteScheduledScalingRule", []Param{instanceID, ruleName}, s.deleteScalingRule))
	g.Add(rule("GetAutoScalingConfiguration", []Param{instanceID}, s.getAutoScalingConfiguration))
}

// changeRules runs fn on the rules of a listed (not released) instance
// and stores them.
func (s *Instances) changeRules(ctx context.Context, r *Request, fn func(inst *kafkaplane.Instance, rules []kafkaplane.ScalingRule) ([]kafkaplane.ScalingRule, error)) error {
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.State() == kafkaplane.StateReleased {
			return statusError(inst, r.Action.Name)
		}
		rules, err := fn(inst, slices.Clone(inst.Deployment.ScalingRules))
		if err != nil {
			return err
		}
		inst.Deployment.ScalingRules = rules
		return nil
	})
	return err
}

func ruleIndex(rules []kafkaplane.ScalingRule, name string) int {
	return slices.IndexFunc(rules, func(x kafkaplane.ScalingRule) bool { return x.RuleName == name })
}

func ruleNotFound(inst *kafkaplane.Instance, name string) error {
	return apierr.ScalingRuleNotFound.Errorf("The instance %s has no scheduled scaling rule %s.", inst.ID, name)
}

// createScalingRule stores a rule. A repeating rule needs RepeatType, and a
// weekly one at least one day; "at" rules take neither. A rule is enabled
// unless Enable is false.
func (s *Instances) createScalingRule(ctx context.Context, r *Request) (Object, error) {
	rule := kafkaplane.ScalingRule{
		RuleName:           r.String("RuleName"),
		Enable:             r.Bool("Enable", true),
		ScheduleType:       r.String("ScheduleType"),
		RepeatType:         r.String("RepeatType"),
		FirstScheduledTime: time.UnixMilli(int64(r.Int("FirstScheduledTime", 0))).UTC(),
		TimeZone:           r.String("TimeZone"),
		DurationMinutes:    r.Int("DurationMinutes", 0),
		ReservedPubFlow:    r.Int("ReservedPubFlow", 0),
		ReservedSubFlow:    r.Int("ReservedSubFlow", 0),
	}
	if v := r.String("WeeklyTypes"); v != "" {
		rule.WeeklyTypes, _ = weeklyTypes(v) // valid by its declaration
	}
	switch {
	case rule.ScheduleType == "repeat" && rule.RepeatType == "":
		return nil, apierr.Missing("RepeatType")
	case rule.ScheduleType == "at" && rule.RepeatType != "":
		return nil, apierr.Invalid("RepeatType", "A rule of ScheduleType at runs once and takes no RepeatType.")
	case rule.RepeatType == "Weekly" && len(rule.WeeklyTypes) == 0:
		return nil, apierr.Missing("WeeklyTypes")
	case rule.RepeatType != "Weekly" && len(rule.WeeklyTypes) > 0:
		return nil, apierr.Invalid("WeeklyTypes", "Only a rule of RepeatType Weekly takes WeeklyTypes.")
	case rule.RepeatType == "Daily" && rule.DurationMinutes >= 24*60:
		return nil, apierr.Invalid("DurationMinutes", "A daily rule's run must end before its next one starts (less than 1440 minutes).")
	}
	err := s.changeRules(ctx, r, func(inst *kafkaplane.Instance, rules []kafkaplane.ScalingRule) ([]kafkaplane.ScalingRule, error) {
		if ruleIndex(rules, rule.RuleName) >= 0 {
			return nil, apierr.ScalingRuleExisted.Errorf("The instance %s already has a scheduled scaling rule %s.", inst.ID, rule.RuleName)
		}
		if len(rules) >= maxScalingRules {
			return nil, apierr.ScalingRuleQuotaExceeded.Errorf("The instance %s has %d scheduled scaling rules, the most allowed.", inst.ID, len(rules))
		}
		rule.RuleID = 1
		for _, x := range rules {
			rule.RuleID = max(rule.RuleID, x.RuleID+1)
		}
		return append(rules, rule), nil
	})
	if err != nil {
		return nil, err
	}
	s.wakeScaling()
	return Object{}, nil
}

func (s *Instances) modifyScalingRule(ctx context.Context, r *Request) (Object, error) {
	name := r.String("RuleName")
	err := s.changeRules(ctx, r, func(inst *kafkaplane.Instance, rules []kafkaplane.ScalingRule) ([]kafkaplane.ScalingRule, error) {
		i := ruleIndex(rules, name)
		if i < 0 {
			return nil, ruleNotFound(inst, name)
		}
		rules[i].Enable = r.Bool("Enable", rules[i].Enable)
		return rules, nil
	})
	if err != nil {
		return nil, err
	}
	s.wakeScaling()
	return Object{}, nil
}

func (s *Instances) deleteScalingRule(ctx context.Context, r *Request) (Object, error) {
	name := r.String("RuleName")
	err := s.changeRules(ctx, r, func(inst *kafkaplane.Instance, rules []kafkaplane.ScalingRule) ([]kafkaplane.ScalingRule, error) {
		i := ruleIndex(rules, name)
		if i < 0 {
			return nil, ruleNotFound(inst, name)
		}
		return slices.Delete(rules, i, i+1), nil
	})
	if err != nil {
		return nil, err
	}
	s.wakeScaling()
	return Object{}, nil
}

func (s *Instances) wakeScaling() {
	if s.WakeScaling != nil {
		s.WakeScaling()
	}
}

// getAutoScalingConfiguration lists the instance's rules as stored.
func (s *Instances) getAutoScalingConfiguration(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	rules := make([]Object, 0, len(inst.Deployment.ScalingRules))
	for _, x := range inst.Deployment.ScalingRules {
		days := x.WeeklyTypes
		if days == nil {
			days = []string{}
		}
		rules = append(rules, Object{
			{"RuleId", x.RuleID},
			{"RuleName", x.RuleName},
			{"Enable", x.Enable},
			{"ScheduleType", x.ScheduleType},
			{"RepeatType", x.RepeatType},
			{"WeeklyTypes", Object{{"WeeklyTypes", days}}},
			{"FirstScheduledTime", x.FirstScheduledTime.UnixMilli()},
			{"TimeZone", x.TimeZone},
			{"DurationMinutes", x.DurationMinutes},
			{"ReservedPubFlow", x.ReservedPubFlow},
			{"ReservedSubFlow", x.ReservedSubFlow},
			{"EstimatedElasticScalingUpTimeSecs", scalingEstimateSecs},
			{"EstimatedElasticScalingDownTimeSecs", scalingEstimateSecs},
		})
	}
	return Object{{"Data", Object{{"ScheduledScalingRules", Object{{"ScheduledScalingRules", rules}}}}}}, nil
}
