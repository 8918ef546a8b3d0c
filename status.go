package kafkaplane

import (
	"fmt"
	"strings"
)

// InstanceState is where an instance stands in its life. Each state shows
// on the wire as one pair of ServiceStatus and ViewInstanceStatusCode
// (Status), and no two states share a pair, so the stored pair is the
// state.
type InstanceState int

// Instance states. The list is append-only. A new Instance value (status
// pair 0/0) is Pending.
const (
	StatePending       InstanceState = iota // bought, waiting for StartInstance
	StateDeploying                          // StartInstance accepted, brokers coming up
	StateDeployFailed                       // the start failed; StartInstance may be sent again
	StateRunning                            // serving
	StateUpgrading                          // UpgradeInstanceVersion rolling the brokers
	StateUpgradeFailed                      // serving on its old version after a failed upgrade
	StateStopped                            // StopInstance: brokers down, data kept
	StateReleased                           // ReleaseInstance: brokers down, still listed until DeleteInstance
	StateDeleted                            // DeleteInstance: gone from every list
)

// StatusPair is how a state shows in GetInstanceList.
type StatusPair struct {
	Service ServiceStatus
	View    ViewStatus
}

// stateInfo is one row of the state table.
type stateInfo struct {
	name string
	// phrase is how refusals describe the state to a client, in the
	// words of its ServiceStatus.
	phrase string
	pair   StatusPair
}

// states gives every state its name and wire pair. Stopped and released
// instances share ServiceStatus 15 (what Terraform waits for after
// ReleaseInstance) and differ in ViewInstanceStatusCode (3 stopped, 6
// released). ServiceStatus 10 is shown only for a deleted instance, which
// no list shows: clients such as Terraform read 10 as "gone".
var states = map[InstanceState]stateInfo{
	StatePending:       {"Pending", "pending deployment", StatusPair{ServiceStatusPending, ViewStatusPending}},
	StateDeploying:     {"Deploying", "deploying", StatusPair{ServiceStatusDeploying, ViewStatusDeploying}},
	StateDeployFailed:  {"DeployFailed", "pending deployment", StatusPair{ServiceStatusPending, ViewStatusDeployFailed}},
	StateRunning:       {"Running", "running", StatusPair{ServiceStatusRunning, ViewStatusRunning}},
	StateUpgrading:     {"Upgrading", "upgrading", StatusPair{ServiceStatusUpgrading, ViewStatusUpgrading}},
	StateUpgradeFailed: {"UpgradeFailed", "running", StatusPair{ServiceStatusRunning, ViewStatusUpgradeFailed}},
	StateStopped:       {"Stopped", "stopped", StatusPair{ServiceStatusStopped, ViewStatusStopped}},
	StateReleased:      {"Released", "released", StatusPair{ServiceStatusStopped, ViewStatusReleased}},
	StateDeleted:       {"Deleted", "deleted", StatusPair{ServiceStatusReleased, ViewStatusReleased}},
}

// String returns the state's name.
func (s InstanceState) String() string {
	if i, ok := states[s]; ok {
		return i.name
	}
	return fmt.Sprintf("InstanceState(%d)", int(s))
}

// Phrase returns how a refusal describes the state to a client
// ("running", "pending deployment", …).
func (s InstanceState) Phrase() string {
	if i, ok := states[s]; ok {
		return i.phrase
	}
	return "unknown"
}

// Pair returns the state's ServiceStatus and ViewInstanceStatusCode.
func (s InstanceState) Pair() StatusPair { return states[s].pair }

// StateOf returns the state a stored pair stands for. Rows written before
// released instances showed 15 carry 10 with 6; they are released
// instances that DeleteInstance has not removed yet. ok is false for a
// pair no state has.
func StateOf(p StatusPair) (s InstanceState, ok bool) {
	for st, i := range states {
		if i.pair == p && st != StateDeleted {
			return st, true
		}
	}
	if p.Service == ServiceStatusReleased {
		return StateReleased, true
	}
	return 0, false
}

// State returns the instance's state, read from its status pair.
func (inst *Instance) State() InstanceState {
	s, ok := StateOf(StatusPair{inst.ServiceStatus, inst.ViewStatus})
	if !ok {
		return InstanceState(-1)
	}
	return s
}

