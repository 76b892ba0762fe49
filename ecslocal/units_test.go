package ecslocal

import "testing"

func TestUnitConversion(t *testing.T) {
	for _, tc := range []struct {
		in      string
		cpu     bool
		want    int64
		wantErr bool
	}{
		{"256", true, 256, false},
		{"0.25 vCPU", true, 256, false},
		{".25 vcpu", true, 256, false},
		{"1 vCPU", true, 1024, false},
		{"1vcpu", true, 1024, false},
		{"2 VCPU", true, 2048, false},
		{"0.3 vcpu", true, 0, true}, // 307.2 units: not whole
		{"-1", true, 0, true},
		{"0", true, 0, true},
		{"1 gb", true, 0, true}, // wrong unit for cpu
		{"1e3 vcpu", true, 0, true},
		{"", true, 0, true},
		{"512", false, 512, false},
		{"1 GB", false, 1024, false},
		{"2 gb", false, 2048, false},
		{".5 gb", false, 512, false},
		{"0.5GB", false, 512, false},
		{"3 mb", false, 0, true},
		{"lots", false, 0, true},
	} {
		parse, name := memoryMiB, "memoryMiB"
		if tc.cpu {
			parse, name = cpuUnits, "cpuUnits"
		}
		got, err := parse(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s(%q) = %d, %v; want %d, error %v", name, tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
