package openapi

import (
	"encoding/base64"

	"github.com/kafkaplane/kafkaplane/apierr"
)

// ramPaging declares RAM's Marker/MaxItems: a marker is the encoded key of
// an item (at most a policy type and a 128-character name), MaxItems 1–1000.
var ramPaging = []Param{
	{Name: "Marker", MaxLen: 512, OutOfRange: apierr.RAMMarker},
	{Name: "MaxItems", Kind: Integer, Min: 1, Max: 1000, OutOfRange: apierr.RAMMaxItems},
}

// ramPage cuts one page out of keys (in the store's stable order) for RAM's
// Marker/MaxItems paging. The marker is the opaque key of the first item
// of the next page; it stays valid while that item exists.
func ramPage(r *Request, keys []string) (from, to int, next string, err error) {
	max := 100
	if r.Has("MaxItems") {
		max = r.Int("MaxItems", 100)
		if max < 1 || max > 1000 {
			return 0, 0, "", apierr.RAMMaxItems.Errorf(`The parameter - "MaxItems" must be between 1 and 1000.`)
		}
	}
	if m := r.String("Marker"); m != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(m)
		from = -1
		if derr == nil {
			for i, k := range keys {
				if k == string(raw) {
					from = i
					break
				}
			}
		}
		if from < 0 {
			return 0, 0, "", apierr.RAMMarker.Errorf(`The parameter - "Marker" does not name an item of this list; start again without it.`)
		}
	}
	from, to = itemRange(len(keys), from, max)
	if to < len(keys) {
		next = base64.RawURLEncoding.EncodeToString([]byte(keys[to]))
	}
	return from, to, next, nil
}

// ramList answers a list action: one page of items, cut by key as
// ramPage cuts, rendered under outer.inner after IsTruncated and Marker.
func ramList[T any](r *Request, items []T, key func(T) string, render func(T) Object, outer, inner string) (Object, error) {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = key(it)
	}
	from, to, next, err := ramPage(r, keys)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, to-from)
	for _, it := range items[from:to] {
		out = append(out, render(it))
	}
	return append(ramPageFields(next), Field{outer, Object{{inner, out}}}), nil
}

// ramPageFields renders IsTruncated and, when there is more, Marker.
func ramPageFields(next string) Object {
	o := Object{{"IsTruncated", next != ""}}
	if next != "" {
		o = append(o, Field{"Marker", next})
	}
	return o
}
