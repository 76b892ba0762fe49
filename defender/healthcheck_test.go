package defender

import (
	"slices"
	"testing"
)

func TestHealthCheckArgv(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{``, nil, false},
		{`["CMD-SHELL","curl -f localhost || exit 1"]`, []string{"/bin/sh", "-c", "curl -f localhost || exit 1"}, false},
		{`["CMD","/healthcheck","--quick"]`, []string{"/healthcheck", "--quick"}, false},
		{`["CMD"]`, nil, true},
		{`["NONE"]`, nil, true},
		{`["CMD-SHELL","a","b"]`, nil, true},
		{`{"command":1}`, nil, true},
	} {
		got, err := HealthCheckArgv(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("HealthCheckArgv(%s) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
