package manifests

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"

	"github.com/taskward/taskward/policy"
)

// Repo is a loaded GitOps repo.
type Repo struct {
	Config   *Config
	Tasks    []*TaskDef       // sorted by path
	Policies []*policy.Policy // sorted by file, then order in the file
}

// Repo layout.
const (
	TasksDir    = "tasks"
	PoliciesDir = "policies"
	// MaxRepoFiles bounds how many task and policy files one repo may hold.
	MaxRepoFiles = 10000
)

// LoadDir loads the repo at dir.
func LoadDir(dir string) (*Repo, Problems) {
	if err := CheckDir(dir); err != nil {
		return nil, Problems{{File: dir, Msg: err.Error()}}
	}
	return Load(os.DirFS(dir))
}

// CheckDir says why dir cannot be a GitOps repo on disk: it does not exist, cannot be
// read, or is a file. The error does not repeat dir.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("does not exist: give the path of a GitOps repo (a directory with tasks/ and taskward.yaml)")
	case err != nil:
		return fmt.Errorf("cannot be read: %w", errors.Unwrap(err))
	case !st.IsDir():
		return errors.New("is a file, not a directory: give the path of a GitOps repo (a directory with tasks/ and taskward.yaml)")
	}
	return nil
}

// Load loads a repo from fsys and reports every problem of every file, not just the first.
// The Repo is nil when there is any error: a broken commit applies nothing.
func Load(fsys fs.FS) (*Repo, Problems) {
	repo, probs := LoadPartial(fsys)
	if probs.Err() != nil {
		return nil, probs
	}
	return repo, probs
}

// LoadPartial is Load that also returns what did load when some files do not: every task
// definition and policy that parses, and Config nil when taskward.yaml does not load. It is
// for reporting (validate renders what loaded, so one run shows every error of every file);
// nothing may be applied from it.
func LoadPartial(fsys fs.FS) (*Repo, Problems) {
	var probs Problems
	repo := &Repo{}

	src, err := fs.ReadFile(fsys, ConfigFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		repo.Config = DefaultConfig()
	case err != nil:
		probs = append(probs, &Problem{File: ConfigFile, Msg: err.Error()})
	default:
		cfg, ps := ParseConfig(ConfigFile, src)
		probs = append(probs, ps...)
		repo.Config = cfg
	}

	files := 0
	policyFile := map[string]string{}
	_ = fs.WalkDir(fsys, PoliciesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				probs = append(probs, &Problem{File: p, Msg: err.Error()})
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			probs = append(probs, &Problem{File: p, Warning: true, Msg: "ignored: policy files end in .yaml or .yml"})
			return nil
		}
		if files++; files > MaxRepoFiles {
			return fs.SkipAll
		}
		b, err := readBounded(fsys, p)
		if err != nil {
			probs = append(probs, &Problem{File: p, Msg: err.Error()})
			return nil
		}
		ps, pp := ParsePolicies(p, b)
		probs = append(probs, pp...)
		for _, pol := range ps {
			if other, dup := policyFile[pol.Name]; dup {
				probs = append(probs, &Problem{File: p, Msg: fmt.Sprintf("policy name %q is also used in %s: policy names must be unique", pol.Name, other)})
				continue
			}
			policyFile[pol.Name] = p
			repo.Policies = append(repo.Policies, pol)
		}
		return nil
	})

	familyFile := map[string]string{}
	_ = fs.WalkDir(fsys, TasksDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == TasksDir {
				probs = append(probs, &Problem{File: TasksDir, Warning: true, Msg: "no tasks/ directory: the repo has no task definitions"})
			} else {
				probs = append(probs, &Problem{File: p, Msg: err.Error()})
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if path.Ext(p) != ".json" {
			probs = append(probs, &Problem{File: p, Warning: true, Msg: "ignored: task definition files end in .json"})
			return nil
		}
		if files++; files > MaxRepoFiles {
			probs = append(probs, &Problem{File: p, Msg: fmt.Sprintf("more than %d files in the repo", MaxRepoFiles)})
			return fs.SkipAll
		}
		b, err := readBounded(fsys, p)
		if err != nil {
			probs = append(probs, &Problem{File: p, Msg: err.Error()})
			return nil
		}
		td, ps := ParseTaskDef(p, b)
		probs = append(probs, ps...)
		if td == nil {
			return nil
		}
		if other, dup := familyFile[td.Family]; dup {
			probs = append(probs, &Problem{File: p, Path: "family", Msg: fmt.Sprintf("family %q is also defined in %s: one file per family", td.Family, other)})
			return nil
		}
		familyFile[td.Family] = p
		repo.Tasks = append(repo.Tasks, td)
		return nil
	})
	sort.Slice(repo.Tasks, func(i, j int) bool { return repo.Tasks[i].Path < repo.Tasks[j].Path })
	probs.Sort()
	return repo, probs
}

// readBounded reads a file, refusing one larger than MaxTaskFileBytes before reading it all.
func readBounded(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if st.Size() > MaxTaskFileBytes {
		return nil, fmt.Errorf("file is %d bytes; at most %d are read", st.Size(), MaxTaskFileBytes)
	}
	b := make([]byte, st.Size())
	n, err := io.ReadFull(f, b)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil // the file shrank while we read it; take what is there
	}
	return b[:n], err
}
