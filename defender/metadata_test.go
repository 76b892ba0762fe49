package defender

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFetchTaskMetadata reads a container metadata document shaped as the ECS task metadata
// endpoint v4 documents it (the response to GET ${ECS_CONTAINER_METADATA_URI_V4}).
func TestFetchTaskMetadata(t *testing.T) {
	const doc = `{
  "DockerId": "3f1b0c1d2e", "Name": "app", "DockerName": "ecs-web-7-app-aa11",
  "Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4",
  "ImageID": "sha256:4b1c0e8f2a3d5c6b7a8e9f0d1c2b3a4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c",
  "Labels": {
    "com.amazonaws.ecs.cluster": "prod",
    "com.amazonaws.ecs.container-name": "app",
    "com.amazonaws.ecs.task-arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/0a1b2c3d4e5f",
    "com.amazonaws.ecs.task-definition-family": "web",
    "com.amazonaws.ecs.task-definition-version": "7"
  },
  "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING",
  "Limits": {"CPU": 256, "Memory": 512}, "Type": "NORMAL"
}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/abc" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc))
	}))
	defer ts.Close()
	m, err := FetchTaskMetadata(context.Background(), ts.URL+"/v4/abc")
	if err != nil {
		t.Fatal(err)
	}
	want := TaskMetadata{Container: "app", TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/0a1b2c3d4e5f", Family: "web", Revision: "7",
		Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4", ImageDigest: "sha256:4b1c0e8f2a3d5c6b7a8e9f0d1c2b3a4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c"}
	if *m != want {
		t.Fatalf("got %+v\nwant %+v", *m, want)
	}
	if _, err := FetchTaskMetadata(context.Background(), ts.URL+"/elsewhere"); err == nil {
		t.Fatal("a 404 must be an error")
	}
}
