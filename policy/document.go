package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxDocumentLength is the largest policy document, in characters, that Parse
// accepts. It is the PolicyDocument limit of CreatePolicy ("1 to 6,144
// characters"); enforcing it here keeps documents that real RAM would refuse
// out of the store.
const MaxDocumentLength = 6144

// Version is the only policy-language version RAM defines.
const Version = "1"

// Effect is what a statement does when it matches: allow or deny.
type Effect string

// The two statement effects. The spelling is exact; RAM rejects "allow".
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Document is a parsed, validated RAM policy. Documents are immutable after
// Parse; Evaluate reads them concurrently without locking.
type Document struct {
	// Version is always "1".
	Version string
	// Statements are in document order. Order does not affect the outcome
	// of evaluation; it is kept so error paths and canonical JSON line up
	// with what the author wrote.
	Statements []Statement
}

// Statement is one Allow or Deny rule. Exactly one of Action and NotAction is
// non-nil, and exactly one of Resource and NotResource is non-nil; each holds
// at least one value, already normalised from the string-or-array JSON form.
type Statement struct {
	Effect      Effect
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	// Conditions are sorted by operator, then key, so that two documents
	// that differ only in JSON member order compare equal.
	Conditions []Condition
}

// Condition is one operator/key pair of a Condition block with its values,
// for example {Operator: "IpAddress", Key: "acs:SourceIp", Values:
// ["10.0.0.0/8"]}. The values are kept as written (numbers and booleans in
// their JSON spelling) so the canonical form round-trips.
type Condition struct {
	Operator string
	Key      string
	Values   []string

	// Pre-parsed values, filled by Parse for the operator's type, so that
	// evaluation never re-parses or fails.
	nums  []float64
	times []time.Time
	nets  []netip.Prefix
	bools []bool
}

// ParseError reports why a policy document is malformed. Reason names the
// offending element by path, for example
// `Statement[1].Effect: must be "Allow" or "Deny", got "allow"`, and is meant
// to be returned verbatim as the message of a MalformedPolicyDocument error.
type ParseError struct {
	Reason string
}

// Error returns Reason unchanged so that callers can surface it as-is.
func (e *ParseError) Error() string { return e.Reason }

func perrf(format string, args ...any) *ParseError {
	return &ParseError{Reason: fmt.Sprintf(format, args...)}
}

// Parse validates a RAM policy document and returns its parsed form. Any
// error is a *ParseError. See the package documentation for the rules and
// their sources.
func Parse(doc []byte) (*Document, error) {
	if n := utf8.RuneCount(doc); n > MaxDocumentLength {
		return nil, perrf("document is %d characters long; the maximum is %d", n, MaxDocumentLength)
	}
	return parseDocument(doc)
}

// parseDocument is Parse without the length limit. Canonical JSON can be a
// little longer than its source (single values become arrays, numbers become
// strings), so code re-reading canonical output must not trip the limit.
func parseDocument(doc []byte) (*Document, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, perrf("document is empty")
	}
	if !json.Valid(doc) {
		var v any
		err := json.Unmarshal(doc, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, perrf("invalid JSON at offset %d: %v", se.Offset, se)
		}
		return nil, perrf("invalid JSON: %v", err)
	}
	root, err := decodeTree(doc)
	if err != nil {
		return nil, perrf("invalid JSON: %v", err)
	}
	if root.kind != jObject {
		return nil, perrf("document must be a JSON object, got %s", root.describe())
	}
	members, err := root.members("")
	if err != nil {
		return nil, err
	}
	var version, statement *jvalue
	for i := range members {
		m := &members[i]
		switch m.name {
		case "Version":
			version = &m.value
		case "Statement":
			statement = &m.value
		default:
			return nil, perrf("unknown element %q; a policy has only Version and Statement", m.name)
		}
	}
	if version == nil {
		return nil, perrf("Version: required")
	}
	if version.kind != jString || version.text != Version {
		return nil, perrf("Version: must be %q, got %s", Version, version.describe())
	}
	if statement == nil {
		return nil, perrf("Statement: required")
	}
	if statement.kind != jArray {
		return nil, perrf("Statement: must be an array of statements, got %s", statement.describe())
	}
	if len(statement.arr) == 0 {
		return nil, perrf("Statement: must contain at least one statement")
	}
	d := &Document{Version: Version, Statements: make([]Statement, 0, len(statement.arr))}
	for i, sv := range statement.arr {
		st, err := parseStatement(sv, fmt.Sprintf("Statement[%d]", i))
		if err != nil {
			return nil, err
		}
		d.Statements = append(d.Statements, st)
	}
	return d, nil
}

