package gitsource

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshServer serves `git-upload-pack '<path>'` for repositories under root to clients
// holding clientKey, with an ed25519 host key. It returns its address and host key.
func sshServer(t *testing.T, root string, clientKey ssh.PublicKey) (string, ssh.PublicKey) {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(clientKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveSSH(root, conn, cfg) })
		}
	})
	return ln.Addr().String(), hostSigner.PublicKey()
}

func serveSSH(root string, conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range chReqs {
				if req.Type != "exec" || len(req.Payload) < 4 {
					req.Reply(false, nil)
					continue
				}
				n := binary.BigEndian.Uint32(req.Payload)
				line := string(req.Payload[4 : 4+n])
				prog, arg, _ := strings.Cut(line, " ")
				if prog != "git-upload-pack" {
					req.Reply(false, nil)
					continue
				}
				req.Reply(true, nil)
				path := filepath.Join(root, filepath.Clean("/"+strings.Trim(arg, "'")))
				cmd := exec.Command("git-upload-pack", path)
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				status := 0
				if err := cmd.Run(); err != nil {
					status = 1
				}
				ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(status)))
				return
			}
		}()
	}
}

func writeKey(t *testing.T, dir, name string) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	return p, signer.PublicKey()
}

func TestSSH(t *testing.T) {
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		gitCLI(t)
		t.Skip("git-upload-pack not on PATH")
	}
	ctx := context.Background()
	r := newRemote(t)
	sha := r.commit("first", map[string]string{"tasks/web.json": "v1"})
	dir := t.TempDir()
	keyFile, pub := writeKey(t, dir, "id_ed25519")
	otherKey, _ := writeKey(t, dir, "id_other")
	addr, hostKey := sshServer(t, filepath.Dir(r.bare), pub)
	url := fmt.Sprintf("ssh://git@%s/repo.git", addr)

	knownHosts := func(name string, hosts string, key ssh.PublicKey) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(knownhosts.Line([]string{hosts}, key)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := knownHosts("known_hosts", knownhosts.Normalize(addr), hostKey)

	s, err := New(Options{URL: url, Ref: "main", Auth: Auth{SSHKeyFile: keyFile, KnownHostsFile: good}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Fetch(ctx)
	if err != nil || c.Hash != sha || readFile(t, c, "tasks/web.json") != "v1" {
		t.Fatalf("fetch over ssh: %v %v", c, err)
	}
	sha2 := r.commit("second", nil)
	if c, err := s.Fetch(ctx); err != nil || c.Hash != sha2 {
		t.Fatalf("fetch over ssh after push: %v %v", c, err)
	}

	_, impostor := writeKey(t, dir, "impostor")
	for _, tc := range []struct {
		name string
		auth Auth
	}{
		{"changed host key", Auth{SSHKeyFile: keyFile, KnownHostsFile: knownHosts("kh-changed", knownhosts.Normalize(addr), impostor)}},
		{"unknown host", Auth{SSHKeyFile: keyFile, KnownHostsFile: knownHosts("kh-other", "other.example.com", hostKey)}},
		{"client key refused", Auth{SSHKeyFile: otherKey, KnownHostsFile: good}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{URL: url, Ref: "main", Auth: tc.auth})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Fetch(ctx)
			if !errors.Is(err, ErrAuth) || Retryable(err) {
				t.Fatalf("%v, want ErrAuth", err)
			}
			t.Log(err)
		})
	}

	// known_hosts removed after New: the fetch refuses, it does not skip the check.
	gone := knownHosts("kh-gone", knownhosts.Normalize(addr), hostKey)
	s2, err := New(Options{URL: url, Ref: "main", Auth: Auth{SSHKeyFile: keyFile, KnownHostsFile: gone}})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(gone)
	if _, err := s2.Fetch(ctx); !errors.Is(err, ErrConfig) {
		t.Fatalf("fetch without known_hosts: %v, want ErrConfig", err)
	} else {
		t.Log(err)
	}
}
