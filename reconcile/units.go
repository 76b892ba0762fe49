package reconcile

import (
	"strconv"
	"strings"
)

// Task-level cpu and memory are strings in the ECS API and accept two spellings: an
// integer ("256" CPU units, "1024" MiB) or a unit string ("0.25 vCPU", ".25 vcpu", "1 GB",
// "2 gb"). ECS stores and describes the integer form, so a file that says "1 GB" must
// compare equal to a revision that says "1024" (DESIGN.md decision 6). See cpu and memory in
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
//
// This parser is reconcile's own: ecslocal has another one on purpose (DESIGN.md, "ECS
// behaviour"), so a bug in one is caught by the other.

// taskCPUUnits converts a task cpu value to CPU units (1 vCPU = 1024 units).
func taskCPUUnits(s string) (int64, bool) { return unitValue(s, "vcpu") }

// taskMemoryMiB converts a task memory value to MiB (1 GB = 1024 MiB, as ECS counts it).
func taskMemoryMiB(s string) (int64, bool) { return unitValue(s, "gb") }

// unitValue parses "N" (a positive integer) or "X unit" (X a positive decimal without sign
// or exponent, unit case-insensitive, space optional) as X*1024. The arithmetic is exact:
// a value that is not a whole number of units (".0001 vcpu") is rejected rather than
// rounded, because ECS rejects it too.
func unitValue(s, unit string) (int64, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	if n, ok := positiveInt(t); ok {
		return n, true
	}
	num, ok := strings.CutSuffix(t, unit)
	if !ok {
		return 0, false
	}
	num = strings.TrimSpace(num)
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" {
		return 0, false
	}
	// Bounds keep the integer arithmetic below far from overflow: 10^7 vCPU or GB is
	// already absurd, and 1024 = 2^10 so at most 10 fractional digits can matter.
	if len(whole) > 7 || len(frac) > 10 || !allDigits(whole) || !allDigits(frac) {
		return 0, false
	}
	var w int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	var f, scale int64 = 0, 1
	for _, c := range frac {
		f = f*10 + int64(c-'0')
		scale *= 10
	}
	if (f*1024)%scale != 0 {
		return 0, false
	}
	v := w*1024 + f*1024/scale
	if v <= 0 {
		return 0, false
	}
	return v, true
}

func positiveInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 || !allDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
