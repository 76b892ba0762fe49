package manifests

import (
	"strings"
	"testing"
)

// TestYAMLErrorsLocateAndFix: a value of the wrong shape in taskward.yaml or a policy file
// is reported at its line and column, with its path, its whole value and the fix; every
// such mistake of a file is reported, not only the first; a value error found by
// validation gets its line too.
func TestYAMLErrorsLocateAndFix(t *testing.T) {
	long := "/usr/sbin/nginx-with-a-rather-long-path-that-must-not-be-cut"
	for _, tc := range []struct {
		name, file, src string
		want            []string
	}{
		{"policy", "policies/p.yaml", "name: p\nprocesses:\n  effect: default\n  allow: " + long + "\n  deny: curl\npackageManagers: [block]\n", []string{
			`policies/p.yaml:3:11: processes.effect: unknown effect "default": use block, alert or off (policy "p")`,
			`policies/p.yaml:4:10: processes.allow: must be a list, even of one: [` + long + `]; got "` + long + `"`,
			`policies/p.yaml:5:9: processes.deny: must be a list, even of one: [curl]`,
			`policies/p.yaml:6:18: packageManagers: must be a single value, got a list`,
		}},
		{"policy section as a word", "policies/q.yaml", "name: q\nprocesses: default\n", []string{
			`policies/q.yaml:2:12: processes: must be a mapping of keys to values (key: value on the lines below, indented), got "default"`,
		}},
		{"config", "taskward.yaml", "region: us-east-1\nclusters: prod\nskip:\n  containers: [x]\nimages:\n  nginx:1.27: [nginx]\nregion2: x\n", []string{
			`taskward.yaml:2:11: clusters: must be a list, even of one: [prod]; got "prod"`,
			`taskward.yaml:4:3: skip: must be a list`,
			`taskward.yaml:6:15: images.nginx:1.27: must be a mapping of keys to values`,
			`taskward.yaml:7:1: region2: unknown key "region2" (did you mean "region"?)`,
		}},
		{"config value", "taskward.yaml", "region: us-east-1\nevents:\n  url: ftp://x\n", []string{
			`taskward.yaml:3:8: events.url: "ftp://x" must be an http(s) URL`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var probs Problems
			if tc.file == ConfigFile {
				cfg, ps := ParseConfig(tc.file, []byte(tc.src))
				if cfg != nil {
					t.Errorf("a broken taskward.yaml parsed")
				}
				probs = ps
			} else {
				pols, ps := ParsePolicies(tc.file, []byte(tc.src))
				if len(pols) != 0 {
					t.Errorf("a broken policy parsed: %v", pols)
				}
				probs = ps
			}
			got := probs.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if strings.Contains(got, "...`") || strings.Contains(got, "!!") || strings.Contains(got, "unmarshal") {
				t.Errorf("yaml.v3's raw words or a cut value:\n%s", got)
			}
		})
	}
}
