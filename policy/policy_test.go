package policy

import (
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"curl", "curl", true},
		{"curl", "curly", false},
		{"python*", "python3.12", true},
		{"*", "a/b", false},
		{"/tmp/*", "/tmp/x", true},
		{"/tmp/*", "/tmp/x/y", false},
		{"/tmp/**", "/tmp/x/y", true},
		{"/usr/**/bin", "/usr/local/bin", true},
		{"team/**", "team/a/b", true},
		{"?ash", "bash", true},
		{"?ash", "/ash", false},
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true},
		{"*.dkr.ecr.*.amazonaws.com", "evil.com/x.dkr.ecr.y.amazonaws.com", false},
		{"", "", true},
		{"", "a", false},
	} {
		if got := Glob(tc.pat, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestParseImageRef(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alpine", "docker.io/library/alpine:latest"},
		{"alpine:3.20", "docker.io/library/alpine:3.20"},
		{"nginx@sha256:abc", "docker.io/library/nginx@sha256:abc"},
		{"bitnami/redis:7", "docker.io/bitnami/redis:7"},
		{"index.docker.io/library/busybox", "docker.io/library/busybox:latest"},
		{"localhost:5000/app:v1", "localhost:5000/app:v1"},
		{"127.0.0.1:51670/amazon/amazon-ecs-netkitten:latest", "127.0.0.1:51670/amazon/amazon-ecs-netkitten:latest"},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:1.2@sha256:ff", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:1.2@sha256:ff"},
		{"public.ecr.aws/aws-observability/aws-otel-collector", "public.ecr.aws/aws-observability/aws-otel-collector:latest"},
	} {
		r, err := ParseImageRef(tc.in)
		if err != nil {
			t.Errorf("ParseImageRef(%q): %v", tc.in, err)
			continue
		}
		if r.String() != tc.want {
			t.Errorf("ParseImageRef(%q) = %s, want %s", tc.in, r, tc.want)
		}
	}
	for _, bad := range []string{"", "a b", "Alpine", "x@sha256", "x:", "host.com/"} {
		if _, err := ParseImageRef(bad); err == nil {
			t.Errorf("ParseImageRef(%q): want error", bad)
		}
	}
}

