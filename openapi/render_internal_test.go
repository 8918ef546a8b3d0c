package openapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// refObject renders an Object the way encoding/json does when every level
// is a json.Marshaler; writeJSON must give the same bytes.
type refObject Object

func (o refObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalJSONValue(toRef(f.Value))
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func toRef(v any) any {
	switch v := v.(type) {
	case Object:
		if v == nil {
			return (*refObject)(nil)
		}
		return refObject(v)
	case []Object:
		if v == nil {
			return []refObject(nil)
		}
		out := make([]refObject, len(v))
		for i, o := range v {
			out[i] = refObject(o)
		}
		return out
	}
	return v
}

var jsonSamples = []string{
	"", "plain", `quote " and backslash \ slash /`, "<html> & 'apos'", "tab\tnew\nline\rret\bback\fform",
	"\x00\x01\x1f\x7f", "ünïcødé 中文 🎉", "bad \xff utf8 \xc3", "line sep \u2028 para \u2029",
	"server string to sign is:POST&%2F&AccessKeyId%3Dx",
}

func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	o := Object{
		{"RequestId", "1D0A-…"},
		{"Code", 200},
		{"Big", int64(1) << 60},
		{"Neg", -7},
		{"Success", true},
		{"Fail", false},
		{"Nil", nil},
		{"NilObject", Object(nil)},
		{"Empty", Object{}},
		{"NilList", []Object(nil)},
		{"EmptyList", []Object{}},
		{"NilStrings", []string(nil)},
		{"Strings", jsonSamples},
		{"Float", 1.5},
		{"Map", map[string]string{"b": "<2>", "a": "1&"}},
		{"Raw", json.RawMessage(`{"x":[1,2]}`)},
		{"Time", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"Ints", []int{1, 2, 3}},
		{"Any", []any{"s", 1, Object{{"In", "any"}}}},
		{"Nested", Object{{"InstanceVO", []Object{{{"Tags", Object{{"TagVO", []Object{{{"Key", "k"}, {"Value", "v"}}}}}}}}}}},
	}
	for _, s := range jsonSamples {
		o = append(o, Field{s, s})
	}
	got := renderJSON(o)
	want, err := marshalJSONValue(refObject(o))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("writeJSON:\n%s\nencoding/json:\n%s", got, want)
	}
}

func FuzzWriteJSONString(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		writeJSONString(&b, s, false)
		want, _ := marshalJSONValue(s)
		if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("%q: got %s, encoding/json %s", s, b.Bytes(), want)
		}
		b.Reset()
		writeJSONString(&b, s, true)
		want, _ = json.Marshal(s)
		if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("%q (HTML): got %s, encoding/json %s", s, b.Bytes(), want)
		}
	})
}
