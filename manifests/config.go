package manifests

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/taskward/taskward/internal/version"
	"github.com/taskward/taskward/policy"
)

// ConfigFile is the repo configuration's file name, at the repo's top.
const ConfigFile = "taskward.yaml"

// Config is taskward.yaml.
type Config struct {
	// Region is the AWS region of the clusters (default us-east-1).
	Region string `yaml:"region"`
	// RegionSet says taskward.yaml named the region: it then wins over the environment's
	// AWS_REGION, because the repo knows where its clusters are.
	RegionSet bool `yaml:"-"`
	// Clusters are the ECS clusters whose services and tasks taskward manages and scans.
	Clusters []string `yaml:"clusters"`
	// Defender configures the injected defender.
	Defender DefenderConfig `yaml:"defender"`
	// Events says where defenders send their events.
	Events EventsConfig `yaml:"events"`
	// Skip lists containers that are not protected, with the reason (a FireLens log router,
	// an Envoy proxy that must start before the defender can, a Windows container).
	Skip []SkipRule `yaml:"skip"`
	// Images declares an image's ENTRYPOINT and CMD where no registry can be reached (an
	// air-gapped CI): a reviewed override, used instead of the registry and reported as such.
	// Keys are image references, matched as trusted-image rules match them: normalized, so
	// nginx:1.27 and docker.io/library/nginx:1.27 are the same image.
	Images map[string]ImageOverride `yaml:"images"`

	// imageKeyAt is where each Images key is in taskward.yaml (line, column), for warnings
	// found when rendering.
	imageKeyAt map[string][2]int
}

// ImageOverride returns the override declared for image, and its key as written. An exact
// key wins; otherwise keys and image are compared normalized.
func (cfg *Config) ImageOverride(image string) (ImageOverride, string, bool) {
	if o, ok := cfg.Images[image]; ok {
		return o, image, true
	}
	ref, err := policy.ParseImageRef(image)
	if err != nil {
		return ImageOverride{}, "", false
	}
	for k, o := range cfg.Images {
		if kr, err := policy.ParseImageRef(k); err == nil && kr == ref {
			return o, k, true
		}
	}
	return ImageOverride{}, "", false
}

// unusedImageOverrides warns about each images key that no container of tasks runs: a
// misspelt key silently does nothing.
func (cfg *Config) unusedImageOverrides(tasks []*TaskDef) Problems {
	used := map[string]bool{}
	for _, td := range tasks {
		for _, cd := range td.Doc.Get("containerDefinitions").Arr {
			if _, k, ok := cfg.ImageOverride(cd.Get("image").StringOr("")); ok {
				used[k] = true
			}
		}
	}
	var out Problems
	for k := range cfg.Images {
		if used[k] {
			continue
		}
		at := cfg.imageKeyAt[k]
		out = append(out, &Problem{File: ConfigFile, Line: at[0], Col: at[1], Path: "images." + k, Warning: true,
			Msg: fmt.Sprintf("no container runs image %q, so this override is never used: write the image as a task definition does (the registry and library/ may be left out, the tag may not)", k)})
	}
	return out
}

// DefenderConfig configures the injected defender.
type DefenderConfig struct {
	// Image is the defender image for the init container. Pin it by digest.
	Image string `yaml:"image"`
}

// EventsConfig says where the defender posts events.
type EventsConfig struct {
	// URL is the controller's events endpoint, e.g. https://taskward.example.com/v1/events.
	URL string `yaml:"url"`
	// TokenSecretARN is the Secrets Manager secret or SSM parameter holding the bearer token;
	// it is injected through the container's "secrets", never as plain environment.
	TokenSecretARN string `yaml:"tokenSecretArn"`
}

// SkipRule leaves matching containers unprotected.
type SkipRule struct {
	Families   []string `yaml:"families"`
	Containers []string `yaml:"containers"`
	Images     []string `yaml:"images"`
	// Reason is required: a skipped container is an exception someone must justify.
	Reason string `yaml:"reason"`
}

// ImageOverride is an image's ENTRYPOINT and CMD, declared instead of looked up.
type ImageOverride struct {
	Entrypoint []string `yaml:"entrypoint"`
	Cmd        []string `yaml:"cmd"`
	Reason     string   `yaml:"reason"`
}

// DefaultConfig is the configuration of a repo without taskward.yaml.
func DefaultConfig() *Config {
	return &Config{Region: "us-east-1", Clusters: []string{"default"}, Defender: DefenderConfig{Image: version.DefaultDefenderImage}}
}

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	arnRE    = regexp.MustCompile(`^arn:aws[a-z-]*:(secretsmanager|ssm):[a-z0-9-]+:\d{12}:.+$`)
)

