// Package gitsource is the controller's Git source: it keeps a clone of one branch or tag
// up to date with go-git and hands out commits as read-only file systems.
//
// Use:
//
//	src, err := gitsource.New(gitsource.Options{
//		URL:  "https://github.com/acme/ecs-gitops.git", // or ssh://, git@host:path, file://, /local/path
//		Ref:  "main",                                   // "refs/heads/main", "v1", "refs/tags/v1"; "" = the remote's HEAD
//		Dir:  "/var/lib/taskward/git",                  // "" keeps the clone in memory
//		Auth: gitsource.Auth{TokenFile: "/etc/taskward/git-token"},
//	})
//	c, err := src.Fetch(ctx)          // the commit the ref points to now
//	repo, probs := manifests.Load(c.FS)
//	pr, err := src.Resolve(ctx, sha)  // any commit: a SHA, branch or tag (pull-request heads)
//
// How a Fetch works:
//  1. The remote's refs are listed (one round trip: the ref advertisement). The configured
//     ref is resolved there: a full name ("refs/...") as is, a short name as a branch
//     first, then a tag (what `git clone --branch` does).
//  2. When the commit it points to is already in the local store, nothing else is
//     transferred: this is the steady state of a poll.
//  3. Otherwise the ref alone is fetched, shallow (depth 1), without other tags. The
//     local store negotiates what it has, so a new commit costs its new objects only.
//  4. The Commit returned reads its tree straight from the object store (internal/gitfs):
//     there is no worktree checkout, so nothing on disk can be modified by what a commit
//     contains (symlinks are not followed, blobs over 1 MiB are refused).
//
// A failed Fetch returns an error and changes nothing: Last still returns the previous
// good commit. A failure is never "the repository is empty"; callers must not prune on
// it. Errors are *Error values that match one of ErrAuth, ErrNotFound, ErrTransient or
// ErrConfig with errors.Is, so the controller can choose: retry transient failures,
// stall and report the others. Every URL in an error or log line is scrubbed of user
// information (https://user:token@host becomes https://***@host), and the token itself
// is never logged.
//
// Credentials are read at fetch time, never taken from a URL or a command-line flag, so
// they can be rotated without a restart and never show in `ps`:
//   - HTTPS: basic auth with Auth.Username (default "git") and a token from
//     Auth.TokenFile or the environment variable named by Auth.TokenEnv. A token is never
//     sent over plain http://. Options.CAFile adds a CA for a private Git server.
//   - SSH: the private key in Auth.SSHKeyFile (unencrypted; OpenSSH or PEM format) and
//     the host keys in Auth.KnownHostsFile (OpenSSH known_hosts format). A source without
//     a known_hosts file is refused: host keys are always checked.
//   - Local paths and file:// need nothing (go-git runs git-upload-pack for them).
//
// A Source is safe for concurrent use. Fetch and Resolve run one at a time; Commit file
// systems may be read at any time, but a read waits while a fetch is writing new
// objects into the store (go-git's stores are not safe for concurrent use).
package gitsource
