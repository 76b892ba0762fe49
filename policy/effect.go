package policy

import "fmt"

// Effect is what happens when a rule matches.
type Effect string

const (
	// Inherit (the empty effect) takes the default policy's effect for the rule.
	Inherit Effect = ""
	// Off disables the rule.
	Off Effect = "off"
	// Alert lets the program run and reports it.
	Alert Effect = "alert"
	// Block refuses the exec with EACCES and reports it.
	Block Effect = "block"
)

// rank orders effects by severity for combining: block beats alert beats off.
func (e Effect) rank() int {
	switch e {
	case Block:
		return 2
	case Alert:
		return 1
	}
	return 0
}

func (e Effect) valid() bool {
	switch e {
	case Inherit, Off, Alert, Block:
		return true
	}
	return false
}

func (e Effect) check(path string) error {
	if !e.valid() {
		return fmt.Errorf("%s: unknown effect %q: use block, alert or off", path, string(e))
	}
	return nil
}

// or returns e, or def when e is Inherit.
func (e Effect) or(def Effect) Effect {
	if e == Inherit {
		return def
	}
	return e
}
