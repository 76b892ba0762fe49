package ecslocal

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Limits from the ECS service quotas and the RegisterTaskDefinition reference.
const (
	maxContainers     = 10       // "Container definitions per task definition"
	maxTaskDefBytes   = 64 << 10 // "Task definition size": 64 KiB
	minContainerMemMB = 6        // Docker's minimum; ECS rejects less
)

// namePattern is the rule for task definition families and container names: "Up to 255
// letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// validateTaskDef applies the checks ECS makes on RegisterTaskDefinition to a conformed
// request (tags removed). Messages quote ECS where its wording is known.
func validateTaskDef(td map[string]any) error {
	family, _ := getString(td, "family")
	if !namePattern.MatchString(family) {
		return clientErr("Invalid family %q: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed", family)
	}
	containers := getList(td, "containerDefinitions")
	if len(containers) == 0 {
		return clientErr("Container list cannot be empty.")
	}
	if len(containers) > maxContainers {
		return clientErr("Too many containers: a task definition has at most %d container definitions, got %d", maxContainers, len(containers))
	}
	taskMem, err := taskSize(td, "memory", memoryMiB)
	if err != nil {
		return err
	}
	if _, err := taskSize(td, "cpu", cpuUnits); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, c := range containers {
		cd := c.(map[string]any) // conform guarantees objects
		if err := validateContainer(cd, i, taskMem > 0, seen); err != nil {
			return err
		}
	}
	if err := validateReferences(td, containers); err != nil {
		return err
	}
	if slices.Contains(stringList(td, "requiresCompatibilities"), "FARGATE") {
		if problem := fargateProblem(td); problem != "" {
			return clientErr("%s", problem)
		}
	}
	// ECS measures the definition it stores; tags are not part of it.
	if b, _ := json.Marshal(td); len(b) > maxTaskDefBytes {
		return clientErr("Task definition size %d bytes exceeds the maximum of %d bytes (64 KiB)", len(b), maxTaskDefBytes)
	}
	return nil
}

func validateContainer(cd map[string]any, i int, hasTaskMem bool, seen map[string]bool) error {
	name, _ := getString(cd, "name")
	if name == "" {
		return clientErr("Container.name should not be null or empty.")
	}
	if !namePattern.MatchString(name) {
		return clientErr("Invalid container name %q (containerDefinitions[%d]): up to 255 letters, numbers, hyphens, and underscores are allowed", name, i)
	}
	if seen[name] {
		return clientErr("Duplicate container name %q: container names must be unique within a task definition", name)
	}
	seen[name] = true
	// Since 2021 ECS requires an image on every container; templates that fill it in
	// later ("image": "") are rejected with this message (aws/aws-cli#5924).
	if img, _ := getString(cd, "image"); img == "" {
		return clientErr("Container.image should not be null or empty.")
	}
	mem, hasMem := getInt(cd, "memory")
	res, hasRes := getInt(cd, "memoryReservation")
	if !hasTaskMem && !hasMem && !hasRes {
		return clientErr("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", name)
	}
	if hasMem && mem < minContainerMemMB {
		return clientErr("Invalid 'memory' setting for container '%s'. At least %d MiB of memory is required, got %d.", name, minContainerMemMB, mem)
	}
	if hasRes && res < minContainerMemMB {
		return clientErr("Invalid 'memoryReservation' setting for container '%s'. At least %d MiB of memory is required, got %d.", name, minContainerMemMB, res)
	}
	if hasMem && hasRes && mem < res {
		return clientErr("Invalid setting for container '%s'. 'memory' must be greater than or equal to 'memoryReservation'.", name)
	}
	if hc := getObject(cd, "healthCheck"); hc != nil && len(getList(hc, "command")) == 0 {
		return clientErr("Invalid setting for container '%s'. healthCheck.command must not be empty.", name)
	}
	for j, p := range getList(cd, "portMappings") {
		pm := p.(map[string]any)
		if cp, ok := getInt(pm, "containerPort"); ok && (cp < 1 || cp > 65535) {
			return clientErr("Invalid setting for container '%s'. portMappings[%d].containerPort must be 1-65535, got %d.", name, j, cp)
		}
		if hp, ok := getInt(pm, "hostPort"); ok && (hp < 0 || hp > 65535) {
			return clientErr("Invalid setting for container '%s'. portMappings[%d].hostPort must be 0-65535, got %d.", name, j, hp)
		}
	}
	return nil
}

