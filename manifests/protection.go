package manifests

import (
	"fmt"
	"slices"

	"github.com/taskward/taskward/internal/ojson"
)

// Unprotected checks a live task definition against the render contract (DESIGN.md
// decision 2), which this package owns: the init container is there with the configured
// defender image, and every application container that taskward.yaml does not skip
// starts through the defender and carries a policy, the repo's when desired (the family's
// rendered definition, nil for a family Git does not have) names one. It returns why the
// definition is unprotected, one reason per problem, or nil.
func (cfg *Config) Unprotected(family string, live, desired *ojson.Value) []string {
	var why []string
	var init *ojson.Value
	eachObj(live.Get("containerDefinitions"), func(_ int, cd *ojson.Value) {
		if cd.Get("name").StringOr("") == InitContainerName {
			init = cd
		}
	})
	switch {
	case init == nil:
		why = append(why, "no "+InitContainerName+" init container")
	case init.Get("image").StringOr("") != cfg.Defender.Image:
		why = append(why, fmt.Sprintf("defender image %s, not the configured %s", init.Get("image").StringOr(""), cfg.Defender.Image))
	}
	wantPolicy := map[string]string{}
	eachObj(desired.Get("containerDefinitions"), func(_ int, cd *ojson.Value) {
		wantPolicy[cd.Get("name").StringOr("")] = envValue(cd, EnvPolicy)
	})
	eachObj(live.Get("containerDefinitions"), func(_ int, cd *ojson.Value) {
		name := cd.Get("name").StringOr("")
		if name == InitContainerName || cfg.Skipped(family, name, cd.Get("image").StringOr("")) != nil {
			return
		}
		ep, _ := cd.Get("entryPoint").Strings()
		if !slices.Equal(ep, DefenderEntryPoint) {
			why = append(why, fmt.Sprintf("container %s does not start through the defender", name))
			return
		}
		got := envValue(cd, EnvPolicy)
		switch want, managed := wantPolicy[name]; {
		case got == "":
			why = append(why, fmt.Sprintf("container %s has no policy (%s stripped)", name, EnvPolicy))
		case managed && want != "" && got != want:
			why = append(why, fmt.Sprintf("container %s runs a policy that is not the repo's", name))
		}
	})
	return why
}

// envValue returns the value of the environment variable name of a container, or "".
func envValue(cd *ojson.Value, name string) string {
	v := ""
	eachObj(cd.Get("environment"), func(_ int, kv *ojson.Value) {
		if kv.Get("name").StringOr("") == name {
			v = kv.Get("value").StringOr("")
		}
	})
	return v
}
