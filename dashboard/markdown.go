package dashboard

import (
	"html"
	"html/template"
	"regexp"
	"strings"
)

// What we post to Gitea is markdown; the PR page shows it as a person reads
// it on Gitea. Only the few constructs our texts use are rendered: headings,
// "- " lists, paragraphs with hard line breaks, `code`, **bold** and links
// to http(s) URLs. Everything is escaped first and the tags are ours, so no
// text, from us or quoted from openQA comments, can inject HTML. HTML
// comments (our <!-- qemgate summary --> marker) are dropped, as Gitea does.

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	mdHeading   = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	mdItem      = regexp.MustCompile(`^\s*[-*]\s+(.*)$`)
	mdInline    = regexp.MustCompile("`([^`]+)`|\\[([^\\]]+)\\]\\((https?://[^\\s)]+)\\)|\\*\\*([^*]+)\\*\\*")
)

// renderMarkdown renders the safe subset of markdown described above.
func renderMarkdown(src string) template.HTML {
	src = htmlComment.ReplaceAllString(strings.ReplaceAll(src, "\r\n", "\n"), "")
	var b strings.Builder
	var para []string
	inList := false
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + strings.Join(para, "<br>\n") + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if inList {
			b.WriteString("</ul>\n")
			inList = false
		}
	}
	for _, line := range strings.Split(src, "\n") {
		switch m, item := mdHeading.FindStringSubmatch(line), mdItem.FindStringSubmatch(line); {
		case strings.TrimSpace(line) == "":
			flush()
			closeList()
		case m != nil:
			flush()
			closeList()
			level := len(m[1]) + 2 // the page's own headings go down to h3
			if level > 6 {
				level = 6
			}
			tag := "h" + string(rune('0'+level))
			b.WriteString("<" + tag + ">" + inlineMarkdown(m[2]) + "</" + tag + ">\n")
		case item != nil:
			flush()
			if !inList {
				b.WriteString("<ul>\n")
				inList = true
			}
			b.WriteString("<li>" + inlineMarkdown(item[1]) + "</li>\n")
		default:
			closeList()
			para = append(para, inlineMarkdown(line))
		}
	}
	flush()
	closeList()
	return template.HTML(b.String()) //nolint:gosec // every piece of text is escaped above; the tags are ours
}

// inlineMarkdown escapes s and renders `code`, links and **bold** in it.
func inlineMarkdown(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range mdInline.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(html.EscapeString(s[last:m[0]]))
		switch {
		case m[2] >= 0:
			b.WriteString("<code>" + html.EscapeString(s[m[2]:m[3]]) + "</code>")
		case m[4] >= 0:
			b.WriteString(`<a href="` + html.EscapeString(s[m[6]:m[7]]) + `">` + html.EscapeString(s[m[4]:m[5]]) + "</a>")
		default:
			b.WriteString("<strong>" + html.EscapeString(s[m[8]:m[9]]) + "</strong>")
		}
		last = m[1]
	}
	b.WriteString(html.EscapeString(s[last:]))
	return b.String()
}

// reportKind says in words what a report is; a status names its context.
// The key of a request for changes is a hash of its reasons, for
// idempotency only: it is not shown.
func reportKind(kind, key string) string {
	switch kind {
	case "status":
		if key != "" {
			return "commit status " + key
		}
		return "commit status"
	case "approval":
		return "approval"
	case "decline":
		return "request for changes"
	case "summary":
		return "summary comment"
	case "dismissal":
		return "dismissed approval"
	}
	return kind
}
