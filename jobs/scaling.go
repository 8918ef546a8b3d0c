package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// DefaultScalingTick is how often the ScalingScheduler looks at the rules
// when nothing wakes it.
const DefaultScalingTick = time.Second

// ScalingScheduler applies scheduled scaling rules (kafkaplane.ScalingRule)
// when they come due: on each tick it computes what every instance's rules
// put in force now and writes it where it differs from what was applied
// (Deployment.Scaling, shown as ReservedPublishCapacity and
// ReservedSubscribeCapacity). Because each pass computes the state from the
// rules and the clock, a missed tick or a restart only delays a change,
// never loses it.
type ScalingScheduler struct {
	Instances kafkaplane.InstanceService
	// Now is the clock the rules are read against (time.Now when nil).
	Now func() time.Time
	// Tick is the time between passes (DefaultScalingTick when zero).
	Tick   time.Duration
	Logger *slog.Logger

	wake chan struct{}
}

// NewScalingScheduler returns a scheduler; call Run to start it.
func NewScalingScheduler(s ScalingScheduler) *ScalingScheduler {
	s.wake = make(chan struct{}, 1)
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Tick <= 0 {
		s.Tick = DefaultScalingTick
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return &s
}

// Wake makes the scheduler pass at once (a rule was added or changed).
func (s *ScalingScheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run passes over the rules on every tick and wake until ctx is done.
func (s *ScalingScheduler) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-s.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		s.Pass(ctx)
		t.Reset(s.Tick)
	}
}

// Pass applies what the rules of every listed instance put in force now.
func (s *ScalingScheduler) Pass(ctx context.Context) {
	insts, err := s.Instances.FindInstances(ctx, kafkaplane.InstanceFilter{})
	if err != nil {
		if ctx.Err() == nil {
			s.Logger.Error("scaling rules: list instances", "err", err)
		}
		return
	}
	now := s.Now()
	for _, inst := range insts {
		if len(inst.Deployment.ScalingRules) == 0 && inst.Deployment.Scaling.RuleName == "" {
			continue
		}
		if err := s.apply(ctx, inst, now); err != nil && ctx.Err() == nil {
			s.Logger.Error("scaling rules: apply", "instance", inst.ID, "err", err)
		}
	}
}

// apply writes inst's scaling at now, re-reading the instance when an API
// call changed it meanwhile.
func (s *ScalingScheduler) apply(ctx context.Context, inst *kafkaplane.Instance, now time.Time) error {
	for attempt := 0; ; attempt++ {
		want := kafkaplane.ScalingAt(inst.Deployment.ScalingRules, now)
		if want.Same(inst.Deployment.Scaling) || inst.State() == kafkaplane.StateReleased {
			return nil
		}
		inst.Deployment.Scaling = want
		err := s.Instances.UpdateInstance(ctx, inst)
		if err == nil {
			s.Logger.Info("scaling rule applied", "instance", inst.ID, "rule", want.RuleName,
				"reserved_pub_flow", want.ReservedPubFlow, "reserved_sub_flow", want.ReservedSubFlow)
			return nil
		}
		if kafkaplane.ErrorCode(err) != kafkaplane.CodeConflict || attempt >= 5 {
			return err
		}
		if inst, err = s.Instances.FindInstance(ctx, inst.AccountID, inst.RegionID, inst.ID); err != nil {
			return err
		}
	}
}
