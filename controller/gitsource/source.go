package gitsource

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/taskward/taskward/internal/gitfs"
)

// Options configure a Source.
type Options struct {
	// URL of the repository: https://, http:// (anonymous only), ssh://, user@host:path,
	// file:// or a local path. It must not carry credentials: use Auth.
	URL string
	// Ref to follow: a branch ("main" or "refs/heads/main"), a tag ("v1" or
	// "refs/tags/v1"), any other full ref name, or "" for the remote's HEAD. A short name
	// is looked up as a branch first, then as a tag.
	Ref string
	// Dir is where the clone is kept (a bare repository, created if missing), so that a
	// restart does not download again. "" keeps it in memory.
	Dir string
	// Auth says where the credentials are.
	Auth Auth
	// CAFile is a PEM bundle of extra CAs for an https:// server (the system pool is
	// used too).
	CAFile string
	// Logger receives one line per fetch that changes the commit or fails; nil discards.
	Logger *slog.Logger
}

// Commit is one commit and its tree.
type Commit struct {
	Hash    string    // full hex SHA-1
	Ref     string    // the full remote ref it was resolved from; "" when asked by SHA
	Message string    // the full commit message
	Author  string    // "Name <email>"
	Time    time.Time // committer time: when the commit was made, not first authored
	// FS is a read-only view of the commit's tree (see internal/gitfs): no symlinks
	// followed, blobs over 1 MiB refused. It stays readable after later fetches.
	FS fs.FS
}

// Source follows one ref of one remote repository.
type Source struct {
	opts     Options
	safeURL  string
	endpoint *transport.Endpoint
	kind     transportKind
	caBundle []byte
	log      *slog.Logger
	repo     *git.Repository

	gitMu sync.Mutex // one Fetch or Resolve at a time
	objMu sync.Mutex // guards the object store: fetch writes vs Commit.FS reads (see lockedObjects)
	last  atomic.Pointer[Commit]
}

const remoteName = "origin"

// New checks the options and opens (or creates) the local clone. It does not touch the
// network: the first Fetch does.
func New(opts Options) (*Source, error) {
	s := &Source{opts: opts, safeURL: Scrub(opts.URL), log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	fail := func(err error) (*Source, error) { return nil, s.newError("new", "", ErrConfig, err) }
	if opts.URL == "" {
		return fail(errors.New("no URL"))
	}
	ep, err := transport.NewEndpoint(opts.URL)
	if err != nil {
		return fail(err)
	}
	if ep.Password != "" || (ep.User != "" && ep.Protocol != "ssh") {
		return fail(errors.New("the URL carries credentials: remove them and use a token file or environment variable"))
	}
	if strings.ContainsAny(opts.URL, "?#") && ep.Protocol != "file" {
		// GitLab takes ?private_token=: a token there would reach logs, /status and the
		// status page with the URL. No Git server needs a query string.
		return fail(errors.New("the URL carries a query string or fragment (a token?): remove it and use a token file or environment variable"))
	}
	s.endpoint = ep
	switch ep.Protocol {
	case "file":
		s.kind = kindLocal
	case "http":
		s.kind = kindHTTP
	case "https":
		s.kind = kindHTTPS
	case "ssh":
		s.kind = kindSSH
	default:
		return fail(fmt.Errorf("unsupported protocol %q (use https, ssh, file or a path)", ep.Protocol))
	}
	if err := checkAuth(s.kind, ep, opts.Auth); err != nil {
		return fail(err)
	}
	if opts.CAFile != "" {
		if s.kind != kindHTTPS {
			return fail(errors.New("CAFile is for https:// URLs"))
		}
		b, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return fail(err)
		}
		if blk, _ := pem.Decode(b); blk == nil {
			return fail(fmt.Errorf("%s: no PEM certificate", opts.CAFile))
		}
		s.caBundle = b
	}
	if err := validRef(opts.Ref); err != nil {
		return fail(err)
	}
	if s.repo, err = openRepo(opts.Dir, opts.URL); err != nil {
		return fail(err)
	}
	return s, nil
}

func validRef(ref string) error {
	if ref == "" {
		return nil
	}
	name := ref
	if !strings.HasPrefix(name, "refs/") {
		name = "refs/heads/" + name
	}
	if err := plumbing.ReferenceName(name).Validate(); err != nil {
		return fmt.Errorf("ref %q: %w", ref, err)
	}
	return nil
}

