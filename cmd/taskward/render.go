package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/policy"
)

// renderFlags are the flags every rendering command shares.
type renderFlags struct {
	insecure []string
	offline  bool
}

func (f *renderFlags) add(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.insecure, "insecure-registry", nil, "registry `HOST[:PORT]` that may be reached over plain HTTP (loopback hosts always may)")
	fs.BoolVar(&f.offline, "offline", false, "never contact a registry: images without entryPoint need an override in taskward.yaml")
}

// imageSource returns the registry source, with ECR credentials from the standard AWS
// chain; the chain is only consulted when an ECR image is actually looked up.
func (f *renderFlags) imageSource(ctx context.Context, extra ...manifests.RegistryOption) manifests.ImageSource {
	if f.offline {
		return nil
	}
	opts := append([]manifests.RegistryOption{manifests.WithInsecureRegistries(f.insecure...)}, extra...)
	if cfg, err := config.LoadDefaultConfig(ctx); err == nil {
		opts = append(opts, manifests.WithECR(ecr.NewFromConfig(cfg)))
	}
	return manifests.NewRegistrySource(opts...)
}

// printProblems writes warnings and errors to w, one per line.
func printProblems(w io.Writer, ps manifests.Problems) {
	for _, p := range ps {
		fmt.Fprintln(w, p.Error())
	}
}

func readInput(env *cmdEnv, args []string) (string, []byte, error) {
	if len(args) > 1 {
		return "", nil, fmt.Errorf("one input file at most, got %d", len(args))
	}
	if len(args) == 0 || args[0] == "-" {
		b, err := io.ReadAll(io.LimitReader(env.stdin, manifests.MaxTaskFileBytes+1))
		return "<stdin>", b, err
	}
	b, err := os.ReadFile(args[0])
	return args[0], b, err
}

func writeOutput(env *cmdEnv, out string, b []byte) error {
	if out == "" || out == "-" {
		_, err := env.stdout.Write(b)
		return err
	}
	return writeFileAtomic(out, b)
}

func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".taskward-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// findRepo returns the nearest directory at or above dir holding taskward.yaml, or "".
func findRepo(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if st, err := os.Stat(filepath.Join(abs, manifests.ConfigFile)); err == nil && st.Mode().IsRegular() {
			return abs
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
	}
}

func loadPolicyFile(path string) (*policy.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ps, probs := manifests.ParsePolicies(path, b)
	if err := probs.Err(); err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		return nil, fmt.Errorf("%s: holds %d policies; --policy takes a file with exactly one", path, len(ps))
	}
	return ps[0], nil
}

