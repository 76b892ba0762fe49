package defender

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// TaskMetadata is what events say about the task, read once from the ECS task metadata
// endpoint v4 (ECS_CONTAINER_METADATA_URI_V4, set by the ECS agent and by Fargate).
type TaskMetadata struct {
	Container   string
	TaskARN     string
	Family      string
	Revision    string
	Image       string
	ImageDigest string
}

// containerMetadata is the part of the v4 container metadata response we use.
type containerMetadata struct {
	Name    string            `json:"Name"`
	Image   string            `json:"Image"`
	ImageID string            `json:"ImageID"`
	Labels  map[string]string `json:"Labels"`
}

// FetchTaskMetadata reads the container metadata document at uri (the value of
// ECS_CONTAINER_METADATA_URI_V4).
func FetchTaskMetadata(ctx context.Context, uri string) (*TaskMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("task metadata: status %d", resp.StatusCode)
	}
	var c containerMetadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&c); err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	return &TaskMetadata{
		Container:   c.Name,
		TaskARN:     c.Labels["com.amazonaws.ecs.task-arn"],
		Family:      c.Labels["com.amazonaws.ecs.task-definition-family"],
		Revision:    c.Labels["com.amazonaws.ecs.task-definition-version"],
		Image:       c.Image,
		ImageDigest: c.ImageID,
	}, nil
}
