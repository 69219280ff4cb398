package metadata

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileDecoder walks one file's yaml.Node tree and records problems with lines.
type fileDecoder struct {
	file     string
	strict   bool
	problems []Problem
	// bad remembers nodes resolve rejected, so a node read twice is reported once.
	bad map[*yaml.Node]bool
}

func (d *fileDecoder) reject(n *yaml.Node, format string, args ...any) *yaml.Node {
	if d.bad == nil {
		d.bad = map[*yaml.Node]bool{}
	}
	if !d.bad[n] {
		d.bad[n] = true
		d.errorf(n, format, args...)
	}
	return nil
}

func (d *fileDecoder) add(sev Severity, line int, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Message: fmt.Sprintf(format, args...), Severity: sev})
}

func (d *fileDecoder) errorf(n *yaml.Node, format string, args ...any) {
	d.add(SeverityError, lineOf(n), format, args...)
}

func (d *fileDecoder) warnf(n *yaml.Node, format string, args ...any) {
	d.add(SeverityWarning, lineOf(n), format, args...)
}

// unknown reports a key the format does not define: a warning, or with
// Options.Strict an error (qem-bot's --strict-metadata).
func (d *fileDecoder) unknown(key *yaml.Node, where string) {
	sev := SeverityWarning
	if d.strict {
		sev = SeverityError
	}
	d.add(sev, lineOf(key), "unknown key %q in %s", key.Value, where)
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// resolve follows aliases and expands the !concat tag, which qem-bot's loader
// defines as: a sequence whose list items are spliced in one level deep and
// whose other items are appended as they are.
func (d *fileDecoder) resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			return d.reject(n, "alias chain too deep")
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	if n.Tag == "!concat" {
		if n.Kind != yaml.SequenceNode {
			return d.reject(n, "!concat expects a sequence")
		}
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: n.Line, Column: n.Column}
		for _, c := range n.Content {
			rc := d.resolve(c)
			if rc == nil {
				continue
			}
			if rc.Kind == yaml.SequenceNode {
				out.Content = append(out.Content, rc.Content...)
				continue
			}
			out.Content = append(out.Content, rc)
		}
		return out
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return d.reject(n, "unknown tag %s (only !concat is supported)", n.Tag)
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

type pair struct {
	key *yaml.Node
	val *yaml.Node
}

// mapping returns the pairs of a mapping node in file order, applying merge
// keys (<<) the way YAML 1.1 loaders do and rejecting duplicate keys as
// ruamel.yaml does.
func (d *fileDecoder) mapping(n *yaml.Node, what string) ([]pair, bool) {
	n = d.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, e.g. %s; got %s", what, example(what, n, yaml.MappingNode), describe(n))
		return nil, false
	}
	var merged, own []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" || (k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0) {
			merged = append(merged, d.mergeSources(v, what)...)
			continue
		}
		rk := d.resolve(k)
		if rk == nil || rk.Kind != yaml.ScalarNode {
			d.errorf(k, "%s keys must be single values; got %s", what, describe(rk))
			continue
		}
		if seen[rk.Value] {
			d.errorf(k, "duplicate key %q in %s", rk.Value, what)
			continue
		}
		seen[rk.Value] = true
		own = append(own, pair{key: rk, val: v})
	}
	out := make([]pair, 0, len(merged)+len(own))
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			out = append(out, p)
		}
	}
	return append(out, own...), true
}

