//go:build linux

package main

import (
	"golang.org/x/sys/unix"

	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// imageTime is the modification time of the files a test adds to an image layer: long
// before the task starts, as a built image's files are.
var imageTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// ageImage dates every file of an image layer built during the test imageTime, as a
// pulled image's files are dated when it was built: before the task (and the defender's
// install, drift's baseline) started. Symbolic links keep their times.
func ageImage(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, imageTime, imageTime)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// overlayImage mounts an overlay root file system as a container runtime does: the lab's
// busybox rootfs, under a layer of extra image files (name -> content, mode 0755, dated
// imageTime), under a writable upper layer that outlives each container (a restart reuses
// it). It returns the merged directory.
func overlayImage(t *testing.T, l *lab, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	extra, upper, work, merged := filepath.Join(dir, "layer"), filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{extra, upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		p := filepath.Join(extra, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ageImage(t, extra)
	opts := "lowerdir=" + extra + ":" + l.rootfs + ",upperdir=" + upper + ",workdir=" + work
	if out, err := exec.Command("mount", "-t", "overlay", "overlay", "-o", opts, merged).CombinedOutput(); err != nil {
		t.Fatalf("mount overlay: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", merged).Run() })
	return merged
}

// runToEnd runs one container to its exit and returns it.
func runToEnd(t *testing.T, l *lab, s spec) *container {
	t.Helper()
	c := startApp(t, l, s)
	if code := c.wait(60 * time.Second); code < 0 {
		t.Fatalf("container did not exit:\n%s", c.stderr.String())
	}
	return c
}

// driftEvents are the events of c whose rule is drift or exec-check. An event line may
// follow a shell's message on the same stderr line ("/bin/sh: {...}"): it is read from its
// first brace.
func driftEvents(c *container) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(c.stderr.String(), "\n") {
		i := strings.IndexByte(line, '{')
		if i < 0 {
			continue
		}
		var e map[string]any
		if json.Unmarshal([]byte(line[i:]), &e) != nil {
			continue
		}
		if e["rule"] == "drift" || e["rule"] == "exec-check" {
			out = append(out, e)
		}
	}
	return out
}

// TestDriftEntrypointIdiomsQuiet: an entrypoint that chowns and chmods the image's app
// directory (an overlay copy-up of every file), touches an image program and then execs
// the image's own script raises no event; the one program it runs that the image did not
// ship, a cp -p copy (new content, old times), is still drift.
func TestDriftEntrypointIdiomsQuiet(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		root := overlayImage(t, l, map[string]string{
			"opt/app/run.sh": "#!/bin/sh\necho APP-OK\n/tmp/copy.sh; echo COPY-RC=$?\n",
			"opt/app/lib.sh": "#!/bin/sh\necho LIB-OK\n",
		})
		entry := "chown -R app:app /opt/app && chmod -R g+w /opt/app && chmod +x /opt/app/run.sh && " +
			"touch /opt/app/lib.sh /bin/busybox && cp -p /opt/app/lib.sh /tmp/copy.sh && /opt/app/lib.sh && exec /opt/app/run.sh"
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", entry), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		out := c.stdout.String()
		for _, want := range []string{"LIB-OK", "APP-OK", "COPY-RC=126"} {
			if !strings.Contains(out, want) {
				t.Errorf("output %q lacks %q; stderr:\n%s", out, want, c.stderr.String())
			}
		}
		evs := driftEvents(c)
		if len(evs) != 1 || evs[0]["program"] != "/tmp/copy.sh" || evs[0]["action"] != "blocked" {
			t.Fatalf("want exactly one drift event, blocking /tmp/copy.sh; got %v\nstderr:\n%s", evs, c.stderr.String())
		}
		t.Logf("event: %v", evs[0])
	})
}

