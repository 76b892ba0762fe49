//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoaderHardLinked: the loader is recognised by its content, not its name. A root
// program hard-links the image's loader under another name (same inode, same content: not
// drift) and runs a dropped program, or an image program with a dropped library, through
// it. The markers are the drops' names in the maps the dropped code prints.
func TestLoaderHardLinked(t *testing.T) {
	const ld, libc = "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dyncat")); err != nil {
			t.Skip("needs the host's dynamic cat and loader in the lab rootfs")
		}
		root := overlayImage(t, l, nil)
		script := `ln $(readlink -f ` + ld + `) /lib64/x && cp /usr/bin/dyncat /tmp/dropcat && cp ` + libc + ` /tmp/evil.so
/lib64/x /tmp/dropcat /proc/self/maps | grep -q dropcat && echo DROP-""RAN; echo DROP-RC=$?
/lib64/x --preload /tmp/evil.so /usr/bin/dyncat /proc/self/maps | grep -q evil.so && echo OPT-""RAN
LD_PRELOAD=/tmp/evil.so /lib64/x /usr/bin/dyncat /proc/self/maps | grep -q evil.so && echo ENV-""RAN
/lib64/x /usr/bin/dyncat /proc/self/cmdline; echo
echo END
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		out := c.stdout.String()
		for _, bad := range []string{"DROP-RAN", "OPT-RAN", "ENV-RAN"} {
			if strings.Contains(out, bad) {
				t.Errorf("forbidden code ran through the hard-linked loader: output has %q", bad)
			}
		}
		if !strings.Contains(out, "/usr/bin/dyncat") || !strings.Contains(out, "END") {
			t.Errorf("an image program run through the hard-linked loader must run; output:\n%s", out)
		}
		blocked, killed := 0, 0
		for _, e := range driftEvents(c) {
			r, _ := e["reason"].(string)
			switch {
			case e["action"] == "blocked" && strings.Contains(r, "program /tmp/dropcat did not come with the image") && strings.Contains(r, "(run by /lib64/x)"):
				blocked++
			case e["action"] == "killed" && strings.Contains(r, "LD_PRELOAD /tmp/evil.so of /lib64/x"):
				killed++
			}
		}
		if blocked != 1 || killed != 2 {
			t.Errorf("want the dropped program refused and both preloads killed as drift of /lib64/x; got %d and %d", blocked, killed)
		}
		if t.Failed() {
			t.Logf("output:\n%s\nstderr:\n%s", out, c.stderr.String())
		}
	})
}

// TestChrootLibraries: in a root of its own (chroot, CAP_SYS_CHROOT), every library
// directory is the caller's: a root program hard-links an image program and the loader
// into a new root (same inodes: not drift) and drops a libc there, which the loader maps
// with no loader variable set. The drop's marker is a libc message it rewrote.
func TestChrootLibraries(t *testing.T) {
	const ld, libc = "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dyncat")); err != nil {
			t.Skip("needs the host's dynamic cat and libc in the lab rootfs")
		}
		root := overlayImage(t, l, nil)
		script := `r=/opt/r && mkdir -p $r/usr/bin $r/lib64 $r/lib/x86_64-linux-gnu &&
ln /usr/bin/dyncat $r/usr/bin/dyncat && ln $(readlink -f ` + ld + `) $r` + ld + ` && ln ` + libc + ` $r` + libc + ` &&
chroot $r /usr/bin/dyncat /nonexistent; echo IMAGE-RC=$?
rm $r` + libc + ` && attack patch ` + libc + ` $r` + libc + ` 'No such file or directory' 'PWN''ED-BY-DROPPED-LIBC!!!!' &&
chroot $r /usr/bin/dyncat /nonexistent; echo DROP-RC=$?
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		out, errs := c.stdout.String(), c.stderr.String()
		if strings.Contains(errs, "PWNED-BY") || !strings.Contains(errs, "/nonexistent: No such file or directory") || !strings.Contains(out, "IMAGE-RC=1") || !strings.Contains(out, "DROP-RC=137") {
			t.Errorf("want the image libraries to run in the new root, and the dropped libc killed; output:\n%s\nstderr:\n%s", out, errs)
		}
		var reasons []string
		for _, e := range driftEvents(c) {
			reasons = append(reasons, fmt.Sprint(e["action"], ": ", e["reason"]))
		}
		if len(reasons) != 1 || !strings.Contains(reasons[0], "killed: did not come with the image: library "+libc+" mapped by the loader of /usr/bin/dyncat") {
			t.Errorf("want one kill naming the dropped libc mapped by the loader; got %q", reasons)
		}
	})
}

