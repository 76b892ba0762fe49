// Package ojson is an ordered JSON tree: objects keep their members in the order they were
// written, numbers keep their exact text, and every value remembers where in the source it
// began. taskward stores task definitions this way so that render, unrender, diff and apply
// never drop or reorder a field they do not own (DESIGN.md decision 1); typed views come
// from the AWS SDK types and are used for validation only.
package ojson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is a JSON value's type.
type Kind uint8

const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

func (k Kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// Value is one JSON value. The zero Value is null.
type Value struct {
	Kind Kind
	Bool bool
	Num  string // the number's literal text, exactly as written
	Str  string
	Arr  []*Value
	Obj  []Member
	// Offset is the byte offset in the parsed source where the value begins (-1 when built).
	Offset int
}

// Member is one key and value of an object.
type Member struct {
	Key   string
	Value *Value
}

// SyntaxError is a JSON syntax error with its position.
type SyntaxError struct {
	Msg          string
	Offset       int
	Line, Column int // 1-based
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// MaxDepth bounds nesting so that hostile input cannot exhaust the stack.
const MaxDepth = 128

// Parse reads exactly one JSON value from b. Duplicate keys in an object are an error,
// because which one a consumer keeps differs between parsers.
func Parse(b []byte) (*Value, error) {
	p := &parser{src: b, dec: json.NewDecoder(bytes.NewReader(b))}
	p.dec.UseNumber()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, p.errAt(int(p.dec.InputOffset()), "unexpected data after the top-level value")
	}
	return v, nil
}

type parser struct {
	src []byte
	dec *json.Decoder
}

// LineCol converts a byte offset in src to a 1-based line and column (in characters).
func LineCol(src []byte, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	before := src[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCount(before[lineStart:]) + 1
	return line, col
}

func (p *parser) errAt(off int, format string, args ...any) error {
	l, c := LineCol(p.src, off)
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: off, Line: l, Column: c}
}

// start returns the offset of the next token: InputOffset is the end of the previous one.
func (p *parser) start() int {
	off := int(p.dec.InputOffset())
	for off < len(p.src) {
		switch p.src[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (p *parser) value(depth int) (*Value, error) {
	if depth > MaxDepth {
		return nil, p.errAt(p.start(), "nesting deeper than %d levels", MaxDepth)
	}
	off := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.tokenErr(err, off)
	}
	v := &Value{Offset: off}
	switch t := tok.(type) {
	case nil:
		v.Kind = Null
	case bool:
		v.Kind, v.Bool = Bool, t
	case json.Number:
		// Kept as text, but it must fit a float64, as encoding/json (and so every JSON
		// decoder of the AWS SDK) requires: 1e400 is valid JSON grammar that nothing
		// downstream can take.
		if _, err := strconv.ParseFloat(string(t), 64); err != nil {
			return nil, p.errAt(off, "number %s is out of range (it must fit a 64-bit float)", truncate(string(t), 40))
		}
		v.Kind, v.Num = Number, string(t)
	case string:
		v.Kind, v.Str = String, t
	case json.Delim:
		switch t {
		case '[':
			v.Kind = Array
			v.Arr = []*Value{}
			for p.dec.More() {
				e, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.Arr = append(v.Arr, e)
			}
			if _, err := p.dec.Token(); err != nil {
				return nil, p.tokenErr(err, p.start())
			}
		case '{':
			v.Kind = Object
			v.Obj = []Member{}
			seen := map[string]bool{}
			for p.dec.More() {
				koff := p.start()
				kt, err := p.dec.Token()
				if err != nil {
					return nil, p.tokenErr(err, koff)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, p.errAt(koff, "object key must be a string")
				}
				if seen[k] {
					return nil, p.errAt(koff, "duplicate key %q: remove one of them", k)
				}
				seen[k] = true
				e, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.Obj = append(v.Obj, Member{Key: k, Value: e})
			}
			if _, err := p.dec.Token(); err != nil {
				return nil, p.tokenErr(err, p.start())
			}
		default:
			return nil, p.errAt(off, "unexpected %q", t)
		}
	}
	return v, nil
}

func (p *parser) tokenErr(err error, off int) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return p.errAt(int(se.Offset), "%s", strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.errAt(len(p.src), "unexpected end of JSON input")
	}
	return p.errAt(off, "%s", err.Error())
}

// Constructors for building values.
func NewNull() *Value           { return &Value{Kind: Null, Offset: -1} }
func NewBool(b bool) *Value     { return &Value{Kind: Bool, Bool: b, Offset: -1} }
func NewString(s string) *Value { return &Value{Kind: String, Str: s, Offset: -1} }
func NewInt(n int64) *Value     { return &Value{Kind: Number, Num: strconv.FormatInt(n, 10), Offset: -1} }
func NewArray(e ...*Value) *Value {
	return &Value{Kind: Array, Arr: append([]*Value{}, e...), Offset: -1}
}
func NewObject() *Value { return &Value{Kind: Object, Obj: []Member{}, Offset: -1} }

// NewStrings builds an array of strings.
func NewStrings(ss []string) *Value {
	a := NewArray()
	for _, s := range ss {
		a.Arr = append(a.Arr, NewString(s))
	}
	return a
}

// IsNull reports whether v is absent (nil) or JSON null.
func (v *Value) IsNull() bool { return v == nil || v.Kind == Null }

// Get returns the member named key of an object, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := range v.Obj {
		if v.Obj[i].Key == key {
			return v.Obj[i].Value
		}
	}
	return nil
}

