package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// realBench measures real Debian software in a chroot of rootfs (writable: an overlay of
// hack/debian-rootfs.sh's image), bare and under the defender, interleaved: PostgreSQL's
// initdb (real work, and the postgres server run several times through a shell), 1,000
// execs of an image program from a bash loop, and nginx under wrk. The defender runs outside the
// chroot and decides every exec inside it, as it would in the container.
func realBench(rootfs string, underWith func(string, ...string) []string, mech, other string, rounds, httpRounds int, httpTime time.Duration) {
	pg, _ := filepath.Glob(filepath.Join(rootfs, "usr/lib/postgresql/*/bin/initdb"))
	if len(pg) == 0 {
		fmt.Fprintf(os.Stderr, "real workloads: no initdb in %s (hack/debian-rootfs.sh installs postgresql)\n", rootfs)
		os.Exit(1)
	}
	initdb := "/" + must(filepath.Rel(rootfs, pg[0]))
	in := func(script string) []string { return []string{"chroot", rootfs, "/bin/bash", "-c", script} }
	for _, w := range []struct {
		name  string
		argv  []string
		mechs []string
	}{
		{"PostgreSQL initdb --no-sync", in("rm -rf /tmp/pgbench && runuser -u postgres -- " + initdb + " -D /tmp/pgbench --no-sync -A trust >/dev/null"), []string{mech, other}},
		{"bash loop: 1,000 execs of /bin/true", in("for ((i = 0; i < 1000; i++)); do /bin/true; done"), []string{mech, other}},
	} {
		variants := [][]string{w.argv}
		for _, m := range w.mechs {
			variants = append(variants, underWith(m, w.argv...))
		}
		t, c := interleaveCPU(rounds, variants...)
		for i, m := range w.mechs {
			row(fmt.Sprintf("%s (defender, %s)", w.name, m), t[0], t[i+1], "", nil)
			row(fmt.Sprintf("  same, CPU time (user+sys), %s", m), c[0], c[i+1], "", nil)
		}
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Println("nginx under wrk: skipped (wrk not installed: make deps)")
		return
	}
	nginxBench(rootfs, func(argv ...string) []string { return underWith(mech, argv...) }, mech, httpRounds, httpTime)
}

// nginxBench serves the same static page from two nginx instances in the chroot (one
// worker each), one bare and one under the defender, and loads them alternately with wrk.
func nginxBench(rootfs string, under func(...string) []string, mech string, rounds int, d time.Duration) {
	const bare, def = "18481", "18482"
	os.MkdirAll(filepath.Join(rootfs, "tmp/bench-www"), 0o755)
	os.WriteFile(filepath.Join(rootfs, "tmp/bench-www/index.html"), []byte("hello from the benchmark\n"), 0o644)
	conf := func(port string) []string {
		c := "/tmp/nginx-" + port + ".conf"
		os.WriteFile(filepath.Join(rootfs, c), []byte(`user www-data;
daemon off;
error_log stderr error;
pid /tmp/nginx-`+port+`.pid;
worker_processes 1;
events { worker_connections 256; }
http { access_log off; server { listen 127.0.0.1:`+port+`; root /tmp/bench-www; } }
`), 0o644)
		return []string{"chroot", rootfs, "/usr/sbin/nginx", "-c", c}
	}
	stopBare, _ := startServer(conf(bare), bare)
	defer stopBare()
	stopDef, _ := startServer(under(conf(def)...), def)
	defer stopDef()
	wrkRounds(fmt.Sprintf("nginx under wrk, req/s (defender, %s, %d x %.0fs)", mech, rounds, d.Seconds()), bare, def, rounds, d, "", nil)
}

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return v
}
