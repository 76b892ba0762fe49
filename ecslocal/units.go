package ecslocal

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Task-level cpu and memory are strings in the ECS API. ECS accepts either a plain integer
// (CPU units, MiB) or a unit string ("1 vCPU", "1 vcpu", ".25 vcpu"; "1 GB", "2 gb",
// ".5 gb") and stores the integer form: a definition registered with "0.25 vCPU" is
// described with "256". See the cpu and memory members of RegisterTaskDefinition:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html

// cpuUnits converts a task cpu string to CPU units (1 vCPU = 1024 units).
func cpuUnits(s string) (int64, error) {
	return convertUnits(s, "vcpu", "cpu units")
}

// memoryMiB converts a task memory string to MiB (1 GB = 1024 MiB, as ECS counts it).
func memoryMiB(s string) (int64, error) {
	return convertUnits(s, "gb", "MiB")
}

// convertUnits parses "N" as an integer count or "X <unit>" (case-insensitive, space
// optional, X may be fractional) as X*1024. The result must be a positive whole number:
// ECS has no fractional CPU units or MiB.
func convertUnits(s, unit, plain string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return 0, fmt.Errorf("empty value")
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("%q: must be a positive number of %s", s, plain)
		}
		return n, nil
	}
	num, ok := strings.CutSuffix(t, unit)
	if !ok {
		return 0, fmt.Errorf("%q: expected an integer number of %s or a value in %s", s, plain, unitLabel(unit))
	}
	num = strings.TrimSpace(num)
	if num == "" || strings.ContainsAny(num, "eEx+-_") { // no exponents, hex, signs or digit separators
		return 0, fmt.Errorf("%q: expected a number before %s", s, unitLabel(unit))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f > 1<<20 {
		return 0, fmt.Errorf("%q: expected a positive number before %s", s, unitLabel(unit))
	}
	v := f * 1024
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("%q: %g %s is not a whole number of %s", s, f, unitLabel(unit), plain)
	}
	return int64(v), nil
}

func unitLabel(unit string) string {
	if unit == "vcpu" {
		return "vCPU"
	}
	return "GB"
}
