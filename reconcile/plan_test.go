package reconcile

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const arnPrefix = "arn:aws:ecs:us-east-1:000000000000:task-definition/"

func desiredFor(t *testing.T, family, image string) Desired {
	return Desired{Family: family, SourcePath: "tasks/" + family + ".json",
		Definition: mustParse(t, `{"family":"`+family+`","containerDefinitions":[{"name":"app","image":"`+image+`"}]}`)}
}

// liveRev builds a described revision as ECS would return it: defaults filled in.
func liveRev(t *testing.T, family string, rev int, image string, tags map[string]string) *Revision {
	arn := arnPrefix + family + ":" + itoa(rev)
	r, err := NewRevision(arn, mustParse(t, `{"taskDefinitionArn":"`+arn+`","family":"`+family+`","revision":`+itoa(rev)+
		`,"status":"ACTIVE","containerDefinitions":[{"name":"app","image":"`+image+`","essential":true,"cpu":0,"environment":[]}]}`), tags)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func itoa(n int) string { return strconv.Itoa(n) }

func liveWith(revs ...*Revision) *Live {
	l := &Live{Families: map[string]*LiveFamily{}}
	for _, r := range revs {
		lf := l.Families[r.Family]
		if lf == nil {
			lf = &LiveFamily{Family: r.Family}
			l.Families[r.Family] = lf
		}
		lf.Active = append([]string{r.ARN}, lf.Active...)
		lf.Latest = r
	}
	return l
}

func svc(name, family string, rev int) Service {
	return Service{Name: name, ARN: "arn:aws:ecs:us-east-1:000000000000:service/default/" + name,
		TaskDefinition: arnPrefix + family + ":" + itoa(rev), Family: family, DeploymentController: "ECS"}
}

func TestPlan(t *testing.T) {
	managed := map[string]string{TagManagedBy: ManagedByValue}
	for _, tc := range []struct {
		name    string
		desired []Desired
		live    *Live
		opts    PlanOptions
		want    map[string]Action
		updates map[string][]string // family -> service names to update
		to      map[string]string   // family -> target of its service updates
		changes bool
	}{
		{name: "new family registers and moves its services",
			desired: []Desired{desiredFor(t, "web", "nginx")},
			live:    &Live{Services: []Service{svc("web-svc", "web", 1)}},
			want:    map[string]Action{"web": ActionRegister}, updates: map[string][]string{"web": {"web-svc"}}, to: map[string]string{"web": ""}, changes: true},
		{name: "unchanged family is a noop",
			desired: []Desired{desiredFor(t, "web", "nginx")},
			live: func() *Live {
				l := liveWith(liveRev(t, "web", 1, "nginx", nil))
				l.Services = []Service{svc("web-svc", "web", 1)}
				return l
			}(),
			want: map[string]Action{"web": ActionNoop}},
		{name: "service on an old revision is updated to the latest",
			desired: []Desired{desiredFor(t, "web", "nginx")},
			live: func() *Live {
				l := liveWith(liveRev(t, "web", 1, "httpd", nil), liveRev(t, "web", 2, "nginx", nil))
				l.Services = []Service{svc("a", "web", 1), svc("b", "web", 2)}
				return l
			}(),
			want: map[string]Action{"web": ActionUpdateService}, updates: map[string][]string{"web": {"a"}}, to: map[string]string{"web": arnPrefix + "web:2"}, changes: true},
		{name: "changed family registers and moves every service",
			desired: []Desired{desiredFor(t, "web", "nginx:2")},
			live: func() *Live {
				l := liveWith(liveRev(t, "web", 1, "nginx:1", nil))
				l.Services = []Service{svc("a", "web", 1), svc("other", "api", 1)}
				return l
			}(),
			want: map[string]Action{"web": ActionRegister}, updates: map[string][]string{"web": {"a"}}, to: map[string]string{"web": ""}, changes: true},
		{name: "latest carrying the desired hash is reused even if it reduces differently",
			desired: []Desired{desiredFor(t, "web", "nginx")},
			live: liveWith(liveRev(t, "web", 1, "nginx-as-ecs-spelled-it",
				map[string]string{TagContentHash: ContentHash(desiredFor(t, "web", "nginx").Definition)})),
			want: map[string]Action{"web": ActionNoop}},
		{name: "code-deploy services are noted, not updated",
			desired: []Desired{desiredFor(t, "web", "nginx")},
			live: func() *Live {
				l := liveWith(liveRev(t, "web", 1, "nginx", nil))
				s := svc("bg", "web", 0)
				s.DeploymentController = "CODE_DEPLOY"
				l.Services = []Service{s}
				return l
			}(),
			want: map[string]Action{"web": ActionNoop}},
		{name: "without prune a removed managed family is left alone",
			desired: []Desired{desiredFor(t, "web", "nginx")},
			live:    liveWith(liveRev(t, "web", 1, "nginx", nil), liveRev(t, "old", 3, "x", managed)),
			want:    map[string]Action{"web": ActionNoop}},
		{name: "prune deregisters managed families only",
			desired: []Desired{desiredFor(t, "web", "nginx")},
			live:    liveWith(liveRev(t, "web", 1, "nginx", nil), liveRev(t, "old", 2, "x", nil), liveRev(t, "old", 3, "x", managed), liveRev(t, "theirs", 1, "y", nil)),
			opts:    PlanOptions{Prune: true},
			want:    map[string]Action{"web": ActionNoop, "old": ActionPrune}, changes: true},
		{name: "empty desired without prune is an empty plan",
			live: liveWith(liveRev(t, "old", 3, "x", managed)),
			want: map[string]Action{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(tc.desired, tc.live)
			p, err := Plan(tc.desired, tc.live, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if after := snapshot(tc.desired, tc.live); after != before {
				t.Errorf("Plan modified its inputs")
			}
			got := map[string]Action{}
			for _, f := range p.Resources {
				got[f.Family] = f.Action
				var names []string
				for _, u := range f.ServiceUpdates {
					names = append(names, u.Service)
					if u.To != tc.to[f.Family] {
						t.Errorf("%s: service %s to %q, want %q", f.Family, u.Service, u.To, tc.to[f.Family])
					}
				}
				if !slices.Equal(names, tc.updates[f.Family]) {
					t.Errorf("%s: service updates %v, want %v", f.Family, names, tc.updates[f.Family])
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("actions %v, want %v", got, tc.want)
			}
			for fam, a := range tc.want {
				if got[fam] != a {
					t.Errorf("%s: action %q, want %q", fam, got[fam], a)
				}
			}
			if p.HasChanges() != tc.changes {
				t.Errorf("HasChanges = %v, want %v", p.HasChanges(), tc.changes)
			}
		})
	}
}

func snapshot(ds []Desired, l *Live) string {
	var b strings.Builder
	for _, d := range ds {
		b.Write(d.Definition.Marshal())
	}
	if l != nil {
		for _, name := range slices.Sorted(maps.Keys(l.Families)) {
			f := l.Families[name]
			b.WriteString(strings.Join(f.Active, ","))
			b.Write(f.Latest.Definition.Marshal())
		}
		for _, s := range l.Services {
			b.WriteString(s.Name + s.TaskDefinition)
		}
	}
	return b.String()
}

func TestPlanPruneDeregistersEveryActiveRevision(t *testing.T) {
	managed := map[string]string{TagManagedBy: ManagedByValue}
	p, err := Plan([]Desired{desiredFor(t, "web", "nginx")},
		liveWith(liveRev(t, "old", 1, "x", managed), liveRev(t, "old", 2, "x", managed)), PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Resources {
		if f.Family == "old" && !slices.Equal(f.Deregister, []string{arnPrefix + "old:2", arnPrefix + "old:1"}) {
			t.Errorf("deregister %v", f.Deregister)
		}
	}
}

func TestPlanRefusesToPruneEverything(t *testing.T) {
	live := liveWith(liveRev(t, "old", 3, "x", map[string]string{TagManagedBy: ManagedByValue}))
	if _, err := Plan(nil, live, PlanOptions{Prune: true}); !errors.Is(err, ErrPruneEmptyDesired) {
		t.Errorf("err = %v, want ErrPruneEmptyDesired", err)
	}
}

func TestPlanRejectsBadDesired(t *testing.T) {
	web := desiredFor(t, "web", "nginx")
	other := desiredFor(t, "web", "nginx")
	other.SourcePath = "tasks/copy.json"
	mismatch := desiredFor(t, "api", "x")
	mismatch.Family = "apii"
	for name, ds := range map[string][]Desired{
		"duplicate family": {web, other},
		"family mismatch":  {mismatch},
		"no family":        {{SourcePath: "tasks/x.json", Definition: web.Definition}},
		"no definition":    {{Family: "web", SourcePath: "tasks/x.json"}},
	} {
		if _, err := Plan(ds, nil, PlanOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "tasks/") {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
	}
}

func TestPlanWriteText(t *testing.T) {
	p, err := Plan([]Desired{desiredFor(t, "web", "nginx:2"), desiredFor(t, "api", "x")},
		liveWith(liveRev(t, "web", 1, "nginx:1", nil), liveRev(t, "api", 1, "x", nil)), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := p.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"register web (tasks/web.json): definition changed", `-      "image": "nginx:1"`, `+      "image": "nginx:2"`, "1 unchanged, 1 to register"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
