package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Well-known condition keys. Keys are matched case-insensitively, so these
// spellings are only the documented ones; any other key (service keys such as
// alikafka:SpecType, tag keys such as acs:ResourceTag/team) works the same.
const (
	KeySourceIP        = "acs:SourceIp"
	KeySecureTransport = "acs:SecureTransport"
	KeyCurrentTime     = "acs:CurrentTime"
	KeyAccessID        = "acs:AccessId"
	KeyMFAPresent      = "acs:MFAPresent"
)

// valueType is the type an operator reads its values as.
type valueType int

const (
	typeString valueType = iota
	typeNumeric
	typeDate
	typeBool
	typeIP
)

// operator describes one condition operator. match reports whether a single
// request-context value satisfies the positive form against any of the
// condition's values; negated operators invert the overall result (see
// Condition.holds), which is what gives them NOR semantics over multiple
// values and makes them true for an absent key.
type operator struct {
	typ     valueType
	negated bool
	match   func(c *Condition, v string) bool
}

// operators is the full set RAM documents on its "Conditional operators"
// page. Anything else (IfExists suffixes, ForAnyValue: prefixes, Null) is
// rejected by Parse rather than ignored, because an ignored condition would
// widen an Allow.
var operators = map[string]operator{
	"StringEquals":              {typeString, false, matchStringEquals},
	"StringNotEquals":           {typeString, true, matchStringEquals},
	"StringEqualsIgnoreCase":    {typeString, false, matchStringEqualsIgnoreCase},
	"StringNotEqualsIgnoreCase": {typeString, true, matchStringEqualsIgnoreCase},
	"StringLike":                {typeString, false, matchStringLike},
	"StringNotLike":             {typeString, true, matchStringLike},

	"NumericEquals":            {typeNumeric, false, numericMatcher(func(v, p float64) bool { return v == p })},
	"NumericNotEquals":         {typeNumeric, true, numericMatcher(func(v, p float64) bool { return v == p })},
	"NumericLessThan":          {typeNumeric, false, numericMatcher(func(v, p float64) bool { return v < p })},
	"NumericLessThanEquals":    {typeNumeric, false, numericMatcher(func(v, p float64) bool { return v <= p })},
	"NumericGreaterThan":       {typeNumeric, false, numericMatcher(func(v, p float64) bool { return v > p })},
	"NumericGreaterThanEquals": {typeNumeric, false, numericMatcher(func(v, p float64) bool { return v >= p })},

	"DateEquals":            {typeDate, false, dateMatcher(func(v, p time.Time) bool { return v.Equal(p) })},
	"DateNotEquals":         {typeDate, true, dateMatcher(func(v, p time.Time) bool { return v.Equal(p) })},
	"DateLessThan":          {typeDate, false, dateMatcher(func(v, p time.Time) bool { return v.Before(p) })},
	"DateLessThanEquals":    {typeDate, false, dateMatcher(func(v, p time.Time) bool { return !v.After(p) })},
	"DateGreaterThan":       {typeDate, false, dateMatcher(func(v, p time.Time) bool { return v.After(p) })},
	"DateGreaterThanEquals": {typeDate, false, dateMatcher(func(v, p time.Time) bool { return !v.Before(p) })},

	"Bool": {typeBool, false, matchBool},

	"IpAddress":    {typeIP, false, matchIP},
	"NotIpAddress": {typeIP, true, matchIP},
}

