package reconcile

import (
	"slices"
	"strconv"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
)

// A Rule is one normalization of DESIGN.md decision 6: a small function that rewrites a
// task definition in place so that two spellings ECS treats as the same become the same
// JSON. Rules are applied, in the order of [Rules], to both the desired and the live side
// before they are compared or hashed.
type Rule struct {
	Name  string
	Doc   string
	Apply func(td *ojson.Value)
}

// rules is the one place every normalization is listed. The order matters in two places:
// unwrapping comes first (the others expect a bare definition), and dropEmpty comes last
// (earlier rules delete members and can leave empty objects and lists behind).
var rules = []Rule{
	{"unwrap-describe-output", "a DescribeTaskDefinition output ({taskDefinition, tags}) is reduced to the definition, tags included", unwrapDescribeOutput},
	{"drop-server-fields", "fields ECS adds on registration (arn, revision, status, ...) are not part of the definition", dropServerFields},
	{"drop-taskward-tags", "taskward.dev/* tags are apply's bookkeeping, not content", dropTaskwardTags},
	{"task-size-units", `task cpu "0.25 vCPU" == "256", memory "1 GB" == "1024"`, taskSizeUnits},
	{"essential-default-true", "container essential absent == true", essentialDefault},
	{"container-cpu-default-zero", "container cpu absent == 0", containerCPUDefault},
	{"port-protocol-default-tcp", "portMappings protocol absent == tcp", portProtocolDefault},
	{"own-network-host-port", "with awsvpc (and host) networking hostPort absent == containerPort", ownNetworkHostPort},
	{"health-check-defaults", "healthCheck interval 30, timeout 5, retries 3 are the defaults", healthCheckDefaults},
	{"fault-injection-default-false", "enableFaultInjection absent == false (real ECS describes every revision with it)", faultInjectionDefault},
	{"sort-named-lists", "containers, volumes, environment and secrets sorted by name, tags by key", sortNamedLists},
	{"drop-empty", "absent == null == empty list == empty object, at every level", dropEmpty},
}

// Rules returns the normalization rules in the order they are applied.
func Rules() []Rule { return slices.Clone(rules) }

// Reduce returns a normalized deep copy of a task definition: every rule of [Rules]
// applied. The input is not modified. Reduce(nil) is nil.
func Reduce(td *ojson.Value) *ojson.Value {
	if td == nil {
		return nil
	}
	c := td.Clone()
	for _, r := range rules {
		r.Apply(c)
	}
	return c
}

// serverFields are what RegisterTaskDefinition does not accept but DescribeTaskDefinition
// returns (plus deleteRequestedAt for revisions being deleted).
var serverFields = []string{
	"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
	"registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
}

// unwrapDescribeOutput unwraps {"taskDefinition": {...}, "tags": [...]} (nothing else
// beside them, as manifests also requires). It repeats while the result is still a
// wrapper, so that the rule is idempotent even for a wrapper wrapped twice: a definition
// itself never has a taskDefinition member.
func unwrapDescribeOutput(td *ojson.Value) {
	for {
		inner := td.Get("taskDefinition")
		if inner == nil || inner.Kind != ojson.Object {
			return
		}
		for _, k := range td.Keys() {
			if k != "taskDefinition" && k != "tags" {
				return
			}
		}
		if tags := td.Get("tags"); !tags.IsNull() && !inner.Has("tags") {
			inner.Set("tags", tags)
		}
		*td = *inner
	}
}

func dropServerFields(td *ojson.Value) {
	for _, k := range serverFields {
		td.Delete(k)
	}
}

// TagPrefix starts every tag key taskward writes.
const TagPrefix = "taskward.dev/"

func dropTaskwardTags(td *ojson.Value) {
	tags := td.Get("tags")
	if tags == nil || tags.Kind != ojson.Array {
		return
	}
	tags.Arr = slices.DeleteFunc(tags.Arr, func(t *ojson.Value) bool {
		return strings.HasPrefix(t.Get("key").StringOr(""), TagPrefix)
	})
}

func taskSizeUnits(td *ojson.Value) {
	for key, parse := range map[string]func(string) (int64, bool){"cpu": taskCPUUnits, "memory": taskMemoryMiB} {
		v := td.Get(key)
		var s string
		switch {
		case v == nil:
			continue
		case v.Kind == ojson.String:
			s = v.Str
		case v.Kind == ojson.Number:
			s = v.Num
		default:
			continue
		}
		if n, ok := parse(s); ok {
			td.Set(key, ojson.NewString(strconv.FormatInt(n, 10)))
		}
	}
}

func essentialDefault(td *ojson.Value) {
	for _, c := range containers(td) {
		if e := c.Get("essential"); e != nil && e.Kind == ojson.Bool && e.Bool {
			c.Delete("essential")
		}
	}
}

func containerCPUDefault(td *ojson.Value) {
	for _, c := range containers(td) {
		if isZero(c.Get("cpu")) {
			c.Delete("cpu")
		}
	}
}

