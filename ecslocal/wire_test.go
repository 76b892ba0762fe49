package ecslocal

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

func TestRequestEnvelope(t *testing.T) {
	r := start(t)
	for _, tc := range []struct {
		name, op, body string
		signed         bool
		status         int
		errType        string
	}{
		{"unsigned", "ListClusters", `{}`, false, http.StatusForbidden, errMissingAuth},
		{"unknown op", "LaunchRocket", `{}`, true, http.StatusBadRequest, errUnknownOperation},
		{"oversized", "RegisterTaskDefinition", `{"family":"` + strings.Repeat("a", maxBodyBytes) + `"}`, true, http.StatusRequestEntityTooLarge, errRequestTooLarge},
		{"empty body", "ListClusters", ``, true, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawCall(t, r, tc.op, tc.body, tc.signed)
			if resp.status != tc.status {
				t.Errorf("status = %d, want %d (%s)", resp.status, tc.status, resp.body)
			}
			if resp.header.Get("X-Amzn-Requestid") == "" {
				t.Error("no X-Amzn-Requestid")
			}
			if ct := resp.header.Get("Content-Type"); ct != contentType {
				t.Errorf("Content-Type = %s", ct)
			}
			if tc.errType != "" {
				var e struct {
					Type    string `json:"__type"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal([]byte(resp.body), &e); err != nil || e.Type != tc.errType || e.Message == "" {
					t.Errorf("error body %s, want __type %s", resp.body, tc.errType)
				}
			}
		})
	}
	// Nothing unsigned or oversized reached an operation.
	if st := r.Server.Stats(); st["RegisterTaskDefinition"] != 0 || st["ListClusters"] != 1 {
		t.Errorf("stats = %v", st)
	}
}

func TestStatsEndpoint(t *testing.T) {
	r := start(t)
	c := client(r)
	for range 3 {
		if _, err := c.ListClusters(ctx(t), &ecs.ListClustersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("x")}); err == nil {
		t.Fatal("want error")
	}
	resp, err := http.Get(r.URL + statsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st["ListClusters"] != 3 || st["DescribeTaskDefinition"] != 1 {
		t.Errorf("stats = %v", st)
	}
	r.Server.ResetStats()
	if n := len(r.Server.Stats()); n != 0 {
		t.Errorf("after reset: %v", r.Server.Stats())
	}
}
