package manifests

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/policy"
)

// The render contract's names (DESIGN.md decision 2).
const (
	InitContainerName = "taskward-defender"
	VolumeName        = "taskward"
	MountPath         = "/taskward"
	DefenderPath      = MountPath + "/defender"
	// LabelOriginal holds, on each protected container, what render changed so that
	// unrender restores it exactly; on the init container, the same for task-level fields.
	LabelOriginal = "taskward.dev/original"
	// LabelPolicy names the policy a protected container runs under (for people and drift).
	LabelPolicy    = "taskward.dev/policy"
	EnvPolicy      = "TASKWARD_POLICY"
	EnvEventsURL   = "TASKWARD_EVENTS_URL"
	EnvEventsToken = "TASKWARD_EVENTS_TOKEN"
	// EnvHealthCheck carries the container's healthCheck.command to the defender, which
	// must not take the runtime's health-check processes for exec sessions.
	EnvHealthCheck = "TASKWARD_HEALTHCHECK"
	capPtrace      = "SYS_PTRACE"
	// initMemoryReservation is the soft memory limit (MiB) of the init container when the
	// task sets no task-level memory (EC2), where every container must declare one.
	initMemoryReservation = 32
)

// ReservedEnv are the environment variables the defender reads and removes before it
// starts the program: a container must not set them itself. Other TASKWARD_* names are the
// application's (the controller, protected by taskward, reads its secrets from some).
var ReservedEnv = []string{EnvPolicy, EnvEventsURL, EnvEventsToken, EnvHealthCheck, "TASKWARD_FAIL_OPEN", "TASKWARD_DEFENDER_STAGE"}

// DefenderEntryPoint is the entryPoint of every protected container.
var DefenderEntryPoint = []string{DefenderPath, "run", "--"}

// Renderer renders protected task definitions for one repo configuration.
type Renderer struct {
	cfg      *Config
	policies []*policy.Policy
	images   ImageSource
	pinned   *policy.Policy
}

// RenderOption configures a Renderer.
type RenderOption func(*Renderer)

// WithImageSource sets where image configs come from (nil: overrides only).
func WithImageSource(s ImageSource) RenderOption { return func(r *Renderer) { r.images = s } }

// WithPolicy makes every container use p, whatever the repo's policies select
// (`taskward protect --policy FILE`).
func WithPolicy(p *policy.Policy) RenderOption { return func(r *Renderer) { r.pinned = p } }

