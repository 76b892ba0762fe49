package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/manifests"
)

// importServiceFields are the DescribeServices members an imported service file keeps:
// the CreateService input taskward compares and applies (cluster comes from taskward.yaml).
var importServiceFields = []string{
	"serviceName", "taskDefinition", "desiredCount", "launchType", "capacityProviderStrategy", "platformVersion",
	"schedulingStrategy", "deploymentConfiguration", "networkConfiguration", "loadBalancers", "serviceRegistries",
	"healthCheckGracePeriodSeconds", "placementConstraints", "placementStrategy", "propagateTags",
	"enableECSManagedTags", "enableExecuteCommand",
}

// Imported is a GitOps repo made from what a cluster runs: file path -> content.
type Imported struct {
	Files map[string][]byte
	// Notes say what was left out or changed (a protected definition unprotected, a
	// service of another deployment controller, ...).
	Notes []string
}

// Import makes a GitOps repo of the Reconciler's cluster: taskward.yaml (the cluster,
// region), tasks/FAMILY.json (the revision each service runs, reduced to
// RegisterTaskDefinition input, and unprotected when taskward had protected it: Git holds
// plain definitions) and services/NAME.json (CreateService input naming the family), for
// the services named (all when none). `taskward diff` of the result against the same ECS
// then shows only the protection being added.
func (r *Reconciler) Import(ctx context.Context, region string, only []string) (*Imported, error) {
	services, err := r.services(ctx)
	if err != nil {
		return nil, err
	}
	out := &Imported{Files: map[string][]byte{}}
	found := map[string]bool{}
	defenders := map[string]bool{} // defender images of the protected definitions
	for _, s := range services {
		if len(only) > 0 && !slices.Contains(only, s.Name) {
			continue
		}
		found[s.Name] = true
		if s.DeploymentController != "ECS" {
			out.Notes = append(out.Notes, fmt.Sprintf("service %s uses the %s deployment controller: taskward does not deploy it, not imported", s.Name, s.DeploymentController))
			continue
		}
		rev, err := r.Revision(ctx, s.TaskDefinition)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Name, err)
		}
		def := rev.Definition.Clone()
		if manifests.IsProtected(def) {
			for _, cd := range def.Get("containerDefinitions").Arr {
				if cd.Get("name").StringOr("") == manifests.InitContainerName {
					defenders[cd.Get("image").StringOr("")] = true
				}
			}
			if def, err = manifests.Unrender(def); err != nil {
				return nil, fmt.Errorf("service %s: %s is protected by taskward but does not unrender: %w", s.Name, ShortARN(rev.ARN), err)
			}
			out.Notes = append(out.Notes, fmt.Sprintf("tasks/%s.json: %s was protected by taskward; imported unprotected (taskward renders the protection)", rev.Family, ShortARN(rev.ARN)))
		}
		dropServerFields(def)
		dropTaskwardTags(def)
		if t := def.Get("tags"); t != nil && t.Kind == ojson.Array && len(t.Arr) == 0 {
			def.Delete("tags")
		}
		out.Files["tasks/"+rev.Family+".json"] = append(def.MarshalIndent("  "), '\n')

		svc := ojson.NewObject()
		for _, k := range importServiceFields {
			if v := s.Raw.Get(k); !v.IsNull() {
				svc.Set(k, v)
			}
		}
		svc.Set("taskDefinition", ojson.NewString(rev.Family))
		out.Files["services/"+s.Name+".json"] = append(svc.MarshalIndent("  "), '\n')
	}
	for _, name := range only {
		if !found[name] {
			return nil, fmt.Errorf("cluster %s has no ACTIVE service %q", r.cluster, name)
		}
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# Imported from cluster %s by taskward import.\n", r.cluster)
	if region != "" {
		fmt.Fprintf(&cfg, "region: %s\n", region)
	}
	fmt.Fprintf(&cfg, "clusters: [%s]\n", r.cluster)
	// The defender image the cluster's protected tasks run, so that diff does not show a
	// change of it; with several, the repo's default stays and the note says so.
	switch imgs := slices.Sorted(func(yield func(string) bool) {
		for k := range defenders {
			if !yield(k) {
				return
			}
		}
	}); len(imgs) {
	case 0:
	case 1:
		fmt.Fprintf(&cfg, "defender:\n  image: %s\n", imgs[0])
	default:
		out.Notes = append(out.Notes, fmt.Sprintf("taskward.yaml: the protected tasks run %d defender images (%s): set defender.image to the one to deploy", len(imgs), strings.Join(imgs, ", ")))
	}
	out.Files[manifests.ConfigFile] = []byte(cfg.String())
	return out, nil
}

// ErrExists is WriteTo's error when a file is there already and force is off.
var ErrExists = errors.New("already exists (use --force to overwrite)")

// WriteTo writes the files under dir. Without force it first checks that none exists,
// and writes nothing if one does: nothing is half-written.
func (im *Imported) WriteTo(dir string, force bool) error {
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range im.Files {
			if !yield(p) {
				return
			}
		}
	})
	if !force {
		var errs []error
		for _, p := range paths {
			if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
				errs = append(errs, fmt.Errorf("%s: %w", filepath.Join(dir, p), ErrExists))
			} else if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, im.Files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}