func parseStatement(v jvalue, path string) (Statement, error) {
	var st Statement
	if v.kind != jObject {
		return st, perrf("%s: must be an object, got %s", path, v.describe())
	}
	members, err := v.members(path)
	if err != nil {
		return st, err
	}
	fields := make(map[string]jvalue, len(members))
	for _, m := range members {
		switch m.name {
		case "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition":
			fields[m.name] = m.value
		case "Principal":
			return st, perrf("%s: unknown element \"Principal\"; Principal is only valid in trust and resource policies", path)
		default:
			return st, perrf("%s: unknown element %q; a statement has Effect, Action or NotAction, Resource or NotResource, and Condition", path, m.name)
		}
	}

	ev, ok := fields["Effect"]
	if !ok {
		return st, perrf("%s.Effect: required", path)
	}
	if ev.kind != jString || (ev.text != string(EffectAllow) && ev.text != string(EffectDeny)) {
		return st, perrf("%s.Effect: must be \"Allow\" or \"Deny\", got %s", path, ev.describe())
	}
	st.Effect = Effect(ev.text)

	st.Action, st.NotAction, err = parsePair(fields, path, "Action", "NotAction", checkAction)
	if err != nil {
		return st, err
	}
	st.Resource, st.NotResource, err = parsePair(fields, path, "Resource", "NotResource", checkResource)
	if err != nil {
		return st, err
	}
	if cv, ok := fields["Condition"]; ok {
		st.Conditions, err = parseConditionBlock(cv, path+".Condition")
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// parsePair handles the mutually exclusive X / NotX elements, exactly one of
// which is required.
func parsePair(fields map[string]jvalue, path, name, notName string, check func(string) string) (pos, neg []string, err error) {
	pv, hasPos := fields[name]
	nv, hasNeg := fields[notName]
	switch {
	case hasPos && hasNeg:
		return nil, nil, perrf("%s: %s and %s are mutually exclusive", path, name, notName)
	case !hasPos && !hasNeg:
		return nil, nil, perrf("%s: %s or %s is required", path, name, notName)
	case hasPos:
		pos, err = parseStringList(pv, path+"."+name, check)
	default:
		neg, err = parseStringList(nv, path+"."+notName, check)
	}
	return pos, neg, err
}

// parseStringList normalises the string-or-array form and runs check on each
// element; check returns "" for a valid value or the reason it is not.
func parseStringList(v jvalue, path string, check func(string) string) ([]string, error) {
	var items []jvalue
	single := false
	switch v.kind {
	case jString:
		items = []jvalue{v}
		single = true
	case jArray:
		if len(v.arr) == 0 {
			return nil, perrf("%s: must not be an empty array", path)
		}
		items = v.arr
	default:
		return nil, perrf("%s: must be a string or an array of strings, got %s", path, v.describe())
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		ipath := path
		if !single {
			ipath = fmt.Sprintf("%s[%d]", path, i)
		}
		if it.kind != jString {
			return nil, perrf("%s: must be a string, got %s", ipath, it.describe())
		}
		if it.text == "" {
			return nil, perrf("%s: must not be empty", ipath)
		}
		if reason := check(it.text); reason != "" {
			return nil, perrf("%s: %q %s", ipath, it.text, reason)
		}
		out = append(out, it.text)
	}
	return out, nil
}

// checkAction enforces RAM's <ram-code>:<action-name> form (doc 93738). The
// character sets are those of real RAM codes and action names plus the two
// wildcards; anything else (spaces, a second colon, an empty half) is a typo
// that would otherwise silently never match.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || service == "" || name == "" || strings.Contains(name, ":") ||
		!validActionChars(service) || !validActionChars(name) {
		return `is not of the form "service:action" (for example "alikafka:ListInstance")`
	}
	return ""
}

func validActionChars(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '_', r == '.', r == '*', r == '?':
		default:
			return false
		}
	}
	return true
}

// checkResource accepts "*" or an ARN in RAM's acs:<service>:<region>:
// <account-id>:<relative-id> form (doc 93738). Only the "acs:" prefix is
// enforced: trailing segments may be wildcards and relative IDs may contain
// colons, but a value without the prefix can never match a real ARN.
func checkResource(r string) string {
	if r == "*" || strings.HasPrefix(r, "acs:") {
		return ""
	}
	return `is not "*" or an ARN of the form "acs:<service>:<region>:<account-id>:<relative-id>"`
}

// MarshalJSON renders the document in canonical form: fixed element order,
// every Action/Resource and condition value as an array, condition operators
// and keys sorted, no HTML escaping. Parsing the output yields an equal
// Document, so the canonical form is suitable for storage and comparison.
func (d *Document) MarshalJSON() ([]byte, error) {
	type statementJSON struct {
		Effect      Effect                         `json:"Effect"`
		Action      []string                       `json:"Action,omitempty"`
		NotAction   []string                       `json:"NotAction,omitempty"`
		Resource    []string                       `json:"Resource,omitempty"`
		NotResource []string                       `json:"NotResource,omitempty"`
		Condition   map[string]map[string][]string `json:"Condition,omitempty"`
	}
	type documentJSON struct {
		Version   string          `json:"Version"`
		Statement []statementJSON `json:"Statement"`
	}
	out := documentJSON{Version: d.Version, Statement: make([]statementJSON, 0, len(d.Statements))}
	for _, st := range d.Statements {
		sj := statementJSON{
			Effect:      st.Effect,
			Action:      st.Action,
			NotAction:   st.NotAction,
			Resource:    st.Resource,
			NotResource: st.NotResource,
		}
		if len(st.Conditions) > 0 {
			sj.Condition = make(map[string]map[string][]string)
			for _, c := range st.Conditions {
				if sj.Condition[c.Operator] == nil {
					sj.Condition[c.Operator] = make(map[string][]string)
				}
				sj.Condition[c.Operator][c.Key] = c.Values
			}
		}
		out.Statement = append(out.Statement, sj)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// "<", ">" and "&" appear in real condition values; escaping them as
	// \u003c would inflate the document towards MaxDocumentLength.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// String returns the canonical JSON form (see MarshalJSON).
func (d *Document) String() string {
	b, err := d.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("<invalid policy: %v>", err)
	}
	return string(b)
}

// sortConditions orders conditions by operator, then key, matching the order
// in which MarshalJSON's maps are written.
func sortConditions(cs []Condition) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Operator != cs[j].Operator {
			return cs[i].Operator < cs[j].Operator
		}
		return cs[i].Key < cs[j].Key
	})
}
