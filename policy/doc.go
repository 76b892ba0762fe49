// Package policy is taskward's runtime policy: which programs a protected container may run,
// and which images a task may use. It holds the types, the strict JSON parser, validation and
// evaluation, and nothing else: it imports only the standard library because the defender,
// which must stay small and static, links it.
//
// A policy is written by people as YAML in a GitOps repo (package manifests parses it with
// these types' yaml tags) and travels to the defender as compact JSON in the environment
// variable TASKWARD_POLICY (Encode and ParseJSON).
//
// Every rule has an effect: block (the exec fails with EACCES, "Permission denied"), alert
// (the program runs and an event is reported) or off. An effect left empty inherits the
// default policy's, so a policy that only lists a few denied programs still blocks package
// managers and drift: secure unless a rule is switched off explicitly.
//
// Evaluation (Decide) looks at one exec, as resolved by the defender, and returns the
// strongest effect among the rules that match, naming the rule.
package policy