func init() {
	register(&command{
		name:    "protect",
		summary: "turn one task definition into a protected one (the defender injected)",
		usage:   "[FILE|-]",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var rf renderFlags
			rf.add(fs)
			var out docOutput
			out.add(fs, "write the protected task definition to `FILE` (default stdout)")
			pol := fs.String("policy", "", "policy `FILE` (YAML, one policy) for every container; default: the built-in policy")
			img := fs.String("defender-image", "", "defender `IMAGE` for the init container")
			cfgFile := fs.String("config", "", "taskward.yaml `FILE` for skipped containers, image overrides and events")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				if err := out.check(); err != nil {
					fmt.Fprintf(env.stderr, "taskward protect: %v\n", err)
					return exitError
				}
				name, src, err := readInput(env, args)
				if err != nil {
					fmt.Fprintf(env.stderr, "taskward protect: %v\n", err)
					return exitError
				}
				cfg := manifests.DefaultConfig()
				var repoPolicies []*policy.Policy
				if *cfgFile == "" && name != "<stdin>" {
					// A file inside a GitOps repo is protected with that repo's
					// configuration and policies, as `render` would.
					if dir := findRepo(filepath.Dir(name)); dir != "" {
						repo, probs := manifests.LoadDir(dir)
						if repo != nil {
							cfg, repoPolicies = repo.Config, repo.Policies
							fmt.Fprintf(env.stderr, "taskward protect: using %s\n", filepath.Join(dir, manifests.ConfigFile))
						} else {
							printProblems(env.stderr, probs)
							return exitChanges
						}
					}
				}
				if *cfgFile != "" {
					b, err := os.ReadFile(*cfgFile)
					if err != nil {
						fmt.Fprintf(env.stderr, "taskward protect: %v\n", err)
						return exitError
					}
					c, probs := manifests.ParseConfig(*cfgFile, b)
					printProblems(env.stderr, probs)
					if probs.Err() != nil {
						return exitChanges
					}
					cfg = c
				}
				if *img != "" {
					cfg.Defender.Image = *img
				}
				var opts []manifests.RenderOption
				if *pol != "" {
					p, err := loadPolicyFile(*pol)
					if err != nil {
						fmt.Fprintf(env.stderr, "taskward protect: %v\n", err)
						return exitChanges
					}
					opts = append(opts, manifests.WithPolicy(p))
				}
				td, probs := manifests.ParseTaskDef(name, src)
				printProblems(env.stderr, probs)
				if td == nil {
					return exitChanges
				}
				opts = append(opts, manifests.WithImageSource(rf.imageSource(ctx)))
				rd, probs := manifests.NewRenderer(cfg, repoPolicies, opts...).Render(ctx, td)
				printProblems(env.stderr, probs)
				if rd == nil {
					return exitChanges
				}
				if err := out.write(env, rd.Doc); err != nil {
					fmt.Fprintf(env.stderr, "taskward protect: %v\n", err)
					return exitError
				}
				return exitOK
			}
		},
	})

	register(&command{
		name:    "unprotect",
		summary: "restore the plain task definition a protected one was rendered from",
		usage:   "[FILE|-]",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var out docOutput
			out.add(fs, "write the plain task definition to `FILE` (default stdout)")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				if err := out.check(); err != nil {
					fmt.Fprintf(env.stderr, "taskward unprotect: %v\n", err)
					return exitError
				}
				name, src, err := readInput(env, args)
				if err != nil {
					fmt.Fprintf(env.stderr, "taskward unprotect: %v\n", err)
					return exitError
				}
				td, probs := manifests.ParseTaskDef(name, src)
				printProblems(env.stderr, probs)
				if td == nil {
					return exitChanges
				}
				plain, err := manifests.Unrender(td.Doc)
				if err != nil {
					fmt.Fprintf(env.stderr, "taskward unprotect: %s: %v\n", name, err)
					return exitChanges
				}
				if !manifests.IsProtected(td.Doc) {
					fmt.Fprintf(env.stderr, "taskward unprotect: %s: nothing to undo (no %s container: every container was skipped, or it was never protected); written unchanged\n", name, manifests.InitContainerName)
				}
				if err := out.write(env, plain); err != nil {
					fmt.Fprintf(env.stderr, "taskward unprotect: %v\n", err)
					return exitError
				}
				return exitOK
			}
		},
	})

	register(&command{
		name:    "render",
		summary: "render every task definition of a repo, protected",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var rf renderFlags
			rf.add(fs)
			repo := fs.String("repo", ".", "GitOps repo `DIR`")
			var out docOutput
			out.add(fs, "write each rendered task to `DIR`/<its path in the repo> instead of stdout")
			fs.StringVar(&out.format, "format", "json", "output format: json or yaml")
			fs.MarkDeprecated("format", "use -o/--output (the same values)")
			outDir, format := &out.file, &out.format
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				if err := out.check(); err != nil {
					fmt.Fprintf(env.stderr, "taskward render: %v\n", err)
					return exitError
				}
				rendered, code := loadAndRender(ctx, env, *repo, &rf)
				if rendered == nil {
					return code
				}
				return writeRendered(env, rendered, *outDir, *format)
			}
		},
	})

	register(&command{
		name:    "validate",
		summary: "check a repo: every error of every file, exit 1 when any",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var rf renderFlags
			rf.add(fs)
			repo := fs.String("repo", ".", "GitOps repo `DIR`")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				return validateRepo(ctx, env, *repo, &rf)
			}
		},
	})
}

// loadAndRender loads and renders a repo, printing every problem. On failure it returns
// nil and the exit code.
func loadAndRender(ctx context.Context, env *cmdEnv, dir string, rf *renderFlags) ([]*manifests.Rendered, int) {
	repo, probs := manifests.LoadDir(dir)
	printProblems(env.stderr, probs)
	if repo == nil {
		return nil, exitChanges
	}
	r := manifests.NewRenderer(repo.Config, repo.Policies, manifests.WithImageSource(rf.imageSource(ctx)))
	rendered, probs := r.RenderAll(ctx, repo.Tasks)
	printProblems(env.stderr, probs)
	if rendered == nil {
		return nil, exitChanges
	}
	for _, rd := range rendered {
		for _, c := range rd.Containers {
			if !c.Protected {
				fmt.Fprintf(env.stderr, "%s: container %q left unprotected: %s\n", rd.Path, c.Name, c.SkipReason)
			} else if strings.HasPrefix(c.ArgvSource, "override") {
				fmt.Fprintf(env.stderr, "%s: container %q: image ENTRYPOINT/CMD from the %s\n", rd.Path, c.Name, c.ArgvSource)
			}
		}
	}
	return rendered, exitOK
}

