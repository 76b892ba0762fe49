package ecslocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// state is everything the server knows. It is what the state file holds.
type state struct {
	// TaskDefs holds the revisions of each family in order: TaskDefs[f][r-1] is revision
	// r. A revision is kept in ECS's own wire shape (lowerCamelCase members, numbers as
	// json.Number), server fields included, so it is described exactly as registered.
	TaskDefs map[string][]map[string]any `json:"taskDefinitions"`
	Clusters map[string]*cluster         `json:"clusters"` // by cluster name
	Services map[string]*service         `json:"services"` // by service ARN
	Tasks    map[string]*task            `json:"tasks"`    // by task ARN
	Tags     map[string][]tag            `json:"tags"`     // by resource ARN
	// ScalableTargets are Application Auto Scaling's, by namespace|resource|dimension.
	ScalableTargets map[string]*scalableTarget `json:"scalableTargets"`
}

func newState() *state {
	return &state{
		TaskDefs: map[string][]map[string]any{},
		Clusters: map[string]*cluster{},
		Services: map[string]*service{},
		Tasks:    map[string]*task{},
		Tags:     map[string][]tag{},

		ScalableTargets: map[string]*scalableTarget{},
	}
}

// loadState reads a state file. A missing file is not an error: it returns nil.
func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	st := newState()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // task definitions keep their numbers exactly as registered
	if err := dec.Decode(st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	// A file written by hand may omit sections; keep every map usable.
	fresh := newState()
	if st.TaskDefs == nil {
		st.TaskDefs = fresh.TaskDefs
	}
	if st.Clusters == nil {
		st.Clusters = fresh.Clusters
	}
	if st.Services == nil {
		st.Services = fresh.Services
	}
	if st.Tasks == nil {
		st.Tasks = fresh.Tasks
	}
	if st.Tags == nil {
		st.Tags = fresh.Tags
	}
	if st.ScalableTargets == nil {
		st.ScalableTargets = fresh.ScalableTargets
	}
	return st, nil
}

// persist writes the state file, if there is one. The write is atomic: a temporary file
// in the same directory is written, synced and renamed over the old file, so a crash
// leaves either the old state or the new one, never a torn file. The caller holds s.mu.
func (s *Server) persist() error {
	path := s.cfg.stateFile
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing state %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing state %s: %w", path, err)
	}
	return nil
}
