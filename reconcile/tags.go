package reconcile

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/taskward/taskward/internal/ojson"
)

// Tags taskward puts on every revision it registers (DESIGN.md decision 7). Keys share
// TagPrefix so that reduction can drop them from both sides: they are bookkeeping, not
// content.
const (
	TagManagedBy   = TagPrefix + "managed-by"   // always ManagedByValue
	TagSource      = TagPrefix + "source"       // repo-relative path of the task definition file
	TagCommit      = TagPrefix + "commit"       // git commit the definition was rendered from
	TagContentHash = TagPrefix + "content-hash" // ContentHash of the rendered definition
	// TagDeployment, on a service: the id of the deployment taskward's UpdateService
	// started, so health can tell its rollout's fate (FAILED, rolled back) later.
	TagDeployment = TagPrefix + "deployment"
	// TagServiceHash, on a service in Git: the hash of the file taskward last applied to
	// it, so that a later run tells its own settings from out-of-band ones.
	TagServiceHash = TagPrefix + "service-hash"
	// TagRolloutFailed, on a service, holds the content hash whose rollout failed there (a
	// FAILED rollout or a circuit-breaker rollback): it is not applied again to that
	// service until Git changes the family or a retry is asked for.
	TagRolloutFailed = TagPrefix + "rollout-failed"
	ManagedByValue   = "taskward"
)

// maxTagValue is ECS's limit on a tag value, in characters.
const maxTagValue = 256

// tagValue makes s a valid ECS tag value: letters, digits and spaces (any language) and
// _ . / = + - : @ are allowed, anything else becomes '_', and the result is cut to 256
// characters. Tag values are informational (the hash is already valid), so a lossy
// spelling of an odd path is better than a failed registration.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html
func tagValue(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxTagValue {
			break
		}
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("_./=+-:@", r)) || r == utf8.RuneError {
			r = '_'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// withTaskwardTags returns the definition's tags with any taskward.dev/* ones replaced by
// tags, in a new array: user tags first, in their order, then ours.
func withTaskwardTags(def *ojson.Value, tags [][2]string) *ojson.Value {
	out := ojson.NewArray()
	if old := def.Get("tags"); old != nil && old.Kind == ojson.Array {
		for _, t := range old.Arr {
			if !strings.HasPrefix(t.Get("key").StringOr(""), TagPrefix) {
				out.Arr = append(out.Arr, t)
			}
		}
	}
	for _, kv := range tags {
		t := ojson.NewObject()
		t.Set("key", ojson.NewString(kv[0]))
		t.Set("value", ojson.NewString(kv[1]))
		out.Arr = append(out.Arr, t)
	}
	return out
}
