//go:build !linux

// The defender needs Linux (seccomp, ptrace, /proc). Elsewhere the command builds, so that
// `go build ./...` and `go vet ./...` work on a developer's Mac, and says so when run.

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "taskward-defender: runs on Linux only (it is PID 1 of a container)")
	os.Exit(125)
}
