package gitsource

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Auth says where the credentials are. Secrets are read at every fetch, from a file or
// the environment, never from the Options themselves: a mounted secret can be rotated
// in place, and nothing secret needs to be on a command line.
type Auth struct {
	// Username for HTTPS basic auth; default "git" (GitHub, GitLab and Bitbucket accept
	// any user name with a token). For SSH it overrides the user of the URL (default "git").
	Username string
	// TokenFile holds the HTTPS token or password (surrounding whitespace is trimmed).
	TokenFile string
	// TokenEnv names an environment variable holding the token. Only one of TokenFile and
	// TokenEnv may be set.
	TokenEnv string
	// SSHKeyFile is an unencrypted SSH private key (OpenSSH or PEM).
	SSHKeyFile string
	// KnownHostsFile is an OpenSSH known_hosts file; required for SSH.
	KnownHostsFile string
}

type transportKind int

const (
	kindLocal transportKind = iota // a path or file://
	kindHTTP                       // http:// (anonymous only)
	kindHTTPS
	kindSSH
)

// checkAuth validates the Options against the transport of the endpoint, at New.
func checkAuth(kind transportKind, ep *transport.Endpoint, a Auth) error {
	if a.TokenFile != "" && a.TokenEnv != "" {
		return errors.New("set one of Auth.TokenFile and Auth.TokenEnv, not both")
	}
	token := a.TokenFile != "" || a.TokenEnv != ""
	ssh := a.SSHKeyFile != "" || a.KnownHostsFile != ""
	switch kind {
	case kindLocal:
		if token || ssh {
			return errors.New("a local repository takes no credentials")
		}
	case kindHTTP:
		if token {
			return errors.New("refusing to send a token over plain http://: use https://")
		}
		if ssh {
			return errors.New("SSH keys are for ssh:// URLs")
		}
	case kindHTTPS:
		if ssh {
			return errors.New("SSH keys are for ssh:// URLs")
		}
		// A missing or empty token is a mistake of the setup, not a passing outage: say so
		// at start instead of retrying forever. It is still read at every fetch (rotation).
		if token {
			if _, err := readToken(a); err != nil {
				return err
			}
		}
	case kindSSH:
		if token {
			return errors.New("a token is for https:// URLs: SSH uses Auth.SSHKeyFile")
		}
		if a.SSHKeyFile == "" {
			return errors.New("ssh needs Auth.SSHKeyFile (taskward does not use an SSH agent)")
		}
		if a.KnownHostsFile == "" {
			return errors.New("ssh needs Auth.KnownHostsFile: taskward always checks host keys " +
				"(get them with `ssh-keyscan HOST > known_hosts` and verify the fingerprints)")
		}
		if _, err := os.Stat(a.KnownHostsFile); err != nil {
			return fmt.Errorf("known_hosts: %w", err)
		}
		if _, err := os.Stat(a.SSHKeyFile); err != nil {
			return fmt.Errorf("ssh key: %w", err)
		}
	}
	return nil
}

// authMethod reads the credentials now. It returns the secret too, so that it can be
// scrubbed from any error text.
func (s *Source) authMethod() (transport.AuthMethod, string, error) {
	a := s.opts.Auth
	switch s.kind {
	case kindHTTPS:
		token, err := readToken(a)
		if err != nil || token == "" {
			return nil, "", err
		}
		user := a.Username
		if user == "" {
			user = "git"
		}
		// BasicAuth.String masks the password, should go-git ever print it.
		return &githttp.BasicAuth{Username: user, Password: token}, token, nil
	case kindSSH:
		return sshAuth(s.endpoint, a)
	}
	return nil, "", nil
}

func readToken(a Auth) (string, error) {
	switch {
	case a.TokenFile != "":
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return "", withKind(ErrAuth, fmt.Errorf("token file: %w", err))
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", withKind(ErrAuth, fmt.Errorf("token file %s is empty", a.TokenFile))
		}
		return t, nil
	case a.TokenEnv != "":
		t := strings.TrimSpace(os.Getenv(a.TokenEnv))
		if t == "" {
			return "", withKind(ErrAuth, fmt.Errorf("environment variable %s is empty or not set", a.TokenEnv))
		}
		return t, nil
	}
	return "", nil
}

func sshAuth(ep *transport.Endpoint, a Auth) (transport.AuthMethod, string, error) {
	user := a.Username
	if user == "" {
		user = ep.User
	}
	if user == "" {
		user = "git"
	}
	pem, err := os.ReadFile(a.SSHKeyFile)
	if err != nil {
		return nil, "", withKind(ErrAuth, fmt.Errorf("ssh key: %w", err))
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		// The parser's message never contains key material.
		return nil, "", withKind(ErrAuth, fmt.Errorf("ssh key %s: %w", a.SSHKeyFile, err))
	}
	hostKeys, algos, err := hostKeyCallback(a.KnownHostsFile, ep)
	if err != nil {
		return nil, "", err
	}
	return &gitssh.PublicKeys{
		User:   user,
		Signer: signer,
		HostKeyCallbackHelper: gitssh.HostKeyCallbackHelper{
			HostKeyCallback:   hostKeys,
			HostKeyAlgorithms: algos,
		},
	}, "", nil
}

// hostKeyCallback checks host keys against the known_hosts file (it is read again at
// every fetch, so it can be updated in place). It also returns the host key algorithms
// that file has for this host: without them the SSH client may negotiate a key type the
// file does not list (say RSA when it has ed25519) and knownhosts would report a
// mismatch for a host whose key is in fact known.
func hostKeyCallback(file string, ep *transport.Endpoint) (ssh.HostKeyCallback, []string, error) {
	if file == "" {
		return nil, nil, withKind(ErrConfig, errors.New("no known_hosts file: host keys are always checked"))
	}
	cb, err := knownhosts.New(file)
	if err != nil {
		return nil, nil, withKind(ErrConfig, fmt.Errorf("known_hosts: %w", err))
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	hostport := net.JoinHostPort(ep.Host, strconv.Itoa(port))
	return cb, knownAlgorithms(cb, hostport), nil
}

// knownAlgorithms lists the host key algorithms known_hosts has for hostport: asking
// the callback about a key that cannot match makes it return every known key in
// KeyError.Want (the technique github.com/skeema/knownhosts uses).
func knownAlgorithms(cb ssh.HostKeyCallback, hostport string) []string {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}
	err := cb(hostport, addr, probeKey{})
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				algos = append(algos, x)
			}
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			// An RSA key signs with SHA-2 today; ssh-rsa (SHA-1) last.
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

// probeKey is a public key that matches nothing.
type probeKey struct{}

func (probeKey) Type() string                        { return "taskward-probe" }
func (probeKey) Marshal() []byte                     { return []byte("taskward-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }
