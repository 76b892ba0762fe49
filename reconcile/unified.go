package reconcile

import (
	"fmt"
	"strings"
)

// ANSI colours for a terminal; the caller decides whether stdout is one.
const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
	ansiBold  = "\x1b[1m"
	ansiReset = "\x1b[0m"
)

// contextLines is the number of unchanged lines shown around each change, as diff -u.
const contextLines = 3

// Unified renders the difference as a unified diff of the reduced JSON, live ("---") to
// desired ("+++"), labelled with the given names. It is "" when there is no change.
// color adds ANSI colours.
func (d *FieldDiff) Unified(liveLabel, desiredLabel string, color bool) string {
	if d.Empty() {
		return ""
	}
	var live []string
	if d.Live != nil {
		live = splitLines(string(d.Live.MarshalIndent("  ")))
	}
	desired := splitLines(string(d.Desired.MarshalIndent("  ")))
	return unifiedText(live, desired, liveLabel, desiredLabel, color)
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

type lineOp struct {
	kind byte // ' ', '-', '+'
	text string
}

func unifiedText(a, b []string, aLabel, bLabel string, color bool) string {
	ops := lineDiff(a, b)
	var sb strings.Builder
	paint := func(c, s string) {
		if color {
			sb.WriteString(c + s + ansiReset + "\n")
		} else {
			sb.WriteString(s + "\n")
		}
	}
	paint(ansiBold, "--- "+aLabel)
	paint(ansiBold, "+++ "+bLabel)
	// Walk the ops, emitting hunks: runs of changes with up to contextLines unchanged lines
	// around them, merged when the gap between two runs is at most 2*contextLines.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-contextLines)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			j := end
			for j < len(ops) && ops[j].kind == ' ' {
				j++
			}
			if j == len(ops) || j-end > 2*contextLines {
				end = min(len(ops), end+contextLines)
				break
			}
			end = j
		}
		aStart, bStart := lineNumbers(ops[:start])
		aLen, bLen := lineNumbers(ops[start:end])
		paint(ansiCyan, fmt.Sprintf("@@ -%s +%s @@", hunkRange(aStart, aLen), hunkRange(bStart, bLen)))
		for _, op := range ops[start:end] {
			line := string(op.kind) + op.text
			switch op.kind {
			case '-':
				paint(ansiRed, line)
			case '+':
				paint(ansiGreen, line)
			default:
				sb.WriteString(line + "\n")
			}
		}
		i = end
	}
	return sb.String()
}

// lineNumbers counts the lines of a and b that ops cover.
func lineNumbers(ops []lineOp) (na, nb int) {
	for _, op := range ops {
		if op.kind != '+' {
			na++
		}
		if op.kind != '-' {
			nb++
		}
	}
	return na, nb
}

// hunkRange formats a hunk range as diff -u does: 1-based start, the count omitted when it
// is 1, and the start one line before the hunk (0 for an empty file) when the count is 0.
func hunkRange(before, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", before)
	case 1:
		return fmt.Sprintf("%d", before+1)
	}
	return fmt.Sprintf("%d,%d", before+1, n)
}

// lineDiff is Myers' O(ND) difference algorithm ("An O(ND) Difference Algorithm and Its
// Variations", 1986) over lines, after trimming the common prefix and suffix. Reduced task
// definitions are at most a few thousand lines and differ in few, so D stays small.
func lineDiff(a, b []string) []lineOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []lineOp
	for _, s := range a[:pre] {
		ops = append(ops, lineOp{' ', s})
	}
	ops = append(ops, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, s := range a[len(a)-suf:] {
		ops = append(ops, lineOp{' ', s})
	}
	return ops
}

func myers(a, b []string) []lineOp {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		ops := make([]lineOp, 0, n+m)
		for _, s := range a {
			ops = append(ops, lineOp{'-', s})
		}
		for _, s := range b {
			ops = append(ops, lineOp{'+', s})
		}
		return ops
	}
	limit := n + m
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int // trace[d] = v before step d, only the [-d, d] window matters
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: insertion from b
			} else {
				x = v[off+k-1] + 1 // right: deletion from a
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, d)
			}
		}
	}
	panic("unreachable: Myers' algorithm ends by d = n+m")
}

func backtrack(a, b []string, trace [][]int, dEnd int) []lineOp {
	x, y := len(a), len(b)
	var rev []lineOp
	for d := dEnd; d > 0; d-- {
		tv := trace[d]
		get := func(k int) int { return tv[k+d+1] } // window starts at -d-1
		k := x - y
		var prevK int
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := get(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, lineOp{' ', a[x]})
		}
		if x == prevX {
			y--
			rev = append(rev, lineOp{'+', b[y]})
		} else {
			x--
			rev = append(rev, lineOp{'-', a[x]})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, lineOp{' ', a[x]})
	}
	ops := make([]lineOp, len(rev))
	for i, op := range rev {
		ops[len(rev)-1-i] = op
	}
	return ops
}
