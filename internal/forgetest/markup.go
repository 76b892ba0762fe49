package forgetest

import "regexp"

// liveMarkup is what GitHub or GitLab would render as a link, an image, HTML, a mention,
// a reference or a terminal escape.
var liveMarkup = []*regexp.Regexp{
	regexp.MustCompile(`[^\\]\]\(`),              // [text](url)
	regexp.MustCompile(`[^\\]\]\[`),              // [text][ref]
	regexp.MustCompile(`[^\\]!\[`),               // images
	regexp.MustCompile(`(^|[^\x60\w])@[A-Za-z]`), // mentions outside code spans
	regexp.MustCompile(`[^\x60]https?://`),       // bare URLs outside code spans
	regexp.MustCompile(`www\.`),
	regexp.MustCompile(`<img|<!-- taskward-review -->[^\n]`),
	regexp.MustCompile(`(^|\s)[#!~%$&][0-9a-z]`), // GitHub/GitLab references
	regexp.MustCompile("[\x1b\u202e]"),
}

var (
	codeSpan = regexp.MustCompile("`[^`\n]*`")
	entity   = regexp.MustCompile(`&(lt|gt|amp);`)
)

// LiveMarkup returns each piece of md that a forge would render live (with the pattern
// that found it), outside code spans and once taskward's own entities are dropped; none
// for a comment whose data is defused.
func LiveMarkup(md string) []string {
	outside := codeSpan.ReplaceAllString(md, "`code`")
	outside = entity.ReplaceAllString(outside, "E")
	var found []string
	for _, bad := range liveMarkup {
		if m := bad.FindString(outside); m != "" {
			found = append(found, m+" ("+bad.String()+")")
		}
	}
	return found
}
