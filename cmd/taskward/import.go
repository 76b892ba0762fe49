package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/taskward/taskward/reconcile"
)

func init() {
	register(&command{
		name:    "import",
		summary: "write a GitOps repo (taskward.yaml, tasks/, services/) from what an ECS cluster runs",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var f ecsFlags
			f.add(fs)
			fs.Lookup("cluster").Usage = "the ECS `CLUSTER` to import (required)"
			services := fs.StringSlice("services", nil, "only these services (`a,b`; default: every ACTIVE service)")
			out := fs.String("out", "", "`DIR` to write the repo to (required)")
			force := fs.Bool("force", false, "overwrite files that exist")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				fail := func(err error) int {
					fmt.Fprintf(env.stderr, "taskward import: %v\n", err)
					return exitError
				}
				switch {
				case len(args) > 0:
					return fail(fmt.Errorf("unexpected arguments %q", args))
				case f.cluster == "":
					return fail(errors.New("--cluster is required"))
				case *out == "":
					return fail(errors.New("--out DIR is required"))
				}
				client, done, err := f.client(ctx, env.log, "", []string{f.cluster})
				if err != nil {
					return fail(err)
				}
				defer done()
				rec := reconcile.New(client, reconcile.WithCluster(f.cluster), reconcile.WithLogger(env.log))
				im, err := rec.Import(ctx, client.Options().Region, *services)
				if err != nil {
					fmt.Fprintf(env.stderr, "taskward import: %s\n", ecsErrorHint(err))
					return exitError
				}
				if err := im.WriteTo(*out, *force); err != nil {
					return fail(err)
				}
				for _, n := range im.Notes {
					fmt.Fprintf(env.stderr, "taskward import: note: %s\n", n)
				}
				fmt.Fprintf(env.stdout, "wrote %d files to %s: %s\n", len(im.Files), *out, strings.Join(slices.Sorted(maps.Keys(im.Files)), ", "))
				return exitOK
			}
		},
	})
}
