package didyoumean

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"entrypoint", "entryPoint", 1}, {"comand", "command", 1}, {"ab", "ba", 1}, {"memroy", "memory", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"entryPoint", "command", "environment", "essential", "memory", "memoryReservation"}
	for _, tc := range []struct{ in, want string }{
		{"entrypoint", "entryPoint"}, {"comand", "command"}, {"enviroment", "environment"},
		{"memroy", "memory"}, {"image", ""}, {"x", ""},
	} {
		if got := Closest(tc.in, known); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