// TestDriftSurvivesRestart: files written in one run of a container stay drift when the
// container restarts on the same writable layer, including one whose times were set back
// (touch -d, cp -p), while the image's programs stay allowed.
func TestDriftSurvivesRestart(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		root := overlayImage(t, l, nil)
		// The drops are copies of the attack helper, whose "marker" case prints PWNED.
		first := "cp /usr/local/bin/attack /opt/drop && cp -p /usr/local/bin/attack /opt/dropp && cp /usr/local/bin/attack /opt/dropd && " +
			"touch -d '2001-01-01 00:00:00' /opt/dropd && touch -r /bin/busybox /opt/drop && echo FIRST-DONE"
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", first), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		if !strings.Contains(c.stdout.String(), "FIRST-DONE") {
			t.Fatalf("first run: %q\n%s", c.stdout.String(), c.stderr.String())
		}
		second := "for f in /opt/drop /opt/dropp /opt/dropd; do $f marker; echo RC=$?; done; /bin/busybox echo IMAGE-OK"
		c = runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", second), env: []string{defaultPolicyEnv}})
		out := c.stdout.String()
		if strings.Contains(out, "PWNED") || strings.Count(out, "RC=126") != 3 || !strings.Contains(out, "IMAGE-OK") {
			t.Fatalf("after restart: %q\nstderr:\n%s", out, c.stderr.String())
		}
		got := map[string]bool{}
		for _, e := range driftEvents(c) {
			if r, _ := e["reason"].(string); e["action"] == "blocked" && strings.Contains(r, "after the task started") {
				got[e["program"].(string)] = true
			}
		}
		for _, p := range []string{"/opt/drop", "/opt/dropp", "/opt/dropd"} {
			if !got[p] {
				t.Errorf("no drift event for %s that says what was found:\n%s", p, c.stderr.String())
			}
		}
	})
}

// TestRewriteAfterDecision: an image program rewritten in place, same size, new machine
// code (pwrite once the defender has read it; the exec path is long so that the kernel's
// walk gives the writer time) must never run: its mtime and ctime at PTRACE_EVENT_EXEC
// differ from what was approved.
func TestRewriteAfterDecision(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		const tries = 6
		files := map[string]string{}
		for i := 0; i < tries; i++ {
			out := filepath.Join(t.TempDir(), "tiny")
			if b, err := exec.Command(filepath.Join(l.dir, "attack"), "tiny-elf", "GOOD!", out).CombinedOutput(); err != nil {
				t.Fatalf("attack tiny-elf: %v %s", err, b)
			}
			b, _ := os.ReadFile(out)
			files["opt/tiny"+strconv.Itoa(i)] = string(b)
		}
		root := overlayImage(t, l, files)
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", "chmod 755 /opt/tiny* && exec attack rewrite "+strconv.Itoa(tries)+" /opt/tiny"), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		out := c.stdout.String()
		t.Logf("output: %s", out)
		if strings.Contains(out, "PWNED") || !strings.Contains(out, "RESULT:") {
			t.Fatalf("the rewritten program ran, or the attack did not finish: %q\nstderr:\n%s", out, c.stderr.String())
		}
		killed := 0
		for _, e := range driftEvents(c) {
			if r, _ := e["reason"].(string); e["action"] == "killed" && strings.Contains(r, "mtime") {
				killed++
			}
		}
		if killed == 0 {
			t.Fatalf("no rewrite won the race, so nothing was tested (want at least one exec-check kill naming mtime):\n%s", c.stderr.String())
		}
	})
}

