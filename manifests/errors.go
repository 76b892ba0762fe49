package manifests

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

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
	// yamlPos locates a YAML path (as checkYAMLKeys spells it) for problems found after
	// decoding, such as validation: a problem at a known path gets its line and column.
	yamlPos map[string]*yaml.Node
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
	} else if n := c.yamlNode(path); n != nil {
		p.Line, p.Col = n.Line, n.Column
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

// yamlNode returns the node at path, or at the longest prefix of it that is known.
func (c *collector) yamlNode(path string) *yaml.Node {
	for path != "" && c.yamlPos != nil {
		if n, ok := c.yamlPos[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return nil
}
