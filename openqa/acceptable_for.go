package openqa

import (
	"regexp"
	"strings"
)

// Acceptance is one @review:acceptable_for marker found in an openQA comment:
// a reviewer's statement that a not-ok job must not block one incident or
// submission.
type Acceptance struct {
	// Kind is "incident" or "submission"; qem-bot accepts either spelling
	// for the same number.
	Kind string
	// ID is the number as written in the marker (digits only).
	ID string
	// Reason is the text after the last colon, up to the next whitespace.
	Reason string
}

// qem-bot's ACCEPTABLE_FOR_TEMPLATE with the number captured instead of
// fixed. The reason is lazy up to the first whitespace or the end; the (?s)
// mirrors its re.DOTALL and the class spells out Python's ASCII \s, which
// unlike Go's includes \v.
var acceptableFor = regexp.MustCompile(`(?s)@review:acceptable_for:(incident|submission)_(\d+):(.+?)(?:$|[\t\n\v\f\r ])`)

// ParseAcceptableFor returns every acceptable_for marker in a comment, in
// order, after cleaning the text as qem-bot does: characters outside
// Python's string.printable are dropped and CR/LF become spaces. A marker
// without a reason does not count. Two markers in one comment must be
// separated by whitespace, as in qem-bot.
func ParseAcceptableFor(comment string) []Acceptance {
	text := sanitizeComment(comment)
	var out []Acceptance
	for _, m := range acceptableFor.FindAllStringSubmatch(text, -1) {
		out = append(out, Acceptance{Kind: m[1], ID: m[2], Reason: strings.TrimSpace(m[3])})
	}
	return out
}

// sanitizeComment keeps what Python's string.printable holds (ASCII letters,
// digits, punctuation and whitespace), turns CR and LF into spaces and trims.
func sanitizeComment(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n':
			b.WriteByte(' ')
		case r >= 0x20 && r <= 0x7e, r == '\t', r == '\v', r == '\f':
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
