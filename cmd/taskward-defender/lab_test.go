//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The lab runs the defender the way an ECS task does, under runc as root: an init
// container `install`s the defender into a volume, then the application container starts
// `/taskward/defender run -- PROGRAM` as its entrypoint (PID 1). It is built once per test
// binary: the defender image (hack/build-images, through a loopback registry: see
// image_test.go), the attack helper (testdata/attack), and a busybox rootfs made by
// hack/rootfs.sh.
type lab struct {
	dir      string
	defender string // the static binary under test
	rootfs   string // busybox image shared by application containers (/tmp is a tmpfs)
	volume   string // the task volume, after the init container installed the defender
	runcRoot string
	err      error
	skip     string
}

var (
	theLab  lab
	labOnce sync.Once
	seq     int
	seqMu   sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theLab.dir != "" {
		os.RemoveAll(theLab.dir)
	}
	os.Exit(code)
}

// needLab returns the lab, building it on first use. It skips the test, saying why,
// only where runc or root is missing; any other failure fails the test.
func needLab(t *testing.T) *lab {
	t.Helper()
	if testing.Short() {
		t.Skip("container tests: skipped with -short")
	}
	labOnce.Do(func() { theLab.build() })
	if theLab.skip != "" {
		t.Skip(theLab.skip)
	}
	if theLab.err != nil {
		t.Fatal(theLab.err)
	}
	return &theLab
}

func (l *lab) build() {
	if os.Getuid() != 0 {
		l.skip = "container tests need root to run runc (CI runs them as root): skipping"
		return
	}
	if _, err := exec.LookPath("runc"); err != nil {
		l.skip = "container tests need runc (make deps installs it): skipping"
		return
	}
	if runtime.GOARCH != "amd64" {
		l.skip = "container tests are written for amd64 (the loader path and syscall helper); arm64 is untested"
		return
	}
	dir, err := os.MkdirTemp("", "taskward-defender-lab-")
	if err != nil {
		l.err = err
		return
	}
	l.dir = dir
	l.runcRoot = filepath.Join(dir, "runc")
	// The defender under test comes from its image (image_test.go), as a task gets it:
	// built by hack/build-images, pushed to a loopback registry, pulled, extracted.
	img := filepath.Join(dir, "defender-image")
	initArgs, err := defenderImage(dir, img)
	if err != nil {
		l.err = err
		return
	}
	l.defender = filepath.Join(img, "taskward-defender")
	attack := filepath.Join(dir, "attack")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", attack, "./testdata/attack")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		l.err = fmt.Errorf("go build ./testdata/attack: %v\n%s", err, out)
		return
	}
	l.rootfs = filepath.Join(dir, "rootfs")
	extras := []string{attack + ":/usr/local/bin/attack"}
	if _, err := os.Stat("/lib64/ld-linux-x86-64.so.2"); err == nil {
		extras = append(extras, "/lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2")
		// A dynamically linked program of the image and its libc, for the loader's tests
		// (busybox is static: the loader cannot run it).
		if _, err := os.Stat("/lib/x86_64-linux-gnu/libc.so.6"); err == nil {
			extras = append(extras, "/lib/x86_64-linux-gnu/libc.so.6:/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/echo:/usr/bin/dynecho", "/usr/bin/cat:/usr/bin/dyncat")
		}
	}
	if out, err := exec.Command("bash", append([]string{"../../hack/rootfs.sh", l.rootfs}, extras...)...).CombinedOutput(); err != nil {
		l.err = fmt.Errorf("hack/rootfs.sh: %v\n%s", err, out)
		return
	}
	// Set-user-ID programs of the image: suidecho of user 1000, whose bit would change a
	// root caller's user (no_new_privs keeps it from doing so), and suidroot of root, whose
	// bit gives a root caller nothing (su and sudo run by root at start).
	if b, err := os.ReadFile(filepath.Join(l.rootfs, "usr/bin/dynecho")); err == nil {
		for name, uid := range map[string]int{"suidecho": 1000, "suidroot": 0} {
			suid := filepath.Join(l.rootfs, "usr/bin", name)
			if err := os.WriteFile(suid, b, 0o755); err == nil {
				os.Chown(suid, uid, uid)
				os.Chmod(suid, 0o755|os.ModeSetuid)
			}
		}
	}
	l.volume = filepath.Join(dir, "volume")
	os.MkdirAll(l.volume, 0o755)
	// The init container, twice: install must be idempotent (a task's init container
	// may be restarted).
	for i := 0; i < 2; i++ {
		c, err := l.start(spec{rootfs: img, args: initArgs, volumeRW: true})
		if err != nil {
			l.err = err
			return
		}
		if code := c.wait(30 * time.Second); code != 0 {
			l.err = fmt.Errorf("init container: install exited %d: %s", code, c.stderr.String())
			return
		}
	}
	if st, err := os.Stat(filepath.Join(l.volume, "defender")); err != nil || st.Mode().Perm() != 0o555 {
		l.err = fmt.Errorf("installed defender: %v, mode %v; want mode 0555", err, st.Mode())
	}
}

// spec is one container to run.
type spec struct {
	rootfs   string   // default: the busybox rootfs
	args     []string // full argv; default entrypoint is prefixed by app()
	env      []string
	uid      int
	volumeRW bool
	caps     []string // capabilities added to runc's default set (dockerCaps: what a task gets)
}

// container is a running `runc run`.
type container struct {
	id     string
	lab    *lab
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	code   int
}

