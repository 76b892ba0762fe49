package policy

import "strings"

// A program can run code it was never exec'd for: a multi-call binary picks its applet from
// argv, an interpreter runs the script named by an argument, and the dynamic loader maps
// and runs the program named by an argument. The functions here read those argument
// vectors the way the programs themselves do, so that the rules see what will really run.

// Role says what an Exec is to the kernel's exec call it was found in.
type Role uint8

const (
	// RoleProgram is the program the exec call maps (or one of its "#!" interpreters).
	RoleProgram Role = iota
	// RoleScript is a file an interpreter (sh, python, perl, ruby, node, php) runs because
	// it is named by an argument. Deny lists, package managers and drift apply to it; the
	// allow list and the loader and reverse-shell rules apply to the interpreter itself.
	RoleScript
	// RoleLoaded is the program the dynamic loader maps and runs when it is exec'd
	// directly (`ld.so FILE`). Every program rule applies to it, as if it were exec'd.
	RoleLoaded
)

// multiCallPrefixes name multi-call binaries that take their applet from argv[1] when
// argv[0] names the binary itself: busybox runs busybox_main for any argv[0] starting
// with "busybox" (libbb/appletlib.c), toybox for "toybox".
var multiCallPrefixes = []string{"busybox", "toybox"}

// maxAppletDepth bounds `busybox busybox busybox ... APPLET`.
const maxAppletDepth = 4

// Command returns the argument vector of the command that really runs: Argv itself, or for
// a multi-call binary named by argv[0] (`busybox wget URL`) the applet's vector
// (`wget URL`). Its first element's base name is the applet.
func (e *Exec) Command() []string {
	argv := e.Argv
	for i := 0; i < maxAppletDepth && len(argv) > 1; i++ {
		if !isMultiCall(baseName(argv[0])) {
			break
		}
		argv = argv[1:]
	}
	return argv
}

func isMultiCall(name string) bool {
	for _, p := range multiCallPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// interpreterFamily says which command-line syntax an interpreter name follows, "" for
// none: shells, python, perl, ruby, node and php.
func interpreterFamily(name string) string {
	switch {
	case isOneOf(name, Shells):
		return "sh"
	case name == "python" || strings.HasPrefix(name, "python2") || strings.HasPrefix(name, "python3") || strings.HasPrefix(name, "pypy"):
		return "python"
	case name == "perl" || strings.HasPrefix(name, "perl5"):
		return "perl"
	case name == "ruby" || strings.HasPrefix(name, "ruby"):
		return "ruby"
	case name == "node" || name == "nodejs":
		return "node"
	case name == "php" || (strings.HasPrefix(name, "php") && len(name) > 3 && (name[3] >= '0' && name[3] <= '9' || name[3] == '-')):
		return "php"
	}
	return ""
}

// Operand is a file a program will run without an exec of its own: the script of an
// interpreter or the program of the dynamic loader.
type Operand struct {
	// Index is the position of the file's name in the command's argv (Exec.Command) for a
	// script, in Exec.Argv for a loaded program (the loader ignores argv[0]); the operand's
	// own argv starts there. -1 when there is no file to run.
	Index int
	// Module is set for `python -m MODULE`: Index is then the argument that names the
	// module, which is a name, not a file.
	Module string
	// Role is RoleScript or RoleLoaded.
	Role Role
	// Runner names the interpreter or loader, for reasons.
	Runner string
	// Cut says argv was truncated before the operand could be found: what runs is unknown.
	Cut bool
}

// Operand returns the file e's program will run as a script or loaded program, if any.
// Only RoleProgram execs have one.
func (e *Exec) Operand() (Operand, bool) {
	none := Operand{Index: -1}
	if e.Role != RoleProgram {
		return none, false
	}
	if e.Loader || IsLoader(e.Path) {
		i, cut := loaderOperand(e.Argv, e.Truncated)
		op := Operand{Index: i, Role: RoleLoaded, Runner: e.Path, Cut: cut}
		return op, i >= 0 || cut
	}
	cmd := e.Command()
	for _, n := range e.commandNames(cmd) {
		fam := interpreterFamily(n)
		if fam == "" {
			continue
		}
		i, module, cut := scriptOperand(fam, cmd)
		if !e.Truncated {
			cut = false
		}
		op := Operand{Index: i, Module: module, Role: RoleScript, Runner: n, Cut: cut}
		return op, i >= 0 || cut
	}
	return none, false
}

// commandNames are the names an interpreter is recognized by: the applet of a multi-call
// binary, else the resolved file's name, the invoked name and argv[0]'s.
func (e *Exec) commandNames(cmd []string) []string {
	if len(cmd) > 0 && len(cmd) < len(e.Argv) {
		return []string{baseName(cmd[0])}
	}
	return e.names()
}

// scriptOperand finds the script in an interpreter's argv, by the option syntax of its
// family. It returns the script's index, or a module name (python -m), or -1 with cut set
// when the options ran to the end of argv (which may have been truncated).
func scriptOperand(family string, argv []string) (index int, module string, cut bool) {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			if i+1 < len(argv) {
				return i + 1, "", false
			}
			return -1, "", true
		case a == "-":
			return -1, "", false // the program comes from stdin
		case len(a) > 1 && (a[0] == '-' || (family == "sh" && a[0] == '+')):
		default:
			return i, "", false
		}
		// An option: does it end the search (inline code, stdin) or take a value?
		stop, skip, mod := optionEffect(family, a, argv, i)
		if mod != "" {
			if a != "-m" && strings.HasSuffix(a, mod) {
				return i, mod, false // -mMODULE
			}
			return i + 1, mod, false
		}
		if stop {
			return -1, "", false
		}
		i += skip
	}
	return -1, "", true
}