// TestLoaderDrift: a dynamic image program runs with what the dynamic loader loads into
// it. Image libraries (LD_PRELOAD, LD_LIBRARY_PATH naming the image's own) stay quiet; a
// dropped library named by LD_PRELOAD or LD_AUDIT, a directory of drops on
// LD_LIBRARY_PATH, and a replaced ELF interpreter (PT_INTERP) are drift of the program.
// The interpreter is refused at the exec call (status 126); the loader variables are
// decided at PTRACE_EVENT_EXEC, from the environment the kernel copied, and the program
// is killed there, before the loader runs (status 137, a "killed" drift event). The loader
// run directly reads the same variables, and its --preload option too: what it maps
// executable is judged as it maps it (loaderwatch_linux.go). An auditor (LD_AUDIT), even
// an image library, is the loader rule's: its code runs before the loader hands over.
// /etc/ld.so.preload, which root can write, is taken as every program's LD_PRELOAD.
func TestLoaderDrift(t *testing.T) {
	const libc = "/lib/x86_64-linux-gnu/libc.so.6"
	echo, err := os.ReadFile("/usr/bin/echo")
	if err != nil {
		t.Skipf("needs the host's dynamic /usr/bin/echo: %v", err)
	}
	lib, err := os.ReadFile(libc)
	if err != nil {
		t.Skipf("needs the host's %s: %v", libc, err)
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		root := overlayImage(t, l, map[string]string{"usr/local/bin/echo-dyn": string(echo), libc[1:]: string(lib)})
		script := `e=/usr/local/bin/echo-dyn
$e IMAGE-DYN-OK
LD_LIBRARY_PATH=/lib/x86_64-linux-gnu LD_PRELOAD=` + libc + ` $e IMAGE-PRELOAD-OK
cp ` + libc + ` /tmp/evil.so
LD_PRELOAD=/tmp/evil.so $e PRELOAD-""RAN; echo PRELOAD-RC=$?
LD_AUDIT=/tmp/evil.so $e AUDIT-""RAN; echo AUDIT-RC=$?
mkdir /tmp/libs && cp ` + libc + ` /tmp/libs/ && LD_LIBRARY_PATH=/tmp/libs $e LIBPATH-""RAN; echo LIBPATH-RC=$?
LD_AUDIT=` + libc + ` $e AUDITOR-""RAN; echo AUDITOR-RC=$?
LD_PRELOAD=/tmp/evil.so /lib64/ld-linux-x86-64.so.2 /usr/bin/dyncat /proc/self/maps | grep -q evil.so && echo DIRECT-""LOADER-RAN; echo DIRECT-RC=$?
/lib64/ld-linux-x86-64.so.2 --preload /tmp/evil.so /usr/bin/dyncat /proc/self/maps | grep -q evil.so && echo OPT""PRE-RAN; echo OPTPRE-RC=$?
echo ` + libc + ` > /etc/ld.so.preload && $e SYSPRE-IMAGE-OK; rm -f /etc/ld.so.preload
echo /tmp/evil.so > /etc/ld.so.preload && /usr/bin/dyncat /proc/self/maps | grep -q evil.so && echo SYS""PRE-RAN; echo SYSPRE-RC=$?; rm -f /etc/ld.so.preload
attack tiny-elf PWN""ED /tmp/ld && cp /tmp/ld /lib64/ld-linux-x86-64.so.2 && $e INTERP-""RAN; echo INTERP-RC=$?
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		out := c.stdout.String()
		for _, want := range []string{"IMAGE-DYN-OK", "IMAGE-PRELOAD-OK", "SYSPRE-IMAGE-OK", "PRELOAD-RC=137", "AUDIT-RC=137", "LIBPATH-RC=137", "INTERP-RC=126"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		for _, bad := range []string{"PRELOAD-RAN", "AUDIT-RAN", "LIBPATH-RAN", "INTERP-RAN", "PWNED", "DIRECT-LOADER-RAN", "OPTPRE-RAN", "AUDITOR-RAN", "SYSPRE-RAN"} {
			if strings.Contains(out, bad) {
				t.Errorf("forbidden code ran: output has %q", bad)
			}
		}
		reasons := map[string]string{} // action: reasons of drift events
		for _, e := range driftEvents(c) {
			if e["rule"] == "drift" {
				reasons[fmt.Sprint(e["action"])] += fmt.Sprint(e["reason"]) + "\n"
			}
		}
		for _, want := range []struct{ action, reason string }{
			{"killed", "LD_PRELOAD /tmp/evil.so of /usr/local/bin/echo-dyn"},
			{"killed", "LD_AUDIT /tmp/evil.so"},
			{"killed", "LD_LIBRARY_PATH directory /tmp/libs"},
			{"blocked", "ELF interpreter /lib64/ld-linux-x86-64.so.2"},
			{"killed", "LD_PRELOAD /tmp/evil.so of /lib64/ld-linux-x86-64.so.2"}, // the loader run directly
			{"killed", "LD_PRELOAD /tmp/evil.so of /lib64/ld-linux"},             // its --preload option
			{"killed", "/etc/ld.so.preload /tmp/evil.so of /usr/bin/dyncat"},     // the system-wide list
		} {
			if !strings.Contains(reasons[want.action], want.reason) {
				t.Errorf("no %s drift event naming %q; reasons: %q", want.action, want.reason, reasons)
			}
		}
		// An image library as an auditor: the Loader rule's (block by default), since an
		// auditor runs code before the loader hands over.
		if !strings.Contains(out, "AUDITOR-RC=137") || !strings.Contains(c.stderr.String(), `"rule":"loader","reason":"the dynamic loader of /usr/local/bin/echo-dyn would run auditor `+libc) {
			t.Errorf("an image auditor: want a kill by the loader rule")
		}
		if t.Failed() {
			t.Logf("output:\n%s\nstderr:\n%s", out, c.stderr.String())
		}
		// With drift set to alert, the program runs with its preloaded drop, and the
		// alert names it (on a fresh image: the run above replaced its loader).
		root = overlayImage(t, l, map[string]string{"usr/local/bin/echo-dyn": string(echo), libc[1:]: string(lib)})
		c = runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", "cp "+libc+" /tmp/evil.so && LD_PRELOAD=/tmp/evil.so /usr/local/bin/echo-dyn PRELOAD-\"\"ALERTED"), env: []string{`TASKWARD_POLICY={"name":"alerting","drift":"alert"}`}})
		alerted := false
		for _, e := range driftEvents(c) {
			alerted = alerted || e["action"] == "alerted" && strings.Contains(fmt.Sprint(e["reason"]), "LD_PRELOAD /tmp/evil.so of /usr/local/bin/echo-dyn")
		}
		if !strings.Contains(c.stdout.String(), "PRELOAD-ALERTED") || !alerted {
			t.Errorf("drift: alert: want the program to run and an alert naming LD_PRELOAD; output %q, stderr:\n%s", c.stdout.String(), c.stderr.String())
		}
	})
}

