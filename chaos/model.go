package chaos

import (
	"fmt"
	"slices"
	"strings"
)

// life is an instance's lifecycle state as the model tracks it.
type life int

const (
	lPending life = iota
	lDeploying
	lRunning
	lUpgrading
	lStopped
	lReleased
	lDeleted
)

var lifeNames = [...]string{"Pending", "Deploying", "Running", "Upgrading", "Stopped", "Released", "Deleted"}

func (l life) String() string { return lifeNames[l] }

// serviceStatus is the ServiceStatus GetInstanceList shows in each state.
var serviceStatus = map[life]int{lPending: 0, lDeploying: 1, lRunning: 5, lUpgrading: 8, lStopped: 15, lReleased: 15}

// viewStatus is the ViewInstanceStatusCode shown in each settled state.
var viewStatus = map[life]int{lPending: 0, lDeploying: 1, lRunning: 2, lUpgrading: 7, lStopped: 3, lReleased: 6}

// istate is one state an instance may be in: lifecycle, version and, while
// upgrading, the target.
type istate struct {
	l       life
	ver, to string
}

func (s istate) String() string {
	if s.l == lUpgrading {
		return fmt.Sprintf("%s(%s→%s)", s.l, s.ver, s.to)
	}
	if s.ver == "" {
		return s.l.String()
	}
	return fmt.Sprintf("%s(%s)", s.l, s.ver)
}

// tri is what the model knows about something that exists or not.
type tri uint8

const (
	maybePresent tri = 1 << iota
	maybeAbsent
)

func (t tri) String() string {
	switch t {
	case maybePresent:
		return "present"
	case maybeAbsent:
		return "absent"
	case maybePresent | maybeAbsent:
		return "either"
	}
	return "unknown"
}

// instance is the model of one instance: every state the accepted calls
// could have left it in. Calls whose outcome is unknown (a cut connection,
// a 5xx) add their effect as a possibility instead of replacing the state.
type instance struct {
	id, orderID string
	states      map[istate]bool
	topics      map[string]tri
	groups      map[string]tri
	data        bool // carries the producers' topic; never stopped or released
	lost        bool // a contradiction was reported; no further checks
}

func newInstance(orderID string) *instance {
	return &instance{orderID: orderID, states: map[istate]bool{{l: lPending}: true},
		topics: map[string]tri{}, groups: map[string]tri{}}
}

// add puts s and the states it reaches on its own (a deploy or upgrade
// finishing) into set.
func add(set map[istate]bool, s istate) {
	set[s] = true
	switch s.l {
	case lDeploying:
		set[istate{l: lRunning, ver: s.ver}] = true
	case lUpgrading:
		set[istate{l: lRunning, ver: s.to}] = true
	}
}

func (in *instance) stateList() string {
	var out []string
	for s := range in.states {
		out = append(out, s.String())
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// only reports whether l is the instance's one possible lifecycle state.
func (in *instance) only(l life) bool {
	for s := range in.states {
		if s.l != l {
			return false
		}
	}
	return len(in.states) > 0
}

// apply records a call's outcome. f maps a state in which the call is
// valid to the state it leads to; an accepted call that is valid in no
// possible state is a contradiction and is returned as a violation.
func (in *instance) apply(action string, out outcome, f func(istate) (istate, bool)) string {
	if in.lost || (out != accepted && out != uncertain) {
		return ""
	}
	next := map[istate]bool{}
	if out == uncertain {
		for s := range in.states {
			next[s] = true
		}
	}
	valid := false
	for s := range in.states {
		if t, ok := f(s); ok {
			add(next, t)
			valid = true
		}
	}
	if out == accepted && !valid {
		v := fmt.Sprintf("%s on %s was accepted, but no state the accepted calls allow permits it (model: %s)", action, in.id, in.stateList())
		in.lost = true
		return v
	}
	in.states = next
	return ""
}

// setTri records a create (present=true) or delete of name in m; an
// accepted create of what surely exists, or delete of what surely does
// not, is a contradiction.
func setTri(m map[string]tri, name string, present bool, out outcome) (contradiction bool) {
	cur, ok := m[name]
	if !ok {
		cur = maybeAbsent
	}
	want, need := maybePresent, maybeAbsent
	if !present {
		want, need = maybeAbsent, maybePresent
	}
	switch out {
	case accepted:
		m[name] = want
		return cur&need == 0
	case uncertain:
		m[name] = cur | want
	}
	return false
}

// account is the model of one account: instance slots, RAM users,
// policies and attachments.
type account struct {
	slots       [instanceSlots]*instance
	all         []*instance
	maybeOrders int // CreatePostPayOrder calls whose outcome is unknown
	users       map[string]tri
	policies    map[string]tri
	attached    map[[2]string]tri // user, policy
}

func newAccount() *account {
	return &account{users: map[string]tri{}, policies: map[string]tri{}, attached: map[[2]string]tri{}}
}

func (a *account) attachment(u, p string) tri {
	if t, ok := a.attached[[2]string{u, p}]; ok {
		return t
	}
	return maybeAbsent
}

// dropAttachments records that user (or policy, with byPolicy) lost its
// attachments, surely or possibly.
func (a *account) dropAttachments(name string, byPolicy bool, out outcome) {
	for k, t := range a.attached {
		if (!byPolicy && k[0] == name) || (byPolicy && k[1] == name) {
			if out == accepted {
				a.attached[k] = maybeAbsent
			} else if out == uncertain {
				a.attached[k] = t | maybeAbsent
			}
		}
	}
}
