package policy

import "strings"

// PackageManagers are the program names the packageManagers rule covers: the names the
// distributions install them under (Fedora's dnf-3 and dnf5, RHEL's yum-3, ...).
var PackageManagers = []string{
	"apk", "apk.static", "apt", "apt-get", "aptitude", "dpkg", "dpkg-deb",
	"yum", "yum-3", "dnf", "dnf-3", "dnf5", "microdnf", "tdnf", "rpm",
	"zypper", "pacman", "opkg", "ipkg", "emerge", "xbps-install", "urpmi", "swupd", "eopkg",
}

// readOnlyQueries lists, for each package manager that has them, the commands that only
// read the package database. A command whose argv[1] is one of them (with the options
// checks of readOnlyQuery) is not covered by the packageManagers rule: entrypoints and
// health checks use `dpkg --print-architecture` or `rpm -q` all the time, and none of
// them installs, removes, unpacks or upgrades anything.
var readOnlyQueries = map[string][]string{
	"apk":      {"info", "list", "search", "policy", "stats", "dot", "version", "--version", "-V", "--help", "-h"},
	"apt":      {"list", "show", "policy", "search", "showsrc", "depends", "rdepends", "--version", "-v", "--help", "-h"},
	"apt-get":  {"--version", "-v", "--help", "-h", "check"},
	"aptitude": {"search", "show", "versions", "why", "why-not", "--version", "--help", "-h"},
	"dnf":      {"list", "info", "search", "repoquery", "provides", "whatprovides", "repolist", "--version", "--help", "-h"},
	"zypper":   {"search", "se", "info", "if", "packages", "pa", "patterns", "pt", "products", "pd", "repos", "lr", "list-updates", "lu", "--version", "-V", "--help", "-h"},
	"opkg":     {"list", "list-installed", "list-upgradable", "info", "status", "print-architecture", "files", "search", "find", "whatdepends", "whatprovides", "compare-versions", "--version", "--help"},
	"pacman":   {"-V", "--version", "-h", "--help", "-Ss", "-Si", "-Sl", "-Sg"},
	// dpkg and dpkg-deb: every option must be a query (readOnlyQuery); -x/--extract unpacks.
	"dpkg":     {"-l", "--list", "-s", "--status", "-L", "--listfiles", "-S", "--search", "-p", "--print-avail", "--print-architecture", "--print-foreign-architectures", "--compare-versions", "--get-selections", "--no-pager", "--version", "--help", "-?"},
	"dpkg-deb": {"-I", "--info", "-c", "--contents", "-f", "--field", "-W", "--show", "--version", "--help"},
}

// sameQueries maps names sharing another's command line to it.
var sameQueries = map[string]string{
	"yum": "dnf", "yum-3": "dnf", "dnf-3": "dnf", "dnf5": "dnf", "microdnf": "dnf", "tdnf": "dnf",
}

// globalFlags are options without a value that may come before a read-only command.
var globalFlags = []string{"-q", "--quiet", "-C", "--cacheonly", "-v", "--verbose", "-n", "--non-interactive", "--no-refresh"}

// rpmModes are rpm's options that change the system; a query cannot be combined with one,
// but rpm's own check is not relied on.
var rpmModes = []string{"--install", "--upgrade", "--freshen", "--erase", "--reinstall", "--import", "--initdb", "--rebuilddb", "--setperms", "--setugids", "--setcaps", "--restore", "--addsign", "--resign", "--delsign"}

// readOnlyQuery reports whether the package manager name, run with argv (argv[0] is the
// command itself), only queries the package database. Anything it does not recognize is
// not a query: the rule fails closed.
func readOnlyQuery(name string, argv []string) bool {
	if len(argv) < 2 {
		return false
	}
	args := argv[1:]
	switch name {
	case "rpm":
		first := args[0]
		if !(strings.HasPrefix(first, "-q") || first == "--query" || first == "--querytags" || first == "--version" || first == "--help" || first == "-V" || first == "--verify") {
			return false
		}
		for _, a := range args[1:] {
			opt, _, _ := strings.Cut(a, "=")
			if isOneOf(opt, rpmModes) {
				return false
			}
		}
		return true
	case "pacman":
		first := args[0]
		if strings.HasPrefix(first, "-Q") || first == "--query" {
			return true
		}
		return isOneOf(first, readOnlyQueries[name])
	case "dpkg", "dpkg-deb":
		// Every option is a query; operands (package names, patterns, versions) are free.
		query := false
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			if !isOneOf(a, readOnlyQueries[name]) {
				return false
			}
			query = true
		}
		return query
	}
	if n, ok := sameQueries[name]; ok {
		name = n
	}
	cmds, ok := readOnlyQueries[name]
	if !ok {
		return false
	}
	for len(args) > 1 && isOneOf(args[0], globalFlags) {
		args = args[1:]
	}
	return isOneOf(args[0], cmds)
}