func TestDefaultDecide(t *testing.T) {
	p := Default().Resolved()
	for _, tc := range []struct {
		name string
		e    Exec
		eff  Effect
		rule string
	}{
		{"plain program", Exec{Path: "/bin/ls", Argv: []string{"ls"}}, Off, ""},
		{"apk", Exec{Path: "/sbin/apk", Argv: []string{"apk", "add", "curl"}}, Block, RulePackageManagers},
		{"apt-get via symlink", Exec{Path: "/usr/bin/apt-get", Invoked: "/usr/local/bin/x", Argv: []string{"x"}}, Block, RulePackageManagers},
		{"busybox applet named like a package manager", Exec{Path: "/bin/busybox", Invoked: "/sbin/dpkg", Argv: []string{"dpkg"}}, Block, RulePackageManagers},
		{"drift", Exec{Path: "/tmp/x", Argv: []string{"x"}, Drift: Modified}, Block, RuleDrift},
		{"memfd", Exec{Path: "/memfd:x (deleted)", Argv: []string{"x"}, Drift: Memfd}, Block, RuleDrift},
		// The loader run on a path: the target is decided as a RoleLoaded exec (TestOperands).
		{"loader on a path", Exec{Path: "/lib/ld-musl-x86_64.so.1", Argv: []string{"ld", "/tmp/evil"}}, Off, ""},
		{"loader on a name it searches", Exec{Path: "/lib/ld-musl-x86_64.so.1", Argv: []string{"ld", "evil"}}, Block, RuleLoader},
		{"loader with options then a name", Exec{Path: "/lib64/ld-linux-x86-64.so.2", Argv: []string{"ld", "--library-path", "/tmp", "evil"}}, Block, RuleLoader},
		{"loader: -x is a file, not an option", Exec{Path: "/lib64/ld-linux-x86-64.so.2", Argv: []string{"ld", "-x"}}, Block, RuleLoader},
		{"loader argv cut among options", Exec{Path: "/lib64/ld-linux-x86-64.so.2", Argv: []string{"ld", "--list", "--list"}, Truncated: true}, Block, RuleLoader},
		{"loaded program that drifted", Exec{Path: "/tmp/evil", Argv: []string{"/tmp/evil"}, Drift: Modified, Role: RoleLoaded, Runner: "/lib64/ld-linux-x86-64.so.2"}, Block, RuleDrift},
		{"loaded program gone when checked", Exec{Invoked: "/tmp/evil", Role: RoleLoaded, Unresolved: true, Runner: "/lib64/ld-linux-x86-64.so.2"}, Block, RuleLoader},
		{"loaded image program", Exec{Path: "/bin/busybox", Argv: []string{"/bin/busybox"}, Role: RoleLoaded, Runner: "/lib64/ld-linux-x86-64.so.2"}, Off, ""},
		{"loader alone", Exec{Path: "/lib64/ld-linux-x86-64.so.2", Argv: []string{"ld", "--help"}}, Off, ""},
		{"reverse shell", Exec{Path: "/bin/busybox", Invoked: "/bin/sh", Argv: []string{"/bin/sh"}, StdinSocket: true}, Alert, RuleReverseShell},
		{"shell on a terminal", Exec{Path: "/bin/bash", Argv: []string{"bash"}}, Off, ""},
		{"reverse shell as busybox sh", Exec{Path: "/bin/busybox", Argv: []string{"busybox", "sh"}, StdoutSocket: true}, Alert, RuleReverseShell},
		{"busybox applet by argv[1]", Exec{Path: "/bin/busybox", Argv: []string{"busybox", "apk", "add", "x"}}, Block, RulePackageManagers},
		{"script interpreter argv cut among options", Exec{Path: "/bin/bash", Argv: []string{"bash", "-e", "-e"}, Truncated: true}, Block, RuleDrift},
		{"script that drifted", Exec{Path: "/tmp/x.sh", Argv: []string{"/tmp/x.sh"}, Drift: Modified, Role: RoleScript, Runner: "sh"}, Block, RuleDrift},
		{"script package manager", Exec{Path: "/sbin/apk", Argv: []string{"/sbin/apk", "add", "curl"}, Role: RoleScript, Runner: "sh"}, Block, RulePackageManagers},
		{"script package manager query", Exec{Path: "/sbin/apk", Argv: []string{"/sbin/apk", "info"}, Role: RoleScript, Runner: "sh"}, Off, ""},
		{"python -m dnf", Exec{Invoked: "dnf", Argv: []string{"dnf", "install", "x"}, Role: RoleScript, Runner: "python3"}, Block, RulePackageManagers},
		{"new package manager names", Exec{Path: "/usr/bin/dnf-3", Argv: []string{"dnf", "install", "x"}}, Block, RulePackageManagers},
		{"block beats alert", Exec{Path: "/tmp/sh", Argv: []string{"sh"}, Drift: Modified, StdoutSocket: true}, Block, RuleDrift},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(&tc.e)
			if d.Effect != tc.eff || d.Rule != tc.rule {
				t.Fatalf("Decide = %+v, want effect %q rule %q", d, tc.eff, tc.rule)
			}
			if d.Effect != Off && d.Reason == "" {
				t.Fatal("a matching decision must say why")
			}
		})
	}
}