// ParseConfig parses and validates taskward.yaml; defaults fill what it leaves out.
func ParseConfig(file string, src []byte) (*Config, Problems) {
	var probs Problems
	c := &collector{file: file, out: &probs}
	docs := decodeYAMLDocs[Config](c, src)
	if len(docs) > 1 {
		c.add(-1, "", "holds %d YAML documents; taskward.yaml is one", len(docs))
		return nil, probs
	}
	cfg := DefaultConfig()
	broken := false
	if len(docs) == 1 {
		d := docs[0].v
		c.yamlPos, broken = docs[0].pos, docs[0].broken
		if d.Region != "" {
			cfg.Region, cfg.RegionSet = d.Region, true
		}
		if len(d.Clusters) > 0 {
			cfg.Clusters = d.Clusters
		}
		if d.Defender.Image != "" {
			cfg.Defender.Image = d.Defender.Image
		}
		cfg.Events, cfg.Skip, cfg.Images = d.Events, d.Skip, d.Images
		cfg.imageKeyAt = map[string][2]int{}
		for k := range d.Images {
			if n := c.yamlNode("images." + k); n != nil {
				cfg.imageKeyAt[k] = [2]int{n.Line, n.Column}
			}
		}
	}
	cfg.validate(c)
	c.yamlPos = nil
	if broken || probs.Err() != nil {
		return nil, probs
	}
	return cfg, probs
}

func (cfg *Config) validate(c *collector) {
	if !regionRE.MatchString(cfg.Region) {
		c.add(-1, "region", "%q is not an AWS region such as us-east-1", cfg.Region)
	}
	for i, cl := range cfg.Clusters {
		if cl == "" {
			c.add(-1, fmt.Sprintf("clusters[%d]", i), "empty cluster name")
		}
	}
	if ref, err := policy.ParseImageRef(cfg.Defender.Image); err != nil {
		c.add(-1, "defender.image", "%v", err)
	} else if ref.Digest == "" {
		c.warn(-1, "defender.image", "%q is not pinned by digest: a moved tag would change every protected task; use IMAGE@sha256:...", cfg.Defender.Image)
	}
	if u := cfg.Events.URL; u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			c.add(-1, "events.url", "%q must be an http(s) URL such as https://taskward.example.com/v1/events", u)
		} else if pu.User != nil {
			c.add(-1, "events.url", "must not carry credentials: put the token in Secrets Manager and name it in events.tokenSecretArn")
		} else if pu.Scheme == "http" {
			c.warn(-1, "events.url", "plain http: the events token would travel unencrypted")
		}
	}
	if a := cfg.Events.TokenSecretARN; a != "" && !arnRE.MatchString(a) {
		c.add(-1, "events.tokenSecretArn", "%q must be a Secrets Manager or SSM parameter ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)", a)
	}
	if cfg.Events.TokenSecretARN != "" && cfg.Events.URL == "" {
		c.add(-1, "events.tokenSecretArn", "set events.url too: a token without an events URL is never used")
	}
	for i, s := range cfg.Skip {
		p := fmt.Sprintf("skip[%d]", i)
		if strings.TrimSpace(s.Reason) == "" {
			c.add(-1, p+".reason", "required: say why these containers run unprotected")
		}
		if len(s.Families)+len(s.Containers)+len(s.Images) == 0 {
			c.add(-1, p, "matches every container: name families, containers or images")
		}
	}
	seen := map[policy.ImageRef]string{}
	for _, img := range slices.Sorted(maps.Keys(cfg.Images)) {
		o := cfg.Images[img]
		if len(o.Entrypoint)+len(o.Cmd) == 0 {
			c.add(-1, "images."+img, "declares neither entrypoint nor cmd: a container needs a program to run")
		}
		ref, err := policy.ParseImageRef(img)
		if err != nil {
			c.add(-1, "images."+img, "%v", err)
			continue
		}
		if other, dup := seen[ref]; dup {
			c.add(-1, "images."+img, "is the same image as %q (both are %s): keep one", other, ref)
		}
		seen[ref] = img
	}
}

// Skipped returns the skip rule that leaves this container unprotected, or nil.
func (cfg *Config) Skipped(family, container, image string) *SkipRule {
	for i := range cfg.Skip {
		s := &cfg.Skip[i]
		sel := policy.Selector{Families: s.Families, Containers: s.Containers, Images: s.Images}
		if sel.Matches(family, container, image) {
			return s
		}
	}
	return nil
}

// DeclaredRegion returns the region taskward.yaml names, or "" when it names none.
func (cfg *Config) DeclaredRegion() string {
	if cfg.RegionSet {
		return cfg.Region
	}
	return ""
}