// TestScriptByDescriptor: a script run by descriptor (execveat AT_EMPTY_PATH) is read by
// its interpreter through /dev/fd/N, which a root caller can repoint (ln -sfn /tmp/fake
// /dev/fd): the image script is decided, another runs. Such execs are refused as drift.
func TestScriptByDescriptor(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		root := overlayImage(t, l, map[string]string{"opt/s.sh": "#!/bin/sh\necho IMAGE-SCRIPT\n"})
		script := `/opt/s.sh
mkdir -p /tmp/fake && for n in 3 4 5 6 7 8 9; do printf 'echo PWN""ED\n' > /tmp/fake/$n; done && ln -sfn /tmp/fake /dev/fd
attack execveat-fd /opt/s.sh
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		out := c.stdout.String()
		if strings.Contains(out, "PWNED") || !strings.Contains(out, "IMAGE-SCRIPT") || !strings.Contains(out, "RESULT: permission denied") {
			t.Fatalf("output %q\nstderr:\n%s", out, c.stderr.String())
		}
		found := false
		for _, e := range driftEvents(c) {
			if r, _ := e["reason"].(string); e["action"] == "blocked" && strings.Contains(r, "run by descriptor") {
				found = true
			}
		}
		if !found {
			t.Fatalf("no drift event for the script run by descriptor:\n%s", c.stderr.String())
		}
	})
}

// TestTimesEmulationPermissions: the defender sets times on the caller's behalf with its
// own privileges (root, in a root container whose entrypoint drops to a user), so it must
// refuse what the kernel would refuse the caller: a non-root user cannot set the times of
// root's files, and can set those of its own.
func TestTimesEmulationPermissions(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		root := overlayImage(t, l, nil)
		script := `touch -d '2001-01-01 00:00:00' /bin/busybox; echo RC1=$?
touch /bin/busybox; echo RC2=$?
touch /tmp/mine && touch -d '2001-01-01 00:00:00' /tmp/mine; echo RC3=$?
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/su", "-s", "/bin/sh", "app", "-c", script), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		out := c.stdout.String()
		for _, want := range []string{"RC1=1", "RC2=1", "RC3=0"} {
			if !strings.Contains(out, want) {
				t.Errorf("output %q lacks %q\nstderr:\n%s", out, want, c.stderr.String())
			}
		}
		if !strings.Contains(c.stderr.String(), "Operation not permitted") && !strings.Contains(c.stderr.String(), "Permission denied") {
			t.Errorf("touch did not say why it failed:\n%s", c.stderr.String())
		}
	})
}

