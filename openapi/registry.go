package openapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kafkaplane/kafkaplane/apierr"
)

// Kind is the wire type of a parameter.
type Kind int

// Parameter kinds. Repeated and struct-list parameters use Alibaba's
// flattened names: Name.1, Name.2, … and Tag.1.Key, Tag.1.Value, ….
const (
	String Kind = iota
	Integer
	Boolean
	JSON       // a JSON document sent as a string (e.g. UpdateInstanceConfig's Config)
	RepeatList // Name.N
	TagList    // Name.N.Key / Name.N.Value
)

// Param declares one request parameter of an action.
type Param struct {
	Name     string
	Kind     Kind
	Required bool
	// Enum, when set, lists the only accepted values.
	Enum []string
	// Validate, when set, checks a present value: a non-empty result is
	// the sentence appended to the Invalid{Name} message.
	Validate func(string) (why string)
	// MaxLen caps a String or JSON value, and each item of a RepeatList,
	// in characters; 0 means DefaultMaxLen, so no parameter is uncapped
	// (docs/limits.md).
	MaxLen int
	// Min and Max bound an Integer parameter, both inclusive. Every
	// Integer parameter declares them: Registry.Add refuses one that does
	// not, so no number reaches a handler unbounded.
	Min, Max int64
	// OutOfRange, when set, is the error for a value longer than MaxLen or
	// outside Min..Max, for products such as RAM that name their own codes;
	// otherwise the answer is Invalid{Name}.
	OutOfRange apierr.Def
}

// DefaultMaxLen is the length cap, in characters, of a string parameter
// that declares none (docs/limits.md).
const DefaultMaxLen = 256

// MaxListItems caps the items of a RepeatList parameter (Name.1 … Name.N).
const MaxListItems = 100

// maxLen is p's effective length cap.
func (p *Param) maxLen() int {
	if p.MaxLen > 0 {
		return p.MaxLen
	}
	return DefaultMaxLen
}

// Handler does an action's work and returns the response fields after the
// common ones (RequestId, Code, …).
type Handler func(ctx context.Context, r *Request) (Object, error)

// Action declares one API action.
type Action struct {
	Name    string
	Product string // "alikafka", "ram"
	Version string // "2019-09-16", "2015-05-01"
	Params  []Param
	// RAMAction is the action RAM policies name, e.g. alikafka:UpdateInstance.
	RAMAction string
	// Resource is the ARN template a policy's Resource is matched against:
	// "*" for actions on all resources, or a template with {RegionId},
	// {AccountId} and any parameter name in braces, e.g.
	// acs:alikafka:{RegionId}:{AccountId}:{InstanceId}. Every other name
	// in braces is a required parameter or is derived (see Derive), so the
	// resource always names what the handler acts on.
	Resource string
	// Derive computes resource placeholders whose value is not simply a
	// required parameter: one that defaults to the caller when absent, or
	// an entity found from another parameter (an operation's instance).
	// Only non-root callers are authorized, so Derive runs only for them.
	Derive map[string]func(ctx context.Context, r *Request) (string, error)
	// QPS is the per-account, per-region rate limit of the action (burst
	// equal to the rate); 0 means unlimited.
	QPS float64
	// Regional actions require a known RegionId.
	Regional bool
	// Envelope adds Code: 200, Message and Success to successful responses,
	// as alikafka does; RAM answers with RequestId and its payload only.
	// kafkaAction and ramAction set it from the product and Bare.
	Envelope bool
	// Bare declares an alikafka action that answers without the envelope
	// (the tag actions: RequestId and their payload only).
	Bare bool
	// Extension marks kafkaplane's own actions, which the official SDKs do
	// not know.
	Extension bool
	Handler   Handler
}

// Registry holds the actions of every product served on the endpoint,
// keyed by API version and action name.
type Registry struct {
	actions  map[string]map[string]*Action // version → name → action
	products map[string]string             // version → product
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{actions: map[string]map[string]*Action{}, products: map[string]string{}}
}

// Add registers an action. It panics on a duplicate or inconsistent
// declaration, so a mistake is found when the server is built.
func (g *Registry) Add(a *Action) {
	if a.Name == "" || a.Version == "" || a.Product == "" || a.Handler == nil {
		panic(fmt.Sprintf("openapi: incomplete action %+v", a))
	}
	if p, ok := g.products[a.Version]; ok && p != a.Product {
		panic("openapi: version " + a.Version + " served by two products")
	}
	g.products[a.Version] = a.Product
	if g.actions[a.Version] == nil {
		g.actions[a.Version] = map[string]*Action{}
	}
	if _, dup := g.actions[a.Version][a.Name]; dup {
		panic("openapi: duplicate action " + a.Name)
	}
	if a.Resource == "" {
		panic("openapi: action " + a.Name + " has no RAM resource")
	}
	if err := a.checkResource(); err != nil {
		panic("openapi: action " + a.Name + ": " + err.Error())
	}
	for _, p := range a.Params {
		if p.Kind == Integer && (p.Min >= p.Max) {
			panic("openapi: integer parameter " + a.Name + "." + p.Name + " declares no range (Min < Max)")
		}
		if p.Kind != Integer && (p.Min != 0 || p.Max != 0) {
			panic("openapi: parameter " + a.Name + "." + p.Name + " is not an integer but declares a range")
		}
	}
	g.actions[a.Version][a.Name] = a
}

