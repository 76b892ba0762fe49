package policy

import (
	"strings"
	"testing"
)

func TestOperand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		e      Exec
		index  int    // -1: none
		module string // python -m
		cut    bool
	}{
		{"sh FILE", Exec{Path: "/bin/dash", Argv: []string{"sh", "/tmp/x.sh", "a"}}, 1, "", false},
		{"sh -e -x FILE", Exec{Path: "/bin/bash", Argv: []string{"bash", "-ex", "--norc", "x.sh"}}, 3, "", false},
		{"sh -o opt FILE", Exec{Path: "/bin/bash", Argv: []string{"bash", "-o", "pipefail", "+o", "errexit", "x.sh"}}, 5, "", false},
		{"bash --rcfile F FILE", Exec{Path: "/bin/bash", Argv: []string{"bash", "--rcfile", "/r", "x.sh"}}, 3, "", false},
		{"sh -c", Exec{Path: "/bin/sh", Argv: []string{"sh", "-c", "/tmp/x", "name"}}, -1, "", false},
		{"sh -ec", Exec{Path: "/bin/sh", Argv: []string{"sh", "-ec", "echo"}}, -1, "", false},
		{"sh -s", Exec{Path: "/bin/sh", Argv: []string{"sh", "-s", "arg"}}, -1, "", false},
		{"sh reading stdin", Exec{Path: "/bin/sh", Argv: []string{"sh"}}, -1, "", false},
		{"sh -- FILE", Exec{Path: "/bin/sh", Argv: []string{"sh", "--", "-x.sh"}}, 2, "", false},
		{"busybox sh FILE", Exec{Path: "/bin/busybox", Argv: []string{"busybox", "sh", "/tmp/x"}}, 1, "", false},
		{"busybox ash via link", Exec{Path: "/bin/busybox", Invoked: "/bin/ash", Argv: []string{"ash", "/tmp/x"}}, 1, "", false},
		{"python FILE", Exec{Path: "/usr/bin/python3.12", Argv: []string{"python3", "-u", "-W", "ignore", "app.py", "--port", "80"}}, 4, "", false},
		{"python -Wignore -X dev FILE", Exec{Path: "/usr/bin/python3", Argv: []string{"python3", "-Wignore", "-X", "dev", "app.py"}}, 4, "", false},
		{"python -c", Exec{Path: "/usr/bin/python3", Argv: []string{"python3", "-c", "print(1)"}}, -1, "", false},
		{"python -m", Exec{Path: "/usr/bin/python3", Argv: []string{"python3", "-m", "dnf", "install"}}, 2, "dnf", false},
		{"python -mdnf", Exec{Path: "/usr/bin/python3", Argv: []string{"python3", "-Imdnf"}}, 1, "dnf", false},
		{"perl FILE", Exec{Path: "/usr/bin/perl", Argv: []string{"perl", "-w", "-I", "/lib", "-Mstrict", "x.pl"}}, 5, "", false},
		{"perl -le", Exec{Path: "/usr/bin/perl", Argv: []string{"perl", "-le", "print 1"}}, -1, "", false},
		{"ruby FILE", Exec{Path: "/usr/bin/ruby3.1", Argv: []string{"ruby", "-r", "json", "x.rb"}}, 3, "", false},
		{"ruby -e", Exec{Path: "/usr/bin/ruby", Argv: []string{"ruby", "-e", "p 1"}}, -1, "", false},
		{"node FILE", Exec{Path: "/usr/bin/node", Argv: []string{"node", "--require", "x", "--max-old-space-size=100", "app.js"}}, 4, "", false},
		{"node -e", Exec{Path: "/usr/bin/node", Argv: []string{"node", "-e", "1"}}, -1, "", false},
		{"node --redirect-warnings F FILE", Exec{Path: "/usr/bin/node", Argv: []string{"node", "--redirect-warnings", "/opt/s0", "/tmp/evil.js"}}, 3, "", false},
		{"node --report-dir D FILE", Exec{Path: "/usr/bin/node", Argv: []string{"node", "--report-dir", "/opt/s0", "--inspect-port", "9229", "app.js"}}, 5, "", false},
		{"perl -Fe FILE", Exec{Path: "/usr/bin/perl", Argv: []string{"perl", "-Fe", "/tmp/evil.pl"}}, 2, "", false},
		{"perl -lanF: FILE", Exec{Path: "/usr/bin/perl", Argv: []string{"perl", "-lanF:", "x.pl"}}, 2, "", false},
		{"php -f FILE", Exec{Path: "/usr/bin/php8.2", Argv: []string{"php", "-d", "x=1", "-f", "x.php"}}, 4, "", false},
		{"php -r", Exec{Path: "/usr/bin/php", Argv: []string{"php", "-r", "echo 1;"}}, -1, "", false},
		{"sh argv cut among options", Exec{Path: "/bin/sh", Argv: []string{"sh", "-e", "-e"}, Truncated: true}, -1, "", true},
		{"sh options only, not cut", Exec{Path: "/bin/sh", Argv: []string{"sh", "-e"}}, -1, "", false},
		{"not an interpreter", Exec{Path: "/bin/ls", Argv: []string{"ls", "/tmp"}}, -1, "", false},
		{"phpize is not php", Exec{Path: "/usr/bin/phpize", Argv: []string{"phpize", "x"}}, -1, "", false},
		{"loader FILE", Exec{Path: "/lib64/ld-linux-x86-64.so.2", Argv: []string{"ld.so", "--library-path", "/x", "--list", "/bin/ls"}}, 4, "", false},
		{"loader -x", Exec{Path: "/lib64/ld-linux-x86-64.so.2", Argv: []string{"ld.so", "-x"}}, 1, "", false},
		{"loader --help", Exec{Path: "/lib64/ld-linux-x86-64.so.2", Argv: []string{"ld.so", "--help", "/tmp/x"}}, -1, "", false},
		{"loader alone", Exec{Path: "/lib/ld-musl-x86_64.so.1", Argv: []string{"ld"}}, -1, "", false},
		{"loader cut", Exec{Path: "/lib/ld-musl-x86_64.so.1", Argv: []string{"ld", "--list"}, Truncated: true}, -1, "", true},
		{"script has no operand", Exec{Path: "/tmp/x", Argv: []string{"sh", "/y"}, Role: RoleScript}, -1, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, ok := tc.e.Operand()
			if !ok {
				op = Operand{Index: -1}
			}
			if op.Index != tc.index || op.Module != tc.module || op.Cut != tc.cut {
				t.Fatalf("Operand = %+v (ok %v), want index %d module %q cut %v", op, ok, tc.index, tc.module, tc.cut)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct{ argv, want []string }{
		{[]string{"busybox", "wget", "x"}, []string{"wget", "x"}},
		{[]string{"/bin/busybox", "busybox", "sh"}, []string{"sh"}},
		{[]string{"busybox.static", "nc"}, []string{"nc"}},
		{[]string{"toybox", "wget"}, []string{"wget"}},
		{[]string{"busybox"}, []string{"busybox"}},
		{[]string{"wget", "x"}, []string{"wget", "x"}},
	} {
		e := Exec{Path: "/bin/busybox", Argv: tc.argv}
		if got := e.Command(); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Command(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
}

func TestPackageManagerQueries(t *testing.T) {
	p := Default().Resolved()
	for _, tc := range []struct {
		path string
		argv []string
		eff  Effect
	}{
		{"/usr/bin/dpkg", []string{"dpkg", "-l"}, Off},
		{"/usr/bin/dpkg", []string{"dpkg", "-l", "libc6"}, Off},
		{"/usr/bin/dpkg", []string{"dpkg", "-s", "bash"}, Off},
		{"/usr/bin/dpkg", []string{"dpkg", "-L", "bash"}, Off},
		{"/usr/bin/dpkg", []string{"dpkg", "--print-architecture"}, Off},
		{"/usr/bin/dpkg", []string{"dpkg", "--compare-versions", "1.0", "lt", "2.0"}, Off},
		{"/usr/bin/dpkg", []string{"dpkg", "-i", "x.deb"}, Block},
		{"/usr/bin/dpkg", []string{"dpkg", "-l", "-i", "x.deb"}, Block},
		{"/usr/bin/dpkg", []string{"dpkg", "--unpack", "x.deb"}, Block},
		{"/usr/bin/dpkg", []string{"dpkg", "-x", "x.deb", "/"}, Block},
		{"/usr/bin/dpkg", []string{"dpkg", "-li"}, Block},
		{"/usr/bin/dpkg", []string{"dpkg"}, Block},
		{"/usr/bin/dpkg-deb", []string{"dpkg-deb", "-x", "x.deb", "/"}, Block},
		{"/usr/bin/dpkg-deb", []string{"dpkg-deb", "-I", "x.deb"}, Off},
		{"/usr/bin/rpm", []string{"rpm", "-q", "bash"}, Off},
		{"/usr/bin/rpm", []string{"rpm", "-qa", "--qf", "%{NAME}\n"}, Off},
		{"/usr/bin/rpm", []string{"rpm", "-qf", "/bin/sh"}, Off},
		{"/usr/bin/rpm", []string{"rpm", "-Uvh", "x.rpm"}, Block},
		{"/usr/bin/rpm", []string{"rpm", "-q", "--import", "key"}, Block},
		{"/usr/bin/rpm", []string{"rpm", "-e", "bash"}, Block},
		{"/sbin/apk", []string{"apk", "info"}, Off},
		{"/sbin/apk", []string{"apk", "info", "-vv"}, Off},
		{"/sbin/apk", []string{"apk", "add", "curl"}, Block},
		{"/sbin/apk", []string{"apk", "-X", "info", "add", "curl"}, Block},
		{"/sbin/apk", []string{"apk", "upgrade"}, Block},
		{"/usr/bin/apt", []string{"apt", "list", "--installed"}, Off},
		{"/usr/bin/apt", []string{"apt", "show", "bash"}, Off},
		{"/usr/bin/apt", []string{"apt", "policy"}, Off},
		{"/usr/bin/apt", []string{"apt", "install", "curl"}, Block},
		{"/usr/bin/apt-get", []string{"apt-get", "update"}, Block},
		{"/usr/bin/apt-get", []string{"apt-get", "install", "-y", "curl"}, Block},
		{"/usr/bin/dnf-3", []string{"dnf", "list", "installed"}, Off},
		{"/usr/bin/dnf5", []string{"dnf5", "-q", "info", "bash"}, Off},
		{"/usr/bin/dnf5", []string{"dnf5", "install", "curl"}, Block},
		{"/usr/bin/yum-3", []string{"yum", "install", "curl"}, Block},
		{"/usr/bin/zypper", []string{"zypper", "--non-interactive", "search", "curl"}, Off},
		{"/usr/bin/zypper", []string{"zypper", "in", "curl"}, Block},
		{"/usr/bin/pacman", []string{"pacman", "-Qi", "bash"}, Off},
		{"/usr/bin/pacman", []string{"pacman", "-S", "curl"}, Block},
		{"/usr/bin/pacman", []string{"pacman", "-Syu"}, Block},
		{"/bin/opkg", []string{"opkg", "list-installed"}, Off},
		{"/bin/opkg", []string{"opkg", "install", "curl"}, Block},
		{"/usr/bin/emerge", []string{"emerge", "--search", "curl"}, Block},
	} {
		if d := p.Decide(&Exec{Path: tc.path, Argv: tc.argv}); d.Effect != tc.eff {
			t.Errorf("%q: %+v, want %s", tc.argv, d, tc.eff)
		}
	}
}

// TestLoaderOptionVariables: the options of a loader run directly that make it load
// libraries, as the loader variables they stand for; options after the program are the
// program's.
func TestLoaderOptionVariables(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"/lib64/ld-linux-x86-64.so.2", "/bin/true"}, ""},
		{[]string{"ld.so", "--preload", "/tmp/x.so", "/bin/true"}, "LD_PRELOAD=/tmp/x.so"},
		{[]string{"ld.so", "--audit", "a.so:b.so", "--library-path", "/opt/lib", "--argv0", "--preload", "/bin/true", "--preload", "/y.so"}, "LD_AUDIT=a.so:b.so|LD_LIBRARY_PATH=/opt/lib"},
		{[]string{"ld-musl-x86_64.so.1", "--preload=/m.so", "--library-path=/l", "/bin/true"}, "LD_PRELOAD=/m.so|LD_LIBRARY_PATH=/l"},
		{[]string{"ld.so", "--list", "--inhibit-cache", "--preload", "/z.so", "/bin/true"}, "LD_PRELOAD=/z.so"},
		{[]string{"ld.so", "--preload"}, ""},
		{[]string{"ld.so", "--help", "--preload", "/h.so"}, "LD_PRELOAD=/h.so"}, // nothing runs; judged all the same
	} {
		if got := strings.Join(LoaderOptionVariables(tc.argv), "|"); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.argv, got, tc.want)
		}
	}
}
