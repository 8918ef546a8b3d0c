package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jkind is the JSON type of a jvalue.
type jkind int

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jvalue is a decoded JSON value that, unlike encoding/json's map decoding,
// keeps object members in document order with their exact names. Parse needs
// both: element names are case-sensitive in RAM (encoding/json matches struct
// fields case-insensitively) and a duplicated element must be reported rather
// than silently resolved to the last one.
type jvalue struct {
	kind jkind
	text string // string contents, number literal, or "true"/"false"
	arr  []jvalue
	obj  []jmember
}

// jmember is one name/value pair of a JSON object.
type jmember struct {
	name  string
	value jvalue
}

// decodeTree decodes a document already known to be valid JSON.
func decodeTree(doc []byte) (jvalue, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (jvalue, error) {
	tok, err := dec.Token()
	if err != nil {
		return jvalue{}, err
	}
	switch t := tok.(type) {
	case nil:
		return jvalue{kind: jNull}, nil
	case bool:
		if t {
			return jvalue{kind: jBool, text: "true"}, nil
		}
		return jvalue{kind: jBool, text: "false"}, nil
	case json.Number:
		return jvalue{kind: jNumber, text: t.String()}, nil
	case string:
		return jvalue{kind: jString, text: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := jvalue{kind: jArray, arr: []jvalue{}}
			for dec.More() {
				e, err := decodeValue(dec)
				if err != nil {
					return jvalue{}, err
				}
				v.arr = append(v.arr, e)
			}
			if _, err := dec.Token(); err != nil {
				return jvalue{}, err
			}
			return v, nil
		case '{':
			v := jvalue{kind: jObject, obj: []jmember{}}
			for dec.More() {
				nt, err := dec.Token()
				if err != nil {
					return jvalue{}, err
				}
				name, ok := nt.(string)
				if !ok {
					return jvalue{}, fmt.Errorf("object key is %v, not a string", nt)
				}
				e, err := decodeValue(dec)
				if err != nil {
					return jvalue{}, err
				}
				v.obj = append(v.obj, jmember{name: name, value: e})
			}
			if _, err := dec.Token(); err != nil {
				return jvalue{}, err
			}
			return v, nil
		}
	}
	return jvalue{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// describe renders a value for an error message: scalars verbatim (strings
// quoted) so the author sees what they wrote, containers by type only so a
// large block does not swamp the message.
func (v jvalue) describe() string {
	switch v.kind {
	case jNull:
		return "null"
	case jBool, jNumber:
		return v.text
	case jString:
		return fmt.Sprintf("%q", v.text)
	case jArray:
		return "an array"
	default:
		return "an object"
	}
}

// members returns the object's members after rejecting duplicated names,
// reporting the duplicate under path.
func (v jvalue) members(path string) ([]jmember, error) {
	seen := make(map[string]bool, len(v.obj))
	for _, m := range v.obj {
		if seen[m.name] {
			return nil, perrf("%sduplicate element %q", prefix(path), m.name)
		}
		seen[m.name] = true
	}
	return v.obj, nil
}

// prefix turns a path into a message prefix ("Statement[0]: "), or nothing
// at the top level.
func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}
