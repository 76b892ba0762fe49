//go:build linux

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test, and a server certificate it signed.
type testCA struct {
	pem    []byte
	server tls.Certificate
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	skey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "collector.test"},
		DNSNames: []string{"collector.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	sder, err := x509.CreateCertificate(rand.Reader, stmpl, ca, &skey.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		server: tls.Certificate{Certificate: [][]byte{sder}, PrivateKey: skey}}
}

// collector records the Authorization headers and bodies it receives.
type collector struct {
	mu     sync.Mutex
	tokens []string
	bodies []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	c.mu.Lock()
	c.tokens = append(c.tokens, r.Header.Get("Authorization"))
	c.bodies = append(c.bodies, string(b))
	c.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (c *collector) got() (tokens, bodies []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.tokens...), append([]string(nil), c.bodies...)
}

// serve starts c on addr (TLS with cert when it has one) until the test ends.
func serve(t *testing.T, addr string, c *collector, cert *tls.Certificate) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}})
	}
	srv := &http.Server{Handler: c, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// TestEventsSinkPinned: the program points the collector's name at its own server in
// /etc/hosts and adds its own CA to the image's bundle, then makes a blocked exec. The
// event and the token must reach the real collector (resolved, and its roots loaded,
// before the program started), never the program's server; over http too.
func TestEventsSinkPinned(t *testing.T) {
	for _, scheme := range []string{"https", "http"} {
		t.Run(scheme, func(t *testing.T) {
			eachMechanism(t, func(t *testing.T, app func(...string) []string) {
				l := needLab(t)
				real, evil := newTestCA(t, "real"), newTestCA(t, "evil")
				port := freePort(t)
				good, bad := &collector{}, &collector{}
				var goodCert, badCert *tls.Certificate
				if scheme == "https" {
					goodCert, badCert = &real.server, &evil.server
				}
				serve(t, "127.0.0.1:"+strconv.Itoa(port), good, goodCert)
				serve(t, "127.0.0.2:"+strconv.Itoa(port), bad, badCert)

				rootfs := ownRootfs(t, l)
				bundle := filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt")
				os.MkdirAll(filepath.Dir(bundle), 0o755)
				for path, content := range map[string][]byte{
					bundle:                             real.pem,
					filepath.Join(rootfs, "evil.pem"):  evil.pem,
					filepath.Join(rootfs, "etc/hosts"): []byte("127.0.0.1 localhost\n127.0.0.1 collector.test\n"),
				} {
					if err := os.WriteFile(path, content, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				script := "echo '127.0.0.2 collector.test' > /etc/hosts && cat /evil.pem > /etc/ssl/certs/ca-certificates.crt && echo REWRITTEN; apk add curl; echo APK-RC=$?; sleep 2"
				url := scheme + "://collector.test:" + strconv.Itoa(port) + "/v1/events"
				c := startApp(t, l, spec{rootfs: rootfs, args: app("/bin/sh", "-c", script),
					env: []string{defaultPolicyEnv, "TASKWARD_EVENTS_URL=" + url, "TASKWARD_EVENTS_TOKEN=" + attackToken}})
				if code := c.wait(20 * time.Second); code != 0 || !strings.Contains(c.stdout.String(), "REWRITTEN") || !strings.Contains(c.stdout.String(), "APK-RC=126") {
					t.Fatalf("exit %d, output %q", code, c.stdout.String())
				}
				if tokens, _ := bad.got(); len(tokens) > 0 {
					t.Fatalf("the program's server received %d requests, tokens %q", len(tokens), tokens)
				}
				tokens, bodies := good.got()
				if len(tokens) == 0 || tokens[0] != "Bearer "+attackToken || !strings.Contains(strings.Join(bodies, ""), `"rule":"packageManagers"`) {
					t.Fatalf("the collector received tokens %q, bodies %q", tokens, bodies)
				}
			})
		})
	}
}