// Lookup finds an action. It returns InvalidVersion when no product serves
// version, and InvalidApi.NotFound when the product has no such action.
func (g *Registry) Lookup(version, name string) (*Action, error) {
	byName, ok := g.actions[version]
	if !ok {
		return nil, apierr.InvalidVersion.Errorf("Specified parameter Version is not valid: %q is not a served API version.", version)
	}
	a, ok := byName[name]
	if !ok {
		return nil, apierr.InvalidAPINotFound.New()
	}
	return a, nil
}

// Actions returns every registered action sorted by version and name.
func (g *Registry) Actions() []*Action {
	var out []*Action
	for _, byName := range g.actions {
		for _, a := range byName {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Version != out[j].Version {
			return out[i].Version < out[j].Version
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// validate checks r's parameters against the action's declaration.
func (a *Action) validate(r *Request) error {
	for _, p := range a.Params {
		switch p.Kind {
		case RepeatList:
			vals := r.List(p.Name)
			if p.Required && len(vals) == 0 {
				return apierr.Missing(p.Name + ".1")
			}
			if len(vals) > MaxListItems {
				return apierr.Invalid(p.Name, fmt.Sprintf("At most %d items are allowed.", MaxListItems))
			}
			for _, v := range vals {
				if err := p.check(v); err != nil {
					return err
				}
			}
			continue
		case TagList:
			if _, err := r.TagsOf(p.Name); err != nil {
				return err
			}
			continue
		}
		v, ok := r.lookup(p.Name)
		if !ok || v == "" {
			if p.Required {
				return apierr.Missing(p.Name)
			}
			continue
		}
		if err := p.check(v); err != nil {
			return err
		}
	}
	return nil
}

// check applies p's declaration to a present value: kind, then length or
// range, then Enum and Validate. This is the one place the declared limits
// are enforced.
func (p *Param) check(v string) error {
	switch p.Kind {
	case Integer:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return apierr.Invalid(p.Name, "It must be an integer.")
		}
		if err != nil || n < p.Min || n > p.Max {
			return p.outOfRange(fmt.Sprintf("It must be an integer from %d to %d.", p.Min, p.Max))
		}
	default:
		// A value has at most as many characters as bytes, so only a
		// value longer in bytes than the cap is counted.
		if max := p.maxLen(); len(v) > max && utf8.RuneCountInString(v) > max {
			return p.outOfRange(fmt.Sprintf("It must be at most %d characters long.", max))
		}
	}
	switch p.Kind {
	case Boolean:
		if v != "true" && v != "false" {
			return apierr.Invalid(p.Name, "It must be true or false.")
		}
	case JSON:
		if !jsonValid(v) {
			return apierr.Invalid(p.Name, "It must be a JSON document.")
		}
	}
	if len(p.Enum) > 0 {
		found := false
		for _, e := range p.Enum {
			if e == v {
				found = true
				break
			}
		}
		if !found {
			return apierr.Invalid(p.Name, "Valid values: "+strings.Join(p.Enum, ", ")+".")
		}
	}
	if p.Validate != nil {
		if why := p.Validate(v); why != "" {
			return apierr.Invalid(p.Name, why)
		}
	}
	return nil
}

// placeholders returns the names in braces of an ARN template.
func placeholders(t string) []string {
	var out []string
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, t[i+1:i+j])
		t = t[i+j+1:]
	}
}

// checkResource enforces what makes a resource trustworthy: {RegionId}
// only in regional actions (whose RegionId is validated), and every other
// placeholder either derived or a required, single-valued parameter. An
// optional parameter would expand to "" when left out, and a policy that
// denies the named resource would not match the request at all.
func (a *Action) checkResource() error {
	for _, name := range placeholders(a.Resource) {
		switch name {
		case "AccountId":
			continue
		case "RegionId":
			if !a.Regional {
				return fmt.Errorf("resource %s uses {RegionId} but the action is not regional", a.Resource)
			}
			continue
		}
		if _, ok := a.Derive[name]; ok {
			continue
		}
		i := slices.IndexFunc(a.Params, func(p Param) bool { return p.Name == name })
		if i < 0 || !a.Params[i].Required || a.Params[i].Kind == RepeatList || a.Params[i].Kind == TagList {
			return fmt.Errorf("resource placeholder {%s} is neither derived nor a required single parameter", name)
		}
	}
	return nil
}

// outOfRange is the error for a value beyond p's declared length or range.
func (p *Param) outOfRange(why string) error {
	if p.OutOfRange.Code != "" {
		return p.OutOfRange.New()
	}
	return apierr.Invalid(p.Name, why)
}

// resource expands the action's ARN template for r.
func (a *Action) resource(ctx context.Context, r *Request) (string, error) {
	if a.Resource == "*" {
		return "*", nil
	}
	var b strings.Builder
	t := a.Resource
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			break
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			b.WriteString(t)
			break
		}
		b.WriteString(t[:i])
		name := t[i+1 : i+j]
		switch {
		case name == "RegionId":
			b.WriteString(r.RegionID)
		case name == "AccountId":
			b.WriteString(r.Caller.AccountID)
		case a.Derive[name] != nil:
			v, err := a.Derive[name](ctx, r)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		default:
			v, _ := r.lookup(name)
			b.WriteString(v)
		}
		t = t[i+j+1:]
	}
	return b.String(), nil
}
