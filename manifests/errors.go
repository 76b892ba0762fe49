package manifests

import (
	"fmt"
	"sort"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
)

// Problem is one thing wrong with one file, located as precisely as we know.
type Problem struct {
	File string // repo-relative path, or the path given by the user
	Line int    // 1-based; 0 when unknown
	Col  int
	Path string // JSON or YAML path within the file, e.g. containerDefinitions[1].image
	Msg  string
	// Warning problems are reported but do not fail loading or rendering.
	Warning bool
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
	}
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a load or render, errors and warnings together.
// As an error it reports the errors only; Warnings returns the rest.
type Problems []*Problem

func (ps Problems) Error() string {
	var lines []string
	for _, p := range ps.Errors() {
		lines = append(lines, p.Error())
	}
	return strings.Join(lines, "\n")
}

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns the warnings.
func (ps Problems) Warnings() Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Err returns ps as an error when it holds at least one error, else nil.
func (ps Problems) Err() error {
	if len(ps.Errors()) == 0 {
		return nil
	}
	return ps
}

// Sort orders problems by file, line and message so that reports are stable.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Msg < b.Msg
	})
}

// collector gathers problems for one file, turning offsets into line:column.
type collector struct {
	file string
	src  []byte
	out  *Problems
}

func (c *collector) add(off int, path, format string, args ...any) {
	c.put(false, off, path, format, args...)
}

func (c *collector) warn(off int, path, format string, args ...any) {
	c.put(true, off, path, format, args...)
}

func (c *collector) put(warning bool, off int, path, format string, args ...any) {
	p := &Problem{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...), Warning: warning}
	if off >= 0 && c.src != nil {
		p.Line, p.Col = ojson.LineCol(c.src, off)
	}
	*c.out = append(*c.out, p)
}

// String lists every problem, warnings included, one per line.
func (ps Problems) String() string {
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.Error())
	}
	return strings.Join(lines, "\n")
}
