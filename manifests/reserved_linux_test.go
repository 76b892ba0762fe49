package manifests

import (
	"slices"
	"testing"

	"github.com/taskward/taskward/defender"
)

// TestReservedEnvIsTheDefenders: the variables render refuses are exactly the ones the
// defender reads and strips.
func TestReservedEnvIsTheDefenders(t *testing.T) {
	a, b := slices.Sorted(slices.Values(ReservedEnv)), slices.Sorted(slices.Values(defender.OwnEnv))
	if !slices.Equal(a, b) {
		t.Fatalf("manifests reserves %v, the defender strips %v", a, b)
	}
}
