package deploycheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var chart = filepath.Join(root, "charts", "taskward")

const helmInstall = "go install helm.sh/helm/v3/cmd/helm@v3.22.0"

// chartCase is one set of values the chart is linted and rendered with.
type chartCase struct {
	name   string
	values string // file under charts/taskward/ci/, or "" for the defaults
}

var chartCases = []chartCase{{"defaults", ""}, {"full", "full-values.yaml"}, {"ssh", "ssh-values.yaml"}}

func (c chartCase) args() []string {
	if c.values == "" {
		return nil
	}
	return []string{"-f", filepath.Join(chart, "ci", c.values)}
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool(t, "helm", helmInstall), args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stderr.String(), out.String())
	}
	return out.String(), err
}

func TestChartLint(t *testing.T) {
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := helm(t, append([]string{"lint", "--strict", chart}, c.args()...)...); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// manifests renders the chart and returns its objects by kind.
func manifests(t *testing.T, args ...string) map[string]map[string]any {
	t.Helper()
	out, err := helm(t, append([]string{"template", "tw", chart, "--namespace", "ops"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]map[string]any{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template output: %v\n%s", err, out)
		}
		if obj == nil {
			continue
		}
		kind, _ := obj["kind"].(string)
		if _, dup := objs[kind]; dup {
			t.Fatalf("two %s objects", kind)
		}
		objs[kind] = obj
	}
	return objs
}

// get walks obj along a path of map keys and list indexes.
func get(obj any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := obj.(map[string]any)
			obj = m[k]
		case int:
			l, _ := obj.([]any)
			if k >= len(l) {
				return nil
			}
			obj = l[k]
		}
	}
	return obj
}

func str(obj any, path ...any) string {
	s, _ := get(obj, path...).(string)
	return s
}

