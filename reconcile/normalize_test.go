package reconcile

import (
	"testing"

	"github.com/taskward/taskward/internal/ojson"
)

func mustParse(t testing.TB, s string) *ojson.Value {
	t.Helper()
	v, err := ojson.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return v
}

type ruleCase struct{ name, in, want string }

// runRule applies one rule alone to each case's input and compares with want.
func runRule(t *testing.T, rule func(*ojson.Value), cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustParse(t, tc.in)
			rule(v)
			if got, want := string(v.Marshal()), string(mustParse(t, tc.want).Marshal()); got != want {
				t.Errorf("\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

func TestRulesAreListedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if r.Name == "" || r.Doc == "" || r.Apply == nil {
			t.Errorf("rule %q is incomplete", r.Name)
		}
		if seen[r.Name] {
			t.Errorf("rule %q listed twice", r.Name)
		}
		seen[r.Name] = true
	}
	if rs := Rules(); rs[0].Name != "unwrap-describe-output" || rs[len(rs)-1].Name != "drop-empty" {
		t.Errorf("unwrap must run first and drop-empty last")
	}
}

func TestUnwrapDescribeOutput(t *testing.T) {
	runRule(t, unwrapDescribeOutput, []ruleCase{
		{"bare definition untouched", `{"family":"a"}`, `{"family":"a"}`},
		{"wrapper", `{"taskDefinition":{"family":"a","revision":3}}`, `{"family":"a","revision":3}`},
		{"sibling tags move in", `{"taskDefinition":{"family":"a"},"tags":[{"key":"k","value":"v"}]}`, `{"family":"a","tags":[{"key":"k","value":"v"}]}`},
		{"inner tags win", `{"taskDefinition":{"family":"a","tags":[]},"tags":[{"key":"k","value":"v"}]}`, `{"family":"a","tags":[]}`},
		{"non-object taskDefinition is not a wrapper", `{"taskDefinition":"x"}`, `{"taskDefinition":"x"}`},
		{"other members beside it: not a wrapper", `{"taskDefinition":{"family":"a"},"family":"b"}`, `{"taskDefinition":{"family":"a"},"family":"b"}`},
		{"wrapped twice", `{"taskDefinition":{"taskDefinition":{"family":"a"}}}`, `{"family":"a"}`},
	})
}

func TestDropServerFields(t *testing.T) {
	runRule(t, dropServerFields, []ruleCase{
		{"all of them", `{"family":"a","taskDefinitionArn":"arn","revision":2,"status":"ACTIVE","requiresAttributes":[{"name":"x"}],
			"compatibilities":["EC2"],"registeredAt":1,"registeredBy":"me","deregisteredAt":2,"deleteRequestedAt":3}`, `{"family":"a"}`},
		{"others kept", `{"family":"a","cpu":"256"}`, `{"family":"a","cpu":"256"}`},
	})
}

func TestDropTaskwardTags(t *testing.T) {
	runRule(t, dropTaskwardTags, []ruleCase{
		{"ours go", `{"tags":[{"key":"taskward.dev/commit","value":"x"},{"key":"team","value":"a"}]}`, `{"tags":[{"key":"team","value":"a"}]}`},
		{"lookalike stays", `{"tags":[{"key":"taskward.devx","value":"x"}]}`, `{"tags":[{"key":"taskward.devx","value":"x"}]}`},
		{"no tags", `{}`, `{}`},
	})
}

func TestTaskSizeUnits(t *testing.T) {
	runRule(t, taskSizeUnits, []ruleCase{
		{"vCPU", `{"cpu":"0.25 vCPU","memory":"1 GB"}`, `{"cpu":"256","memory":"1024"}`},
		{"lowercase no space leading dot", `{"cpu":".25vcpu","memory":".5 gb"}`, `{"cpu":"256","memory":"512"}`},
		{"integers stay", `{"cpu":"1024","memory":"2048"}`, `{"cpu":"1024","memory":"2048"}`},
		{"number becomes string", `{"cpu":256}`, `{"cpu":"256"}`},
		{"unparseable kept as written", `{"cpu":"lots","memory":"1 TB"}`, `{"cpu":"lots","memory":"1 TB"}`},
		{"placeholder kept", `{"cpu":"${CPU}"}`, `{"cpu":"${CPU}"}`},
		{"container cpu untouched", `{"containerDefinitions":[{"cpu":"1 vcpu"}]}`, `{"containerDefinitions":[{"cpu":"1 vcpu"}]}`},
	})
}

func TestEssentialDefault(t *testing.T) {
	runRule(t, essentialDefault, []ruleCase{
		{"true dropped", `{"containerDefinitions":[{"name":"a","essential":true}]}`, `{"containerDefinitions":[{"name":"a"}]}`},
		{"false kept", `{"containerDefinitions":[{"name":"a","essential":false}]}`, `{"containerDefinitions":[{"name":"a","essential":false}]}`},
	})
}

func TestContainerCPUDefault(t *testing.T) {
	runRule(t, containerCPUDefault, []ruleCase{
		{"zero dropped", `{"containerDefinitions":[{"cpu":0}]}`, `{"containerDefinitions":[{}]}`},
		{"0.0 dropped", `{"containerDefinitions":[{"cpu":0.0}]}`, `{"containerDefinitions":[{}]}`},
		{"nonzero kept", `{"containerDefinitions":[{"cpu":10}]}`, `{"containerDefinitions":[{"cpu":10}]}`},
		{"task cpu untouched", `{"cpu":0}`, `{"cpu":0}`},
	})
}

func TestPortProtocolDefault(t *testing.T) {
	runRule(t, portProtocolDefault, []ruleCase{
		{"tcp dropped", `{"containerDefinitions":[{"portMappings":[{"containerPort":80,"protocol":"tcp"}]}]}`, `{"containerDefinitions":[{"portMappings":[{"containerPort":80}]}]}`},
		{"udp kept", `{"containerDefinitions":[{"portMappings":[{"containerPort":53,"protocol":"udp"}]}]}`, `{"containerDefinitions":[{"portMappings":[{"containerPort":53,"protocol":"udp"}]}]}`},
	})
}

func TestOwnNetworkHostPort(t *testing.T) {
	runRule(t, ownNetworkHostPort, []ruleCase{
		{"awsvpc equal dropped", `{"networkMode":"awsvpc","containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":80}]}]}`,
			`{"networkMode":"awsvpc","containerDefinitions":[{"portMappings":[{"containerPort":80}]}]}`},
		{"host equal dropped", `{"networkMode":"host","containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":80}]}]}`,
			`{"networkMode":"host","containerDefinitions":[{"portMappings":[{"containerPort":80}]}]}`},
		{"bridge kept: hostPort absent means dynamic", `{"networkMode":"bridge","containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":80}]}]}`,
			`{"networkMode":"bridge","containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":80}]}]}`},
		{"no networkMode kept", `{"containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":80}]}]}`,
			`{"containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":80}]}]}`},
		{"awsvpc different kept", `{"networkMode":"awsvpc","containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":81}]}]}`,
			`{"networkMode":"awsvpc","containerDefinitions":[{"portMappings":[{"containerPort":80,"hostPort":81}]}]}`},
	})
}

func TestHealthCheckDefaults(t *testing.T) {
	runRule(t, healthCheckDefaults, []ruleCase{
		{"defaults dropped", `{"containerDefinitions":[{"healthCheck":{"command":["CMD","true"],"interval":30,"timeout":5,"retries":3}}]}`,
			`{"containerDefinitions":[{"healthCheck":{"command":["CMD","true"]}}]}`},
		{"others kept", `{"containerDefinitions":[{"healthCheck":{"command":["CMD","true"],"interval":10,"timeout":6,"retries":1,"startPeriod":0}}]}`,
			`{"containerDefinitions":[{"healthCheck":{"command":["CMD","true"],"interval":10,"timeout":6,"retries":1,"startPeriod":0}}]}`},
	})
}

func TestFaultInjectionDefault(t *testing.T) {
	runRule(t, faultInjectionDefault, []ruleCase{
		{"false dropped", `{"enableFaultInjection":false}`, `{}`},
		{"true kept", `{"enableFaultInjection":true}`, `{"enableFaultInjection":true}`},
	})
}

func TestSortNamedLists(t *testing.T) {
	runRule(t, sortNamedLists, []ruleCase{
		{"containers and volumes", `{"containerDefinitions":[{"name":"b"},{"name":"a"}],"volumes":[{"name":"y"},{"name":"x"}]}`,
			`{"containerDefinitions":[{"name":"a"},{"name":"b"}],"volumes":[{"name":"x"},{"name":"y"}]}`},
		{"environment and secrets", `{"containerDefinitions":[{"environment":[{"name":"Z","value":"1"},{"name":"A","value":"2"}],"secrets":[{"name":"S2","valueFrom":"x"},{"name":"S1","valueFrom":"y"}]}]}`,
			`{"containerDefinitions":[{"environment":[{"name":"A","value":"2"},{"name":"Z","value":"1"}],"secrets":[{"name":"S1","valueFrom":"y"},{"name":"S2","valueFrom":"x"}]}]}`},
		{"tags by key", `{"tags":[{"key":"b","value":"1"},{"key":"a","value":"2"}]}`, `{"tags":[{"key":"a","value":"2"},{"key":"b","value":"1"}]}`},
		{"stable for duplicates", `{"containerDefinitions":[{"environment":[{"name":"A","value":"1"},{"name":"A","value":"0"}]}]}`,
			`{"containerDefinitions":[{"environment":[{"name":"A","value":"1"},{"name":"A","value":"0"}]}]}`},
		{"command order kept", `{"containerDefinitions":[{"command":["b","a"]}]}`, `{"containerDefinitions":[{"command":["b","a"]}]}`},
	})
}

func TestDropEmpty(t *testing.T) {
	runRule(t, dropEmpty, []ruleCase{
		{"null, [] and {}", `{"a":null,"b":[],"c":{},"d":1}`, `{"d":1}`},
		{"nested empties collapse", `{"a":{"b":{"c":null}},"d":[{"e":[]}]}`, `{"d":[{}]}`},
		{"null in a list kept", `{"a":[null]}`, `{"a":[null]}`},
		{"false, 0 and empty string kept", `{"a":false,"b":0,"c":""}`, `{"a":false,"b":0,"c":""}`},
	})
}

func TestReduceDoesNotModifyInput(t *testing.T) {
	in := mustParse(t, `{"taskDefinition":{"family":"a","revision":1,"containerDefinitions":[{"name":"b","essential":true},{"name":"a"}]}}`)
	before := string(in.Marshal())
	_ = Reduce(in)
	if after := string(in.Marshal()); after != before {
		t.Errorf("Reduce modified its input:\n%s\n%s", before, after)
	}
}

func TestReduceIsIdempotent(t *testing.T) {
	in := mustParse(t, `{"family":"a","cpu":"0.5 vcpu","networkMode":"awsvpc","containerDefinitions":[{"name":"b","essential":true,"cpu":0,
		"portMappings":[{"containerPort":80,"hostPort":80,"protocol":"tcp"}],"environment":[]},{"name":"a","healthCheck":{"command":["x"],"interval":30}}]}`)
	once := Reduce(in)
	if twice := Reduce(once); !ojson.Equal(once, twice) {
		t.Errorf("Reduce(Reduce(x)) != Reduce(x):\n%s\n%s", once.Marshal(), twice.Marshal())
	}
}
