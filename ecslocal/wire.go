package ecslocal

import (
	"encoding/json"
	"strconv"
	"time"
)

// Accessors for wire-shaped maps (what conform returns and what state keeps).

func getString(m map[string]any, key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok
}

func getInt(m map[string]any, key string) (int64, bool) {
	switch n := m[key].(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

func getList(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func getObject(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// setDefault sets m[key] = v when key is absent.
func setDefault(m map[string]any, key string, v any) {
	if _, ok := m[key]; !ok {
		m[key] = v
	}
}

// epochSeconds is how AWS JSON protocols carry timestamps: seconds since the epoch as a
// JSON number, here with millisecond precision as ECS returns them.
func epochSeconds(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
}
