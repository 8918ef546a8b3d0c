package policy

import "strings"

// Request is what is being authorized: one RAM action on one resource, with
// the request context that condition keys are looked up in.
type Request struct {
	// Action is the RAM action name, e.g. "alikafka:ListInstance".
	Action string
	// Resource is the resource ARN, e.g.
	// "acs:alikafka:cn-hangzhou:1234567890123456:alikafka_post-cn-abc",
	// or "*" for actions that are not resource-scoped.
	Resource string
	// Context maps condition keys (matched case-insensitively) to their
	// values, e.g. {"acs:SourceIp": {"192.0.2.10"}, "acs:SecureTransport":
	// {"true"}, "acs:CurrentTime": {"2026-01-01T00:00:00Z"}}. A key may
	// carry several values; absent keys are simply not in the map.
	Context map[string][]string
}

// Policy types as RAM reports them in PolicyType fields and in
// AccessDeniedDetail.
const (
	PolicyTypeSystem = "System"
	PolicyTypeCustom = "Custom"
)

// Attached is a policy attached to the caller (directly, through a group or
// through an assumed role), with the name and type that identify it in an
// AccessDeniedDetail.
type Attached struct {
	Name string
	Type string
	Doc  *Document
}

// DecisionEffect is the outcome of an evaluation. The zero value is
// ImplicitDeny so that a Decision that was never filled in denies.
type DecisionEffect int

// The three outcomes of Evaluate.
const (
	// ImplicitDeny: no statement allowed the request (RAM's default deny).
	ImplicitDeny DecisionEffect = iota
	// Allow: some statement allowed it and none denied it.
	Allow
	// ExplicitDeny: a Deny statement matched; it overrides every Allow.
	ExplicitDeny
)

// String returns the name used in logs and AccessDeniedDetail.
func (e DecisionEffect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	default:
		return "ImplicitDeny"
	}
}

// Decision is the result of Evaluate. PolicyName and PolicyType identify the
// deciding policy: the first policy with a matching Deny for ExplicitDeny,
// the first with a matching Allow for Allow, and nothing for ImplicitDeny.
type Decision struct {
	Effect     DecisionEffect
	PolicyName string
	PolicyType string
}

// Allowed reports whether the request may proceed.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// Evaluate decides req against all policies attached to the caller, following
// RAM's evaluation order (doc 93740): any matching Deny wins, otherwise any
// matching Allow allows, otherwise the request is implicitly denied. Policies
// with a nil Doc are skipped. The result does not depend on the order of docs
// except for which policy is named when several decide alike.
func Evaluate(req Request, docs ...Attached) Decision {
	ctx := foldContext(req.Context)
	var allowedBy *Attached
	for i := range docs {
		a := &docs[i]
		if a.Doc == nil {
			continue
		}
		for j := range a.Doc.Statements {
			st := &a.Doc.Statements[j]
			if !st.applies(req.Action, req.Resource, ctx) {
				continue
			}
			if st.Effect == EffectDeny {
				return Decision{Effect: ExplicitDeny, PolicyName: a.Name, PolicyType: a.Type}
			}
			if allowedBy == nil {
				allowedBy = a
			}
		}
	}
	if allowedBy != nil {
		return Decision{Effect: Allow, PolicyName: allowedBy.Name, PolicyType: allowedBy.Type}
	}
	return Decision{Effect: ImplicitDeny}
}

// applies reports whether the statement covers the request: action, resource
// and every condition must match.
func (st *Statement) applies(action, resource string, ctx map[string][]string) bool {
	if st.Action != nil {
		if !matchAny(st.Action, action, matchAction) {
			return false
		}
	} else if matchAny(st.NotAction, action, matchAction) {
		return false
	}
	if st.Resource != nil {
		if !matchAny(st.Resource, resource, matchResource) {
			return false
		}
	} else if matchAny(st.NotResource, resource, matchResource) {
		return false
	}
	for k := range st.Conditions {
		c := &st.Conditions[k]
		if !c.holds(ctx[strings.ToLower(c.Key)]) {
			return false
		}
	}
	return true
}

// foldContext lower-cases context keys once per evaluation so that condition
// keys match case-insensitively; values of keys that differ only in case are
// merged.
func foldContext(in map[string][]string) map[string][]string {
	out := make(map[string][]string, len(in))
	for k, v := range in {
		lk := strings.ToLower(k)
		out[lk] = append(out[lk], v...)
	}
	return out
}