// Event is something that moves an instance between states.
type Event int

// Events, one per request or outcome that changes an instance's state.
const (
	EventStart         Event = iota // StartInstance
	EventStartDone                  // the start operation finished
	EventStartFailed                // the start operation failed
	EventUpgrade                    // UpgradeInstanceVersion
	EventUpgradeDone                // the upgrade operation finished
	EventUpgradeFailed              // the upgrade operation failed
	EventStop                       // StopInstance
	EventReopen                     // ReopenInstance
	EventReopenFailed               // the brokers of a reopened instance did not start
	EventRelease                    // ReleaseInstance
	EventDelete                     // DeleteInstance
)

var eventNames = map[Event]string{
	EventStart: "Start", EventStartDone: "StartDone", EventStartFailed: "StartFailed",
	EventUpgrade: "Upgrade", EventUpgradeDone: "UpgradeDone", EventUpgradeFailed: "UpgradeFailed",
	EventStop: "Stop", EventReopen: "Reopen", EventReopenFailed: "ReopenFailed",
	EventRelease: "Release", EventDelete: "Delete",
}

// String returns the event's name.
func (e Event) String() string {
	if n, ok := eventNames[e]; ok {
		return n
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// Transition is one allowed move: From on Event goes To.
type Transition struct {
	From  InstanceState
	Event Event
	To    InstanceState
}

// String renders the move with the pairs it writes, e.g.
// "Running(5/2) --Stop--> Stopped(15/3)".
func (t Transition) String() string {
	f, to := t.From.Pair(), t.To.Pair()
	return fmt.Sprintf("%v(%d/%d) --%v--> %v(%d/%d)", t.From, f.Service, f.View, t.Event, t.To, to.Service, to.View)
}

// Transitions is the instance state machine: every allowed move, and
// nothing else. Every writer of an instance's status goes through Apply.
var Transitions = []Transition{
	{StatePending, EventStart, StateDeploying},
	{StateDeployFailed, EventStart, StateDeploying},
	{StateDeploying, EventStartDone, StateRunning},
	{StateDeploying, EventStartFailed, StateDeployFailed},

	{StateRunning, EventUpgrade, StateUpgrading},
	{StateUpgradeFailed, EventUpgrade, StateUpgrading},
	{StateUpgrading, EventUpgradeDone, StateRunning},
	{StateUpgrading, EventUpgradeFailed, StateUpgradeFailed},

	{StateRunning, EventStop, StateStopped},
	{StateUpgradeFailed, EventStop, StateStopped},
	{StateStopped, EventReopen, StateRunning},
	{StateRunning, EventReopenFailed, StateStopped},

	{StatePending, EventRelease, StateReleased},
	{StateDeployFailed, EventRelease, StateReleased},
	{StateRunning, EventRelease, StateReleased},
	{StateUpgradeFailed, EventRelease, StateReleased},
	{StateStopped, EventRelease, StateReleased},
	{StateReleased, EventDelete, StateDeleted},
}

// Next returns the state event moves s to, and whether the table allows
// the move at all.
func Next(s InstanceState, e Event) (InstanceState, bool) {
	for _, t := range Transitions {
		if t.From == s && t.Event == e {
			return t.To, true
		}
	}
	return s, false
}

// Allowed lists the states event may start from, for messages.
func Allowed(e Event) []InstanceState {
	var out []InstanceState
	for _, t := range Transitions {
		if t.Event == e {
			out = append(out, t.From)
		}
	}
	return out
}

// Apply moves inst on event: it sets the status pair of the new state, or
// returns a CodeInstanceStatus error and leaves inst alone when the table
// has no such move.
func (inst *Instance) Apply(e Event) error {
	from := inst.State()
	to, ok := Next(from, e)
	if !ok {
		names := make([]string, 0)
		for _, s := range Allowed(e) {
			names = append(names, s.String())
		}
		return Errorf(CodeInstanceStatus, "The instance %s is %v (ServiceStatus %d, ViewInstanceStatusCode %d); %v is allowed only when it is %s.",
			inst.ID, from, inst.ServiceStatus, inst.ViewStatus, e, strings.Join(names, ", "))
	}
	p := to.Pair()
	inst.ServiceStatus, inst.ViewStatus = p.Service, p.View
	return nil
}