// Operators returns the names of all supported condition operators, for
// callers that want to list them (e.g. in a validation hint).
func Operators() []string {
	names := make([]string, 0, len(operators))
	for n := range operators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func parseConditionBlock(v jvalue, path string) ([]Condition, error) {
	if v.kind != jObject {
		return nil, perrf("%s: must be an object mapping operators to condition keys, got %s", path, v.describe())
	}
	ops, err := v.members(path)
	if err != nil {
		return nil, err
	}
	var out []Condition
	for _, om := range ops {
		op, ok := operators[om.name]
		if !ok {
			return nil, perrf("%s: unknown operator %q", path, om.name)
		}
		opath := path + "." + om.name
		if om.value.kind != jObject {
			return nil, perrf("%s: must be an object mapping condition keys to values, got %s", opath, om.value.describe())
		}
		keys, err := om.value.members(opath)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, perrf("%s: must contain at least one condition key", opath)
		}
		seen := make(map[string]string, len(keys))
		for _, km := range keys {
			if km.name == "" {
				return nil, perrf("%s: condition key must not be empty", opath)
			}
			// Keys are case-insensitive, so two spellings of one key
			// under one operator are a duplicate, not two conditions.
			folded := strings.ToLower(km.name)
			if prev, dup := seen[folded]; dup {
				return nil, perrf("%s: condition keys %q and %q are the same key (keys are case-insensitive)", opath, prev, km.name)
			}
			seen[folded] = km.name
			c, err := parseCondition(om.name, op, km, fmt.Sprintf("%s[%q]", opath, km.name))
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	sortConditions(out)
	return out, nil
}

func parseCondition(opName string, op operator, km jmember, path string) (Condition, error) {
	c := Condition{Operator: opName, Key: km.name}
	var items []jvalue
	single := false
	switch km.value.kind {
	case jString, jNumber, jBool:
		items = []jvalue{km.value}
		single = true
	case jArray:
		if len(km.value.arr) == 0 {
			return c, perrf("%s: must not be an empty array", path)
		}
		items = km.value.arr
	default:
		return c, perrf("%s: must be a string, number, boolean or an array of them, got %s", path, km.value.describe())
	}
	for i, it := range items {
		ipath := path
		if !single {
			ipath = fmt.Sprintf("%s[%d]", path, i)
		}
		if it.kind != jString && it.kind != jNumber && it.kind != jBool {
			return c, perrf("%s: must be a string, number or boolean, got %s", ipath, it.describe())
		}
		s := it.text
		switch op.typ {
		case typeNumeric:
			f, ok := parseNumber(s)
			if !ok {
				return c, perrf("%s: %q is not a number", ipath, s)
			}
			c.nums = append(c.nums, f)
		case typeDate:
			t, ok := parseDate(s)
			if !ok {
				return c, perrf("%s: %q is not an ISO 8601 date-time such as 2026-01-01T00:00:00Z", ipath, s)
			}
			c.times = append(c.times, t)
		case typeBool:
			b, ok := parseBool(s)
			if !ok {
				return c, perrf("%s: %q is not \"true\" or \"false\"", ipath, s)
			}
			c.bools = append(c.bools, b)
		case typeIP:
			p, ok := parseIPOrCIDR(s)
			if !ok {
				return c, perrf("%s: %q is not an IP address or CIDR block", ipath, s)
			}
			c.nets = append(c.nets, p)
		}
		c.Values = append(c.Values, s)
	}
	return c, nil
}

// holds reports whether the condition is satisfied by the context values of
// its key (nil when the key is absent).
func (c *Condition) holds(ctxValues []string) bool {
	op := operators[c.Operator]
	matched := false
	for _, v := range ctxValues {
		if op.match(c, v) {
			matched = true
			break
		}
	}
	return matched != op.negated
}

func matchStringEquals(c *Condition, v string) bool {
	for _, p := range c.Values {
		if v == p {
			return true
		}
	}
	return false
}

func matchStringEqualsIgnoreCase(c *Condition, v string) bool {
	for _, p := range c.Values {
		if strings.EqualFold(v, p) {
			return true
		}
	}
	return false
}

func matchStringLike(c *Condition, v string) bool {
	for _, p := range c.Values {
		if wildcardMatch(p, v) {
			return true
		}
	}
	return false
}

func numericMatcher(cmp func(v, p float64) bool) func(*Condition, string) bool {
	return func(c *Condition, s string) bool {
		v, ok := parseNumber(s)
		if !ok {
			return false
		}
		for _, p := range c.nums {
			if cmp(v, p) {
				return true
			}
		}
		return false
	}
}

func dateMatcher(cmp func(v, p time.Time) bool) func(*Condition, string) bool {
	return func(c *Condition, s string) bool {
		v, ok := parseDate(s)
		if !ok {
			return false
		}
		for _, p := range c.times {
			if cmp(v, p) {
				return true
			}
		}
		return false
	}
}

func matchBool(c *Condition, s string) bool {
	v, ok := parseBool(s)
	if !ok {
		return false
	}
	for _, p := range c.bools {
		if v == p {
			return true
		}
	}
	return false
}

func matchIP(c *Condition, s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	// A client reaching a dual-stack listener over IPv4 shows up as
	// ::ffff:a.b.c.d; unmapping lets IPv4 CIDRs in policies still match.
	a = a.WithZone("").Unmap()
	for _, p := range c.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// numberSyntax is a plain decimal number, optionally with a fraction and an
// exponent. strconv.ParseFloat alone would also accept "NaN", "Inf", hex
// floats and underscores, none of which belong in a policy.
var numberSyntax = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func parseNumber(s string) (float64, bool) {
	if !numberSyntax.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of float64 range
		return 0, false
	}
	return f, true
}

// parseDate accepts RFC 3339, the ISO 8601 profile with a mandatory zone;
// a zone-less time would be ambiguous between the policy author's and the
// server's clock.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseBool accepts "true" and "false" in any case, the two values RAM shows
// for Bool keys such as acs:SecureTransport and acs:MFAPresent.
func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseIPOrCIDR accepts an IPv4 or IPv6 address (meaning that single host) or
// a CIDR block. Zoned addresses are refused: a zone is local to one host and
// never appears in a request's source address.
func parseIPOrCIDR(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