// app returns the argv of an application container started through the defender.
func app(program ...string) []string {
	return append([]string{"/taskward/defender", "run", "--"}, program...)
}

// mechanisms are the two ways execs reach the defender (defender.Mechanism). Tests of
// enforcement and PID 1 duties run under each; as PID 1 on this kernel "auto" is notify
// (TestAutoMechanism).
var mechanisms = []string{"notify", "trace"}

// eachMechanism runs f once per mechanism, with an app function that starts the program
// under that mechanism.
func eachMechanism(t *testing.T, f func(t *testing.T, app func(program ...string) []string)) {
	for _, m := range mechanisms {
		t.Run(m, func(t *testing.T) {
			f(t, func(program ...string) []string {
				return append([]string{"/taskward/defender", "run", "--mechanism", m, "--"}, program...)
			})
		})
	}
}

func (l *lab) start(s spec) (*container, error) {
	seqMu.Lock()
	seq++
	id := fmt.Sprintf("twd-%d-%d", os.Getpid(), seq)
	seqMu.Unlock()
	bundle := filepath.Join(l.dir, "bundles", id)
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		return nil, err
	}
	if out, err := exec.Command("runc", "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("runc spec: %v %s", err, out)
	}
	cfgPath := filepath.Join(bundle, "config.json")
	raw, _ := os.ReadFile(cfgPath)
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	if s.rootfs == "" {
		s.rootfs = l.rootfs
	}
	proc := cfg["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = s.args
	proc["env"] = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, s.env...)
	proc["user"] = map[string]any{"uid": s.uid, "gid": s.uid}
	proc["cwd"] = "/"
	// ECS adds SYS_PTRACE to every protected container (DESIGN.md decision 2).
	caps := proc["capabilities"].(map[string]any)
	for _, set := range []string{"bounding", "effective", "permitted"} {
		list, _ := caps[set].([]any)
		list = append(list, "CAP_SYS_PTRACE")
		for _, c := range s.caps {
			list = append(list, c)
		}
		caps[set] = list
	}
	cfg["root"] = map[string]any{"path": s.rootfs, "readonly": false}
	cfg["hostname"] = id
	opts := []string{"bind", "ro"}
	if s.volumeRW {
		opts = []string{"bind", "rw"}
	}
	mounts := cfg["mounts"].([]any)
	mounts = append(mounts,
		map[string]any{"destination": "/taskward", "type": "bind", "source": l.volume, "options": opts},
		map[string]any{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "mode=1777"}})
	cfg["mounts"] = mounts
	// Share the host's network namespace so that the test can connect to a listener, as
	// an attacker reaches a task's port.
	linux := cfg["linux"].(map[string]any)
	var ns []any
	for _, n := range linux["namespaces"].([]any) {
		if n.(map[string]any)["type"] != "network" {
			ns = append(ns, n)
		}
	}
	linux["namespaces"] = ns
	out, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, out, 0o644); err != nil {
		return nil, err
	}
	c := &container{id: id, lab: l, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command("runc", "--root", l.runcRoot, "run", "--bundle", bundle, id)
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("runc run: %w", err)
	}
	go func() {
		err := c.cmd.Wait()
		c.code = c.cmd.ProcessState.ExitCode()
		if err != nil && c.code < 0 {
			c.code = -1
		}
		exec.Command("runc", "--root", l.runcRoot, "delete", "-f", id).Run()
		close(c.done)
	}()
	return c, nil
}

// startApp starts an application container and registers its cleanup.
func startApp(t *testing.T, l *lab, s spec) *container {
	t.Helper()
	c, err := l.start(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.kill("KILL")
		c.wait(10 * time.Second)
		if t.Failed() {
			t.Logf("container %s stderr:\n%s\nstdout:\n%s", c.id, c.stderr.String(), c.stdout.String())
		}
	})
	return c
}

func (c *container) kill(sig string) {
	exec.Command("runc", "--root", c.lab.runcRoot, "kill", c.id, sig).Run()
}

// wait returns the container's exit code, or -1 after the timeout.
func (c *container) wait(d time.Duration) int {
	select {
	case <-c.done:
		return c.code
	case <-time.After(d):
		return -1
	}
}

// hostPID is the host PID of the container's PID 1 (the defender).
func (c *container) hostPID(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("runc", "--root", c.lab.runcRoot, "state", c.id).Output()
	if err != nil {
		t.Fatalf("runc state: %v", err)
	}
	var st struct{ Pid int }
	json.Unmarshal(out, &st)
	return st.Pid
}

// events parses the defender's JSON lines from the container's stderr.
func (c *container) events() []map[string]any {
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(c.stderr.String()))
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e map[string]any
		if json.Unmarshal(line, &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs
}

// waitEvent waits for an event, after the first `after` events, matching every key.
func (c *container) waitEvent(t *testing.T, after int, want map[string]string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := c.events()
		for _, e := range evs[min(after, len(evs)):] {
			ok := true
			for k, v := range want {
				if fmt.Sprint(e[k]) != v {
					ok = false
				}
			}
			if ok {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event matching %v among %d new events:\n%s", want, len(evs)-min(after, len(evs)), c.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// session connects to a shell listener at port and runs script, returning its output.
func session(t *testing.T, port int, script string) string {
	t.Helper()
	var conn net.Conn
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err = net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connect to the application: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "exec 2>&1\n%s\necho __END__\n", script)
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "__END__") {
		n, err := conn.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return strings.TrimSuffix(strings.TrimSpace(out.String()), "__END__")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
