//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The false-positive suite: real Debian software (nginx, PostgreSQL, Python, Node, shell
// entrypoints) in runc containers, each run bare and then under the defender with each
// mechanism, with the default policy. A defended run must raise no event and print what
// the bare run printed; after the workload, still inside the defended tree, `apt-get
// install` and a program written after start must be refused, so a quiet run is a quiet
// defender, not an absent one.
//
// The image is a Debian bookworm rootfs built by debootstrap (hack/debian-rootfs.sh, cached
// under /var/cache/taskward); each case adds its own layer (files, and what a Dockerfile's
// RUN would do, run bare), and every container runs on a fresh overlay of both, so a copy-up
// happens exactly as in a container runtime.

// debian is the cached Debian rootfs, found or built once per test binary.
var debian struct {
	once sync.Once
	dir  string
	err  error
}

// inCI reports whether the tests run in CI, where nothing of this suite may skip.
func inCI() bool { return os.Getenv("CI") != "" }

// needDebian returns the lab and the Debian rootfs. It skips only where the suite cannot
// run (not Linux, not root) or was asked not to (-short, outside CI); in CI a missing
// rootfs or lab fails the test.
func needDebian(t *testing.T) (*lab, string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("false-positive suite: runc containers need Linux")
	}
	if os.Getuid() != 0 {
		t.Skip("false-positive suite: needs root to run runc and mount overlays (CI runs it as root)")
	}
	if testing.Short() && !inCI() {
		t.Skip("false-positive suite: skipped with -short")
	}
	labOnce.Do(func() { theLab.build() })
	if theLab.skip != "" {
		if inCI() {
			t.Fatalf("false-positive suite must run in CI: %s", theLab.skip)
		}
		t.Skip(theLab.skip)
	}
	if theLab.err != nil {
		t.Fatal(theLab.err)
	}
	debian.once.Do(func() {
		out, err := exec.Command("bash", "../../hack/debian-rootfs.sh").Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			debian.err = fmt.Errorf("hack/debian-rootfs.sh (make deps builds it): %v\n%s", err, stderr)
			return
		}
		debian.dir = strings.TrimSpace(string(out))
	})
	if debian.err != nil {
		t.Fatal(debian.err)
	}
	return &theLab, debian.dir
}

// layer is one case's image layer over the Debian rootfs.
type layer struct {
	files map[string]string // path in the image: content (mode 0755 when it starts with #!)
	build string            // shell commands run bare in the image, as a Dockerfile RUN
}

// image makes the layer into a directory (its files written, then its build run in a bare
// container over the rootfs) and returns the lower directories of the case's overlays.
func (ly layer) image(t *testing.T, l *lab, rootfs string) []string {
	t.Helper()
	dir, err := os.MkdirTemp(l.dir, "layer-")
	if err == nil {
		err = os.Chmod(dir, 0o755) // the image's root directory
	}
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range ly.files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	if ly.build != "" {
		merged, unmount := overlayOn(t, l, []string{rootfs}, dir)
		c := startApp(t, l, spec{rootfs: merged, args: []string{"/bin/sh", "-ec", ly.build}, caps: dockerCaps})
		if code := c.wait(3 * time.Minute); code != 0 {
			t.Fatalf("image build %q exited %d:\n%s%s", ly.build, code, c.stdout.String(), c.stderr.String())
		}
		// The layer becomes a lower directory: no overlay may still write to it.
		unmount()
		// The runtime's own mount points stay out of the image.
		for _, p := range []string{"taskward", "tmp"} {
			if st, err := os.Stat(filepath.Join(dir, p)); err == nil && st.IsDir() {
				os.Remove(filepath.Join(dir, p))
			}
		}
	}
	// Files come out of an image with the times they were built with, before any task ran
	// (a registry's layers keep mtimes): so do the layer's.
	ageImage(t, dir)
	return []string{dir, rootfs}
}