// Has reports whether the object has the key (even with a null value).
func (v *Value) Has(key string) bool {
	if v == nil || v.Kind != Object {
		return false
	}
	for i := range v.Obj {
		if v.Obj[i].Key == key {
			return true
		}
	}
	return false
}

// Set replaces the member's value in place, or appends the member when absent.
func (v *Value) Set(key string, val *Value) {
	for i := range v.Obj {
		if v.Obj[i].Key == key {
			v.Obj[i].Value = val
			return
		}
	}
	v.Obj = append(v.Obj, Member{Key: key, Value: val})
}

// Delete removes the member named key, keeping the others in order.
func (v *Value) Delete(key string) {
	if v == nil || v.Kind != Object {
		return
	}
	for i := range v.Obj {
		if v.Obj[i].Key == key {
			v.Obj = append(v.Obj[:i], v.Obj[i+1:]...)
			return
		}
	}
}

// Keys returns an object's keys in order.
func (v *Value) Keys() []string {
	if v == nil || v.Kind != Object {
		return nil
	}
	ks := make([]string, len(v.Obj))
	for i, m := range v.Obj {
		ks[i] = m.Key
	}
	return ks
}

// StringOr returns the string value, or def when v is not a string.
func (v *Value) StringOr(def string) string {
	if v == nil || v.Kind != String {
		return def
	}
	return v.Str
}

// Strings returns an array of strings, and false if v is not one.
func (v *Value) Strings() ([]string, bool) {
	if v == nil || v.Kind != Array {
		return nil, false
	}
	out := make([]string, 0, len(v.Arr))
	for _, e := range v.Arr {
		if e.Kind != String {
			return nil, false
		}
		out = append(out, e.Str)
	}
	return out, true
}

// Clone returns a deep copy.
func (v *Value) Clone() *Value {
	if v == nil {
		return nil
	}
	c := *v
	if v.Arr != nil {
		c.Arr = make([]*Value, len(v.Arr))
		for i, e := range v.Arr {
			c.Arr[i] = e.Clone()
		}
	}
	if v.Obj != nil {
		c.Obj = make([]Member, len(v.Obj))
		for i, m := range v.Obj {
			c.Obj[i] = Member{Key: m.Key, Value: m.Value.Clone()}
		}
	}
	return &c
}

// Equal reports whether two values are the same JSON, member order included; numbers are
// compared by their text.
func Equal(a, b *Value) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Null:
		return true
	case Bool:
		return a.Bool == b.Bool
	case Number:
		return a.Num == b.Num
	case String:
		return a.Str == b.Str
	case Array:
		if len(a.Arr) != len(b.Arr) {
			return false
		}
		for i := range a.Arr {
			if !Equal(a.Arr[i], b.Arr[i]) {
				return false
			}
		}
		return true
	}
	if len(a.Obj) != len(b.Obj) {
		return false
	}
	for i := range a.Obj {
		if a.Obj[i].Key != b.Obj[i].Key || !Equal(a.Obj[i].Value, b.Obj[i].Value) {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