// TestScriptSwap: a script is decided by the defender and then read by its interpreter,
// which opens it again by name. An attacker who points that name at another file once the
// defender has read the image's script (a symlink repointed, a file renamed over the
// script, or the script operand of a shell repointed), or creates the script a shell was
// allowed to run because it did not exist, must not get the other file run: the
// interpreter's open is compared with what was decided, and a mismatch is killed. With the
// watch removed, every mode printed the marker under both mechanisms.
func TestScriptSwap(t *testing.T) {
	const tries = 4
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		files := map[string]string{}
		for _, mode := range []string{"symlink", "rename", "operand", "create", "user"} {
			for i := 0; i < tries; i++ {
				files["opt/"+mode+"/s"+strconv.Itoa(i)] = "#!/bin/sh\necho IMAGE-OK\n"
			}
		}
		root := overlayImage(t, l, files)
		n := strconv.Itoa(tries)
		// The last one as a user: a symlink in a directory of its own is all it takes.
		script := `printf '#!/bin/sh\necho PWN""ED\n' > /tmp/evil.sh && chmod 644 /tmp/evil.sh
for m in symlink rename operand create; do attack script-swap $m ` + n + ` /opt/$m/s /tmp/evil.sh; done
su -s /bin/sh app -c 'attack script-swap symlink ` + n + ` /opt/user/s /tmp/evil.sh'
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		out := c.stdout.String()
		t.Logf("output:\n%s", out)
		if strings.Contains(out, "PWNED") || strings.Count(out, "RESULT:") != 5 {
			t.Fatalf("a swapped script ran, or an attack did not finish\nstderr:\n%s", c.stderr.String())
		}
		killed := 0
		for _, e := range driftEvents(c) {
			if r, _ := e["reason"].(string); e["action"] == "killed" && strings.Contains(r, "script") {
				killed++
			}
		}
		if killed == 0 {
			t.Fatalf("no swap won the race, so nothing was tested (want an exec-check kill naming the script):\n%s", c.stderr.String())
		}
	})
}

// TestPreloadRace: a program flips the symlink its LD_PRELOAD names between an image
// library and a dropped copy of it, so that the loader may open the drop after the decision
// at PTRACE_EVENT_EXEC saw the image's. The marker is the drop's name in the maps of the
// program (cat of /proc/self/maps): the dropped library was mapped, and its constructors
// ran, inside an allowed program.
func TestPreloadRace(t *testing.T) {
	const libc = "/lib/x86_64-linux-gnu/libc.so.6"
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dyncat")); err != nil {
			t.Skip("needs the host's dynamic cat and libc in the lab rootfs")
		}
		root := overlayImage(t, l, nil)
		script := `cp ` + libc + ` /tmp/evil.so && attack preload-race 300 /usr/bin/dyncat /proc/self/maps /tmp/lib.so ` + libc + ` /tmp/evil.so`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		out := c.stdout.String()
		t.Logf("output: %s", out)
		if strings.Contains(out, "evil library loaded") || !strings.Contains(out, "RESULT:") {
			t.Fatalf("the dropped library was loaded, or the attack did not finish\nstderr:\n%s", c.stderr.String())
		}
		// Decided at the exec event while the link led to the drop, or mapped by the loader
		// after it was flipped there: both must have happened, or the race was not run.
		// (Events of one rule are rate-limited: the attack's own count of kills is higher.)
		decided, mapped := 0, 0
		for _, e := range driftEvents(c) {
			r, _ := e["reason"].(string)
			switch {
			case e["action"] != "killed" || !strings.Contains(r, "/tmp/evil.so"):
			case strings.Contains(r, "library /tmp/evil.so mapped by the loader of"):
				mapped++
			default:
				decided++
			}
		}
		t.Logf("killed: %d at the exec event, %d at the loader's mapping", decided, mapped)
		if decided == 0 || mapped == 0 {
			t.Fatalf("the flip did not land on both sides of the decision, so the loader watch was not tested:\n%s", c.stderr.String())
		}
	})
}

// TestLoaderWatchStall: under notify a loader watch is followed on the supervisor's own
// thread, which serves no other exec meanwhile. A loader that blocks (an image FIFO named
// by LD_PRELOAD: its open waits for a writer) must not hold every other exec of the task:
// it is killed after watchLimit, and the execs waiting behind it go on.
func TestLoaderWatchStall(t *testing.T) {
	l := needLab(t)
	if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dynecho")); err != nil {
		t.Skip("needs the host's dynamic echo and libc in the lab rootfs")
	}
	root := overlayImage(t, l, nil)
	fifo := filepath.Join(root, "opt/fifo")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(fifo, imageTime, imageTime); err != nil { // it came with the image
		t.Fatal(err)
	}
	script := `LD_PRELOAD=/opt/fifo /usr/bin/dynecho STALLED & p=$!
sleep 0.2; /usr/bin/dynecho ALIVE
wait $p; echo STALL-RC=$?
`
	c := runToEnd(t, l, spec{rootfs: root, args: []string{"/taskward/defender", "run", "--mechanism", "notify", "--", "/bin/sh", "-c", script}, env: []string{defaultPolicyEnv}})
	out := c.stdout.String()
	if !strings.Contains(out, "ALIVE") || !strings.Contains(out, "STALL-RC=137") || strings.Contains(out, "STALLED") {
		t.Fatalf("want ALIVE and the stalled exec killed (137); output %q, stderr:\n%s", out, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "did not hand over within") {
		t.Fatalf("no event for the stalled loader:\n%s", c.stderr.String())
	}
}

// TestInterpreterRenamed: an image copy of the loader renamed over its name (as a package
// upgrade renames files into place), while the old one keeps a name, runs quietly: the
// exec call decides the interpreter the defender holds open from the last call, the
// kernel maps the new one, and the EXEC-time check judges the file mapped (an image file:
// no drift) rather than killing for the difference; the first exec after the rename has a
// loader variable, so its loader watch must follow the mapped loader too. A drop renamed
// over it the same way is killed at the exec event, then refused at the next call.
func TestInterpreterRenamed(t *testing.T) {
	const ld = "/lib64/ld-linux-x86-64.so.2"
	loader, err := os.ReadFile(ld)
	if err != nil {
		t.Skipf("needs the host's %s: %v", ld, err)
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dynecho")); err != nil {
			t.Skip("needs the host's dynamic echo and loader in the lab rootfs")
		}
		root := overlayImage(t, l, map[string]string{"lib64/ld-copy": string(loader)})
		script := `e=/usr/bin/dynecho
$e ONE && ln ` + ld + ` /lib64/ld-keep && mv /lib64/ld-copy ` + ld + ` && LD_LIBRARY_PATH=/lib/x86_64-linux-gnu $e TWO && $e THREE
cp ` + ld + ` /tmp/ld-drop && ln ` + ld + ` /lib64/ld-keep2 && mv /tmp/ld-drop ` + ld + `
$e DROP-""FIRST; echo FIRST-RC=$?
$e DROP-""SECOND; echo SECOND-RC=$?
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		out := c.stdout.String()
		if !strings.Contains(out, "ONE\nTWO\nTHREE\n") || !strings.Contains(out, "FIRST-RC=137") || !strings.Contains(out, "SECOND-RC=126") || strings.Contains(out, "DROP-FIRST") || strings.Contains(out, "DROP-SECOND") {
			t.Errorf("want ONE TWO THREE, the drop killed then refused; output:\n%s", out)
		}
		var kinds []string
		for _, e := range driftEvents(c) {
			kinds = append(kinds, fmt.Sprint(e["action"], " ", e["rule"]))
		}
		if strings.Join(kinds, ",") != "killed drift,blocked drift" {
			t.Errorf("want one kill then one refusal, both drift; got %q\n%s", kinds, c.stderr.String())
		}
	})
}