// openRepo opens or creates the bare clone and points its remote at url.
func openRepo(dir, url string) (*git.Repository, error) {
	var repo *git.Repository
	var err error
	switch {
	case dir == "":
		repo, err = git.Init(memory.NewStorage(), nil)
	default:
		repo, err = git.PlainOpen(dir)
		if errors.Is(err, git.ErrRepositoryNotExists) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, err
			}
			repo, err = git.PlainInit(dir, true)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("local clone %s: %w", dir, err)
	}
	rem, err := repo.Remote(remoteName)
	if err == nil && len(rem.Config().URLs) == 1 && rem.Config().URLs[0] == url {
		return repo, nil
	}
	if err == nil {
		// The URL changed: keep the objects (they are content-addressed), repoint the remote.
		if err := repo.DeleteRemote(remoteName); err != nil {
			return nil, err
		}
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{url}})
	return repo, err
}

// Last returns the commit of the last successful Fetch, nil before the first one.
func (s *Source) Last() *Commit { return s.last.Load() }

// Fetch brings the ref up to date and returns the commit it points to now. On error
// the previous good commit stays available through Last.
func (s *Source) Fetch(ctx context.Context) (*Commit, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	start := time.Now()
	c, err := s.fetchName(ctx, "fetch", s.opts.Ref)
	if err != nil {
		attrs := []any{"url", s.safeURL, "ref", s.opts.Ref, "err", err.Error()}
		if prev := s.last.Load(); prev != nil {
			attrs = append(attrs, "keeping", prev.Hash)
		}
		s.log.WarnContext(ctx, "git fetch failed", attrs...)
		return nil, err
	}
	prev := s.last.Swap(c)
	level := slog.LevelDebug
	if prev == nil || prev.Hash != c.Hash {
		level = slog.LevelInfo
	}
	s.log.Log(ctx, level, "git fetch", "url", s.safeURL, "ref", c.Ref, "commit", c.Hash,
		"changed", prev == nil || prev.Hash != c.Hash, "duration", time.Since(start))
	return c, nil
}

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Resolve returns any commit by revision: a full 40-hex SHA, a branch or a tag (a short
// name as in Options.Ref). It fetches what the local store lacks, shallow, and leaves the
// followed ref and Last alone. A SHA is fetched directly when the server allows it
// (GitHub and GitLab do); otherwise, or when that fails, the tips of all branches and of pull and merge
// request refs are fetched (depth 1) and searched: a SHA that is no tip is then not found.
func (s *Source) Resolve(ctx context.Context, rev string) (*Commit, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	rev = strings.TrimSpace(rev)
	if !fullSHA.MatchString(strings.ToLower(rev)) {
		if err := validRef(rev); err != nil || rev == "" {
			if err == nil {
				err = errors.New("empty revision")
			}
			return nil, s.newError("resolve", rev, ErrConfig, err)
		}
		return s.fetchName(ctx, "resolve", rev)
	}
	h := plumbing.NewHash(strings.ToLower(rev))
	if c, err := s.commit(h, ""); err == nil {
		return c, nil
	}
	auth, secret, err := s.authMethod()
	if err != nil {
		return nil, s.newError("resolve", rev, nil, err)
	}
	local := config.RefSpec(h.String() + ":refs/taskward/sha/" + h.String())
	err = s.fetchSpecs(ctx, auth, local)
	// A server that does not allow it says so in its capabilities
	// (ErrExactSHA1NotSupported); one that does but lacks the commit just hangs up
	// ("not our ref" on its side, a broken pipe on ours). Either way, unless the
	// credentials failed, look at the tips.
	if err != nil && classify(err) != ErrAuth {
		err = s.fetchSpecs(ctx, auth,
			"+refs/heads/*:refs/taskward/tips/heads/*",
			"+refs/pull/*/head:refs/taskward/tips/pull/*",
			"+refs/merge-requests/*/head:refs/taskward/tips/merge-requests/*")
	}
	if err != nil {
		return nil, s.newError("resolve", rev, nil, err, secret)
	}
	c, err := s.commit(h, "")
	if err != nil {
		return nil, s.newError("resolve", rev, ErrNotFound, fmt.Errorf("commit %s is not on the remote (or not at the tip of a branch or pull request)", h), secret)
	}
	return c, nil
}

// fetchName resolves a ref name on the remote and makes sure its commit is local.
func (s *Source) fetchName(ctx context.Context, op, ref string) (*Commit, error) {
	auth, secret, err := s.authMethod()
	if err != nil {
		return nil, s.newError(op, ref, nil, err)
	}
	refs, err := s.remote().ListContext(ctx, &git.ListOptions{Auth: auth, CABundle: s.caBundle, PeelingOption: git.AppendPeeled})
	if err != nil {
		return nil, s.newError(op, ref, nil, err, secret)
	}
	name, target, ok := pickRef(refs, ref)
	if !ok {
		what := "no such branch or tag"
		if ref == "" {
			what = "the remote has no HEAD (an empty repository?)"
		}
		return nil, s.newError(op, ref, ErrNotFound, errors.New(what), secret)
	}
	// The steady state: the remote points where we already have the commit.
	if c, err := s.commit(target, name.String()); err == nil {
		return c, nil
	}
	local := localRef(name)
	if err := s.fetchSpecs(ctx, auth, config.RefSpec("+"+name.String()+":"+local.String())); err != nil {
		return nil, s.newError(op, ref, nil, err, secret)
	}
	// Read the ref we just wrote: the remote may have moved since the listing.
	r, err := s.repo.Reference(local, false)
	if err != nil {
		return nil, s.newError(op, ref, ErrTransient, fmt.Errorf("after fetch: %w", err), secret)
	}
	c, err := s.commit(r.Hash(), name.String())
	if err != nil {
		return nil, s.newError(op, ref, ErrTransient, fmt.Errorf("after fetch: %w", err), secret)
	}
	return c, nil
}

// pickRef finds ref among the advertised refs; it returns the full name and the commit
// it points to (peeled through annotated tags when the server advertises that).
func pickRef(refs []*plumbing.Reference, ref string) (plumbing.ReferenceName, plumbing.Hash, bool) {
	byName := make(map[plumbing.ReferenceName]plumbing.Hash, len(refs))
	symbolic := map[plumbing.ReferenceName]plumbing.ReferenceName{}
	for _, r := range refs {
		switch r.Type() {
		case plumbing.HashReference:
			byName[r.Name()] = r.Hash()
		case plumbing.SymbolicReference: // HEAD -> refs/heads/main, with the symref capability
			symbolic[r.Name()] = r.Target()
		}
	}
	var candidates []plumbing.ReferenceName
	switch {
	case ref == "":
		candidates = []plumbing.ReferenceName{plumbing.HEAD}
	case strings.HasPrefix(ref, "refs/"):
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	default:
		candidates = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)}
	}
	for _, n := range candidates {
		if target, ok := symbolic[n]; ok {
			n = target // follow the branch HEAD names, not HEAD itself
		}
		h, ok := byName[n]
		if !ok {
			continue
		}
		if peeled, ok := byName[n+"^{}"]; ok {
			h = peeled
		}
		return n, h, true
	}
	return "", plumbing.ZeroHash, false
}

