package defender

import (
	"encoding/json"
	"fmt"
)

// EnvHealthCheck carries the container's healthCheck.command (the task definition's JSON
// array), set by taskward render: the container runtime runs it inside the container from
// outside the defender's tree, as it does an exec session, and it is not one.
const EnvHealthCheck = "TASKWARD_HEALTHCHECK"

// HealthCheckArgv returns the argument vector the container runtime execs for an ECS
// healthCheck.command: ["CMD", prog, args...] runs prog with args, ["CMD-SHELL", cmd] runs
// /bin/sh -c cmd (Docker and containerd both do so). An empty value is no health check.
func HealthCheckArgv(value string) ([]string, error) {
	if value == "" {
		return nil, nil
	}
	var cmd []string
	if err := json.Unmarshal([]byte(value), &cmd); err != nil {
		return nil, fmt.Errorf("$%s: %w: want the healthCheck.command array, such as [\"CMD-SHELL\",\"curl -f localhost\"]", EnvHealthCheck, err)
	}
	switch {
	case len(cmd) >= 2 && cmd[0] == "CMD":
		return cmd[1:], nil
	case len(cmd) == 2 && cmd[0] == "CMD-SHELL":
		return []string{"/bin/sh", "-c", cmd[1]}, nil
	}
	return nil, fmt.Errorf("$%s: %q: want [\"CMD\", PROGRAM, ARGS...] or [\"CMD-SHELL\", COMMAND]", EnvHealthCheck, value)
}