// TestLoaderCacheDrift: the loader finds DT_NEEDED libraries through /etc/ld.so.cache
// before the default directories. A root program writes a cache (ldconfig's format, built
// here on the host) naming a dropped libc in a directory of its own: every dynamic program
// of the image then maps the drop, with no loader variable and nothing written into the
// image's library directories. The drop's marker is a libc message it rewrote.
func TestLoaderCacheDrift(t *testing.T) {
	const libc = "/lib/x86_64-linux-gnu/libc.so.6"
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		ldconfig = "/sbin/ldconfig"
	}
	host := t.TempDir()
	for _, d := range []string{"opt/evil", "etc"} {
		if err := os.MkdirAll(filepath.Join(host, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lib, err := os.ReadFile(libc)
	if err != nil {
		t.Skip(err)
	}
	if err := os.WriteFile(filepath.Join(host, "opt/evil/libc.so.6"), lib, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "etc/ld.so.conf"), []byte("/opt/evil\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ldconfig, "-r", host, "-X").CombinedOutput(); err != nil {
		t.Skipf("ldconfig: %v %s", err, out)
	}
	cache, err := os.ReadFile(filepath.Join(host, "etc/ld.so.cache"))
	if err != nil || !strings.Contains(string(cache), "/opt/evil/libc.so.6") {
		t.Fatalf("ldconfig wrote no cache naming /opt/evil/libc.so.6: %v", err)
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dyncat")); err != nil {
			t.Skip("needs the host's dynamic cat and libc in the lab rootfs")
		}
		root := overlayImage(t, l, map[string]string{"opt/stash/ld.so.cache": string(cache)})
		script := `/usr/bin/dyncat /nonexistent; echo IMAGE-RC=$?
mkdir -p /opt/evil && attack patch ` + libc + ` /opt/evil/libc.so.6 'No such file or directory' 'PWN''ED-BY-DROPPED-LIBC!!!!' && cp /opt/stash/ld.so.cache /etc/ld.so.cache &&
/usr/bin/dyncat /nonexistent; echo DROP-RC=$?
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		out, errs := c.stdout.String(), c.stderr.String()
		if strings.Contains(errs, "PWNED-BY") || !strings.Contains(out, "IMAGE-RC=1") || !strings.Contains(out, "DROP-RC=137") {
			t.Errorf("want the dropped libc named by a new loader cache killed; output:\n%s\nstderr:\n%s", out, errs)
		}
		var reasons []string
		for _, e := range driftEvents(c) {
			reasons = append(reasons, fmt.Sprint(e["action"], ": ", e["reason"]))
		}
		if len(reasons) != 1 || !strings.Contains(reasons[0], "killed: did not come with the image: library /opt/evil/libc.so.6 mapped by the loader of /usr/bin/dyncat") {
			t.Errorf("want one kill naming the dropped libc mapped by the loader; got %q", reasons)
		}
	})
}

// buildC compiles C source src with compiler cc and flags into dir/name.
func buildC(t *testing.T, cc, dir, name, src string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("needs %s", cc)
	}
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if b, err := exec.Command(cc, append([]string{"-o", out, c}, flags...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", cc, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLoaderWatchMusl: musl's loader is its libc, so every system call of a musl program
// comes from inside the loader's mappings and the loader watch never saw a hand-over: an
// ordinary Alpine program with LD_LIBRARY_PATH (an image directory) was killed after 1 s
// under notify (the guard) and after 200,000 stops under trace. The program's entry now
// ends the watch (a breakpoint planted there), and what the loader maps before it is still
// judged: a preloaded name flipped between an image library and a drop never runs the drop.
func TestLoaderWatchMusl(t *testing.T) {
	ld, err := os.ReadFile("/usr/lib/x86_64-linux-musl/libc.so")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	prog := buildC(t, "musl-gcc", dir, "m", "#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\nint main(int c, char **v) {\n\tint n = c > 2 ? atoi(v[1]) : 0, ms = c > 2 ? atoi(v[2]) : 0;\n\tfor (int i = 0; i < n; i++) getppid();\n\tusleep(ms * 1000);\n\tprintf(\"MUSL-DONE\\n\");\n\treturn 0;\n}\n")
	lib := "#include <stdio.h>\n__attribute__((constructor)) static void init(void) { printf(MARK \"\\n\"); }\n"
	good := buildC(t, "musl-gcc", dir, "good.so", lib, "-shared", "-fPIC", `-DMARK="good library"`)
	evil := buildC(t, "musl-gcc", dir, "evil.so", lib, "-shared", "-fPIC", `-DMARK="/tmp/evil.so loaded"`)
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		root := overlayImage(t, l, map[string]string{"lib/ld-musl-x86_64.so.1": string(ld), "usr/bin/mprog": prog, "opt/good.so": good, "opt/stash/evil.so": evil})
		script := `LD_LIBRARY_PATH=/lib /usr/bin/mprog 10 1500; echo SLOW-RC=$?
LD_LIBRARY_PATH=/lib /usr/bin/mprog 120000 0; echo BUSY-RC=$?
cp /opt/stash/evil.so /tmp/evil.so && attack preload-race 200 /usr/bin/mprog x /tmp/lib.so /opt/good.so /tmp/evil.so
`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		out := c.stdout.String()
		t.Logf("output: %s", out)
		if strings.Count(out, "MUSL-DONE") != 2 || !strings.Contains(out, "SLOW-RC=0") || !strings.Contains(out, "BUSY-RC=0") {
			t.Errorf("an image musl program with LD_LIBRARY_PATH was killed; stderr:\n%s", c.stderr.String())
		}
		if strings.Contains(out, "evil library loaded") || !strings.Contains(out, "RESULT:") {
			t.Errorf("the dropped library ran in a musl program, or the race did not finish")
		}
		mapped := 0
		for _, e := range driftEvents(c) {
			if r, _ := e["reason"].(string); e["action"] == "killed" && strings.Contains(r, "library /tmp/evil.so mapped by the loader of /usr/bin/mprog") {
				mapped++
			}
		}
		if mapped == 0 {
			t.Errorf("no drop was caught at its mapping, so the watch before the entry was not tested:\n%s", c.stderr.String())
		}
	})
}

// TestAuditorEarlyHandOver: a policy that lets auditors run (loader: alert) lets the
// loader run an auditor's dependencies too: libm as LD_AUDIT makes the loader load libm
// and its own libc in a namespace of their own and run that libc's initialisation
// (prlimit64), from outside the loader and outside the auditor's text. That ended the
// watch before the program's libraries were mapped: a preloaded name flipped to a drop
// afterwards ran it (57-79 of 300). With auditors the program's entry ends the watch.
func TestAuditorEarlyHandOver(t *testing.T) {
	const libc, libm = "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6"
	m, err := os.ReadFile(libm)
	if err != nil {
		t.Skipf("needs the host's %s: %v", libm, err)
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		if _, err := os.Stat(filepath.Join(l.rootfs, "usr/bin/dyncat")); err != nil {
			t.Skip("needs the host's dynamic cat and libc in the lab rootfs")
		}
		ld, err := os.ReadFile(filepath.Join(l.rootfs, "lib64/ld-linux-x86-64.so.2"))
		if err != nil {
			t.Skip(err)
		}
		// The auditor's own libc needs the loader by its name in the library directory.
		root := overlayImage(t, l, map[string]string{libm[1:]: string(m), "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": string(ld)})
		script := `cp ` + libc + ` /tmp/evil.so && LD_AUDIT=` + libm + ` attack preload-race 300 /usr/bin/dyncat /proc/self/maps /tmp/lib.so ` + libc + ` /tmp/evil.so`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{`TASKWARD_POLICY={"name":"test","loader":"alert"}`}})
		out := c.stdout.String()
		t.Logf("output: %s", out)
		if strings.Contains(out, "evil library loaded") || !strings.Contains(out, "RESULT:") {
			t.Fatalf("the dropped library was loaded, or the attack did not finish\nstderr:\n%s", c.stderr.String())
		}
		mapped := 0
		for _, e := range driftEvents(c) {
			if r, _ := e["reason"].(string); e["action"] == "killed" && strings.Contains(r, "library /tmp/evil.so mapped by the loader of /usr/bin/dyncat") {
				mapped++
			}
		}
		if mapped == 0 {
			t.Fatalf("no drop was caught at its mapping, so the watch past the auditor was not tested:\n%s", c.stderr.String())
		}
	})
}

// TestOriginHardLinked: an image program whose DT_RUNPATH is $ORIGIN/../lib (every JDK's
// java) hard-linked (or renamed) into a directory of the attacker's, next to a dropped
// lib/ directory: the loader takes $ORIGIN from the name the program was run by, and maps
// the drop. No loader variable was set, so the loader was not followed; a program whose
// run path is the caller's (ownSearchPath) now is, and the drop is killed at its mapping.
func TestOriginHardLinked(t *testing.T) {
	dir := t.TempDir()
	lib := "#include <stdio.h>\n__attribute__((constructor)) static void init(void) { printf(MARK \"\\n\"); }\nvoid f(void) {}\n"
	image := buildC(t, "gcc", dir, "libx.so", lib, "-shared", "-fPIC", `-DMARK="IMAGE-LIB"`)
	evil := buildC(t, "gcc", dir, "libx-evil.so", lib, "-shared", "-fPIC", `-DMARK="EVIL-""LIB"`)
	prog := buildC(t, "gcc", dir, "prog", "#include <stdio.h>\nvoid f(void);\nint main(void) { f(); printf(\"PROG-RAN\\n\"); return 0; }\n", "-L"+dir, "-l:libx.so", "-Wl,-rpath,$ORIGIN/../lib", "-Wl,--enable-new-dtags")
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		root := overlayImage(t, l, map[string]string{"opt/app/bin/prog": prog, "opt/app/lib/libx.so": image, "opt/stash/libx-evil.so": evil})
		script := `/opt/app/bin/prog; mkdir -p /opt/evil/bin /opt/evil/lib && ln /opt/app/bin/prog /opt/evil/bin/prog && cp /opt/stash/libx-evil.so /opt/evil/lib/libx.so && /opt/evil/bin/prog; echo RC=$?`
		c := runToEnd(t, l, spec{rootfs: root, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		out := c.stdout.String()
		if strings.Contains(out, "EVIL-LIB") || !strings.Contains(out, "IMAGE-LIB\nPROG-RAN\n") || !strings.Contains(out, "RC=137") {
			t.Fatalf("a dropped library ran through $ORIGIN of a hard-linked image program, or the image's did not; output:\n%s\nstderr:\n%s", out, c.stderr.String())
		}
		var reasons []string
		for _, e := range driftEvents(c) {
			reasons = append(reasons, fmt.Sprint(e["action"], ": ", e["reason"]))
		}
		if len(reasons) != 1 || !strings.Contains(reasons[0], "killed: did not come with the image: library /opt/evil/lib/libx.so mapped by the loader of /opt/evil/bin/prog") {
			t.Errorf("want one kill naming the dropped library; got %q", reasons)
		}
	})
}
