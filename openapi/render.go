package openapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Field is one key of an Object.
type Field struct {
	Key   string
	Value any
}

// Object is a response object whose keys keep their order on the wire, in
// JSON and in XML. Values are scalars, Objects, or slices; in XML a slice
// becomes one element per item, named after the slice's key, which is how
// Alibaba renders lists (InstanceList.InstanceVO[] ⇄ <InstanceList>
// <InstanceVO>…</InstanceVO><InstanceVO>…</InstanceVO></InstanceList>).
type Object []Field

// MarshalJSON implements json.Marshaler.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// marshalJSONValue encodes without HTML escaping: Alibaba answers '<', '>'
// and '&' literally, and string-to-sign messages contain '&'.
func marshalJSONValue(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// writeJSON appends v to b in one pass. Objects, lists and the scalar
// types handlers use are written directly; anything else goes through
// marshalJSONValue. The bytes are exactly what marshalJSONValue would
// give: encoding/json would call MarshalJSON of every nested Object and
// then re-scan and copy its output once per level of nesting, which made
// rendering a list answer the most expensive step of a request.
func writeJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case Object:
		if v == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			// Keys keep the HTML escaping they always had.
			writeJSONString(b, f.Key, true)
			b.WriteByte(':')
			if err := writeJSON(b, f.Value); err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
		}
		b.WriteByte('}')
		return nil
	case []Object:
		if v == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('[')
		for i, o := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, o); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case []string:
		if v == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, s, false)
		}
		b.WriteByte(']')
		return nil
	case string:
		writeJSONString(b, v, false)
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(v))
		return nil
	case int:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(v), 10))
		return nil
	case int64:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), v, 10))
		return nil
	case nil:
		b.WriteString("null")
		return nil
	}
	out, err := marshalJSONValue(v)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

// writeJSONString writes s as a JSON string the way encoding/json does:
// quote, backslash and control characters escaped, invalid UTF-8 replaced
// by U+FFFD, U+2028 and U+2029 escaped, and '<', '>' and '&' escaped only
// when html is set.
func writeJSONString(b *bytes.Buffer, s string, html bool) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// renderJSON encodes the whole response body.
func renderJSON(o Object) []byte {
	var b bytes.Buffer
	b.Grow(1024)
	if err := writeJSON(&b, o); err != nil {
		// Handlers build Objects from plain values; an encoding failure is a
		// programming error that tests catch.
		panic(err)
	}
	return b.Bytes()
}

// renderXML encodes o as <root>…</root> with an XML declaration.
func renderXML(root string, o Object) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	writeXML(&b, root, o)
	return b.Bytes()
}

func writeXML(b *bytes.Buffer, key string, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("<" + key + "/>")
		return
	case Object:
		b.WriteString("<" + key + ">")
		for _, f := range v {
			writeXML(b, f.Key, f.Value)
		}
		b.WriteString("</" + key + ">")
		return
	case json.RawMessage:
		writeXMLText(b, key, string(v))
		return
	case string:
		writeXMLText(b, key, v)
		return
	case bool:
		writeXMLText(b, key, strconv.FormatBool(v))
		return
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			writeXML(b, key, rv.Index(i).Interface())
		}
	case reflect.Map:
		// Maps only appear as string → scalar configuration; encode them
		// through JSON to keep their keys sorted and stable.
		j, _ := marshalJSONValue(v)
		writeXMLText(b, key, string(j))
	default:
		writeXMLText(b, key, fmt.Sprint(v))
	}
}

func writeXMLText(b *bytes.Buffer, key, text string) {
	b.WriteString("<" + key + ">")
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + key + ">")
}
