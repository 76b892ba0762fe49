package ecslocal

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// conform reduces a decoded JSON value (objects as map[string]any, numbers as json.Number)
// to the API shape described by the SDK type t, the way ECS treats a request:
//
//   - members the shape does not have are dropped (ECS ignores unknown members and never
//     returns them);
//   - null members are dropped (null and absent are the same to ECS);
//   - a value of the wrong JSON type is an error (ECS answers SerializationException);
//   - an enum member must hold one of its values (the SDK enum's Values()).
//
// The SDK types carry Go field names; the wire name of each member is the field name with
// its first letter lowered (ECS members are all lowerCamelCase), so the shape is read from
// the SDK types by reflection and follows the SDK version in go.mod. The recursion follows
// the type, which is finite, so hostile nesting in the input cannot make it deep.
func conform(v any, t reflect.Type, path string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		if _, ok := v.(json.Number); !ok {
			return nil, typeErr(path, "a timestamp (epoch seconds)", v)
		}
		return v, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeErr(path, "an object", v)
		}
		out := make(map[string]any, len(m))
		for name, fv := range m {
			f, ok := memberField(t, name)
			if !ok || fv == nil {
				continue
			}
			cv, err := conform(fv, f.Type, joinPath(path, name))
			if err != nil {
				return nil, err
			}
			out[name] = cv
		}
		return out, nil
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return nil, typeErr(path, "a list", v)
		}
		out := make([]any, 0, len(l))
		for i, ev := range l {
			if ev == nil {
				return nil, typeErr(fmt.Sprintf("%s[%d]", path, i), "a value", ev)
			}
			cv, err := conform(ev, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, cv)
		}
		return out, nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeErr(path, "an object", v)
		}
		out := make(map[string]any, len(m))
		for k, ev := range m {
			if ev == nil {
				continue
			}
			cv, err := conform(ev, t.Elem(), joinPath(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(path, "a string", v)
		}
		if err := checkEnum(s, t, path); err != nil {
			return nil, err
		}
		return s, nil
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return nil, typeErr(path, "a boolean", v)
		}
		return v, nil
	case reflect.Int32, reflect.Int64, reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			return nil, typeErr(path, "an integer", v)
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || (t.Kind() == reflect.Int32 && (i < math.MinInt32 || i > math.MaxInt32)) {
			return nil, typeErr(path, "an integer", v)
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return nil, typeErr(path, "a number", v)
		}
		if _, err := n.Float64(); err != nil {
			return nil, typeErr(path, "a number", v)
		}
		return n, nil
	default:
		// Documents and unions: ECS task definitions have none; keep the value as sent.
		return v, nil
	}
}

var timeType = reflect.TypeFor[time.Time]()

// memberField finds the exported field of struct type t whose wire name is name.
func memberField(t reflect.Type, name string) (reflect.StructField, bool) {
	r, size := utf8.DecodeRuneInString(name)
	if size == 0 || !unicode.IsLower(r) {
		return reflect.StructField{}, false
	}
	f, ok := t.FieldByName(string(unicode.ToUpper(r)) + name[size:])
	if !ok || !f.IsExported() || len(f.Index) != 1 {
		return reflect.StructField{}, false
	}
	return f, true
}

// checkEnum rejects a value that is not one of an SDK enum's values. Plain string members
// (t == string) accept anything.
func checkEnum(s string, t reflect.Type, path string) error {
	m := reflect.Zero(t).MethodByName("Values")
	if !m.IsValid() {
		return nil
	}
	vals := m.Call(nil)[0]
	allowed := make([]string, vals.Len())
	for i := range allowed {
		allowed[i] = vals.Index(i).String()
	}
	if slices.Contains(allowed, s) {
		return nil
	}
	return clientErr("%s: invalid value %q, must be one of %v", path, s, allowed)
}

func typeErr(path, want string, got any) error {
	return newError(errSerialization, "%s: expected %s, got %s", pathOrRoot(path), want, jsonKind(got))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func pathOrRoot(path string) string {
	if path == "" {
		return "request"
	}
	return path
}
