package ojson

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Marshal returns the compact JSON encoding.
func (v *Value) Marshal() []byte {
	var b bytes.Buffer
	v.write(&b, "", "", 0)
	return b.Bytes()
}

// MarshalIndent returns the encoding indented by indent per level, ending in a newline.
func (v *Value) MarshalIndent(indent string) []byte {
	var b bytes.Buffer
	v.write(&b, "\n", indent, 0)
	b.WriteByte('\n')
	return b.Bytes()
}

// MarshalJSON lets a Value sit inside structs encoded with encoding/json.
func (v *Value) MarshalJSON() ([]byte, error) { return v.Marshal(), nil }

// UnmarshalJSON parses into v.
func (v *Value) UnmarshalJSON(b []byte) error {
	p, err := Parse(b)
	if err != nil {
		return err
	}
	*v = *p
	return nil
}

func (v *Value) write(b *bytes.Buffer, nl, indent string, depth int) {
	if v == nil {
		b.WriteString("null")
		return
	}
	newline := func(d int) {
		if nl == "" {
			return
		}
		b.WriteString(nl)
		for range d {
			b.WriteString(indent)
		}
	}
	switch v.Kind {
	case Null:
		b.WriteString("null")
	case Bool:
		if v.Bool {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Number:
		b.WriteString(v.Num)
	case String:
		writeString(b, v.Str)
	case Array:
		if len(v.Arr) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range v.Arr {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(depth + 1)
			e.write(b, nl, indent, depth+1)
		}
		newline(depth)
		b.WriteByte(']')
	case Object:
		if len(v.Obj) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, m := range v.Obj {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(depth + 1)
			writeString(b, m.Key)
			b.WriteByte(':')
			if nl != "" {
				b.WriteByte(' ')
			}
			m.Value.write(b, nl, indent, depth+1)
		}
		newline(depth)
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("ojson: bad kind %d", v.Kind))
	}
}

// writeString encodes s as a JSON string without HTML escaping, so that `<IMAGE1_NAME>`
// placeholders and `&&` in shell commands stay readable in rendered output.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // cannot fail for a string
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// FromAny converts a value decoded by encoding/json (map keys are sorted, as maps have no
// order) into a Value.
func FromAny(x any) (*Value, error) {
	b, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}
