package rpcsig

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// byteMutations are the replacements tried at every byte position: a
// low-bit flip, an ASCII case flip and a high-bit flip (which also makes
// the byte invalid UTF-8).
var byteMutations = []byte{0x01, 0x20, 0x80}

// mutations calls f with every string that differs from s in exactly one
// byte, for every byte position and every mask in byteMutations.
func mutations(s string, f func(desc, m string)) {
	for i := 0; i < len(s); i++ {
		for _, mask := range byteMutations {
			b := []byte(s)
			b[i] ^= mask
			f(fmt.Sprintf("byte %d ^ %#02x", i, mask), string(b))
		}
	}
}

func TestV1AnyByteChangeFails(t *testing.T) {
	signed := v1Request()
	if _, ok := VerifyV1("POST", signed, "testsecret"); !ok {
		t.Fatal("unmodified request does not verify")
	}
	tried := 0
	for _, key := range slices.Sorted(maps.Keys(signed)) {
		// Every byte of the key.
		mutations(key, func(desc, mk string) {
			p := cloneValues(signed)
			vals := p[key]
			delete(p, key)
			p[mk] = append(p[mk], vals...)
			tried++
			if _, ok := VerifyV1("POST", p, "testsecret"); ok {
				t.Errorf("key %q %s -> %q still verifies", key, desc, mk)
			}
		})
		// Every byte of every value (Signature included).
		for vi, v := range signed[key] {
			mutations(v, func(desc, mv string) {
				p := cloneValues(signed)
				p[key][vi] = mv
				tried++
				if _, ok := VerifyV1("POST", p, "testsecret"); ok {
					t.Errorf("%s value %s -> %q still verifies", key, desc, mv)
				}
			})
		}
		// Dropping the parameter, even the empty SignatureType.
		p := cloneValues(signed)
		delete(p, key)
		if _, ok := VerifyV1("POST", p, "testsecret"); ok {
			t.Errorf("request without %s still verifies", key)
		}
	}
	// Adding a parameter, even an empty one.
	p := cloneValues(signed)
	p.Set("Extra", "")
	if _, ok := VerifyV1("POST", p, "testsecret"); ok {
		t.Error("request with an added parameter still verifies")
	}
	t.Logf("%d single-byte mutations rejected", tried)
}

func TestV3AnyByteChangeFails(t *testing.T) {
	method, path, query, headers, body := v3Request(t)
	auth, err := ParseAuthorization(headers.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(q url.Values, h http.Header, b []byte) bool {
		_, ok, _ := VerifyV3(method, path, q, h, b, auth, "testsecret")
		return ok
	}
	if !verify(query, headers, body) {
		t.Fatal("unmodified request does not verify")
	}
	tried := 0
	for _, key := range slices.Sorted(maps.Keys(query)) {
		mutations(key, func(desc, mk string) {
			q := cloneValues(query)
			vals := q[key]
			delete(q, key)
			q[mk] = append(q[mk], vals...)
			tried++
			if verify(q, headers, body) {
				t.Errorf("query key %q %s -> %q still verifies", key, desc, mk)
			}
		})
		for vi, v := range query[key] {
			mutations(v, func(desc, mv string) {
				q := cloneValues(query)
				q[key][vi] = mv
				tried++
				if verify(q, headers, body) {
					t.Errorf("query %s value %s -> %q still verifies", key, desc, mv)
				}
			})
		}
	}
	for _, name := range auth.SignedHeaders {
		canon := http.CanonicalHeaderKey(name)
		v := headers.Get(canon)
		if v == "" {
			t.Fatalf("signed header %s is not in the request", name)
		}
		mutations(v, func(desc, mv string) {
			h := headers.Clone()
			h.Set(canon, mv)
			tried++
			if verify(query, h, body) {
				t.Errorf("header %s %s -> %q still verifies", name, desc, mv)
			}
		})
	}
	mutations(string(body), func(desc, mb string) {
		tried++
		if verify(query, headers, []byte(mb)) {
			t.Errorf("body %s still verifies", desc)
		}
	})
	if verify(query, headers, body[:len(body)-1]) || verify(query, headers, append(slices.Clone(body), ' ')) {
		t.Error("truncated or extended body still verifies")
	}
	t.Logf("%d single-byte mutations rejected", tried)
}
