package awsecs

import (
	"strings"
	"testing"
)

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Mode: "gcp"}, `ecs mode "gcp"`},
		{Config{Mode: ModeLocal}, "needs an endpoint"},
		{Config{Mode: ModeLocal, Endpoint: "127.0.0.1:4566"}, "must be an http(s) URL"},
	} {
		if _, err := New(t.Context(), tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.c, err, tc.want)
		}
	}
}

func TestNewLocal(t *testing.T) {
	c, err := New(t.Context(), Config{Mode: ModeLocal, Endpoint: "http://127.0.0.1:4566"})
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	if o.Region != DefaultRegion || o.BaseEndpoint == nil || *o.BaseEndpoint != "http://127.0.0.1:4566" || o.Retryer.MaxAttempts() != 10 {
		t.Errorf("region %q endpoint %v attempts %d", o.Region, o.BaseEndpoint, o.Retryer.MaxAttempts())
	}
	creds, err := o.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "taskward-local" {
		t.Errorf("credentials %v %v: local mode must not use the real chain", creds.AccessKeyID, err)
	}
}
