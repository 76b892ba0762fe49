// Command taskward is the GitOps controller for Amazon ECS that protects every task it deploys.
//
// Each subcommand lives in its own file and registers itself with register in an init
// function; main only dispatches. Every flag can also be set through an environment
// variable named TASKWARD_<FLAG> (upper case, dashes as underscores); a flag given on the
// command line wins.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/taskward/taskward/internal/didyoumean"
	"github.com/taskward/taskward/internal/textsafe"
	"github.com/taskward/taskward/internal/version"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitChanges = 1 // diff found changes, validate found errors, review failed a check
	exitError   = 2 // the command could not do its job
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string // argument synopsis after the command name
	// flags declares the command's flags on fs and returns the function that runs it.
	flags func(fs *pflag.FlagSet) func(ctx context.Context, env *cmdEnv, args []string) int
	// server marks long-running commands: their log defaults to JSON at info, a one-shot
	// command's to text at warn.
	server bool
}

// cmdEnv is what a running subcommand may touch: its streams. Subcommands write to these,
// never to os.Stdout directly, so tests can run them in-process.
type cmdEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// log writes to stderr as --log-format and --log-level say; logLevelSet says the
	// level was chosen by the user rather than defaulted.
	log         *slog.Logger
	logFormat   string
	logLevelSet bool
}

// newLogger returns a logger to stderr in the command's log format at level.
func (env *cmdEnv) newLogger(level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if env.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(env.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.stderr, opts))
}

// logFlags are --log-format and --log-level, which every command takes.
type logFlags struct{ format, level string }

func (l *logFlags) add(fs *pflag.FlagSet, server bool) {
	format, level := "text", "warn"
	if server {
		format, level = "json", "info"
	}
	fs.StringVar(&l.format, "log-format", format, "log format on stderr: text or json")
	fs.StringVar(&l.level, "log-level", level, "least severe log level shown: debug, info, warn or error")
}

// apply sets env's logger from the flags.
func (l *logFlags) apply(env *cmdEnv, fs *pflag.FlagSet) error {
	if l.format != "text" && l.format != "json" {
		return fmt.Errorf("--log-format %q: use text or json", l.format)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", l.level)
	}
	env.logFormat, env.logLevelSet = l.format, fs.Changed("log-level")
	env.log = env.newLogger(level)
	return nil
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("taskward: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cmdEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, env *cmdEnv) int {
	// File names, messages and values come from repositories and pull requests: an escape
	// sequence among them must show, not drive the terminal.
	env = &cmdEnv{stdin: env.stdin, stdout: textsafe.Writer(env.stdout), stderr: textsafe.Writer(env.stderr)}
	if len(args) == 0 {
		usage(env.stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c, env)
				c.flags(fs)
				new(logFlags).add(fs, c.server)
				fs.Usage()
				return exitOK
			}
		}
		usage(env.stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintf(env.stdout, "taskward %s\ndefault defender image: %s\n", version.String(), version.DefaultDefenderImage)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.stderr, "taskward: unknown command %q%s\nRun 'taskward help' for the list.\n", name, suggest(name))
		return exitError
	}
	fs := newFlagSet(c, env)
	runFn := c.flags(fs)
	var lf logFlags
	lf.add(fs, c.server)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(env.stderr, "taskward %s: %v\n", name, err)
		return exitError
	}
	if err := applyEnv(fs, os.LookupEnv); err != nil {
		fmt.Fprintf(env.stderr, "taskward %s: %v\n", name, err)
		return exitError
	}
	if err := lf.apply(env, fs); err != nil {
		fmt.Fprintf(env.stderr, "taskward %s: %v\n", name, err)
		return exitError
	}
	if rest := fs.Args(); c.usage == "" && len(rest) > 0 {
		// A command without arguments must not quietly work on something else (the
		// current directory, say) than what the user named.
		msg := fmt.Sprintf("taskward %s: unexpected argument %q: this command takes flags only", name, rest[0])
		if fs.Lookup("repo") != nil {
			msg += fmt.Sprintf("; for a repository directory use --repo %s", rest[0])
		}
		fmt.Fprintln(env.stderr, msg)
		return exitError
	}
	return runFn(ctx, env, fs.Args())
}

func newFlagSet(c *command, env *cmdEnv) *pflag.FlagSet {
	fs := pflag.NewFlagSet("taskward "+c.name, pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "%s\n\nUsage: taskward %s [flags] %s\n\nFlags (each also read from TASKWARD_<FLAG>):\n%s",
			c.summary, c.name, c.usage, fs.FlagUsages())
	}
	return fs
}

// applyEnv sets every flag not given on the command line from TASKWARD_<NAME>.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	// Two spellings of one flag (--ecs-endpoint and --endpoint-url) share a variable, and
	// pflag's Value of a variable is that variable: the environment must not overwrite the
	// command line through the other spelling.
	given := map[pflag.Value]bool{}
	fs.Visit(func(f *pflag.Flag) { given[f.Value] = true })
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || given[f.Value] {
			return
		}
		key := "TASKWARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := lookup(key)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: %w", key, err))
		}
	})
	return errors.Join(errs...)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "taskward: GitOps for Amazon ECS that injects a runtime defender into every task.\n\nUsage: taskward <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-12s %s\n  %-12s %s\n\nRun 'taskward <command> --help' for a command's flags.\n",
		"help", "show help for taskward or a command", "version", "print the version and the default defender image")
}

// suggest returns a did-you-mean hint for a mistyped command name.
func suggest(name string) string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	best := didyoumean.Closest(name, names)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