// overlayOn mounts an overlay of lowers (top first) with upper as its writable layer (a
// fresh one when empty) and returns the merged directory and how to unmount it early; the
// test's cleanup unmounts it otherwise, after the containers registered later are gone.
func overlayOn(t *testing.T, l *lab, lowers []string, upper string) (string, func()) {
	t.Helper()
	base, err := os.MkdirTemp(l.dir, "overlay-")
	if err != nil {
		t.Fatal(err)
	}
	if upper == "" {
		upper = filepath.Join(base, "upper")
	}
	work, merged := filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lowers, ":"), upper, work)
	if err := syscall.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay %s: %v", opts, err)
	}
	var once sync.Once
	unmount := func() {
		once.Do(func() {
			if err := syscall.Unmount(merged, syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", merged, err)
			}
			os.RemoveAll(work)
		})
	}
	t.Cleanup(unmount)
	return merged, unmount
}

// dockerCaps is Docker's default capability set, which an ECS task's containers get (runc's
// own default is three): without it no entrypoint could chown or drop to a user.
var dockerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// fpWrapper runs the case's command, prints its exit status, and then, only in defended
// runs (FP_PROBE set), the probe: what the defender must still refuse after the workload.
const fpWrapper = `"$@"; echo "__EXIT__ $?"
[ -n "$FP_PROBE" ] || exit 0
echo __PROBE__
apt-get install -y hello >/dev/null 2>&1; echo "apt-get rc=$?"
cp /bin/true /tmp/dropped && /tmp/dropped; echo "dropped rc=$?"
`

// realCase is one workload of the suite.
type realCase struct {
	layer layer
	args  []string // the container's command, run as root
	env   []string
	want  []string // what the bare run must print (the workload really ran)
	// serve, when set, talks to the running container (over the host's network, which it
	// shares) and returns what it saw; the container must then exit by itself.
	serve func(t *testing.T, c *container) string
	// skip names the defect, and who fixes it, that still makes this case fail on main.
	skip string
	// notes are informational rules the defended run must report, and may: noNewPrivs for
	// a set-user-ID program such as su or sudo (no_new_privs keeps it from gaining
	// privilege; the README says so).
	notes []string
}

// runReal runs rc bare, then under each mechanism, and compares.
func runReal(t *testing.T, rc realCase) {
	l, rootfs := needDebian(t)
	lowers := rc.layer.image(t, l, rootfs)
	run := func(t *testing.T, args []string, env []string) (out string, c *container) {
		t.Helper()
		merged, _ := overlayOn(t, l, lowers, "")
		c = startApp(t, l, spec{rootfs: merged, args: args, env: env, caps: dockerCaps})
		seen := ""
		if rc.serve != nil {
			seen = rc.serve(t, c)
		}
		if code := c.wait(3 * time.Minute); code != 0 {
			t.Fatalf("container exited %d; stdout:\n%s\nstderr:\n%s", code, c.stdout.String(), c.stderr.String())
		}
		return seen + c.stdout.String(), c
	}
	argv := append([]string{"/bin/sh", "-c", fpWrapper, "sh"}, rc.args...)
	bare, _ := run(t, argv, append([]string{defaultPolicyEnv}, rc.env...))
	for _, w := range append(rc.want, "__EXIT__ 0") {
		if !strings.Contains(bare, w) {
			t.Fatalf("bare run lacks %q; output:\n%s", w, bare)
		}
	}
	if rc.skip != "" && os.Getenv("FP_UNSKIP") == "" {
		t.Skip(rc.skip + " (FP_UNSKIP=1 runs it)")
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		out, c := run(t, app(argv...), append([]string{defaultPolicyEnv, "FP_PROBE=1"}, rc.env...))
		got, probe, _ := strings.Cut(out, "__PROBE__\n")
		if got != bare {
			t.Errorf("defended output differs from the bare run:\n--- bare\n%s\n--- defended\n%s", bare, got)
		}
		for _, w := range []string{"apt-get rc=126", "dropped rc=126"} {
			if !strings.Contains(probe, w) {
				t.Errorf("after the workload, the probe printed %q; want %q (refused)", probe, w)
			}
		}
		var apt, drop int
		noted := map[string]int{}
		for _, e := range allEvents(c) {
			switch {
			case slices.Contains(rc.notes, fmt.Sprint(e["rule"])) && e["action"] == "alerted":
				noted[fmt.Sprint(e["rule"])]++
			case e["rule"] == "packageManagers" && filepath.Base(fmt.Sprint(e["program"])) == "apt-get":
				apt++
			case e["rule"] == "drift" && e["program"] == "/tmp/dropped":
				drop++
			default:
				t.Errorf("false positive: %s %s of %s (argv %v): %s", e["action"], e["rule"], e["program"], e["argv"], e["reason"])
			}
		}
		for _, n := range rc.notes {
			if noted[n] != 1 {
				t.Errorf("%d %s events, want 1", noted[n], n)
			}
		}
		if apt == 0 || drop == 0 {
			t.Errorf("probe events: %d for apt-get (packageManagers), %d for /tmp/dropped (drift); want both; stderr:\n%s", apt, drop, c.stderr.String())
		}
	})
}