// NewRenderer returns a renderer for the repo configuration and policies.
func NewRenderer(cfg *Config, policies []*policy.Policy, opts ...RenderOption) *Renderer {
	r := &Renderer{cfg: cfg, policies: policies}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Rendered is one protected task definition and what render decided for it.
type Rendered struct {
	Path   string
	Family string
	// Doc is the protected RegisterTaskDefinition input.
	Doc        *ojson.Value
	Containers []ContainerReport
}

// ContainerReport says what render did to one container.
type ContainerReport struct {
	Name      string
	Protected bool
	// SkipReason is the taskward.yaml reason when the container is left unprotected.
	SkipReason string
	Policy     string
	// Argv is the program the defender starts.
	Argv []string
	// ArgvSource says where Argv came from: the task, an image registry, an override.
	ArgvSource string
}

// Render returns the protected version of td. An already protected definition is first
// unrendered, so render is idempotent. Every problem of every container is reported.
func (r *Renderer) Render(ctx context.Context, td *TaskDef) (*Rendered, Problems) {
	var probs Problems
	c := &collector{file: td.Path, out: &probs}
	doc := td.Doc.Clone()
	if IsProtected(doc) {
		plain, err := Unrender(doc)
		if err != nil {
			c.add(-1, "", "already protected but cannot be unrendered: %v", err)
			return nil, probs
		}
		doc = plain
	}
	out := &Rendered{Path: td.Path, Family: td.Family, Doc: doc}
	cds := doc.Get("containerDefinitions")
	if len(cds.Arr)+1 > MaxContainers {
		c.add(-1, "containerDefinitions", "%d containers plus the %s init container exceed ECS's %d per task definition: move a sidecar to its own task or skip the task", len(cds.Arr), InitContainerName, MaxContainers)
	}
	checkNoClash(c, doc)
	windows := isWindows(doc)

	anyProtected := false
	for i, cd := range cds.Arr {
		p := fmt.Sprintf("containerDefinitions[%d]", i)
		name := cd.Get("name").Str
		image := cd.Get("image").StringOr("")
		pol, err := r.policyFor(td.Family, name, image)
		if err != nil {
			c.add(cd.Offset, p, "%v", err)
			continue
		}
		r.checkTrusted(c, pol, p, image)
		rep := ContainerReport{Name: name, Policy: pol.Name}
		if s := r.cfg.Skipped(td.Family, name, image); s != nil {
			rep.SkipReason = s.Reason
			out.Containers = append(out.Containers, rep)
			continue
		}
		if windows {
			c.add(-1, "runtimePlatform.operatingSystemFamily", "Windows containers cannot be protected: the defender needs Linux (seccomp and ptrace); add container %q to skip in taskward.yaml with a reason", name)
			continue
		}
		if hint := windowsHint(cd); hint != "" {
			c.warn(cd.Offset, p, "container %q looks like a Windows container (%s), which the Linux defender cannot run in; if it is, set runtimePlatform.operatingSystemFamily or skip it in taskward.yaml", name, hint)
		}
		argv, source, err := r.argv(ctx, doc, cd)
		if err != nil {
			c.add(cd.Offset, p, "%v", err)
			continue
		}
		rep.Protected, rep.Argv, rep.ArgvSource = true, argv, source
		if err := r.protectContainer(cd, argv, pol); err != nil {
			c.add(cd.Offset, p, "%v", err)
			continue
		}
		anyProtected = true
		out.Containers = append(out.Containers, rep)
	}
	if len(probs.Errors()) > 0 {
		return nil, probs
	}
	if anyProtected {
		r.addTaskParts(c, doc)
	} else {
		c.warn(-1, "containerDefinitions", "every container is skipped: the task runs unprotected")
	}
	if size := len(doc.Marshal()); size > MaxTaskDefSize {
		c.add(-1, "", "the protected task definition is %d bytes as JSON; ECS allows at most %d (64 KiB): shorten the policy or the environment", size, MaxTaskDefSize)
	}
	if len(probs.Errors()) > 0 {
		return nil, probs
	}
	return out, probs
}

func (r *Renderer) policyFor(family, container, image string) (*policy.Policy, error) {
	if r.pinned != nil {
		return r.pinned.Resolved(), nil
	}
	p, err := policy.Select(r.policies, family, container, image)
	if err != nil {
		return nil, err
	}
	return p.Resolved(), nil
}

func (r *Renderer) checkTrusted(c *collector, pol *policy.Policy, path, image string) {
	if len(pol.TrustedImages.Rules) == 0 {
		return
	}
	d, err := pol.TrustImage(image)
	switch {
	case err != nil:
		c.add(-1, path+".image", "cannot be checked against the trusted-image rules of policy %q: %v", pol.Name, err)
	case d.Effect == policy.Block:
		c.add(-1, path+".image", "untrusted image: %s (trustedImages effect is block)", d.Reason)
	case d.Effect == policy.Alert:
		c.warn(-1, path+".image", "untrusted image: %s", d.Reason)
	}
}

// checkNoClash refuses a task that already uses taskward's names for its own things.
func checkNoClash(c *collector, doc *ojson.Value) {
	eachObj(doc.Get("containerDefinitions"), func(i int, cd *ojson.Value) {
		if cd.Get("name").StringOr("") == InitContainerName {
			c.add(cd.Get("name").Offset, fmt.Sprintf("containerDefinitions[%d].name", i), "%q is reserved for taskward's init container: rename this container", InitContainerName)
		}
		eachObj(cd.Get("environment"), func(j int, kv *ojson.Value) {
			if n := kv.Get("name").StringOr(""); contains(ReservedEnv, n) {
				c.add(kv.Offset, fmt.Sprintf("containerDefinitions[%d].environment[%d].name", i, j), "%q is reserved for the defender: rename the variable", n)
			}
		})
		eachObj(cd.Get("secrets"), func(j int, kv *ojson.Value) {
			if n := kv.Get("name").StringOr(""); contains(ReservedEnv, n) {
				c.add(kv.Offset, fmt.Sprintf("containerDefinitions[%d].secrets[%d].name", i, j), "%q is reserved for the defender: rename the secret", n)
			}
		})
	})
	eachObj(doc.Get("volumes"), func(i int, v *ojson.Value) {
		if v.Get("name").StringOr("") == VolumeName {
			c.add(v.Offset, fmt.Sprintf("volumes[%d].name", i), "%q is reserved for taskward's defender volume: rename the volume", VolumeName)
		}
	})
}

// windowsHint returns why a container looks like a Windows one when the task does not say
// (EC2 Windows tasks often have no runtimePlatform): a Windows base image, PowerShell or
// cmd.exe as the program, or drive-letter paths. "" when nothing suggests it.
func windowsHint(cd *ojson.Value) string {
	image := strings.ToLower(cd.Get("image").StringOr(""))
	for _, p := range []string{"mcr.microsoft.com/windows", "mcr.microsoft.com/dotnet/framework", "microsoft/windowsservercore", "microsoft/nanoserver", "microsoft/iis"} {
		if strings.Contains(image, p) {
			return "image " + cd.Get("image").StringOr("")
		}
	}
	ep, _ := stringList(cd, "entryPoint")
	cmd, _ := stringList(cd, "command")
	for _, a := range append(ep, cmd...) {
		l := strings.ToLower(a)
		if strings.HasPrefix(l, "powershell") || strings.HasPrefix(l, "cmd.exe") || strings.HasPrefix(l, "cmd /") || windowsPath(l) {
			return "program " + a
		}
	}
	hint := ""
	eachObj(cd.Get("mountPoints"), func(_ int, mp *ojson.Value) {
		if p := mp.Get("containerPath").StringOr(""); hint == "" && windowsPath(strings.ToLower(p)) {
			hint = "mount point " + p
		}
	})
	return hint
}

// windowsPath reports a drive-letter path (c:\x, c:/x) or a UNC or named-pipe path (\\.\pipe\x).
func windowsPath(l string) bool {
	return strings.HasPrefix(l, `\\`) || (len(l) > 2 && l[1] == ':' && (l[2] == '\\' || l[2] == '/') && l[0] >= 'a' && l[0] <= 'z')
}

func isWindows(doc *ojson.Value) bool {
	os := doc.Get("runtimePlatform").Get("operatingSystemFamily").StringOr("")
	return strings.HasPrefix(os, "WINDOWS")
}

// argv computes the program a container runs, by Docker's rules (DESIGN.md decision 3):
//
//   - the task sets entryPoint (non-empty): argv = entryPoint + command. The image's CMD is
//     dropped and its config is not needed, so nothing is looked up.
//   - the task sets no entryPoint (absent or null): the image's ENTRYPOINT runs first, then
//     the task's command if it has one, else the image's CMD.
//   - the task's entryPoint is an empty list: Docker then clears the image's ENTRYPOINT but
//     still uses its CMD when the task has no command.
//
// No argv at all is an error: the container would not start.
func (r *Renderer) argv(ctx context.Context, task, cd *ojson.Value) ([]string, string, error) {
	ep, epOK := stringList(cd, "entryPoint")
	cmd, cmdOK := stringList(cd, "command")
	if !epOK || !cmdOK {
		return nil, "", fmt.Errorf("entryPoint and command must be lists of strings")
	}
	if len(ep) > 0 {
		return append(ep, cmd...), "task definition", nil
	}
	epNull := cd.Get("entryPoint").IsNull()
	if !epNull && len(cmd) > 0 {
		return cmd, "task definition", nil
	}
	ic, err := r.imageConfig(ctx, task, cd)
	if err != nil {
		return nil, "", err
	}
	var argv []string
	if epNull {
		argv = append(argv, ic.Entrypoint...)
	}
	if len(cmd) > 0 {
		argv = append(argv, cmd...)
	} else {
		argv = append(argv, ic.Cmd...)
	}
	if len(argv) == 0 && !epNull && len(ic.Entrypoint) > 0 {
		return nil, "", fmt.Errorf("the task's \"entryPoint\": [] clears the ENTRYPOINT %q of image %s%s, and neither the task's command nor the image's CMD names a program: nothing to run; remove \"entryPoint\": [] to run the image's ENTRYPOINT, or set command",
			ic.Entrypoint, cd.Get("image").StringOr(""), fromOverride(ic))
	}
	if len(argv) == 0 {
		return nil, "", fmt.Errorf("image %s%s has neither ENTRYPOINT nor CMD and the task sets no command: nothing to run; set command in the task", cd.Get("image").StringOr(""), fromOverride(ic))
	}
	return argv, ic.Source, nil
}

func (r *Renderer) imageConfig(ctx context.Context, task, cd *ojson.Value) (*ImageConfig, error) {
	image := cd.Get("image").StringOr("")
	if o, _, ok := r.cfg.ImageOverride(image); ok {
		return &ImageConfig{Entrypoint: o.Entrypoint, Cmd: o.Cmd, Source: "override in taskward.yaml"}, nil
	}
	if r.images == nil {
		return nil, fmt.Errorf("image %s: the task sets no entryPoint, so the image's ENTRYPOINT/CMD are needed, and no registry is configured: %s, or set entryPoint in the task", image, declareImage(image))
	}
	ic, err := r.images.ImageConfig(ctx, image, platformOf(task))
	if err != nil {
		return nil, fmt.Errorf("%w; where the registry cannot be reached, %s", err, declareImage(image))
	}
	return ic, nil
}

func platformOf(task *ojson.Value) string {
	if task.Get("runtimePlatform").Get("cpuArchitecture").StringOr("") == "ARM64" {
		return "linux/arm64"
	}
	return "linux/amd64"
}

// stringList returns a field that is a list of strings; absent and null are an empty
// list. ok is false when the field has another type.
func stringList(o *ojson.Value, key string) ([]string, bool) {
	v := o.Get(key)
	if v.IsNull() {
		return nil, true
	}
	return v.Strings()
}

// original records what render changed in one object, so that unrender can undo it exactly.
type original struct {
	// EntryPoint and Command are the container's original values; absent when the field was.
	// A RawMessage keeps a JSON null as the bytes "null" (a pointer would decode to nil
	// and turn null into absent).
	EntryPoint json.RawMessage `json:"entryPoint,omitempty"`
	Command    json.RawMessage `json:"command,omitempty"`
	// Absent and Null list fields render created that were absent or null before (dotted
	// paths, deepest last). Added lists the lists and maps render appended an item to.
	Absent []string `json:"absent,omitempty"`
	Null   []string `json:"null,omitempty"`
	Added  []string `json:"added,omitempty"`
}

// ensure makes obj.path (dotted) exist with the given kind, recording in o what it was.
func (o *original) ensure(obj *ojson.Value, path string, kind ojson.Kind) *ojson.Value {
	cur := obj
	parts := strings.Split(path, ".")
	for i, k := range parts {
		full := strings.Join(parts[:i+1], ".")
		next := cur.Get(k)
		switch {
		case !cur.Has(k):
			o.Absent = append(o.Absent, full)
		case next.IsNull():
			o.Null = append(o.Null, full)
		}
		if next.IsNull() {
			want := ojson.Object
			if i == len(parts)-1 {
				want = kind
			}
			if want == ojson.Array {
				next = ojson.NewArray()
			} else {
				next = ojson.NewObject()
			}
			cur.Set(k, next)
		}
		cur = next
	}
	return cur
}

func (o *original) appendTo(obj *ojson.Value, path string, item *ojson.Value) {
	list := o.ensure(obj, path, ojson.Array)
	list.Arr = append(list.Arr, item)
	o.Added = append(o.Added, path)
}

func raw(v *ojson.Value) json.RawMessage { return json.RawMessage(v.Marshal()) }

// protectContainer applies decision 2 to one application container.
func (r *Renderer) protectContainer(cd *ojson.Value, argv []string, pol *policy.Policy) error {
	var o original
	if cd.Has("entryPoint") {
		o.EntryPoint = raw(cd.Get("entryPoint"))
	}
	if cd.Has("command") {
		o.Command = raw(cd.Get("command"))
	}
	cd.Set("entryPoint", ojson.NewStrings(DefenderEntryPoint))
	cd.Set("command", ojson.NewStrings(argv))

	mp := ojson.NewObject()
	mp.Set("sourceVolume", ojson.NewString(VolumeName))
	mp.Set("containerPath", ojson.NewString(MountPath))
	mp.Set("readOnly", ojson.NewBool(true))
	o.appendTo(cd, "mountPoints", mp)

	dep := ojson.NewObject()
	dep.Set("containerName", ojson.NewString(InitContainerName))
	dep.Set("condition", ojson.NewString("SUCCESS"))
	o.appendTo(cd, "dependsOn", dep)

	caps := o.ensure(cd, "linuxParameters.capabilities.add", ojson.Array)
	if have, _ := caps.Strings(); !contains(have, capPtrace) {
		caps.Arr = append(caps.Arr, ojson.NewString(capPtrace))
		o.Added = append(o.Added, "linuxParameters.capabilities.add")
	}

	o.appendTo(cd, "environment", keyValue("name", EnvPolicy, "value", pol.Encode()))
	if hc := cd.Get("healthCheck"); hc != nil && hc.Kind == ojson.Object {
		if cmd, ok := hc.Get("command").Strings(); ok && len(cmd) > 0 {
			b, _ := json.Marshal(cmd) // strings only: cannot fail
			o.appendTo(cd, "environment", keyValue("name", EnvHealthCheck, "value", string(b)))
		}
	}
	if u := r.cfg.Events.URL; u != "" {
		o.appendTo(cd, "environment", keyValue("name", EnvEventsURL, "value", u))
	}
	if a := r.cfg.Events.TokenSecretARN; a != "" {
		o.appendTo(cd, "secrets", keyValue("name", EnvEventsToken, "valueFrom", a))
	}

	labels := o.ensure(cd, "dockerLabels", ojson.Object)
	if labels.Has(LabelOriginal) || labels.Has(LabelPolicy) {
		return fmt.Errorf("dockerLabels: %q and %q are reserved for taskward", LabelOriginal, LabelPolicy)
	}
	labels.Set(LabelPolicy, ojson.NewString(pol.Name))
	o.Added = dedupe(o.Added)
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	labels.Set(LabelOriginal, ojson.NewString(string(b)))
	return nil
}

// addTaskParts adds the task volume and the init container.
func (r *Renderer) addTaskParts(c *collector, doc *ojson.Value) {
	var o original
	vol := ojson.NewObject()
	vol.Set("name", ojson.NewString(VolumeName))
	o.appendTo(doc, "volumes", vol)
	if r.cfg.Events.TokenSecretARN != "" && doc.Get("executionRoleArn").IsNull() {
		c.add(-1, "executionRoleArn", "required when events.tokenSecretArn is set: ECS reads the events token secret with the task execution role")
	}

	init := ojson.NewObject()
	init.Set("name", ojson.NewString(InitContainerName))
	init.Set("image", ojson.NewString(r.cfg.Defender.Image))
	init.Set("essential", ojson.NewBool(false))
	init.Set("command", ojson.NewStrings([]string{"install", MountPath}))
	mp := ojson.NewObject()
	mp.Set("sourceVolume", ojson.NewString(VolumeName))
	mp.Set("containerPath", ojson.NewString(MountPath))
	mp.Set("readOnly", ojson.NewBool(false))
	init.Set("mountPoints", ojson.NewArray(mp))
	if doc.Get("memory").IsNull() {
		init.Set("memoryReservation", ojson.NewInt(initMemoryReservation))
	}
	b, _ := json.Marshal(o)
	labels := ojson.NewObject()
	labels.Set(LabelOriginal, ojson.NewString(string(b)))
	init.Set("dockerLabels", labels)
	cds := doc.Get("containerDefinitions")
	cds.Arr = append(cds.Arr, init)
}

func keyValue(k1, v1, k2, v2 string) *ojson.Value {
	o := ojson.NewObject()
	o.Set(k1, ojson.NewString(v1))
	o.Set(k2, ojson.NewString(v2))
	return o
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// RenderAll renders every task of the repo and reports every problem of every task. The
// result is nil when any task has an error: a broken commit renders nothing.
func (r *Renderer) RenderAll(ctx context.Context, tasks []*TaskDef) ([]*Rendered, Problems) {
	var all Problems
	var out []*Rendered
	for _, td := range tasks {
		if err := ctx.Err(); err != nil {
			all = append(all, &Problem{File: td.Path, Msg: err.Error()})
			break
		}
		rd, probs := r.Render(ctx, td)
		all = append(all, probs...)
		if rd != nil {
			out = append(out, rd)
		}
	}
	all = append(all, r.cfg.unusedImageOverrides(tasks)...)
	all.Sort()
	if all.Err() != nil {
		return nil, all
	}
	return out, all
}

// declareImage says how to declare an image's ENTRYPOINT and CMD in taskward.yaml, in the
// file's own YAML shape.
func declareImage(image string) string {
	return fmt.Sprintf("declare the image's ENTRYPOINT and CMD (docker image inspect shows them) in taskward.yaml: "+
		"images: {%s: {entrypoint: [...], cmd: [...], reason: \"why no registry; who checked it\"}}", yamlQuote(image))
}

// fromOverride says " (declared in taskward.yaml)" when an image config is an override,
// so that an error about it points at the file to fix.
func fromOverride(ic *ImageConfig) string {
	if strings.Contains(ic.Source, "override") {
		return " (as declared under images in taskward.yaml)"
	}
	return ""
}
