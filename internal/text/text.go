// Package text cuts strings for people and columns without breaking a
// character: one rule for every status description, contact, error note
// and stored field that has a limit.
package text

import (
	"strings"
	"unicode/utf8"
)

// Ellipsis marks a cut.
const Ellipsis = "…"

// Runes cuts s to at most n runes, ending in Ellipsis when it cut (and
// without the spaces before it).
func Runes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + Ellipsis
}

// Bytes cuts s to at most n bytes on a character boundary, ending in
// Ellipsis when it cut: for columns whose limit is in bytes.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(Ellipsis)
	if cut <= 0 {
		return ""
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Ellipsis
}
