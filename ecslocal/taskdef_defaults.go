package ecslocal

import (
	"encoding/json"
	"slices"
	"strings"
)

// applyDefaults adds to a validated registration what ECS adds when it stores it, so a
// described revision looks like one from real ECS (the defaults listed in decision 6 of
// DESIGN.md):
//
//   - task: cpu and memory unit strings converted to integers ("0.25 vCPU" -> "256",
//     "1 GB" -> "1024"); volumes and placementConstraints as empty lists;
//   - containers: essential true, cpu 0, and environment, mountPoints, volumesFrom and
//     portMappings as empty lists when absent;
//   - port mappings: protocol "tcp"; with awsvpc or host networking hostPort equals
//     containerPort (the container owns the network namespace, so there is no mapping);
//   - health checks: interval 30, timeout 5, retries 3 seconds/attempts.
func applyDefaults(td map[string]any) {
	for _, key := range []string{"cpu", "memory"} {
		parse := cpuUnits
		if key == "memory" {
			parse = memoryMiB
		}
		if n, err := taskSize(td, key, parse); err == nil && n > 0 {
			td[key] = formatInt(n)
		}
	}
	setDefault(td, "volumes", []any{})
	setDefault(td, "placementConstraints", []any{})
	nm, _ := getString(td, "networkMode")
	ownsNetwork := nm == "awsvpc" || nm == "host"
	for _, c := range getList(td, "containerDefinitions") {
		cd := c.(map[string]any)
		setDefault(cd, "essential", true)
		setDefault(cd, "cpu", json.Number("0"))
		for _, key := range []string{"portMappings", "environment", "mountPoints", "volumesFrom"} {
			setDefault(cd, key, []any{})
		}
		for _, p := range getList(cd, "portMappings") {
			pm := p.(map[string]any)
			setDefault(pm, "protocol", "tcp")
			if cp, ok := pm["containerPort"]; ok && ownsNetwork {
				setDefault(pm, "hostPort", cp)
			}
		}
		if hc := getObject(cd, "healthCheck"); hc != nil {
			setDefault(hc, "interval", json.Number("30"))
			setDefault(hc, "timeout", json.Number("5"))
			setDefault(hc, "retries", json.Number("3"))
		}
	}
}

// requiresAttributes derives the container instance attributes a definition needs, as
// ECS lists them in requiresAttributes. ECS's list is longer; this covers the features
// users see most often (logging drivers, roles, ECR, secrets, health checks, ordering,
// FireLens, awsvpc, EFS).
func requiresAttributes(td map[string]any) []any {
	var names []string
	add := func(n ...string) {
		for _, x := range n {
			if !slices.Contains(names, x) {
				names = append(names, x)
			}
		}
	}
	_, execRole := getString(td, "executionRoleArn")
	for _, c := range getList(td, "containerDefinitions") {
		cd := c.(map[string]any)
		if lc := getObject(cd, "logConfiguration"); lc != nil {
			driver, _ := getString(lc, "logDriver")
			add("com.amazonaws.ecs.capability.logging-driver." + driver)
			if driver == "awslogs" {
				if execRole {
					add("ecs.capability.execution-role-awslogs")
				}
				add("com.amazonaws.ecs.capability.docker-remote-api.1.19")
			}
		}
		if img, _ := getString(cd, "image"); strings.Contains(img, ".dkr.ecr.") {
			add("com.amazonaws.ecs.capability.ecr-auth")
			if execRole {
				add("ecs.capability.execution-role-ecr-pull")
			}
		}
		for _, sec := range getList(cd, "secrets") {
			from, _ := getString(sec.(map[string]any), "valueFrom")
			if strings.Contains(from, ":secretsmanager:") {
				add("ecs.capability.secrets.asm.environment-variables")
			} else {
				add("ecs.capability.secrets.ssm.environment-variables")
			}
		}
		if getObject(cd, "healthCheck") != nil {
			add("ecs.capability.container-health-check", "com.amazonaws.ecs.capability.docker-remote-api.1.24")
		}
		if len(getList(cd, "dependsOn")) > 0 {
			add("ecs.capability.container-ordering")
		}
		if fc := getObject(cd, "firelensConfiguration"); fc != nil {
			typ, _ := getString(fc, "type")
			add("ecs.capability.firelens." + typ)
		}
		if p, _ := cd["privileged"].(bool); p {
			add("com.amazonaws.ecs.capability.privileged-container")
		}
	}
	if _, ok := getString(td, "taskRoleArn"); ok {
		add("com.amazonaws.ecs.capability.task-iam-role")
	}
	add("com.amazonaws.ecs.capability.docker-remote-api.1.18")
	if nm, _ := getString(td, "networkMode"); nm == "awsvpc" {
		add("ecs.capability.task-eni")
	}
	for _, v := range getList(td, "volumes") {
		if getObject(v.(map[string]any), "efsVolumeConfiguration") != nil {
			add("ecs.capability.efs")
		}
	}
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = map[string]any{"name": n}
	}
	return out
}

// compatibilities is the launch types a definition can run on: always EC2; FARGATE when
// it satisfies Fargate's rules (awsvpc, a valid task size, no privileged containers or
// host paths); EXTERNAL and MANAGED_INSTANCES when requested.
func compatibilities(td map[string]any) []any {
	out := []any{"EC2"}
	if fargateProblem(td) == "" {
		out = append(out, "FARGATE")
	}
	for _, rc := range stringList(td, "requiresCompatibilities") {
		if (rc == "EXTERNAL" || rc == "MANAGED_INSTANCES") && !slices.Contains(out, any(rc)) {
			out = append(out, rc)
		}
	}
	return out
}
