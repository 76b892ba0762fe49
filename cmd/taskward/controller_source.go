package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/taskward/taskward/controller"
	"github.com/taskward/taskward/controller/gitsource"
	"github.com/taskward/taskward/manifests"
)

// gitFlags say where the GitOps repo is and how to authenticate. The token comes from a
// file or an environment variable, never from a flag.
type gitFlags struct {
	repo       string
	ref        string
	path       string
	cacheDir   string
	username   string
	tokenFile  string
	tokenEnv   string
	sshKey     string
	knownHosts string
	caFile     string
}

func (g *gitFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&g.repo, "repo", "", "the GitOps repo: a Git `URL` (https://, ssh://, git@host:path, file://), a local Git repo, or a plain directory")
	fs.StringVar(&g.ref, "ref", "", "branch or tag to follow (default: the remote's HEAD)")
	fs.StringVar(&g.path, "path", "", "`DIR` of the GitOps repo inside the Git repository (default: its top)")
	fs.StringVar(&g.cacheDir, "git-cache", "", "`DIR` to keep the clone in between restarts (default: in memory)")
	fs.StringVar(&g.username, "git-username", "", "user name for HTTPS (default git)")
	fs.StringVar(&g.tokenFile, "git-token-file", "", "`FILE` holding the HTTPS token or password")
	fs.StringVar(&g.tokenEnv, "git-token-env", "", "environment `VARIABLE` holding the HTTPS token")
	fs.StringVar(&g.sshKey, "git-ssh-key", "", "SSH private key `FILE`")
	fs.StringVar(&g.knownHosts, "git-known-hosts", "", "known_hosts `FILE` for SSH (required: host keys are always checked)")
	fs.StringVar(&g.caFile, "git-ca-file", "", "PEM `FILE` of extra CAs for an HTTPS Git server")
}

// isPlainDir reports whether p is a local directory that is not a Git repository's top:
// it is read as it is, with no Git.
func isPlainDir(p string) bool {
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return false
	}
	for _, marker := range []string{".git", "HEAD"} {
		if _, err := os.Stat(filepath.Join(p, marker)); err == nil {
			return false
		}
	}
	return true
}

// source builds the repo source and reads the configuration of its current state (for
// the region and clusters the ECS client needs). A first fetch that fails is not fatal:
// the controller keeps trying, with default configuration meanwhile.
func (f *controllerFlags) source(ctx context.Context, log *slog.Logger) (controller.Source, *manifests.Config, error) {
	if f.repo == "" {
		return nil, nil, fmt.Errorf("--repo is required: a Git URL, a local Git repo or a directory")
	}
	var src controller.Source
	if isPlainDir(f.repo) {
		src = &controller.DirSource{Dir: f.repo}
	} else {
		gs, err := gitsource.New(gitsource.Options{URL: f.repo, Ref: f.ref, Dir: f.cacheDir, CAFile: f.caFile, Logger: log,
			Auth: gitsource.Auth{Username: f.username, TokenFile: f.tokenFile, TokenEnv: f.tokenEnv, SSHKeyFile: f.sshKey, KnownHostsFile: f.knownHosts}})
		if err != nil {
			return nil, nil, err
		}
		src = &controller.GitSource{Src: gs, Name: gitsource.Scrub(f.repo), Path: path.Clean(f.path)}
	}
	cfg := manifests.DefaultConfig()
	snap, err := src.Fetch(ctx)
	if err != nil {
		log.Warn("first fetch failed; will retry", "error", err.Error())
		return src, cfg, nil
	}
	if b, err := fs.ReadFile(snap.FS, manifests.ConfigFile); err == nil {
		if c, _ := manifests.ParseConfig(manifests.ConfigFile, b); c != nil {
			cfg = c
		}
	}
	return src, cfg, nil
}
