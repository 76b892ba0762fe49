// Command benchtool measures the defender's overhead against the bare program, all in one
// run on the same machine, and prints a table. hack/bench-defender builds and runs it.
//
// The machine it runs on is usually shared and noisy, so every comparison is interleaved:
// after a warm-up, each round runs every variant once (the order rotates from round to
// round so that no variant always follows another), the ratio to the bare run of the
// same round is computed, and the table shows the median ratio and its spread (min-max
// over the rounds). A wide spread means the figure is noise-bound: read it as such.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "serve" {
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello from the benchmark\n")) })
		fmt.Fprintln(os.Stderr, http.ListenAndServe("127.0.0.1:"+os.Args[2], nil))
		return
	}
	defender := flag.String("defender", "bin/taskward-defender", "the defender binary")
	execs := flag.Int("execs", 500, "fork+exec iterations per run")
	bytes := flag.Int("bytes", 500000, "bytes copied one at a time (2 syscalls each)")
	rounds := flag.Int("rounds", 15, "interleaved rounds per benchmark (the median ratio is reported)")
	httpRounds := flag.Int("http-rounds", 8, "interleaved wrk rounds against the bare and the defended server")
	httpTime := flag.Duration("http-time", 3*time.Second, "duration of one wrk round")
	baseline := flag.String("baseline", "", "another defender binary (say, an older build) run as one more interleaved fork+exec variant")
	only := flag.String("only", "exec,syscalls,start,http,real", "comma-separated benchmarks to run")
	rootfs := flag.String("rootfs", "", "a writable Debian rootfs (hack/bench-defender mounts an overlay of hack/debian-rootfs.sh's) for the real workloads: initdb, nginx under wrk, 1,000 execs from bash")
	realRounds := flag.Int("real-rounds", 7, "interleaved rounds of each real workload")
	mechanism := flag.String("mechanism", "notify", "the defender's mechanism for every row; notify is what auto picks as PID 1 of a task (the fork+exec rows measure the other one too)")
	flag.Parse()
	os.Setenv("TASKWARD_POLICY", `{"name":"bench"}`)
	self, _ := os.Executable()
	underWith := func(mech string, argv ...string) []string {
		return append([]string{*defender, "run", "--mechanism", mech, "--"}, argv...)
	}
	under := func(argv ...string) []string { return underWith(*mechanism, argv...) }
	other := "trace"
	if *mechanism == "trace" {
		other = "notify"
	}
	strace := func(argv ...string) []string {
		return append([]string{"strace", "-f", "--seccomp-bpf", "-e", "trace=execve", "-o", "/dev/null"}, argv...)
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		want[strings.TrimSpace(s)] = true
	}

	fmt.Printf("%d rounds (fork+exec, syscalls; real workloads: %d), interleaved (rotating order), after one warm-up run of each variant; ratio = measured/bare of the same round\n", *rounds, *realRounds)
	header()
	if want["exec"] {
		loop := []string{"/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done", *execs)}
		// Variant 0 is bare; the others are indexed by name.
		variants := [][]string{loop}
		idx := map[string]int{}
		add := func(name string, argv []string) {
			idx[name] = len(variants)
			variants = append(variants, argv)
		}
		add("defender", under(loop...))
		add("other", underWith(other, loop...))
		_, errStrace := exec.LookPath("strace")
		if errStrace == nil {
			add("strace", strace(loop...))
		}
		if *baseline != "" {
			add("baseline", append([]string{*baseline, "run", "--"}, loop...))
		}
		t, c := interleaveCPU(*rounds, variants...)
		d, o := idx["defender"], idx["other"]
		row(fmt.Sprintf("fork+exec /bin/true x%d (defender, %s)", *execs, *mechanism), t[0], t[d], "<= 1.25x", func(r float64) bool { return r <= 1.25 })
		row(fmt.Sprintf("fork+exec /bin/true x%d (defender, %s)", *execs, other), t[0], t[o], "", nil)
		if k, ok := idx["strace"]; ok {
			row(fmt.Sprintf("fork+exec /bin/true x%d (strace -f --seccomp-bpf)", *execs), t[0], t[k], "reference", nil)
			// defender/strace per round: below 1 means the defender is faster.
			row(fmt.Sprintf("fork+exec: defender (%s) / strace", *mechanism), t[k], t[d], "< 1.00x", func(r float64) bool { return r < 1 })
			row(fmt.Sprintf("fork+exec: defender (%s) / strace", other), t[k], t[o], "", nil)
		}
		if k, ok := idx["baseline"]; ok {
			row(fmt.Sprintf("fork+exec /bin/true x%d (baseline %s)", *execs, *baseline), t[0], t[k], "", nil)
			row("fork+exec: defender / baseline", t[k], t[d], "", nil)
		}
		// The same runs by CPU time of the whole tree (the defender included): less noisy.
		row(fmt.Sprintf("  same, CPU time (user+sys): defender, %s", *mechanism), c[0], c[d], "", nil)
		row(fmt.Sprintf("  same, CPU time (user+sys): defender, %s", other), c[0], c[o], "", nil)
		if k, ok := idx["strace"]; ok {
			row("  same, CPU time (user+sys): strace", c[0], c[k], "", nil)
			row(fmt.Sprintf("  same, CPU time (user+sys): defender (%s) / strace", *mechanism), c[k], c[d], "< 1.00x", func(r float64) bool { return r < 1 })
		}
		if k, ok := idx["baseline"]; ok {
			row("  same, CPU time (user+sys): baseline", c[0], c[k], "", nil)
		}
	}
	if want["syscalls"] {
		dd := []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=" + strconv.Itoa(*bytes)}
		t := interleave(*rounds, dd, under(dd...))
		row(fmt.Sprintf("read/write loop, %d syscalls", 2**bytes), t[0], t[1], "<= 1.5x", func(r float64) bool { return r <= 1.5 })
	}
	if want["start"] {
		t := interleave(30, []string{"/bin/true"}, under("/bin/true"))
		bare, def := median(t[0]), median(t[1])
		fmt.Printf("%-50s %11s %11s %9s %17s  %-10s %s\n", "start-up: run /bin/true (30 rounds)", ms(bare), ms(def),
			"+"+ms(def-bare), "", "<= +15 ms", verdict(def-bare <= 15*time.Millisecond))
	}
	if want["http"] {
		if _, err := exec.LookPath("wrk"); err != nil {
			fmt.Println("http under wrk: skipped (wrk not installed: make deps)")
		} else {
			httpBench(self, under, *httpRounds, *httpTime)
		}
	}
	if want["real"] {
		if *rootfs == "" {
			fmt.Println("real workloads: skipped (no -rootfs: hack/bench-defender passes one when run as root)")
			return
		}
		realBench(*rootfs, underWith, *mechanism, other, *realRounds, *httpRounds, *httpTime)
	}
}

