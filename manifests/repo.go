package manifests

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/taskward/taskward/policy"
)

// Repo is a loaded GitOps repo.
type Repo struct {
	Config   *Config
	Tasks    []*TaskDef       // sorted by path
	Services []*ServiceDef    // services/*.json, sorted by path
	Policies []*policy.Policy // sorted by file, then order in the file
}

// Repo layout.
const (
	TasksDir    = "tasks"
	PoliciesDir = "policies"
	// MaxRepoFiles bounds how many task and policy files one repo may hold.
	MaxRepoFiles = 10000
	// MaxRepoBytes bounds the bytes of task, policy and config files one Load reads.
	MaxRepoBytes = 64 << 20
)

// LoadDir loads the repo at dir (a working tree: see [DirFS]).
func LoadDir(dir string) (*Repo, Problems) {
	fsys, err := DirFS(dir)
	if err != nil {
		return nil, Problems{{File: dir, Msg: err.Error()}}
	}
	return Load(fsys)
}

// DirFS opens a working tree (a CI checkout, say) for Load. It is an os.Root's file
// system: no path, through symlinks or "..", leaves dir. Load itself refuses every
// symlink and special file, so a working tree reads as its commit would through the
// controller's commit reader (internal/gitfs), which never follows one.
func DirFS(dir string) (fs.FS, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return root.FS(), nil
}

// notRegular says why Load does not read the entry p of type t, or "" when it is a
// regular file or a directory. Argo CD and Flux refuse links that leave the repository;
// taskward refuses every link, as the commit reader does, so that what validate passes on
// a checkout is what the controller reads from the commit.
func notRegular(p string, t fs.FileMode) *Problem {
	switch {
	case t&fs.ModeSymlink != 0:
		return &Problem{File: p, Msg: "a symbolic link: taskward reads regular files only (a link may point outside the repository); commit the file itself"}
	case t&^fs.ModeDir != 0 || (t&fs.ModeType != 0 && t&fs.ModeDir == 0):
		return &Problem{File: p, Msg: "a Git submodule or special file, not a regular file: taskward reads regular files and directories only"}
	}
	return nil
}

// lstat describes p without following a final symlink where fsys can (gitfs always
// does; os.DirFS and os.Root's do through fs.ReadLinkFS).
func lstat(fsys fs.FS, p string) (fs.FileInfo, error) {
	if l, ok := fsys.(fs.ReadLinkFS); ok {
		return l.Lstat(p)
	}
	return fs.Stat(fsys, p)
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
	budget := &readBudget{left: MaxRepoBytes}

	var src []byte
	st, err := lstat(fsys, ConfigFile)
	if err == nil {
		if p := notRegular(ConfigFile, st.Mode().Type()); p != nil {
			err = errors.New(p.Msg)
		} else {
			src, err = budget.read(fsys, ConfigFile)
		}
	}
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
	// repoFiles reads every regular file under dir that ends in one of exts (policies, task
	// definitions, services) into parse, within the repo's file and byte budgets; missing,
	// when not nil, is the problem of a repo without dir.
	repoFiles := func(dir string, exts []string, what string, missing *Problem, parse func(p string, b []byte)) {
		_ = walk(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == dir {
					if missing != nil {
						probs = append(probs, missing)
					}
				} else {
					probs = append(probs, &Problem{File: p, Msg: err.Error()})
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if bad := notRegular(p, d.Type()); bad != nil {
				probs = append(probs, bad)
				return nil
			}
			if !slices.Contains(exts, path.Ext(p)) {
				probs = append(probs, &Problem{File: p, Warning: true, Msg: "ignored: " + what + " files end in " + strings.Join(exts, " or ")})
				return nil
			}
			if files++; files > MaxRepoFiles {
				probs = append(probs, &Problem{File: p, Msg: fmt.Sprintf("more than %d files in the repo", MaxRepoFiles)})
				return fs.SkipAll
			}
			b, err := budget.read(fsys, p)
			if err != nil {
				probs = append(probs, &Problem{File: p, Msg: err.Error()})
				return budget.stop()
			}
			parse(p, b)
			return nil
		})
	}

	policyFile := map[string]string{}
	repoFiles(PoliciesDir, []string{".yaml", ".yml"}, "policy", nil, func(p string, b []byte) {
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
	})

	familyFile := map[string]string{}
	repoFiles(TasksDir, []string{".json"}, "task definition", &Problem{File: TasksDir, Warning: true, Msg: "no tasks/ directory: the repo has no task definitions"}, func(p string, b []byte) {
		td, ps := ParseTaskDef(p, b)
		probs = append(probs, ps...)
		if td == nil {
			return
		}
		if other, dup := familyFile[td.Family]; dup {
			probs = append(probs, &Problem{File: p, Path: "family", Msg: fmt.Sprintf("family %q is also defined in %s: one file per family", td.Family, other)})
			return
		}
		familyFile[td.Family] = p
		repo.Tasks = append(repo.Tasks, td)
	})
	sort.Slice(repo.Tasks, func(i, j int) bool { return repo.Tasks[i].Path < repo.Tasks[j].Path })
	repoFiles(ServicesDir, []string{".json"}, "service", nil, func(p string, b []byte) {
		sd, ps := ParseServiceDef(p, b)
		probs = append(probs, ps...)
		if sd != nil {
			repo.Services = append(repo.Services, sd)
		}
	})
	sort.Slice(repo.Services, func(i, j int) bool { return repo.Services[i].Path < repo.Services[j].Path })
	probs = append(probs, checkServices(repo)...)
	probs.Sort()
	return repo, probs
}

// walk is fs.WalkDir that refuses a root that is a symlink (WalkDir would follow it).
func walk(fsys fs.FS, root string, fn fs.WalkDirFunc) error {
	st, err := lstat(fsys, root)
	if err != nil {
		return fn(root, nil, err)
	}
	if bad := notRegular(root, st.Mode().Type()); bad != nil {
		return fn(root, nil, errors.New(bad.Msg))
	}
	return fs.WalkDir(fsys, root, fn)
}

// ErrRepoTooLarge is returned once a Load has read MaxRepoBytes.
var ErrRepoTooLarge = fmt.Errorf("the repo's task, policy and config files add up to more than %d MiB, the most taskward reads", MaxRepoBytes>>20)

// readBudget bounds the bytes one Load reads.
type readBudget struct {
	left int64
	over bool
}

func (b *readBudget) read(fsys fs.FS, p string) ([]byte, error) {
	if b.over {
		return nil, ErrRepoTooLarge
	}
	data, err := readBounded(fsys, p)
	if b.left -= int64(len(data)); b.left < 0 {
		b.over = true
		return nil, ErrRepoTooLarge
	}
	return data, err
}

// stop ends the walk once the budget is spent (one problem says so, not one per file).
func (b *readBudget) stop() error {
	if b.over {
		return fs.SkipAll
	}
	return nil
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