func TestAllowAndDenyLists(t *testing.T) {
	p := (&Policy{Name: "web", Processes: Processes{
		Allow: []string{"/usr/sbin/nginx", "/bin/busybox", "ls"},
		Deny:  []string{"wget", "/usr/bin/curl"},
	}}).Resolved()
	for _, tc := range []struct {
		name string
		e    Exec
		eff  Effect
		rule string
	}{
		{"allowed by path", Exec{Path: "/usr/sbin/nginx", Argv: []string{"nginx"}}, Off, ""},
		{"allowed by name", Exec{Path: "/usr/bin/ls", Argv: []string{"ls"}}, Off, ""},
		{"not in allow list", Exec{Path: "/usr/bin/python3", Argv: []string{"python3"}}, Block, RuleAllowList},
		{"symlink named like allowed program", Exec{Path: "/opt/evil", Invoked: "/tmp/ls", Argv: []string{"ls"}}, Block, RuleAllowList},
		{"denied busybox applet despite allowed file", Exec{Path: "/bin/busybox", Invoked: "/usr/bin/wget", Argv: []string{"wget"}}, Block, RuleDeny},
		{"denied by path", Exec{Path: "/usr/bin/curl", Argv: []string{"curl"}}, Block, RuleDeny},
		{"denied applet named by argv[1]", Exec{Path: "/bin/busybox", Argv: []string{"busybox", "wget", "http://x"}}, Block, RuleDeny},
		{"denied applet behind nested busybox", Exec{Path: "/bin/busybox", Argv: []string{"busybox", "busybox", "wget"}}, Block, RuleDeny},
		{"argv[1] of another program is not an applet", Exec{Path: "/usr/sbin/nginx", Argv: []string{"nginx", "wget"}}, Off, ""},
		{"denied script", Exec{Path: "/usr/bin/curl", Argv: []string{"/usr/bin/curl"}, Role: RoleScript, Runner: "sh"}, Block, RuleDeny},
		{"a script is not held to the allow list", Exec{Path: "/app/start.sh", Argv: []string{"/app/start.sh"}, Role: RoleScript, Runner: "sh"}, Off, ""},
		{"a loaded program is held to the allow list", Exec{Path: "/opt/tool", Argv: []string{"/opt/tool"}, Role: RoleLoaded, Runner: "/lib64/ld-linux-x86-64.so.2"}, Block, RuleAllowList},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := p.Decide(&tc.e); d.Effect != tc.eff || d.Rule != tc.rule {
				t.Fatalf("Decide = %+v, want %q %q", d, tc.eff, tc.rule)
			}
		})
	}
}

