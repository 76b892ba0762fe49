package webhook

import (
	"fmt"
	"strings"

	"github.com/taskward/taskward/internal/textsafe"
	"github.com/taskward/taskward/internal/version"
)

// CommentMarker is the hidden first line of every review comment: the publishers find
// their comment again by it, and update it instead of adding a new one on each push.
const CommentMarker = "<!-- taskward-review -->"

// MaxCommentBytes keeps a comment under GitHub's limit of 65,536 characters for an issue
// comment body (counted here in bytes, which are never fewer than characters). GitLab
// allows far more; the same bound keeps both readable.
const MaxCommentBytes = 65536

// Markdown renders the whole report. It starts with [CommentMarker].
func (r *Report) Markdown() string { return r.render(-1) }

// MarkdownMax renders the report in at most max bytes: when the full report is longer,
// the lists are cut to fewer items each (the counts stay exact), and as a last resort the
// text itself is cut.
func (r *Report) MarkdownMax(max int) string {
	for _, items := range []int{-1, 100, 30, 10, 3, 0} {
		if s := r.render(items); len(s) <= max {
			return s
		}
	}
	const tail = "\n\n_(report cut to fit; run `taskward review` for all of it)_\n"
	return truncate(r.render(0), max-len(tail)) + tail
}

// render writes the report with at most items entries per list (-1: all).
func (r *Report) render(items int) string {
	var b strings.Builder
	b.WriteString(CommentMarker + "\n")
	status := "✅ passed"
	if r.Failed() {
		status = "❌ failed"
	}
	fmt.Fprintf(&b, "## taskward review: %s\n\n", status)

	fmt.Fprintf(&b, "%d failures, %d warnings in %d task definitions (%d containers, %d protected by the defender) and %d policies",
		r.Failures(), r.Warnings(), r.Tasks, r.Containers, r.Protected, r.Policies)
	if r.Head != "" {
		fmt.Fprintf(&b, " at %s", code(r.Head))
	}
	if r.Base != "" {
		fmt.Fprintf(&b, " (base %s)", code(r.Base))
	}
	b.WriteString(".\n")
	if len(r.Changed) > 0 {
		list := r.Changed
		more := ""
		if items >= 0 && len(list) > max(items, 5) {
			more = fmt.Sprintf(" and %d more", len(list)-max(items, 5))
			list = list[:max(items, 5)]
		}
		var cs []string
		for _, c := range list {
			cs = append(cs, code(c))
		}
		fmt.Fprintf(&b, "Changed: %s%s.\n", strings.Join(cs, ", "), more)
	}

	b.WriteString("\n| | Check | Result |\n| --- | --- | --- |\n")
	counts := r.byCheck()
	for _, c := range Checks {
		n := counts[c.Check]
		icon, result := "✅", "passed"
		switch {
		case n[Failure] > 0:
			icon, result = "❌", plural(n[Failure], "failure")
			if n[Warning] > 0 {
				result += ", " + plural(n[Warning], "warning")
			}
		case n[Warning] > 0:
			icon, result = "⚠️", plural(n[Warning], "warning")
		}
		if why, ok := r.NotRun[c.Check]; ok {
			// Not "passed": what did not run found nothing because it looked at nothing.
			if n[Failure]+n[Warning] == 0 {
				icon, result = "⏸️", why
			} else {
				result += "; " + why
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", icon, c.Title, result)
	}

	r.writeFindings(&b, "Failures", Failure, items)
	r.writeFindings(&b, "Warnings", Warning, items)
	r.writePlan(&b, items)
	fmt.Fprintf(&b, "\n<sub>taskward %s</sub>\n", text(version.String()))
	return b.String()
}

func (r *Report) writeFindings(b *strings.Builder, title string, sev Severity, items int) {
	var fs []Finding
	for _, f := range r.Findings {
		if f.Severity == sev {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return
	}
	icon := "❌"
	if sev == Warning {
		icon = "⚠️"
	}
	fmt.Fprintf(b, "\n### %s\n\n", title)
	shown := fs
	if items >= 0 && len(fs) > items {
		shown = fs[:items]
	}
	for _, f := range shown {
		loc := f.File
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		fmt.Fprintf(b, "- %s %s", icon, code(loc))
		if f.Path != "" {
			fmt.Fprintf(b, " %s", code(f.Path))
		}
		fmt.Fprintf(b, ": %s\n", text(f.Message))
	}
	if len(shown) < len(fs) {
		fmt.Fprintf(b, "- … and %d more\n", len(fs)-len(shown))
	}
}

// writePlan writes the plans: with one cluster under one heading naming it, with several
// one subsection per cluster, in the report's order.
func (r *Report) writePlan(b *strings.Builder, items int) {
	b.WriteString("\n### Plan against live ECS")
	if len(r.Plans) == 1 && r.Plans[0].Cluster != "" {
		fmt.Fprintf(b, " (cluster %s)", code(r.Plans[0].Cluster))
	}
	b.WriteString("\n\n")
	if r.PlanNote != "" {
		fmt.Fprintf(b, "_%s_\n\n", text(r.PlanNote))
	}
	for i, cs := range r.Plans {
		if len(r.Plans) > 1 {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(b, "#### Cluster %s\n\n", code(cs.Cluster))
		}
		writeClusterPlan(b, cs, items)
	}
}

func writeClusterPlan(b *strings.Builder, cs ClusterPlanSummary, items int) {
	if cs.Err != "" {
		fmt.Fprintf(b, "No plan: live ECS could not be read: %s\n", text(cs.Err))
		return
	}
	p := cs.Plan
	if p == nil {
		return
	}
	if len(p.Register)+len(p.Services)+len(p.Prune) == 0 {
		fmt.Fprintf(b, "No changes: %s unchanged.\n", plural(p.Unchanged, "family"))
		return
	}
	b.WriteString("| Action | Family | Source | Detail |\n| --- | --- | --- | --- |\n")
	rows := 0
	total := len(p.Register) + len(p.Services) + len(p.Prune)
	for _, group := range []struct {
		action string
		items  []PlanItem
	}{{"register", p.Register}, {"update service", p.Services}, {"prune", p.Prune}} {
		for _, it := range group.items {
			if items >= 0 && rows >= max(items, 10) {
				continue
			}
			rows++
			src := ""
			if it.Source != "" {
				src = code(it.Source)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", group.action, code(it.Family), src, text(it.Detail))
		}
	}
	if rows < total {
		fmt.Fprintf(b, "| … | %d more | | |\n", total-rows)
	}
	fmt.Fprintf(b, "\n%s to register, %s, %s to prune, %s unchanged.\n",
		plural(len(p.Register), "family"), plural(len(p.Services), "service update"), plural(len(p.Prune), "family"), plural(p.Unchanged, "family"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// code renders s as inline code: GitHub and GitLab render nothing inside a code span (no
// links, mentions or references). Backticks inside would end the span, so they become
// quotes; newlines and pipes would break the line or a table; control characters are
// shown escaped.
func code(s string) string {
	s = strings.NewReplacer("`", "'", "\n", " ", "|", "\\|").Replace(textsafe.Controls(s))
	return "`" + s + "`"
}

// zwsp (U+200B ZERO WIDTH SPACE) splits what GitHub and GitLab would otherwise turn into
// a link or a notification, without changing what the reader sees.
const zwsp = "\u200b"

// textEscaper escapes what turns text into a link or an image ("[Approve](https://...)",
// "![x](...)", reference links; a link needs "](" or "][", and no reference definition
// can start a line here, since line breaks go), HTML (a comment marker or a tag in a file
// name must not become markup), code spans, and bare URLs (GitHub links http://,
// https:// and www. text). Brackets alone ("containerDefinitions[name=app]") stay.
var textEscaper = strings.NewReplacer(
	"](", "]\\(", "][", "]\\[", "![", "!\\[", "`", "\\`", "|", "\\|",
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "\n", " ",
	"://", zwsp+"://", "www.", "www"+zwsp+".",
)

// text escapes s, which came from a repository, ECS or an event, for a Markdown line or
// table cell: no links, images, HTML, emphasis, mentions (@user, @org/team, GitLab's
// @all) or references (#1, GitLab's !1, ~label, %milestone, $snippet, &epic), no line
// breaks, no pipes, no control characters.
func text(s string) string {
	return textEscaper.Replace(breakSigils(textsafe.Controls(s)))
}

// breakSigils puts a zero-width space after each sigil that starts a mention or a
// reference when a name or number follows.
func breakSigils(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if strings.IndexByte("@#!~%$&", s[i]) >= 0 && i+1 < len(s) && isWordByte(s[i+1]) {
			b.WriteString(zwsp)
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}
