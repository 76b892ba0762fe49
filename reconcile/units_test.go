package reconcile

import (
	"strconv"
	"strings"
	"testing"
)

func TestUnitValue(t *testing.T) {
	for _, tc := range []struct {
		in, unit string
		want     int64
		ok       bool
	}{
		{"256", "vcpu", 256, true},
		{"0.25 vCPU", "vcpu", 256, true},
		{".25 vcpu", "vcpu", 256, true},
		{"1vcpu", "vcpu", 1024, true},
		{" 2 VCPU ", "vcpu", 2048, true},
		{"1 GB", "gb", 1024, true},
		{"2 gb", "gb", 2048, true},
		{".5 gb", "gb", 512, true},
		{"0.5GB", "gb", 512, true},
		{"1.", "vcpu", 0, false},        // no unit
		{"1. vcpu", "vcpu", 1024, true}, // "1." is a number, as ParseFloat agrees
		{"0", "vcpu", 0, false},
		{"0 vcpu", "vcpu", 0, false},
		{"-1 vcpu", "vcpu", 0, false},
		{"+1 vcpu", "vcpu", 0, false},
		{"1e3 vcpu", "vcpu", 0, false},
		{"0.0001 vcpu", "vcpu", 0, false}, // not a whole number of units
		{". vcpu", "vcpu", 0, false},
		{"vcpu", "vcpu", 0, false},
		{"1 GiB", "gb", 0, false},
		{"1 vcpu", "gb", 0, false},
		{"", "gb", 0, false},
		{"99999999999999999999", "gb", 0, false},
		{"0x10", "gb", 0, false},
	} {
		got, ok := unitValue(tc.in, tc.unit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("unitValue(%q, %q) = %d, %v; want %d, %v", tc.in, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzUnitValue checks the parser of outside input never panics, never returns a
// non-positive value, and agrees with float arithmetic where that is exact.
func FuzzUnitValue(f *testing.F) {
	for _, s := range []string{"256", "0.25 vCPU", ".25 vcpu", "1 GB", ".5 gb", "1e3 gb", "0x1 gb", "1.00000000001 gb", "", " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, unit := range []string{"vcpu", "gb"} {
			n, ok := unitValue(s, unit)
			if !ok {
				continue
			}
			if n <= 0 {
				t.Fatalf("unitValue(%q) = %d, ok", s, n)
			}
			t2 := strings.TrimSpace(strings.ToLower(s))
			if num, cut := strings.CutSuffix(t2, unit); cut {
				x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
				if err != nil || x*1024 != float64(n) {
					t.Fatalf("unitValue(%q) = %d, float says %v (%v)", s, n, x*1024, err)
				}
			}
		}
	})
}