// localRef is where a remote ref is stored locally: refs/heads/main becomes
// refs/remotes/origin/heads/main, so branches and tags of the same name do not collide.
func localRef(name plumbing.ReferenceName) plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/remotes/" + remoteName + "/" + strings.TrimPrefix(name.String(), "refs/"))
}

// fetchSpecs fetches the refspecs at depth 1, without tags. Already up to date is success.
func (s *Source) fetchSpecs(ctx context.Context, auth transport.AuthMethod, specs ...config.RefSpec) error {
	s.objMu.Lock()
	defer s.objMu.Unlock()
	err := s.remote().FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   specs,
		Depth:      1,
		Tags:       git.NoTags,
		Force:      true,
		Auth:       auth,
		CABundle:   s.caBundle,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

func (s *Source) remote() *git.Remote {
	r, err := s.repo.Remote(remoteName)
	if err != nil {
		// openRepo created it and nothing removes it.
		panic(fmt.Sprintf("gitsource: remote %q missing: %v", remoteName, err))
	}
	return r
}

// commit builds the Commit for h (a commit or an annotated tag) from the local store.
func (s *Source) commit(h plumbing.Hash, ref string) (*Commit, error) {
	return commitFrom(&s.objMu, s.repo.Storer, h, ref)
}

// commitFrom builds the Commit for h from store, whose reads mu serializes.
func commitFrom(mu *sync.Mutex, store storer.EncodedObjectStorer, h plumbing.Hash, ref string) (*Commit, error) {
	mu.Lock()
	var c *object.Commit
	var err error
	for range 10 { // tags of tags, bounded
		var o plumbing.EncodedObject
		if o, err = store.EncodedObject(plumbing.AnyObject, h); err != nil {
			break
		}
		if o.Type() == plumbing.TagObject {
			var t *object.Tag
			if t, err = object.DecodeTag(store, o); err != nil {
				break
			}
			h = t.Target
			continue
		}
		c, err = object.DecodeCommit(store, o)
		break
	}
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("%s: not a commit", h)
	}
	fsys, err := gitfs.FromCommit(lockedObjects{mu: mu, s: store}, c)
	if err != nil {
		return nil, err
	}
	return &Commit{
		Hash:    c.Hash.String(),
		Ref:     ref,
		Message: c.Message,
		Author:  fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
		Time:    c.Committer.When,
		FS:      fsys,
	}, nil
}