func portProtocolDefault(td *ojson.Value) {
	for _, c := range containers(td) {
		for _, pm := range objects(c.Get("portMappings")) {
			if p := pm.Get("protocol"); p != nil && p.Kind == ojson.String && p.Str == "tcp" {
				pm.Delete("protocol")
			}
		}
	}
}

// ownNetworkHostPort: with awsvpc or host networking the container owns the network
// namespace, so there is no port mapping and ECS describes hostPort equal to containerPort
// whether or not it was given.
func ownNetworkHostPort(td *ojson.Value) {
	switch td.Get("networkMode").StringOr("") {
	case "awsvpc", "host":
	default:
		return
	}
	for _, c := range containers(td) {
		for _, pm := range objects(c.Get("portMappings")) {
			hp, cp := pm.Get("hostPort"), pm.Get("containerPort")
			if hp != nil && cp != nil && sameNumber(hp, cp) {
				pm.Delete("hostPort")
			}
		}
	}
}

var healthCheckDefaultValues = []struct {
	key string
	val int64
}{{"interval", 30}, {"timeout", 5}, {"retries", 3}}

func healthCheckDefaults(td *ojson.Value) {
	for _, c := range containers(td) {
		hc := c.Get("healthCheck")
		if hc == nil || hc.Kind != ojson.Object {
			continue
		}
		for _, d := range healthCheckDefaultValues {
			if v := hc.Get(d.key); v != nil && numberIs(v, d.val) {
				hc.Delete(d.key)
			}
		}
	}
}

func faultInjectionDefault(td *ojson.Value) {
	if v := td.Get("enableFaultInjection"); v != nil && v.Kind == ojson.Bool && !v.Bool {
		td.Delete("enableFaultInjection")
	}
}

func sortNamedLists(td *ojson.Value) {
	sortBy(td.Get("containerDefinitions"), "name")
	sortBy(td.Get("volumes"), "name")
	sortBy(td.Get("tags"), "key")
	for _, c := range containers(td) {
		sortBy(c.Get("environment"), "name")
		sortBy(c.Get("secrets"), "name")
	}
}

// sortBy sorts an array of objects by a string member, stably, so that entries with the
// same (or no) key keep their order.
func sortBy(arr *ojson.Value, key string) {
	if arr == nil || arr.Kind != ojson.Array {
		return
	}
	slices.SortStableFunc(arr.Arr, func(a, b *ojson.Value) int {
		return strings.Compare(a.Get(key).StringOr(""), b.Get(key).StringOr(""))
	})
}

// dropEmpty removes object members that are null, [] or {} (after their own members were
// reduced, so {"a": {"b": null}} loses "a" too). Array elements are kept: a null inside a
// list is a value, not an absence.
func dropEmpty(v *ojson.Value) {
	switch v.Kind {
	case ojson.Array:
		for _, e := range v.Arr {
			dropEmpty(e)
		}
	case ojson.Object:
		kept := v.Obj[:0]
		for _, m := range v.Obj {
			dropEmpty(m.Value)
			if !isEmpty(m.Value) {
				kept = append(kept, m)
			}
		}
		v.Obj = kept
	}
}

func isEmpty(v *ojson.Value) bool {
	switch {
	case v.IsNull():
		return true
	case v.Kind == ojson.Array:
		return len(v.Arr) == 0
	case v.Kind == ojson.Object:
		return len(v.Obj) == 0
	}
	return false
}

// containers returns the container definition objects of a task definition.
func containers(td *ojson.Value) []*ojson.Value { return objects(td.Get("containerDefinitions")) }

// objects returns the object elements of an array (others are skipped: the definition is
// not validated here, and a malformed one must still diff rather than panic).
func objects(arr *ojson.Value) []*ojson.Value {
	if arr == nil || arr.Kind != ojson.Array {
		return nil
	}
	out := make([]*ojson.Value, 0, len(arr.Arr))
	for _, e := range arr.Arr {
		if e != nil && e.Kind == ojson.Object {
			out = append(out, e)
		}
	}
	return out
}

// numberIs reports whether v is a JSON number equal to n ("30", "30.0" and "3e1" all are).
func numberIs(v *ojson.Value, n int64) bool {
	if v == nil || v.Kind != ojson.Number {
		return false
	}
	if i, err := strconv.ParseInt(v.Num, 10, 64); err == nil {
		return i == n
	}
	f, err := strconv.ParseFloat(v.Num, 64)
	return err == nil && f == float64(n)
}

func isZero(v *ojson.Value) bool { return numberIs(v, 0) }

func sameNumber(a, b *ojson.Value) bool {
	if a.Kind != ojson.Number || b.Kind != ojson.Number {
		return false
	}
	if a.Num == b.Num {
		return true
	}
	fa, errA := strconv.ParseFloat(a.Num, 64)
	fb, errB := strconv.ParseFloat(b.Num, 64)
	return errA == nil && errB == nil && fa == fb
}