// taskSize parses the task-level cpu or memory string (0 when absent).
func taskSize(td map[string]any, key string, parse func(string) (int64, error)) (int64, error) {
	v, ok := getString(td, key)
	if !ok {
		return 0, nil
	}
	n, err := parse(v)
	if err != nil {
		return 0, clientErr("Invalid '%s' setting for task: %v", key, err)
	}
	return n, nil
}

// fargateCPUMemory lists the task sizes Fargate runs: for each cpu value the memory
// range in MiB and its step. A FARGATE task definition must use one of them.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
var fargateCPUMemory = map[int64]struct{ min, max, step int64 }{
	256:   {512, 2048, 512},
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

// fargateProblem returns why td cannot run on Fargate, or "" when it can.
func fargateProblem(td map[string]any) string {
	if nm, _ := getString(td, "networkMode"); nm != "awsvpc" {
		return "Fargate only supports network mode 'awsvpc'."
	}
	cpu, _ := taskSize(td, "cpu", cpuUnits)
	mem, _ := taskSize(td, "memory", memoryMiB)
	if cpu == 0 {
		return "Fargate requires that 'cpu' be defined at the task level."
	}
	if mem == 0 {
		return "Fargate requires that 'memory' be defined at the task level."
	}
	r, ok := fargateCPUMemory[cpu]
	// 256 CPU also allows 512 MiB steps up to 2 GB: 512, 1024, 2048 (1536 is not valid).
	valid := ok && mem >= r.min && mem <= r.max && (mem-r.min)%r.step == 0 && !(cpu == 256 && mem == 1536)
	if !valid {
		return fmt.Sprintf("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", cpu, mem)
	}
	for _, c := range getList(td, "containerDefinitions") {
		cd := c.(map[string]any)
		if p, _ := cd["privileged"].(bool); p {
			name, _ := getString(cd, "name")
			return "Fargate does not support privileged containers (container '" + name + "')."
		}
	}
	for _, v := range getList(td, "volumes") {
		if h := getObject(v.(map[string]any), "host"); h != nil {
			if _, ok := getString(h, "sourcePath"); ok {
				return "Fargate does not support host volumes with a sourcePath."
			}
		}
	}
	return ""
}

func stringList(m map[string]any, key string) []string {
	var out []string
	for _, v := range getList(m, key) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// formatInt renders a converted size the way ECS stores it: a decimal string.
func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// validateReferences checks what containers name elsewhere in the task definition, as ECS
// does on RegisterTaskDefinition, with ECS's messages (seen in the wild, in issues of
// ansible/ansible#35751, eagletmt/hako#99 and boto/boto3#2436):
//   - a mountPoint's sourceVolume that no volume has: "Unknown volume 'NAME'."
//   - a dependsOn containerName that no container has: "Cannot depend on container +
//     'NAME' because it does not exist" (the stray "+" is ECS's);
//   - dependsOn SUCCESS or COMPLETE on an essential container: "A dependency container
//     with SUCCESS or COMPLETE condition cannot be an essential container".
//
// Not checked, for want of evidence that ECS refuses them at registration (Docker fails
// such a task when it starts): volumesFrom and links naming no container. Two public
// examples of the test corpus do just that (17-php-simple-app-volumesfrom.json,
// 25-nginx-php-docker-volume-bridge.json).
func validateReferences(td map[string]any, containers []any) error {
	volumes := map[string]bool{}
	for _, v := range getList(td, "volumes") {
		name, _ := getString(v.(map[string]any), "name")
		volumes[name] = true
	}
	essential := map[string]bool{}
	for _, c := range containers {
		cd := c.(map[string]any)
		name, _ := getString(cd, "name")
		e, ok := cd["essential"].(bool)
		essential[name] = !ok || e // absent is true
	}
	for _, c := range containers {
		cd := c.(map[string]any)
		for _, m := range getList(cd, "mountPoints") {
			if v, _ := getString(m.(map[string]any), "sourceVolume"); !volumes[v] {
				return clientErr("Unknown volume '%s'.", v)
			}
		}
		for _, d := range getList(cd, "dependsOn") {
			dep := d.(map[string]any)
			other, _ := getString(dep, "containerName")
			e, ok := essential[other]
			if !ok {
				return clientErr("Cannot depend on container + '%s' because it does not exist", other)
			}
			if cond, _ := getString(dep, "condition"); e && (cond == "SUCCESS" || cond == "COMPLETE") {
				return clientErr("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container")
			}
		}
	}
	return nil
}