// optionEffect reads one option a (argv[i]) of an interpreter family. stop: the code comes
// from the command line or stdin, not a file. skip: how many following arguments are the
// option's values. mod: the module of python's -m.
func optionEffect(family, a string, argv []string, i int) (stop bool, skip int, mod string) {
	next := func() string {
		if i+1 < len(argv) {
			return argv[i+1]
		}
		return ""
	}
	if strings.HasPrefix(a, "--") {
		name, _, hasValue := strings.Cut(a, "=")
		switch family {
		case "sh":
			if name == "--rcfile" || name == "--init-file" {
				return false, 1, ""
			}
		case "python":
			if name == "--check-hash-based-pycs" {
				return false, 1, ""
			}
		case "ruby":
			if !hasValue && (name == "--encoding" || name == "--external-encoding" || name == "--internal-encoding") {
				return false, 1, ""
			}
		case "node":
			switch name {
			case "--eval", "--print", "--interactive", "--check":
				return name != "--check", 0, ""
			case "--require", "--import", "--loader", "--experimental-loader", "--conditions", "--input-type", "--title", "--env-file",
				// Every other option of node 18 to 22 that takes the next argument as its value
				// (node --help; options given as --name=value need nothing).
				"--cpu-prof-dir", "--cpu-prof-name", "--cpu-prof-interval", "--diagnostic-dir", "--disable-proto",
				"--dns-result-order", "--heap-prof-dir", "--heap-prof-name", "--heap-prof-interval",
				"--heapsnapshot-near-heap-limit", "--heapsnapshot-signal", "--icu-data-dir", "--inspect-port", "--debug-port",
				"--inspect-publish-uid", "--max-http-header-size", "--openssl-config", "--policy-integrity",
				"--experimental-policy", "--redirect-warnings", "--report-dir", "--report-directory", "--report-filename",
				"--report-signal", "--secure-heap", "--secure-heap-min", "--tls-cipher-list", "--tls-keylog",
				"--trace-event-categories", "--trace-event-file-pattern", "--unhandled-rejections", "--use-largepages",
				"--v8-pool-size", "--watch-path", "--experimental-default-type", "--experimental-sea-config",
				"--test-reporter", "--test-reporter-destination", "--test-name-pattern", "--test-shard",
				"--test-concurrency", "--test-timeout", "--env-file-if-exists", "--localstorage-file", "--snapshot-blob",
				"--build-snapshot-config", "--experimental-config-file", "--watch-kill-signal", "--max-old-space-size",
				"--max-semi-space-size", "--stack-size", "--stack-trace-limit":
				if !hasValue {
					return false, 1, ""
				}
			}
		}
		return false, 0, ""
	}
	// A cluster of one-letter options, each possibly taking the rest of the cluster or the
	// next argument as its value.
	letters := a[1:]
	for j := 0; j < len(letters); j++ {
		c := letters[j]
		rest := letters[j+1:]
		valueNext := func() (bool, int, string) {
			if rest == "" {
				return false, 1, ""
			}
			return false, 0, ""
		}
		switch family {
		case "sh":
			switch c {
			case 'c', 's':
				return true, 0, ""
			case 'o', 'O':
				skip++ // each takes the next argument, even inside a cluster
			}
			continue
		case "python":
			switch c {
			case 'c':
				return true, 0, ""
			case 'm':
				if rest != "" {
					return false, 0, rest
				}
				return false, 0, next()
			case 'W', 'X':
				return valueNext()
			}
		case "perl":
			switch c {
			case 'e', 'E':
				return true, 0, ""
			case 'I', 'M', 'm':
				return valueNext()
			case 'l', '0', 'C':
				// An optional number follows; the cluster goes on after it (-l0e, -le).
				for j+1 < len(letters) && (letters[j+1] >= '0' && letters[j+1] <= '9' || letters[j+1] == 'x') {
					j++
				}
			case 'x', 'i', 'd', 'D', 'V', 'F':
				return false, 0, "" // the rest of the cluster is the option's value (-Fpattern)
			}
		case "ruby":
			switch c {
			case 'e':
				return true, 0, ""
			case 'I', 'r', 'C', 'E':
				return valueNext()
			case 'x', 'W', 'T', 'K', 'F', '0':
				return false, 0, ""
			}
		case "node":
			switch c {
			case 'e', 'p', 'i':
				return true, 0, ""
			case 'r', 'C':
				return valueNext()
			}
		case "php":
			switch c {
			case 'r', 'R', 'B', 'E', 'a', 'S':
				return true, 0, ""
			case 'c', 'd', 'z', 't':
				return valueNext()
			}
		}
	}
	return false, skip, ""
}

