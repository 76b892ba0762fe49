package webhook

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/manifests"
)

// Check names one review check. The order of [Checks] is the order of the report.
type Check string

const (
	CheckFiles      Check = "files"      // task definitions and taskward.yaml load and render
	CheckPolicies   Check = "policies"   // policy files parse and validate
	CheckProtection Check = "protection" // containers that would run without the defender
	CheckImages     Check = "images"     // images the trusted-image rules reject
	CheckPrivileges Check = "privileges" // privileged containers, host network, host PID
	CheckSecrets    Check = "secrets"    // plain-text secrets in environment
	CheckReadOnly   Check = "read-only"  // readonlyRootFilesystem not set
)

// Checks lists every check with its title, in report order.
var Checks = []struct {
	Check Check
	Title string
}{
	{CheckFiles, "Task definitions load and render"},
	{CheckPolicies, "Policy files parse"},
	{CheckProtection, "Every container protected"},
	{CheckImages, "Trusted images"},
	{CheckPrivileges, "No privileged mode, host network or host PID"},
	{CheckSecrets, "No plain-text secrets in environment"},
	{CheckReadOnly, "Read-only root filesystem"},
}

// Severity says whether a finding fails the review.
type Severity int

const (
	Warning Severity = iota
	Failure
)

func (s Severity) String() string {
	if s == Failure {
		return "failure"
	}
	return "warning"
}

// Finding is one thing a check found, located as precisely as known.
type Finding struct {
	Check     Check
	Severity  Severity
	File      string // repo-relative
	Line      int
	Path      string // JSON path in the file
	Container string
	Message   string
}

// secretNameRE matches variable names that say they hold a secret, as a word of the name:
// DB_PASSWORD, GITHUB_TOKEN, API_KEY, AWS_SECRET_ACCESS_KEY, SECRET_KEY_BASE.
var secretNameRE = regexp.MustCompile(`(?i)(^|[_.-])(PASSWORD|PASSWD|PASS|PWD|SECRET|SECRETS|TOKEN|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|CLIENT_SECRET|CREDENTIALS?|SIGNING_KEY|ENCRYPTION_KEY|MASTER_KEY|AUTH_KEY|SESSION_KEY|DSN|CONNECTION_STRING)([_.-]|$)`)

// notSecretSuffixRE matches names that describe a secret instead of holding it:
// DB_PASSWORD_FILE, TOKEN_URL, SECRET_ARN, PASSWORD_MIN_LENGTH, TOKEN_TTL.
var notSecretSuffixRE = regexp.MustCompile(`(?i)[_.-](FILE|PATH|DIR|URL|URI|ARN|NAME|ID|ENDPOINT|HEADER|TYPE|LENGTH|LEN|TTL|EXPIRY|EXPIRES|TIMEOUT|ENABLED|REGION|VERSION|POLICY)$`)

// referenceRE matches values that point at a secret instead of being one.
var referenceRE = regexp.MustCompile(`^(arn:|\$\{|\{\{|/run/secrets/|/var/run/secrets/|ssm:|secretsmanager:|vault:)`)

// secretReason says why an environment variable looks like a secret, or "".
func secretReason(name, value string) string {
	if value == "" || referenceRE.MatchString(value) {
		return ""
	}
	if secretValueRE.MatchString(value) {
		return "its value has the shape of a credential"
	}
	if credURLRE.MatchString(value) || tokenURLRE.MatchString(value) {
		return "its value is a URL with credentials in it"
	}
	if secretNameRE.MatchString(name) && !notSecretSuffixRE.MatchString(name) {
		switch strings.ToLower(value) {
		case "true", "false", "yes", "no", "on", "off", "none", "null", "0", "1":
			return ""
		}
		return "its name says it holds a secret"
	}
	return ""
}

// checkTask runs the container checks over one task definition as written in Git (not
// rendered: render adds SYS_PTRACE and the defender's mounts, which are taskward's own).
// It returns the findings and the plain-text secret values it saw, for the scrubber.
func checkTask(td *manifests.TaskDef) (out []Finding, secrets []string) {
	doc := td.Doc
	add := func(c Check, sev Severity, path, container, format string, args ...any) {
		out = append(out, Finding{Check: c, Severity: sev, File: td.Path, Path: path, Container: container, Message: fmt.Sprintf(format, args...)})
	}
	if doc.Get("networkMode").StringOr("") == "host" {
		add(CheckPrivileges, Failure, "networkMode", "", `networkMode "host": the task shares the instance's network stack (and can reach the instance metadata and every port on the host); use awsvpc`)
	}
	if doc.Get("pidMode").StringOr("") == "host" {
		add(CheckPrivileges, Failure, "pidMode", "", `pidMode "host": the task sees and can signal every process on the instance, including other tasks and their defenders; use "task" or leave it unset`)
	}
	if doc.Get("ipcMode").StringOr("") == "host" {
		add(CheckPrivileges, Warning, "ipcMode", "", `ipcMode "host": the task shares IPC namespaces with the instance`)
	}
	for i, cd := range arr(doc.Get("containerDefinitions")) {
		if cd == nil || cd.Kind != ojson.Object {
			continue
		}
		name := cd.Get("name").StringOr(fmt.Sprintf("#%d", i))
		p := fmt.Sprintf("containerDefinitions[%d]", i)
		if v := cd.Get("privileged"); v != nil && v.Kind == ojson.Bool && v.Bool {
			add(CheckPrivileges, Failure, p+".privileged", name, "container %q runs privileged: it has every capability and the host's devices, and can escape the defender and the container; remove privileged and add only the capabilities it needs", name)
		}
		if v := cd.Get("readonlyRootFilesystem"); v == nil || v.Kind != ojson.Bool || !v.Bool {
			add(CheckReadOnly, Warning, p+".readonlyRootFilesystem", name, "container %q has a writable root filesystem: set readonlyRootFilesystem to true and mount a volume where it must write", name)
		}
		for j, kv := range arr(cd.Get("environment")) {
			if kv == nil || kv.Kind != ojson.Object {
				continue
			}
			vname := kv.Get("name").StringOr("")
			value := kv.Get("value").StringOr("")
			if why := secretReason(vname, value); why != "" {
				secrets = append(secrets, value)
				add(CheckSecrets, Failure, fmt.Sprintf("%s.environment[%d]", p, j), name,
					"container %q: environment variable %s holds a plain-text value and %s: move it to \"secrets\" (valueFrom a Secrets Manager secret or SSM parameter) so it is not stored in the task definition; rotate it, it is in Git history",
					name, vname, why)
			}
		}
	}
	return out, secrets
}

// classify sorts a load or render problem into its check.
func classify(p *manifests.Problem) Check {
	switch {
	case strings.HasPrefix(p.File, manifests.PoliciesDir+"/"):
		return CheckPolicies
	case strings.HasSuffix(p.Path, ".image") && strings.Contains(p.Msg, "trusted-image") || strings.Contains(p.Msg, "untrusted image"):
		return CheckImages
	}
	return CheckFiles
}

// arr returns the elements of a JSON array, or nil for anything else (absent included).
func arr(v *ojson.Value) []*ojson.Value {
	if v == nil || v.Kind != ojson.Array {
		return nil
	}
	return v.Arr
}
