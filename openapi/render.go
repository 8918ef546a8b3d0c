package openapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"reflect"
	"strconv"
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
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalJSONValue(f.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Key, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
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

// renderJSON encodes the whole response body.
func renderJSON(o Object) []byte {
	b, err := marshalJSONValue(o)
	if err != nil {
		// Handlers build Objects from plain values; an encoding failure is a
		// programming error that tests catch.
		panic(err)
	}
	return b
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
