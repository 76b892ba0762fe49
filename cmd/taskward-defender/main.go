//go:build linux

// Command taskward-defender is the runtime defender injected into every protected ECS
// task: `install DIR` in the init container, `run -- PROGRAM ARGS...` as the application
// container's entrypoint (PID 1). See package defender for the mechanism.
//
// It is static (CGO_ENABLED=0) and small; deps_test.go keeps its dependency list honest.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/taskward/taskward/defender"
	"github.com/taskward/taskward/internal/version"
	"github.com/taskward/taskward/policy"
)

// Exit codes of the defender itself; otherwise it exits with the program's status.
const (
	exitOK    = 0
	exitError = 125 // the defender could not start the program (as `docker run` uses it)
)

func init() {
	// The stage must exec from the main thread, the only one the tracer attached to, and
	// the tracer must keep one thread for ptrace: lock the main goroutine to the main
	// thread before anything else runs.
	runtime.LockOSThread()
}

func main() {
	if defender.IsStage() {
		os.Exit(defender.RunStage())
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: taskward-defender COMMAND

commands:
  install DIR                 copy this binary to DIR/defender (mode 0555) and exit
  run [flags] -- PROGRAM ...  run PROGRAM as PID 1 under the policy in $TASKWARD_POLICY
  check                       print what this kernel offers the defender
  version                     print the version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "install":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "taskward-defender: usage: install DIR")
			return exitError
		}
		if err := defender.Install(args[1]); err != nil {
			fmt.Fprintf(stderr, "taskward-defender: %v\n", err)
			return exitError
		}
		return exitOK
	case "run":
		return runCmd(args[1:], stderr)
	case "check":
		defender.Check(stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintf(stdout, "taskward-defender %s %s/%s\n", version.String(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "taskward-defender: unknown command %q\n%s", args[0], usage)
	return exitError
}

func runCmd(args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetInterspersed(false) // everything after PROGRAM belongs to it
	fs.SetOutput(stderr)
	policyFile := fs.String("policy", "", "read the policy from `FILE` (JSON as in $TASKWARD_POLICY, or a YAML policy file of a GitOps repo) instead of $TASKWARD_POLICY")
	failOpen := fs.Bool("fail-open", os.Getenv("TASKWARD_FAIL_OPEN") == "1" || os.Getenv("TASKWARD_FAIL_OPEN") == "true",
		"start the program under the built-in default policy when the policy is missing or invalid (default: refuse to start) [$TASKWARD_FAIL_OPEN]")
	mechanism := fs.String("mechanism", "auto", "how execs reach the defender: notify (seccomp user notification), trace (ptrace of the whole tree), or auto (notify as PID 1 on Linux 5.5+, else trace)")
	noKillable := fs.Bool("notify-no-killable-wait", false, "notify as on kernels before 5.19 (tests)")
	fs.MarkHidden("notify-no-killable-wait")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	mech, err := defender.ParseMechanism(*mechanism)
	if err != nil {
		fmt.Fprintf(stderr, "taskward-defender: run: --mechanism: %v\n", err)
		return exitError
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "taskward-defender: run: no program: use run [flags] -- PROGRAM ARGS...")
		return exitError
	}

	pol, err := loadPolicy(*policyFile)
	if err != nil {
		if !*failOpen {
			fmt.Fprintf(stderr, "taskward-defender: %v; refusing to start the program (fail closed; --fail-open starts it under the default policy)\n", err)
			return exitError
		}
		fmt.Fprintf(stderr, "taskward-defender: %v; --fail-open: using the built-in default policy\n", err)
		pol = policy.Default().Resolved()
	}

	rep := defender.NewReporter(stderr,
		defender.WithPolicyName(pol.Name),
		defender.WithHTTPSink(os.Getenv("TASKWARD_EVENTS_URL"), os.Getenv("TASKWARD_EVENTS_TOKEN")))
	if uri := os.Getenv("ECS_CONTAINER_METADATA_URI_V4"); uri != "" {
		// In the background: the program must not wait for the metadata endpoint.
		go func() {
			if m, err := defender.FetchTaskMetadata(context.Background(), uri); err == nil {
				rep.SetMetadata(m)
			} else {
				// On a line of its own: the program may be writing to the same stderr by now.
				fmt.Fprintf(stderr, "\ntaskward-defender: %v (events will lack task fields)\n", err)
			}
		}()
	}
	health, err := defender.HealthCheckArgv(os.Getenv(defender.EnvHealthCheck))
	if err != nil {
		// Not fatal: the health check then counts as an exec session, which is reported.
		fmt.Fprintf(stderr, "taskward-defender: %v\n", err)
	}
	code, err := defender.Run(&defender.Config{Policy: pol, Argv: argv, Env: programEnv(os.Environ()), Reporter: rep, Mechanism: mech,
		HealthCheck: health, NotifyWithoutKillableWait: *noKillable})
	if err != nil {
		fmt.Fprintf(stderr, "taskward-defender: %v\n", err)
		code = exitError
	}
	rep.Close(2 * time.Second)
	return code
}

// loadPolicy reads the policy from file, or from $TASKWARD_POLICY.
func loadPolicy(file string) (*policy.Policy, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		return parsePolicyFile(file, b)
	}
	v, ok := os.LookupEnv("TASKWARD_POLICY")
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("no policy: set TASKWARD_POLICY (taskward render does) or pass --policy FILE")
	}
	p, err := policy.ParseJSON([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("$TASKWARD_POLICY: %w", err)
	}
	return p, nil
}

// programEnv is the defender's environment without its own variables.
func programEnv(env []string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, name := range defender.OwnEnv {
			if strings.HasPrefix(kv, name+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