func TestEffectsInheritAndOff(t *testing.T) {
	p, err := ParseJSON([]byte(`{"name":"x","packageManagers":"off","drift":"alert"}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Decide(&Exec{Path: "/sbin/apk", Argv: []string{"apk"}}); d.Effect != Off {
		t.Errorf("packageManagers off: got %+v", d)
	}
	if d := p.Decide(&Exec{Path: "/tmp/x", Drift: Deleted}); d.Effect != Alert {
		t.Errorf("drift alert: got %+v", d)
	}
	if p.Loader != Block || p.ReverseShell != Alert || p.ExecSessions != Alert {
		t.Errorf("inherited effects: loader %q reverseShell %q", p.Loader, p.ReverseShell)
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"name":"x","drfit":"block"}`, `unknown field "drfit"`},
		{`{"name":"x","drift":"deny"}`, `drift: unknown effect "deny": use block, alert or off`},
		{`{"name":"x","execSessions":"kill"}`, `execSessions: unknown effect "kill": use block, alert or off`},
		{`{"drift":"block"}`, `name: required`},
		{`{"name":"a b"}`, `name: "a b" must be`},
		{`{"name":"x","processes":{"deny":[""]}}`, `processes.deny[0]: empty pattern`},
		{`{"name":"x","trustedImages":{"rules":[{}]}}`, `trustedImages.rules[0]: empty rule would trust every image`},
		{`{"name":"x"} {}`, `unexpected data after`},
		{`{"name":"x","processes":{"deny":["**********"]}}`, `at most 8 are allowed`},
		{strings.Repeat(" ", MaxEncodedSize+1), `at most 16384 are allowed`},
	} {
		_, err := ParseJSON([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseJSON(%.40q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	src := &Policy{Name: "web", Match: &Selector{Families: []string{"web"}},
		Processes:     Processes{Deny: []string{"nc"}},
		TrustedImages: TrustedImages{Rules: []ImageRule{{Registry: "docker.io", Repository: "library/*"}}}}
	enc := src.Encode()
	if strings.Contains(enc, "match") {
		t.Errorf("encoded policy keeps the selector: %s", enc)
	}
	back, err := ParseJSON([]byte(enc))
	if err != nil {
		t.Fatal(err)
	}
	if back.Encode() != enc {
		t.Errorf("round trip changed the policy:\n%s\n%s", enc, back.Encode())
	}
	if back.Drift != Block || back.Processes.Effect != Block {
		t.Errorf("encoded policy is not resolved: %s", enc)
	}
}

func TestTrustImage(t *testing.T) {
	p := (&Policy{Name: "t", TrustedImages: TrustedImages{Rules: []ImageRule{
		{Registry: "*.dkr.ecr.*.amazonaws.com", Repository: "team/**"},
		{Registry: "docker.io", Repository: "library/alpine", Tag: "3.*"},
	}}}).Resolved()
	for _, tc := range []struct {
		img string
		eff Effect
	}{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web/api:1", Off},
		{"alpine:3.20", Off},
		{"alpine", Block},
		{"evil.io/team/web:1", Block},
	} {
		d, err := p.TrustImage(tc.img)
		if err != nil {
			t.Fatal(err)
		}
		if d.Effect != tc.eff {
			t.Errorf("TrustImage(%s) = %+v, want %s", tc.img, d, tc.eff)
		}
	}
	d, _ := Default().Resolved().TrustImage("anything:1")
	if d.Effect != Off {
		t.Errorf("default policy must trust every image, got %+v", d)
	}
}

func TestSelect(t *testing.T) {
	fallback := &Policy{Name: "all"}
	web := &Policy{Name: "web", Match: &Selector{Families: []string{"web-*"}}}
	app := &Policy{Name: "app", Match: &Selector{Containers: []string{"app"}}}
	got, err := Select([]*Policy{fallback, web}, "web-1", "nginx", "nginx")
	if err != nil || got != web {
		t.Fatalf("Select = %v, %v; want web", got, err)
	}
	got, err = Select([]*Policy{fallback, web}, "api", "x", "x")
	if err != nil || got != fallback {
		t.Fatalf("Select = %v, %v; want fallback", got, err)
	}
	got, err = Select(nil, "api", "x", "x")
	if err != nil || got.Name != DefaultName {
		t.Fatalf("Select(nil) = %v, %v; want default", got, err)
	}
	if _, err := Select([]*Policy{web, app}, "web-1", "app", "x"); err == nil || !strings.Contains(err.Error(), "narrow") {
		t.Fatalf("two matching policies: err = %v", err)
	}
}

// TestAuditors: a program whose loader would run auditors (LD_AUDIT) is the Loader rule's,
// with its effect; without auditors that rule says nothing of an image program.
func TestAuditors(t *testing.T) {
	e := &Exec{Path: "/usr/bin/app", Argv: []string{"app"}, Auditors: []string{"/usr/lib/x86_64-linux-gnu/audit/sotruss-lib.so"}}
	for _, tc := range []struct {
		policy string
		want   Effect
	}{{`{"name":"d"}`, Block}, {`{"name":"a","loader":"alert"}`, Alert}, {`{"name":"o","loader":"off"}`, Off}} {
		p, err := ParseJSON([]byte(tc.policy))
		if err != nil {
			t.Fatal(err)
		}
		d := p.Decide(e)
		if d.Effect != tc.want || tc.want != Off && (d.Rule != RuleLoader || !strings.Contains(d.Reason, "sotruss-lib.so")) {
			t.Errorf("%s: got %+v, want %s by %s", tc.policy, d, tc.want, RuleLoader)
		}
		if d := p.Decide(&Exec{Path: e.Path, Argv: e.Argv}); d.Effect != Off {
			t.Errorf("%s: without auditors: %+v", tc.policy, d)
		}
	}
}
