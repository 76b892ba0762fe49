// Package didyoumean picks the closest known name for a mistyped one, so that an error can
// say what the user probably meant instead of only what was wrong.
package didyoumean

import "strings"

// Closest returns the candidate nearest to name, compared case-insensitively by edit
// distance, or "" when none is close enough to be a plausible typo (distance at most a
// third of the longer name, and at most 3).
func Closest(name string, candidates []string) string {
	best, bestD := "", -1
	lname := strings.ToLower(name)
	for _, c := range candidates {
		d := Distance(lname, strings.ToLower(c))
		limit := max(len(name), len(c)) / 3
		limit = min(max(limit, 1), 3)
		if d > limit {
			continue
		}
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, counted in bytes; a transposition
// of two neighbours counts as one edit (optimal string alignment), the commonest typo.
func Distance(a, b string) int {
	if a == b {
		return 0
	}
	// Three rows: two back for transpositions, one back, current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
