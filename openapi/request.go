package openapi

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Request is an authenticated, parsed API call as handlers see it.
type Request struct {
	ID       string // RequestId
	Action   *Action
	Params   url.Values // query and form body merged
	RegionID string
	// Caller is the AccessKey that signed the request.
	Caller *kafkaplane.AccessKey
	// SourceIP and Secure feed the acs:SourceIp and acs:SecureTransport
	// policy condition keys.
	SourceIP string
	Secure   bool
	Time     time.Time
}

// lookup returns a parameter's first value.
func (r *Request) lookup(name string) (string, bool) {
	v, ok := r.Params[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// String returns a parameter's value, or "" when absent.
func (r *Request) String(name string) string {
	v, _ := r.lookup(name)
	return v
}

// Int returns an integer parameter, or def when absent. Validation has
// already refused values that are not integers.
func (r *Request) Int(name string, def int) int {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

// Bool returns a boolean parameter, or def when absent.
func (r *Request) Bool(name string, def bool) bool {
	switch r.String(name) {
	case "true":
		return true
	case "false":
		return false
	}
	return def
}

// Has reports whether a parameter was sent with a non-empty value.
func (r *Request) Has(name string) bool {
	v, ok := r.lookup(name)
	return ok && v != ""
}

// List returns a repeated parameter Name.1, Name.2, … in index order.
func (r *Request) List(name string) []string {
	type item struct {
		n int
		v string
	}
	var items []item
	prefix := name + "."
	for k, vs := range r.Params {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || len(vs) == 0 {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			continue
		}
		items = append(items, item{n, vs[0]})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it.v != "" {
			out = append(out, it.v)
		}
	}
	return out
}

// maxTags is alikafka's limit on Tag.N.
const maxTags = 20

// TagsOf returns a struct list Name.N.Key / Name.N.Value in index order. It
// refuses more than 20 entries and keys over 128 characters, as alikafka's
// tag rules do.
func (r *Request) TagsOf(name string) ([]kafkaplane.Tag, error) {
	byN := map[int]*kafkaplane.Tag{}
	prefix := name + "."
	for k, vs := range r.Params {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || len(vs) == 0 {
			continue
		}
		idx, field, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			return nil, apierr.Invalid(name, "The index of "+k+" is not a positive integer.")
		}
		if n > maxTags {
			return nil, apierr.Invalid(name, "At most 20 tags are allowed.")
		}
		t := byN[n]
		if t == nil {
			t = &kafkaplane.Tag{}
			byN[n] = t
		}
		switch field {
		case "Key":
			t.Key = vs[0]
		case "Value":
			t.Value = vs[0]
		}
	}
	ns := make([]int, 0, len(byN))
	for n := range byN {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	out := make([]kafkaplane.Tag, 0, len(ns))
	for _, n := range ns {
		t := *byN[n]
		if len(t.Key) > 128 || len(t.Value) > 128 {
			return nil, apierr.Invalid(name, "A tag key or value is longer than 128 characters.")
		}
		lk := strings.ToLower(t.Key)
		if strings.HasPrefix(lk, "aliyun") || strings.HasPrefix(lk, "acs:") || strings.Contains(lk, "http://") || strings.Contains(lk, "https://") {
			return nil, apierr.Invalid(name, "A tag key may not start with aliyun or acs: nor contain http:// or https://.")
		}
		out = append(out, t)
	}
	return out, nil
}

func jsonValid(s string) bool { return json.Valid([]byte(s)) }