// TestInterpreterRace: a root program flips the symlink of the ELF interpreter between the
// image's loader and a dropped one, so that the kernel may load the dropped one between a
// decision and an EXEC-time check that both see the image's. The check compares the file
// the kernel mapped (found by AT_BASE in /proc/PID/maps), not the name.
func TestInterpreterRace(t *testing.T) {
	const ld = "/lib64/ld-linux-x86-64.so.2"
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dynecho")); err != nil {
			t.Skip("needs the host's dynamic echo and loader in the lab rootfs")
		}
		// The marker shows the fixed-address loader; a copy of the real one (a loader at a
		// load bias, like any) runs the program normally, and only the kill shows it was
		// mapped: both must be caught. Each runs in a container of its own, since events of
		// one rule are rate-limited.
		for _, tc := range []struct{ name, drop string }{
			{"fixed-address loader", `attack tiny-elf PWN""ED /tmp/ld-evil`},
			{"copy of the loader", `cp /lib64/ld-real /tmp/ld-evil`},
		} {
			root := overlayImage(t, l, nil)
			script := `mv ` + ld + ` /lib64/ld-real && ln -s /lib64/ld-real ` + ld + ` && ` + tc.drop + ` &&
attack interp-race 300 /usr/bin/dynecho ` + ld + ` /lib64/ld-real /tmp/ld-evil`
			c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}, caps: dockerCaps})
			out := c.stdout.String()
			t.Logf("%s: %s", tc.name, out)
			if strings.Contains(out, "evil loader ran") || !strings.Contains(out, "RESULT:") {
				t.Fatalf("%s: the dropped loader ran, or the attack did not finish\nstderr:\n%s", tc.name, c.stderr.String())
			}
			// A kill at the exec event names the mapped file ("swapped around": its device and
			// inode, or AT_BASE 0 for a fixed-address one), or, when the name led to the
			// mapped file again by then, judges that file (a drift kill naming the
			// interpreter): all come from the mapped-file check.
			caught := 0
			for _, e := range driftEvents(c) {
				r, _ := e["reason"].(string)
				if e["action"] == "killed" && (strings.Contains(r, "swapped around the exec") || e["rule"] == "drift" && strings.Contains(r, "ELF interpreter "+ld)) {
					caught++
				}
			}
			if caught == 0 {
				t.Fatalf("%s: no swap won the race past the decision, so the mapped-file check was not tested:\n%s", tc.name, c.stderr.String())
			}
		}
	})
}