// loaderValueOptions are the dynamic loader's options that take the next argument as their
// value, with the loader variable each stands for ("" for none).
var loaderValueOptions = map[string]string{
	"--library-path": "LD_LIBRARY_PATH=", "--audit": "LD_AUDIT=", "--preload": "LD_PRELOAD=",
	"--inhibit-rpath": "", "--argv0": "", "--glibc-hwcaps-prepend": "", "--glibc-hwcaps-mask": "",
}

// LoaderOptionVariables is what the options of a loader run directly (argv, as
// loaderOperand reads it) make it load, as the loader variables they stand for:
// `ld.so --preload /x.so PROG` gives "LD_PRELOAD=/x.so".
func LoaderOptionVariables(argv []string) []string {
	var out []string
	end, _ := loaderOperand(argv, false)
	if end < 0 {
		end = len(argv)
	}
	for i := 1; i < end; i++ {
		if v, ok := loaderValueOptions[argv[i]]; ok {
			if v != "" && i+1 < end {
				out = append(out, v+argv[i+1])
			}
			i++
			continue
		}
		for _, o := range []string{"--library-path=", "--preload="} {
			if val, ok := strings.CutPrefix(argv[i], o); ok {
				out = append(out, loaderValueOptions[strings.TrimSuffix(o, "=")]+val)
			}
		}
	}
	return out
}

// loaderOperand finds the program the dynamic loader will run. glibc's ld.so (elf/rtld.c)
// and musl's take only options spelled with two dashes, from a fixed list, some of which
// take the next argument as their value; the first argument that is not one of them is the
// program, even if it starts with one dash (`ld.so -x` runs a file named "-x"). It returns
// -1 when the loader only prints (`--help`, `--version`) or has nothing to run, with cut
// set when argv was truncated before a program was found.
func loaderOperand(argv []string, truncated bool) (index int, cut bool) {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if _, ok := loaderValueOptions[a]; ok {
			i++
			continue
		}
		switch a {
		case "--list", "--verify", "--inhibit-cache":
			continue
		case "--help", "--version", "--list-tunables", "--list-diagnostics":
			return -1, false
		}
		// musl also accepts "--library-path=DIR" and the like, and ends its options at "--".
		if strings.HasPrefix(a, "--library-path=") || strings.HasPrefix(a, "--preload=") || strings.HasPrefix(a, "--argv0=") {
			continue
		}
		return i, false
	}
	return -1, truncated
}