// allEvents parses every event on the container's stderr, also one glued to the end of a
// partial line of the program's output (as "sh: 5: {...}").
func allEvents(c *container) []map[string]any {
	var evs []map[string]any
	for _, line := range strings.Split(c.stderr.String(), "\n") {
		i := strings.Index(line, `{"time":`)
		if i < 0 {
			continue
		}
		var e map[string]any
		if json.Unmarshal([]byte(line[i:]), &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs
}

// must returns v, or panics on err (for values the test builds itself).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// healthCheck is nginx's health check: an HTTP request from inside the container.
const healthCheck = `python3 -c 'import urllib.request, os; urllib.request.urlopen("http://127.0.0.1:" + os.environ.get("NGINX_PORT", "80") + "/index.html", timeout=5)' || exit 1`

// TestRealSoftwareNginx serves static files with nginx (a root master, www-data workers)
// and compares every response.
func TestRealSoftwareNginx(t *testing.T) {
	port := freePort(t)
	conf := fmt.Sprintf(`user www-data;
daemon off;
error_log /dev/null;
pid /tmp/nginx.pid;
worker_processes 2;
events { worker_connections 64; }
http {
  access_log off;
  include /etc/nginx/mime.types;
  server { listen 127.0.0.1:%d; root /var/www/site; }
}
`, port)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	runReal(t, realCase{
		layer: layer{files: map[string]string{
			"etc/nginx/nginx.conf":    conf,
			"var/www/site/index.html": "<h1>taskward</h1>\n",
			"var/www/site/big.txt":    big,
			// The entrypoint: nginx in the foreground until the test writes to /tmp/stop.
			"usr/local/bin/serve": "#!/bin/sh\nset -e\nmkfifo /tmp/stop\nnginx -t\nnginx &\nread _ </tmp/stop\nnginx -s quit\nwait $!\necho \"nginx exited $?\"\n",
		}},
		args: []string{"/usr/local/bin/serve"},
		// The task definition's health check, as taskward render passes it to the defender;
		// the runtime runs it from outside the tree (runc exec), as ECS's agent has Docker do.
		env: []string{"NGINX_PORT=" + strconv.Itoa(port),
			"TASKWARD_HEALTHCHECK=" + string(must(json.Marshal([]string{"CMD-SHELL", healthCheck})))},
		want: []string{"nginx exited 0", "GET /index.html 200", "GET /missing 404", "health check 1: 0", "health check 3: 0"},
		serve: func(t *testing.T, c *container) string {
			base := "http://127.0.0.1:" + strconv.Itoa(port)
			deadline := time.Now().Add(30 * time.Second)
			for {
				r, err := http.Get(base + "/index.html")
				if err == nil {
					r.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("nginx never answered: %v\n%s", err, c.stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			var seen strings.Builder
			for i := 1; i <= 3; i++ {
				out, err := exec.Command("runc", "--root", c.lab.runcRoot, "exec", c.id, "/bin/sh", "-c", healthCheck).CombinedOutput()
				code := 0
				if err != nil {
					code = -1
					if ee, ok := err.(*exec.ExitError); ok {
						code = ee.ExitCode()
					}
				}
				fmt.Fprintf(&seen, "health check %d: %d %s\n", i, code, strings.TrimSpace(string(out)))
			}
			for i := 0; i < 50; i++ {
				for _, p := range []string{"/index.html", "/big.txt", "/missing"} {
					r, err := http.Get(base + p)
					if err != nil {
						t.Fatalf("GET %s: %v", p, err)
					}
					b, _ := io.ReadAll(r.Body)
					r.Body.Close()
					if i == 0 {
						fmt.Fprintf(&seen, "GET %s %d %x\n", p, r.StatusCode, sha256.Sum256(b))
					}
				}
			}
			// Stop: the entrypoint waits on the FIFO in the container's /tmp.
			stop := fmt.Sprintf("/proc/%d/root/tmp/stop", c.hostPID(t))
			if err := os.WriteFile(stop, []byte("stop\n"), 0); err != nil {
				t.Fatalf("stop nginx: %v", err)
			}
			return seen.String()
		},
	})
}

// TestRealSoftwarePostgres runs PostgreSQL as its image's entrypoint would: initdb as the
// postgres user, pg_ctl start, queries through psql (Debian's pg_wrapper, a Perl script),
// COPY TO PROGRAM (the server runs a shell), pg_ctl stop.
func TestRealSoftwarePostgres(t *testing.T) {
	runReal(t, realCase{
		layer: layer{files: map[string]string{
			"usr/local/bin/pg": `#!/bin/bash
set -euo pipefail
export PGDATA=/var/lib/postgresql/data
bin=$(echo /usr/lib/postgresql/*/bin)
mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 700 "$PGDATA"
as() { runuser -u postgres -- "$@"; }
as "$bin/initdb" --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 | grep -v '^selecting default'
as "$bin/pg_ctl" -w -l /tmp/pg.log -o "-c listen_addresses='' -k /tmp" start >/dev/null
as psql -h /tmp -d postgres -Atq -v ON_ERROR_STOP=1 <<'SQL'
create table t (x int primary key, s text);
insert into t select i, md5(i::text) from generate_series(1, 20000) i;
select count(*), sum(x), max(s) from t;
create index on t (s);
select x from t where s = md5('4242');
copy (select 'from COPY TO PROGRAM') to program 'cat > /tmp/copied';
select pg_read_file('/tmp/copied');
SQL
as "$bin/pg_ctl" -w -m fast stop >/dev/null
echo "server stopped"
`,
		}},
		args: []string{"/usr/local/bin/pg"},
		want: []string{"Success. You can now start the database server", "20000|200010000|", "4242", "from COPY TO PROGRAM", "server stopped"},
	})
}

// pythonApp is a Python application run from its image's venv: subprocesses through
// pipes and a shell, the venv's python and pip, multiprocessing's spawn context.
const pythonApp = `import ctypes.util, multiprocessing, subprocess, sys

def square(x):
    return x * x

if __name__ == "__main__":
    print("prefix", sys.prefix)
    print(subprocess.run(["ls", "/opt/app"], capture_output=True, text=True, check=True).stdout.strip())
    print(subprocess.check_output("echo hello | tr a-z A-Z", shell=True, text=True).strip())
    print(subprocess.check_output([sys.executable, "-c", "import sys; print('child', sys.prefix)"], text=True).strip())
    print(subprocess.check_output(["/opt/venv/bin/pip", "--version"], text=True).split(" from ")[0])
    print(subprocess.check_output(["/opt/venv/bin/python", "-m", "mathtool", "6", "7"], text=True).strip())
    print("libc", ctypes.util.find_library("c"))  # runs ldconfig -p
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        print("squares", pool.map(square, range(5)))
    sys.exit(subprocess.call(["sh", "-c", "exit 0"]))
`

// TestRealSoftwarePython runs a Python application from a venv made at image build.
func TestRealSoftwarePython(t *testing.T) {
	runReal(t, realCase{
		layer: layer{
			files: map[string]string{
				"opt/app/app.py":               pythonApp,
				"opt/app/mathtool/__init__.py": "",
				"opt/app/mathtool/__main__.py": "import sys\nprint('product', int(sys.argv[1]) * int(sys.argv[2]))\n",
			},
			build: "python3 -m venv /opt/venv && cp -r /opt/app/mathtool /opt/venv/lib/python3*/site-packages/",
		},
		args: []string{"/opt/venv/bin/python", "/opt/app/app.py"},
		want: []string{"prefix /opt/venv", "HELLO", "child /opt/venv", "pip ", "product 42", "libc libc.so.6", "squares [0, 1, 4, 9, 16]"},
	})
}

// TestRealSoftwarePythonSocketpair gives a shell a socketpair as stdout, as asyncio's
// subprocess transport and many supervisors do.
func TestRealSoftwarePythonSocketpair(t *testing.T) {
	runReal(t, realCase{
		layer: layer{files: map[string]string{
			"opt/app/pair.py": `import socket, subprocess
a, b = socket.socketpair()
p = subprocess.Popen(["/bin/sh", "-c", "echo through a socketpair"], stdout=b)
b.close()
p.wait()
print(a.recv(100).decode().strip(), p.returncode)
`,
		}},
		args: []string{"python3", "/opt/app/pair.py"},
		want: []string{"through a socketpair 0"},
	})
}

// nodeApp uses child_process the ways Node applications do; libuv gives every child's
// stdio an AF_UNIX socketpair.
const nodeApp = `const cp = require('child_process');
const util = require('util');
const execP = util.promisify(cp.exec);
(async () => {
  console.log(cp.execSync('echo hello | tr a-z A-Z').toString().trim());
  console.log((await execP('ls /opt/app')).stdout.trim());
  console.log(cp.execFileSync('node', ['-e', 'console.log("child", 6 * 7)']).toString().trim());
  const out = await new Promise((resolve, reject) => {
    const c = cp.spawn('sh', ['-c', 'cat; echo spawned'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let b = '';
    c.stdout.on('data', d => { b += d; });
    c.on('close', code => code === 0 ? resolve(b.trim()) : reject(new Error('exit ' + code)));
    c.stdin.end('through stdin\n');
  });
  console.log(out.replace(/\n/g, ' '));
  const f = cp.fork('/opt/app/worker.js');
  const msg = await new Promise(resolve => f.on('message', resolve));
  console.log('worker said', msg);
  f.disconnect();
})().catch(e => { console.error(e); process.exit(1); });
`

// TestRealSoftwareNode runs a Node application using child_process (exec, execFile,
// spawn, fork with its IPC channel).
func TestRealSoftwareNode(t *testing.T) {
	runReal(t, realCase{
		layer: layer{files: map[string]string{
			"opt/app/app.js":    nodeApp,
			"opt/app/worker.js": "process.send('pong ' + process.argv.length); \n",
		}},
		args: []string{"node", "/opt/app/app.js"},
		want: []string{"HELLO", "app.js", "child 42", "through stdin spawned", "worker said pong 2"},
	})
}

// entrypointFiles is an application directory with an image program (an ELF file: the
// drift rule decides it) and a script, and the entrypoints that start it.
var entrypointFiles = map[string]string{
	"opt/app/run.sh": "#!/bin/sh\necho \"run.sh as $(id -un) ($(id -u):$(id -g)) args: $*\"\n/opt/app/bin/hello \"hello from the image program\"\n",
	// exec "$@", the most common entrypoint ending.
	"usr/local/bin/ep-exec":    "#!/bin/sh\nset -e\necho entrypoint: exec\nexec \"$@\"\n",
	"usr/local/bin/ep-runuser": "#!/bin/sh\nset -e\nexec runuser -u app -- \"$@\"\n",
	"usr/local/bin/ep-setpriv": "#!/bin/sh\nset -e\nexec setpriv --reuid=app --regid=app --init-groups \"$@\"\n",
	"usr/local/bin/ep-su":      "#!/bin/sh\nset -e\nexec su -s /bin/sh -c \"$*\" app\n",
	"usr/local/bin/ep-sudo":    "#!/bin/sh\nset -e\nexec sudo -u app -- \"$@\" 2>/dev/null\n",
	// The ownership fix-up many images do at start, then the drop to the user.
	"usr/local/bin/ep-chown": "#!/bin/sh\nset -e\nchown -R app:app /opt/app\nchmod -R go-w /opt/app\nchmod +x /opt/app/run.sh /opt/app/bin/hello\nexec runuser -u app -- \"$@\"\n",
}

// TestRealSoftwareEntrypoints runs shell entrypoints: exec "$@", the drops to a user
// (runuser, setpriv, su, sudo) and chown/chmod of the image's app directory at start.
func TestRealSoftwareEntrypoints(t *testing.T) {
	for _, tc := range []struct {
		name, ep, skip string
		user           string
		notes          []string // informational events the defended run must report
	}{
		{"exec", "ep-exec", "", "root", nil},
		{"runuser", "ep-runuser", "", "app", nil},
		{"setpriv", "ep-setpriv", "", "app", nil},
		{"su", "ep-su", "", "app", nil}, // set-user-ID root, run by root: nothing to note
		{"sudo", "ep-sudo", "", "app", nil},
		{"chown-chmod", "ep-chown", "", "app", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runReal(t, realCase{
				layer: layer{files: entrypointFiles, build: "mkdir -p /opt/app/bin && cp /bin/echo /opt/app/bin/hello"},
				args:  []string{"/usr/local/bin/" + tc.ep, "/opt/app/run.sh", "one", "two"},
				want:  []string{"run.sh as " + tc.user, "args: one two", "hello from the image program"},
				skip:  tc.skip,
				notes: tc.notes,
			})
		})
	}
}

// TestRealSoftwareInterpreterOptions starts interpreters the ways images do, with options
// before the script and operands that are not scripts (sh -c's $0, a data file written at
// start): a rule that decides interpreters' script arguments must read these as the
// interpreters do.
func TestRealSoftwareInterpreterOptions(t *testing.T) {
	runReal(t, realCase{
		layer: layer{files: map[string]string{
			"opt/app/s.sh":   "#!/bin/sh\necho \"s.sh $*\"\n",
			"opt/app/x.py":   "import sys\nprint('x.py', sys.argv[1:], sys.flags.optimize)\n",
			"opt/app/x.js":   "console.log('x.js', process.argv.slice(2).join(' '), globalThis.pre);\n",
			"opt/app/pre.js": "globalThis.pre = 'preloaded';\n",
			"opt/app/x.pl":   "print \"x.pl @ARGV\\n\";\n",
			"opt/app/run": `#!/bin/bash
set -euo pipefail
echo 'a log line' >/tmp/app.log    # a data file written at start, named below as an operand
sh -eu /opt/app/s.sh one
bash --norc -o pipefail /opt/app/s.sh two
sh -c 'echo "sh -c with \$0=$0 \$1=$1"' /tmp/app.log arg
bash -c 'echo "bash -c $0"' /tmp/app.log
python3 -u -W ignore -O /opt/app/x.py /tmp/app.log
python3 -X utf8 -c 'import sys; print("python3 -c", sys.argv[1:])' /tmp/app.log
python3 -m json.tool --sort-keys <<<'{"b": 1, "a": 2}' | tr -d ' \n'; echo
python3 - /tmp/app.log <<<'import sys; print("python3 - stdin", sys.argv[1:])'
node --max-old-space-size=64 -r /opt/app/pre.js /opt/app/x.js /tmp/app.log
node -e 'console.log("node -e", process.argv.slice(1).join(" "))' /tmp/app.log
perl -w /opt/app/x.pl /tmp/app.log
perl -e 'print "perl -e @ARGV\n"' /tmp/app.log
`,
		}},
		args: []string{"/opt/app/run"},
		want: []string{"s.sh one", "s.sh two", "sh -c with $0=/tmp/app.log $1=arg", "bash -c /tmp/app.log", "x.py ['/tmp/app.log'] 1",
			"python3 -c ['/tmp/app.log']", `{"a":2,"b":1}`, "python3 - stdin ['/tmp/app.log']", "x.js /tmp/app.log preloaded",
			"node -e /tmp/app.log", "x.pl /tmp/app.log", "perl -e /tmp/app.log"},
	})
}

// TestRealSoftwareReadOnlyTools runs what entrypoints and applications ask of tools the
// default policy watches: dpkg's read-only queries (packageManagers) and ldd, which runs
// the dynamic loader with --list on an image program (loader).
func TestRealSoftwareReadOnlyTools(t *testing.T) {
	for _, tc := range []struct{ name, script, want, skip string }{
		{"dpkg-queries", "dpkg --print-architecture; dpkg -s bash | grep '^Status'; dpkg -L bash | grep -c /usr/bin/bash; dpkg-query -W -f '${Package}\\n' bash",
			"Status: install ok installed", ""},
		{"ldd", "ldd /usr/bin/bash | awk '{print $1}' | sort", "libc.so.6", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runReal(t, realCase{
				layer: layer{files: map[string]string{"opt/app/run": "#!/bin/sh\nset -e\n" + tc.script + "\n"}},
				args:  []string{"/opt/app/run"},
				want:  []string{tc.want},
				skip:  tc.skip,
			})
		})
	}
}

// TestRealSoftwareUserOwnedScripts runs, as the user who owns them (chowned at image
// build, as images do), scripts reached through symlinks in directories that user can
// write: a Node package's node_modules/.bin link (#!/usr/bin/env node) and a venv's script
// whose #! names the venv's python, itself a symlink.
func TestRealSoftwareUserOwnedScripts(t *testing.T) {
	runReal(t, realCase{
		layer: layer{
			files: map[string]string{
				"opt/app/node_modules/hello/cli.js": "#!/usr/bin/env node\nconsole.log('hello cli', process.argv.slice(2).join(' '));\n",
				"opt/app/run":                       "#!/bin/sh\nset -e\ncd /opt/app\nnode_modules/.bin/hello a b\n/opt/venv/bin/tool c\nPATH=/opt/venv/bin:$PATH python -c 'import sys; print(\"venv python\", sys.prefix)'\n",
			},
			build: `python3 -m venv --without-pip /opt/venv
printf '#!/opt/venv/bin/python\nimport sys\nprint("venv script", sys.prefix, sys.argv[1:])\n' >/opt/venv/bin/tool
chmod +x /opt/venv/bin/tool
mkdir -p /opt/app/node_modules/.bin
ln -s ../hello/cli.js /opt/app/node_modules/.bin/hello
chown -R app:app /opt/venv /opt/app`,
		},
		args: []string{"runuser", "-u", "app", "--", "/opt/app/run"},
		want: []string{"hello cli a b", "venv script /opt/venv ['c']", "venv python /opt/venv"},
	})
}

// TestRealSoftwareExecForms execs image programs in the less common ways real software
// does: a script without "#!" (the shell runs it itself after ENOEXEC), a re-exec through
// /proc/self/exe (Go daemons, Chromium's zygote), fexecve of an opened image program
// (Python's os.execve with a descriptor), a relative path from the program's directory,
// `exec -a` with another argv[0], and chroot --userspec to drop to a user.
func TestRealSoftwareExecForms(t *testing.T) {
	runReal(t, realCase{
		layer: layer{files: map[string]string{
			"opt/app/noshebang.sh": "echo \"no shebang: $1\"\n",
			"opt/app/run": `#!/bin/bash
set -euo pipefail
/opt/app/noshebang.sh one
bash -c 'exec /proc/self/exe -c "echo re-exec through /proc/self/exe"'
python3 -c 'import os; fd = os.open("/usr/bin/echo", os.O_RDONLY); os.execve(fd, ["echo", "fexecve of an image program"], {})'
cd /usr/bin && ./echo "relative path"
(exec -a renamed-echo /usr/bin/echo "exec -a")
chroot --userspec=app:app / /usr/bin/id -un
`,
		}, build: "chmod 0755 /opt/app/noshebang.sh"},
		args: []string{"/opt/app/run"},
		want: []string{"no shebang: one", "re-exec through /proc/self/exe", "fexecve of an image program", "relative path", "exec -a", "app"},
	})
}

// TestRealSoftwareScriptSwap swaps the script of real interpreters once the defender has
// read it (testdata/attack script-swap): a symlink to an image script repointed at a file
// written at start, and a file renamed over an ES module. Node resolves the name itself
// (readlink, then an open of the target; an ES module is opened by a thread of its pool)
// and Python opens it by name after a readlink of its own: all are followed to their
// script. The bare run shows that the attack works on these interpreters; under the
// defender the swapped script must never run.
func TestRealSoftwareScriptSwap(t *testing.T) {
	l, rootfs := needDebian(t)
	bin, err := os.ReadFile(filepath.Join(l.dir, "attack"))
	if err != nil {
		t.Fatal(err)
	}
	const tries = 5
	files := map[string]string{"usr/local/bin/attack": string(bin)}
	for i := 0; i < tries; i++ {
		files["opt/node/s"+strconv.Itoa(i)] = "#!/usr/bin/node\nconsole.log('IMAGE-OK')\n"
		files["opt/python/s"+strconv.Itoa(i)] = "#!/usr/bin/python3\nprint('IMAGE-OK')\n"
		files["opt/esm/s"+strconv.Itoa(i)+".mjs"] = "#!/usr/bin/node\nconsole.log('IMAGE-OK')\n"
	}
	lowers := layer{files: files, build: "chmod 755 /usr/local/bin/attack"}.image(t, l, rootfs)
	script := `printf '#!/usr/bin/node\nconsole.log("PWN"+"ED")\n' > /tmp/evil.js
printf '#!/usr/bin/python3\nprint("PWN"+"ED")\n' > /tmp/evil.py
attack script-swap symlink ` + strconv.Itoa(tries) + ` /opt/node/s /tmp/evil.js
attack script-swap symlink ` + strconv.Itoa(tries) + ` /opt/python/s /tmp/evil.py
attack script-swap rename ` + strconv.Itoa(tries) + ` /opt/esm/s /tmp/evil.js .mjs
`
	run := func(t *testing.T, args []string) *container { return runToExit(t, l, lowers, args) }
	if bare := run(t, []string{"/bin/sh", "-c", script}); !strings.Contains(bare.stdout.String(), "PWNED") {
		t.Fatalf("the attack did not work on the bare container, so it tests nothing")
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		c := run(t, app("/bin/sh", "-c", script))
		out := c.stdout.String()
		if strings.Contains(out, "PWNED") || strings.Count(out, "RESULT:") != 3 {
			t.Fatalf("a swapped script ran, or an attack did not finish\nstderr:\n%s", c.stderr.String())
		}
		killed := map[string]int{}
		for _, e := range driftEvents(c) {
			if r, _ := e["reason"].(string); e["action"] == "killed" && strings.Contains(r, "script") {
				killed[filepath.Base(fmt.Sprint(e["program"]))]++
			}
		}
		// A swap that lands before the defender's second read of the name is refused as
		// drift instead; at least one must have landed after it.
		t.Logf("kills by program: %v", killed)
		if len(killed) == 0 {
			t.Fatalf("no swap won the race past the decision, so the watch was not tested\nstderr:\n%s", c.stderr.String())
		}
	})
}

// runToExit runs args as root with the default policy and Docker's capabilities on a fresh
// overlay of lowers, waits for the container to exit, and logs its output.
func runToExit(t *testing.T, l *lab, lowers, args []string) *container {
	t.Helper()
	merged, _ := overlayOn(t, l, lowers, "")
	c := startApp(t, l, spec{rootfs: merged, args: args, env: []string{defaultPolicyEnv}, caps: dockerCaps})
	if code := c.wait(3 * time.Minute); code < 0 {
		t.Fatalf("container did not exit:\n%s", c.stderr.String())
	}
	t.Logf("output:\n%s", c.stdout.String())
	return c
}