func (d *fileDecoder) mergeSources(v *yaml.Node, what string) []pair {
	rv := d.resolve(v)
	if rv == nil {
		return nil
	}
	var sources []*yaml.Node
	switch rv.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{rv}
	case yaml.SequenceNode:
		sources = rv.Content
	default:
		d.errorf(v, "%s << must be a mapping or a list of mappings, e.g. *defaults; got %s", what, describe(rv))
		return nil
	}
	var out []pair
	seen := map[string]bool{}
	for _, s := range sources {
		ps, ok := d.mapping(s, what)
		if !ok {
			continue
		}
		for _, p := range ps {
			// The first source wins, as in YAML's merge key definition.
			if !seen[p.key.Value] {
				seen[p.key.Value] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// scalar returns the text of a scalar node; null counts as absent.
func (d *fileDecoder) scalar(n *yaml.Node, what string) (string, bool) {
	rn := d.resolve(n)
	if rn == nil || isNull(rn) {
		return "", false
	}
	if rn.Kind != yaml.ScalarNode {
		d.errorf(rn, "%s must be a single value, e.g. %s; got %s", what, example(what, rn, yaml.ScalarNode), describe(rn))
		return "", false
	}
	return rn.Value, true
}

func (d *fileDecoder) requiredString(n *yaml.Node, what string) (string, bool) {
	s, ok := d.scalar(n, what)
	if !ok || s == "" {
		if !d.isReported(n) {
			d.errorf(n, "%s must not be empty, e.g. %s", what, example(what, nil, yaml.ScalarNode))
		}
		return "", false
	}
	return s, true
}

// isReported avoids a second message for a node the resolver already rejected.
func (d *fileDecoder) isReported(n *yaml.Node) bool {
	rn := d.resolve(n)
	return rn == nil && n != nil || rn != nil && rn.Kind != yaml.ScalarNode
}

func (d *fileDecoder) boolean(n *yaml.Node, what string) (bool, bool) {
	rn := d.resolve(n)
	if rn == nil || rn.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be true or false; got %s", what, describe(rn))
		return false, false
	}
	switch strings.ToLower(rn.Value) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	d.errorf(rn, "%s must be true or false; got %s", what, describe(rn))
	return false, false
}

func (d *fileDecoder) integer(n *yaml.Node, what string) (int, bool) {
	rn := d.resolve(n)
	if rn == nil || rn.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be an integer, e.g. 500; got %s", what, describe(rn))
		return 0, false
	}
	i, err := strconv.Atoi(rn.Value)
	if err != nil {
		d.errorf(rn, "%s must be an integer, e.g. 500; got %s", what, describe(rn))
		return 0, false
	}
	return i, true
}

// stringList reads a sequence of scalars. A bare scalar is an error: qem-bot
// would iterate it character by character.
func (d *fileDecoder) stringList(n *yaml.Node, what string) ([]string, bool) {
	rn := d.resolve(n)
	if rn == nil {
		return nil, false
	}
	if isNull(rn) {
		return []string{}, true
	}
	if rn.Kind != yaml.SequenceNode {
		d.errorf(rn, "%s must be a list, e.g. %s; got %s", what, example(what, rn, yaml.SequenceNode), describe(rn))
		return nil, false
	}
	out := make([]string, 0, len(rn.Content))
	ok := true
	for _, c := range rn.Content {
		rc := d.resolve(c)
		if rc == nil {
			ok = false
			continue
		}
		if rc.Kind != yaml.ScalarNode || isNull(rc) {
			d.errorf(c, "%s entries must be single values, e.g. %s; got %s", what, example(what, nil, yaml.SequenceNode), describe(rc))
			ok = false
			continue
		}
		out = append(out, rc.Value)
	}
	return out, ok
}

// scalarMap reads a mapping of scalar values (settings, params_expand). Null
// values are dropped: the Python client never posts them.
func (d *fileDecoder) scalarMap(n *yaml.Node, what string) (map[string]string, bool) {
	pairs, ok := d.mapping(n, what)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		rv := d.resolve(p.val)
		if rv == nil {
			ok = false
			continue
		}
		if isNull(rv) {
			continue
		}
		if rv.Kind != yaml.ScalarNode {
			d.errorf(p.val, "%s.%s must be a single value, e.g. %s: \"1\"; got %s", what, p.key.Value, p.key.Value, describe(rv))
			ok = false
			continue
		}
		out[p.key.Value] = rv.Value
	}
	return out, ok
}

// examples show the expected shape of a value by its key, in YAML as a squad
// writes it, for the messages of `qemgate metadata check`.
var examples = map[string]string{
	"archs":                 "[x86_64, aarch64]",
	"required_issues":       "[OS_TEST_ISSUES]",
	"aggregate_check_true":  "[OS_TEST_ISSUES]",
	"aggregate_check_false": "[OS_TEST_ISSUES]",
	"packages":              "[openssl-3, libopenssl3]",
	"excluded_packages":     "[kernel-default]",
	"product_repo":          "[SLES-16.0]",
	"settings":              `{DISTRI: sle, VERSION: "16.0"}`,
	"params_expand":         `{FLAVOR_SUFFIX: "-Updates"}`,
	"issues":                `{OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}`,
	"test_issues":           `{OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}`,
	"product":               "SLES-16.0",
	"product_version":       `"16.0"`,
	"FLAVOR":                "Online-Incidents",
	"incidents":             "{FLAVOR: {Online-Incidents: {archs: [x86_64], issues: {...}}}}",
	"incidents.FLAVOR":      "{Online-Incidents: {archs: [x86_64], issues: {...}}}",
	"aggregate":             "{FLAVOR: Online-Increments, archs: [x86_64], test_issues: {...}}",
	SingleArchFile:          "[kernel-default]",
}

// example is what a value of what (a dotted path) looks like when it has the
// given kind. A single value where a list belongs is shown as that list.
func example(what string, got *yaml.Node, kind yaml.Kind) string {
	key := what
	if i := strings.LastIndexAny(what, ". "); i >= 0 && examples[what] == "" {
		key = what[i+1:]
	}
	if kind == yaml.SequenceNode && got != nil && got.Kind == yaml.ScalarNode && !isNull(got) && got.Value != "" {
		return "[" + got.Value + "]"
	}
	if e, ok := examples[key]; ok {
		return e
	}
	switch kind {
	case yaml.SequenceNode:
		return "[a, b]"
	case yaml.MappingNode:
		return "{KEY: value}"
	}
	return `"text"`
}

// describe names a value that has the wrong shape: a scalar by its text,
// anything else by its kind.
func describe(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case isNull(n):
		return "an empty value"
	case n.Kind == yaml.ScalarNode:
		v := n.Value
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		return strconv.Quote(v)
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	}
	return "an alias"
}