func TestChartRendered(t *testing.T) {
	flags := controllerFlags(t)
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			objs := manifests(t, c.args()...)
			full := c.name == "full"
			kinds := []string{"Deployment", "Service", "ServiceAccount"}
			if full {
				kinds = append(kinds, "ServiceMonitor")
			}
			var got []string
			for k := range objs {
				got = append(got, k)
			}
			if len(got) != len(kinds) {
				t.Errorf("kinds %v, want %v", got, kinds)
			}
			for _, k := range kinds {
				if objs[k] == nil {
					t.Fatalf("no %s", k)
				}
				if ns := str(objs[k], "metadata", "namespace"); ns != "ops" {
					t.Errorf("%s in namespace %q, want the release's", k, ns)
				}
			}
			dep := objs["Deployment"]
			spec := get(dep, "spec", "template", "spec")
			if get(dep, "spec", "replicas") != 1 || str(dep, "spec", "strategy", "type") != "Recreate" {
				t.Errorf("want one replica, Recreate: replicas %v, strategy %v", get(dep, "spec", "replicas"), get(dep, "spec", "strategy"))
			}
			sa := objs["ServiceAccount"]
			if str(spec, "serviceAccountName") != str(sa, "metadata", "name") {
				t.Errorf("pod runs as %q, chart creates %q", str(spec, "serviceAccountName"), str(sa, "metadata", "name"))
			}
			if get(sa, "automountServiceAccountToken") != false {
				t.Errorf("the controller needs no Kubernetes API token")
			}
			role := str(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn")
			if full != (role == "arn:aws:iam::123456789012:role/taskward-controller") {
				t.Errorf("IRSA role annotation %q", role)
			}
			containers, _ := get(spec, "containers").([]any)
			if len(containers) != 1 {
				t.Fatalf("%d containers", len(containers))
			}
			ctr := containers[0]
			image := str(ctr, "image")
			if full && !strings.Contains(image, "@sha256:") || !full && image != "ghcr.io/taskward/controller:dev" {
				t.Errorf("image %q", image)
			}
			// Security context: read-only root, non-root, no privilege escalation.
			for path, want := range map[string]any{
				"securityContext.readOnlyRootFilesystem":   true,
				"securityContext.runAsNonRoot":             true,
				"securityContext.allowPrivilegeEscalation": false,
				"securityContext.capabilities.drop.0":      "ALL",
			} {
				if got := get(ctr, keys(path)...); got != want {
					t.Errorf("container %s = %v, want %v", path, got, want)
				}
			}
			if get(spec, "securityContext", "runAsNonRoot") != true || get(spec, "securityContext", "runAsUser") != 65532 {
				t.Errorf("pod securityContext %v: want non-root 65532", get(spec, "securityContext"))
			}
			if get(ctr, "securityContext", "privileged") == true {
				t.Errorf("privileged")
			}
			// Probes and ports: /healthz, /readyz and /metrics on the named port the Service targets.
			if str(ctr, "livenessProbe", "httpGet", "path") != "/healthz" || str(ctr, "readinessProbe", "httpGet", "path") != "/readyz" ||
				str(ctr, "livenessProbe", "httpGet", "port") != "http" || str(ctr, "readinessProbe", "httpGet", "port") != "http" {
				t.Errorf("probes: liveness %v readiness %v", get(ctr, "livenessProbe"), get(ctr, "readinessProbe"))
			}
			if str(ctr, "ports", 0, "name") != "http" || get(ctr, "ports", 0, "containerPort") != 8080 {
				t.Errorf("ports %v", get(ctr, "ports"))
			}
			if get(objs["Service"], "spec", "publishNotReadyAddresses") != true {
				t.Errorf("Service: webhooks and defender events must reach a controller that is not ready yet")
			}
			if str(objs["Service"], "spec", "ports", 0, "targetPort") != "http" {
				t.Errorf("service ports %v", get(objs["Service"], "spec", "ports"))
			}
			if full {
				sm := objs["ServiceMonitor"]
				if str(sm, "spec", "endpoints", 0, "port") != "http" || str(sm, "spec", "endpoints", 0, "path") != "/metrics" {
					t.Errorf("ServiceMonitor endpoints %v", get(sm, "spec", "endpoints"))
				}
				if !reflect.DeepEqual(get(sm, "spec", "selector", "matchLabels"), get(objs["Service"], "spec", "selector")) {
					t.Errorf("ServiceMonitor selects %v, Service has %v", get(sm, "spec", "selector", "matchLabels"), get(objs["Service"], "spec", "selector"))
				}
			}
			if get(ctr, "resources", "requests", "cpu") == nil || get(ctr, "resources", "limits", "memory") == nil {
				t.Errorf("resources %v", get(ctr, "resources"))
			}
			if get(ctr, "command") != nil {
				t.Errorf("command %v: the image's entrypoint is taskward controller", get(ctr, "command"))
			}
			checkArgs(t, c, ctr, spec, flags)
		})
	}
}

// keys splits a dotted path; numbers are list indexes.
func keys(path string) []any {
	var out []any
	for _, k := range strings.Split(path, ".") {
		var n int
		if _, err := fmt.Sscanf(k, "%d", &n); err == nil {
			out = append(out, n)
		} else {
			out = append(out, k)
		}
	}
	return out
}