func writeRendered(env *cmdEnv, rendered []*manifests.Rendered, outDir, format string) int {
	encode := func(v *ojson.Value) ([]byte, error) {
		if format == "yaml" {
			return manifests.ToYAML(v)
		}
		return v.MarshalIndent("  "), nil
	}
	if outDir != "" {
		for _, rd := range rendered {
			b, err := encode(rd.Doc)
			if err != nil {
				fmt.Fprintf(env.stderr, "taskward render: %s: %v\n", rd.Path, err)
				return exitError
			}
			p := rd.Path
			if format == "yaml" {
				p = strings.TrimSuffix(p, ".json") + ".yaml"
			}
			if err := writeFileAtomic(filepath.Join(outDir, filepath.FromSlash(p)), b); err != nil {
				fmt.Fprintf(env.stderr, "taskward render: %v\n", err)
				return exitError
			}
		}
		return exitOK
	}
	if format == "json" {
		all := ojson.NewArray()
		for _, rd := range rendered {
			all.Arr = append(all.Arr, rd.Doc)
		}
		env.stdout.Write(all.MarshalIndent("  "))
		return exitOK
	}
	for _, rd := range rendered {
		b, err := encode(rd.Doc)
		if err != nil {
			fmt.Fprintf(env.stderr, "taskward render: %s: %v\n", rd.Path, err)
			return exitError
		}
		fmt.Fprintf(env.stdout, "---\n# %s\n%s", rd.Path, b)
	}
	return exitOK
}

// validateRepo reports every error of every file: the files that load are rendered even
// when others do not, so a broken file does not hide another's render errors.
func validateRepo(ctx context.Context, env *cmdEnv, dir string, rf *renderFlags) int {
	if err := manifests.CheckDir(dir); err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", dir, err)
		return exitChanges
	}
	repo, probs := manifests.LoadPartial(os.DirFS(dir))
	failed := probs.Err() != nil
	if repo.Config == nil {
		printProblems(env.stderr, probs)
		fmt.Fprintf(env.stderr, "%s: the task definitions were not rendered: rendering needs taskward.yaml, which does not load\n", dir)
		return exitChanges
	}
	r := manifests.NewRenderer(repo.Config, repo.Policies, manifests.WithImageSource(rf.imageSource(ctx)))
	rendered, rprobs := r.RenderAll(ctx, repo.Tasks)
	all := append(probs, rprobs...)
	all.Sort()
	printProblems(env.stderr, all)
	if failed || rendered == nil {
		return exitChanges
	}
	fmt.Fprintf(env.stdout, "%s: %d task definitions valid and renderable\n", dir, len(rendered))
	return exitOK
}

// docOutput is how protect, unprotect and render write documents, by the kubectl and AWS
// CLI habit: -o/--output is the format, --out the file (or directory) to write to.
type docOutput struct{ format, file string }

func (o *docOutput) add(fs *pflag.FlagSet, fileUsage string) {
	fs.StringVarP(&o.format, "output", "o", "json", "output format: json or yaml")
	fs.StringVar(&o.file, "out", "", fileUsage)
}

// check refuses a format it does not know; -o FILE, its meaning before -o became the
// format, gets the new spelling.
func (o *docOutput) check() error {
	if o.format == "json" || o.format == "yaml" {
		return nil
	}
	return fmt.Errorf("-o/--output %q: -o is the output format, json or yaml; to write a file use --out %s", o.format, o.format)
}

func (o *docOutput) encode(v *ojson.Value) ([]byte, error) {
	if o.format == "yaml" {
		return manifests.ToYAML(v)
	}
	return v.MarshalIndent("  "), nil
}

func (o *docOutput) write(env *cmdEnv, v *ojson.Value) error {
	b, err := o.encode(v)
	if err != nil {
		return err
	}
	return writeOutput(env, o.file, b)
}
