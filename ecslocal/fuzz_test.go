package ecslocal

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzServeHTTP sends arbitrary bodies to RegisterTaskDefinition (and other operations)
// through ServeHTTP: the server must never panic, and every answer is either 200 with a
// JSON object or an error with the AWS JSON error shape.
func FuzzServeHTTP(f *testing.F) {
	f.Add("RegisterTaskDefinition", []byte(`{"family":"a","containerDefinitions":[{"name":"a","image":"b","memory":6}]}`))
	f.Add("RegisterTaskDefinition", []byte(`{"family":"a","cpu":".25 vcpu","memory":"1 gb","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"containerDefinitions":[{"name":"a","image":"b","portMappings":[{"containerPort":80}],"healthCheck":{"command":["CMD"]}}]}`))
	f.Add("RegisterTaskDefinition", []byte(`{"family":null,"containerDefinitions":[null,{"name":[]}]}`))
	f.Add("DescribeTaskDefinition", []byte(`{"taskDefinition":"a:1"}`))
	f.Add("ListTaskDefinitions", []byte(`{"maxResults":0,"nextToken":"eyJvIjoiTGlzdFRhc2tEZWZpbml0aW9ucyIsImkiOi0xfQ"}`))
	f.Add("RunTask", []byte(`{"taskDefinition":"a","count":10}`))
	f.Add("CreateService", []byte(`{"serviceName":"s","taskDefinition":"a","desiredCount":-1}`))
	// Application Auto Scaling (its own target prefix).
	f.Add(autoScalingPrefix+"RegisterScalableTarget", []byte(`{"ServiceNamespace":"ecs","ResourceId":"service/default/s","ScalableDimension":"ecs:service:DesiredCount","MinCapacity":1,"MaxCapacity":2}`))
	f.Add(autoScalingPrefix+"DescribeScalableTargets", []byte(`{"ServiceNamespace":"ecs","ResourceIds":["service/default/s"],"MaxResults":1,"NextToken":"YWFzOjE"}`))
	f.Add(autoScalingPrefix+"DeregisterScalableTarget", []byte(`{"ServiceNamespace":"ecs","ResourceId":"service/default/s","ScalableDimension":"ecs:service:DesiredCount"}`))
	if files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json")); len(files) > 0 {
		for _, p := range files[:5] {
			if b, err := os.ReadFile(p); err == nil {
				f.Add("RegisterTaskDefinition", b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		s, err := New()
		if err != nil {
			t.Fatal(err)
		}
		// Set up something to refer to, so the fuzzer reaches deeper paths.
		for _, setup := range []struct{ op, body string }{
			{"CreateCluster", `{}`},
			{"RegisterTaskDefinition", `{"family":"a","containerDefinitions":[{"name":"a","image":"b","memory":64}]}`},
			{"CreateService", `{"serviceName":"s","taskDefinition":"a","desiredCount":1}`},
			{autoScalingPrefix + "RegisterScalableTarget", `{"ServiceNamespace":"ecs","ResourceId":"service/default/s","ScalableDimension":"ecs:service:DesiredCount","MinCapacity":1,"MaxCapacity":2}`},
		} {
			if rec := serve(s, setup.op, []byte(setup.body)); rec.Code != http.StatusOK {
				t.Fatalf("setup %s: %d %s", setup.op, rec.Code, rec.Body)
			}
		}
		rec := serve(s, op, body)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: status %d, body is not a JSON object: %q", op, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			typ, _ := out["__type"].(string)
			msg, _ := out["message"].(string)
			if typ == "" || msg == "" {
				t.Fatalf("%s: status %d without error shape: %s", op, rec.Code, rec.Body)
			}
			if typ == errServer {
				t.Fatalf("%s: ServerException for client input: %s", op, msg)
			}
		}
	})
}

func serve(s *Server, op string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	target := targetPrefix + op
	if strings.HasPrefix(op, autoScalingPrefix) {
		target = op
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=fuzz")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}