// checkArgs checks the controller's arguments: every flag is one `taskward controller`
// has, the values are set, and every --*-file flag names a file of a mounted Secret
// volume (secrets never in args or environment).
func checkArgs(t *testing.T, c chartCase, ctr, spec any, flags map[string]bool) {
	t.Helper()
	args := map[string]string{}
	list, _ := get(ctr, "args").([]any)
	for _, a := range list {
		s, _ := a.(string)
		name, value, _ := strings.Cut(strings.TrimPrefix(s, "--"), "=")
		if !strings.HasPrefix(s, "--") || !flags[name] {
			t.Errorf("arg %q: taskward controller has no such flag", s)
		}
		if _, dup := args[name]; dup {
			t.Errorf("--%s given twice", name)
		}
		args[name] = value
	}
	want := map[string]string{"poll": "1m", "drift-schedule": "*/5 * * * *", "listen": ":8080", "ref": "main",
		"repo": "https://github.com/example/gitops.git", "git-cache": "/var/cache/taskward/git", "self-heal": "false", "prune": "false"}
	switch c.name {
	case "full":
		want = map[string]string{"poll": "2m", "drift-schedule": "*/10 * * * *", "listen": ":8080", "ref": "production",
			"repo": "https://github.com/acme/ecs-gitops.git", "clusters": "prod-web,prod-batch", "region": "eu-west-1",
			"self-heal": "true", "prune": "true", "webhook-branch": "production", "insecure-registry": "registry.internal:5000",
			"git-token-file": "/var/run/secrets/taskward/git-token/token", "github-webhook-secret-file": "", "gitlab-webhook-token-file": "",
			"github-token-file": "", "gitlab-token-file": "", "events-token-file": "", "alert-webhook-url-file": "", "slack-webhook-url-file": "", "git-ca-file": ""}
	case "ssh":
		want["repo"] = "git@github.com:acme/ecs-gitops.git"
		want["git-ssh-key"] = "/var/run/secrets/taskward/git-ssh/ssh-privatekey"
		want["git-known-hosts"] = "/var/run/secrets/taskward/git-ssh/known_hosts"
	}
	for k, v := range want {
		got, ok := args[k]
		if !ok || v != "" && got != v {
			t.Errorf("--%s=%q (given: %v), want %q", k, got, ok, v)
		}
	}
	// Secret files: each path is VOLUME_MOUNT/KEY of a secret volume that maps KEY.
	mounts := map[string]string{} // mount path -> volume
	ml, _ := get(ctr, "volumeMounts").([]any)
	for _, m := range ml {
		mounts[str(m, "mountPath")] = str(m, "name")
		if strings.HasPrefix(str(m, "mountPath"), "/var/run/secrets/") && get(m, "readOnly") != true {
			t.Errorf("secret mount %s: not read-only", str(m, "mountPath"))
		}
	}
	volumes := map[string]any{}
	vl, _ := get(spec, "volumes").([]any)
	for _, v := range vl {
		volumes[str(v, "name")] = v
	}
	secretFiles := 0
	for name, value := range args {
		if !strings.HasSuffix(name, "-file") && name != "git-ssh-key" && name != "git-known-hosts" {
			continue
		}
		secretFiles++
		dir, key := filepath.Split(value)
		vol := volumes[mounts[strings.TrimSuffix(dir, "/")]]
		if vol == nil || get(vol, "secret") == nil {
			t.Errorf("--%s=%s: not in a mounted Secret volume", name, value)
			continue
		}
		found := false
		items, _ := get(vol, "secret", "items").([]any)
		for _, it := range items {
			found = found || str(it, "path") == key
		}
		if !found {
			t.Errorf("--%s=%s: volume %s maps no item to %s", name, value, str(vol, "name"), key)
		}
	}
	wantFiles := map[string]int{"defaults": 0, "full": 9, "ssh": 2}[c.name]
	if secretFiles != wantFiles {
		t.Errorf("%d secret files, want %d", secretFiles, wantFiles)
	}
	env, _ := get(ctr, "env").([]any)
	for _, e := range env {
		if get(e, "valueFrom", "secretKeyRef") != nil {
			t.Errorf("env %s from a Secret: secrets are mounted as files", str(e, "name"))
		}
	}
	// With a read-only root the controller writes only to its emptyDir volumes.
	for _, p := range []string{"/tmp", "/var/cache/taskward"} {
		if v := volumes[mounts[p]]; v == nil || get(v, "emptyDir") == nil {
			t.Errorf("%s: want an emptyDir mount", p)
		}
	}
}

// TestChartSchema: values.schema.json refuses what would weaken the deployment or what
// the controller cannot use.
func TestChartSchema(t *testing.T) {
	for _, set := range []string{
		"securityContext.readOnlyRootFilesystem=false",
		"securityContext.allowPrivilegeEscalation=true",
		"podSecurityContext.runAsNonRoot=false",
		"repo.url=file:///srv/gitops",
		"schedules.poll=soon",
		"replicas=2",
		"image.digest=latest",
		"serviceAccount.roleArn=taskward",
		"logLevel=verbose",
	} {
		t.Run(set, func(t *testing.T) {
			_, err := helm(t, "template", "tw", chart, "--set", set)
			if err == nil {
				t.Fatalf("helm template --set %s: accepted", set)
			}
			if !strings.Contains(err.Error(), "values don't meet the specifications of the schema") {
				t.Errorf("refused, but not by the schema: %v", err)
			}
		})
	}
}