func header() {
	fmt.Printf("%-50s %11s %11s %9s %17s  %-10s %s\n", "benchmark", "bare", "measured", "ratio", "spread (min-max)", "target", "met")
}

// row prints medians of both series and the median and spread of the per-round ratios.
func row(name string, bare, got []time.Duration, target string, ok func(float64) bool) {
	r := ratios(bare, got)
	med := medianF(r)
	v := ""
	if ok != nil {
		v = verdict(ok(med))
	}
	fmt.Printf("%-50s %11s %11s %8.3fx %8.3f-%.3fx  %-10s %s\n", name, ms(median(bare)), ms(median(got)), med, slices.Min(r), slices.Max(r), target, v)
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func ratios(bare, got []time.Duration) []float64 {
	r := make([]float64, len(bare))
	for i := range bare {
		r[i] = float64(got[i]) / float64(bare[i])
	}
	return r
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianF(f []float64) float64 {
	s := slices.Clone(f)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func timeIt(argv []string) time.Duration {
	wall, _ := timeCPU(argv)
	return wall
}

// timeCPU runs argv and returns its wall-clock time and the CPU time (user+system) of
// the whole process tree it reaped. CPU time is much less sensitive than wall time to
// other load on a shared machine, but it does not see time lost waiting to be scheduled.
func timeCPU(argv []string) (wall, cpu time.Duration) {
	start := time.Now()
	cmd := exec.Command(argv[0], argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "%v: %v\n%s", argv, err, out)
		os.Exit(1)
	}
	return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// interleave runs each variant once as a warm-up, then n rounds of every variant, the
// order rotating by one each round. It returns each variant's wall-clock times, indexed
// by round.
func interleave(n int, variants ...[]string) [][]time.Duration {
	wall, _ := interleaveCPU(n, variants...)
	return wall
}

// interleaveCPU is interleave, also returning the CPU times of each run.
func interleaveCPU(n int, variants ...[]string) (wall, cpu [][]time.Duration) {
	for _, v := range variants {
		if v != nil {
			timeIt(v)
		}
	}
	wall, cpu = make([][]time.Duration, len(variants)), make([][]time.Duration, len(variants))
	for i := 0; i < n; i++ {
		for k := range variants {
			j := (i + k) % len(variants)
			if variants[j] == nil {
				wall[j], cpu[j] = append(wall[j], 1), append(cpu[j], 1)
				continue
			}
			w, c := timeCPU(variants[j])
			wall[j], cpu[j] = append(wall[j], w), append(cpu[j], c)
		}
	}
	return wall, cpu
}

// httpBench starts the same server binary bare and under the defender, then loads them
// alternately with wrk in short rounds (the first in each round alternates), and prints
// the median ratio of requests/s with its spread.
func httpBench(self string, under func(...string) []string, rounds int, d time.Duration) {
	const bare, def = "18471", "18472"
	stopBare, _ := startServer([]string{self, "serve", bare}, bare)
	defer stopBare()
	stopDef, defPid := startServer(under(self, "serve", def), def)
	defer stopDef()
	wrkRounds(fmt.Sprintf("http server under wrk, req/s (%d x %.0fs rounds)", rounds, d.Seconds()), bare, def, rounds, d, ">= 0.97x", func(r float64) bool { return r >= 0.97 })
	rss := vmHWM(defPid)
	fmt.Printf("%-50s %11s %11s %9s %17s  %-10s %s\n", "defender peak RSS (VmHWM, after wrk)", "", fmt.Sprintf("%.1f MiB", float64(rss)/1024), "", "", "<= 15 MiB", verdict(rss <= 15*1024))
}

// wrkRounds loads the bare and the defended server on their ports alternately with wrk in
// rounds of d (the first in each round alternates), after a warm-up of each (connections,
// goroutines, heap), and prints the row of requests/s: medians and the per-round ratio's
// median and spread. It returns that median.
func wrkRounds(name, bare, def string, rounds int, d time.Duration, target string, ok func(float64) bool) float64 {
	secs := strconv.Itoa(max(1, int(d.Seconds())))
	load(bare, "1")
	load(def, "1")
	var rb, rd []float64
	for i := 0; i < rounds; i++ {
		if i%2 == 0 {
			rb, rd = append(rb, load(bare, secs)), append(rd, load(def, secs))
		} else {
			rd, rb = append(rd, load(def, secs)), append(rb, load(bare, secs))
		}
	}
	r := make([]float64, rounds)
	for i := range r {
		r[i] = rd[i] / rb[i]
	}
	med, v := medianF(r), ""
	if ok != nil {
		v = verdict(ok(med))
	}
	fmt.Printf("%-50s %11.0f %11.0f %8.3fx %8.3f-%.3fx  %-10s %s\n", name, medianF(rb), medianF(rd), med, slices.Min(r), slices.Max(r), target, v)
	return med
}

// startServer starts argv, waits until it answers on port, and returns how to stop it
// and its pid.
func startServer(argv []string, port string) (func(), int) {
	srv := exec.Command(argv[0], argv[1:]...)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; i < 200; i++ {
		if r, err := http.Get("http://127.0.0.1:" + port + "/"); err == nil {
			r.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() { srv.Process.Signal(os.Interrupt); srv.Wait() }, srv.Process.Pid
}

// load runs wrk against the server on 127.0.0.1:port for secs seconds and returns
// requests/s.
func load(port, secs string) float64 {
	url := "http://127.0.0.1:" + port + "/"
	out, err := exec.Command("wrk", "-t2", "-c32", "-d"+secs+"s", url).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wrk: %v\n%s", err, out)
		os.Exit(1)
	}
	m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		fmt.Fprintf(os.Stderr, "wrk output: %s", out)
		os.Exit(1)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	return rps
}

// vmHWM is the peak resident set of pid in KiB (the defender is the process wrapping the
// defended server).
func vmHWM(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}
