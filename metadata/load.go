package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Options tune Load.
type Options struct {
	// Strict turns unknown keys into errors (qem-bot's --strict-metadata).
	Strict bool `json:"strict"`
}

// Special file names inside a metadata directory, as qem-bot names them.
const (
	SingleArchFile = "singlearch.yml"
	ConfigFile     = "config.yml"
)

// Load reads every *.yml / *.yaml file of dir (or the single file dir names)
// in name order. It returns the set of valid products, every problem found,
// and an error wrapping ErrInvalid when a problem is an error; the set is
// still returned then so a checker can show what did load.
func Load(dir string, opts Options) (*Set, []Problem, error) {
	files, err := metadataFiles(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load metadata %s: %w", dir, err)
	}
	set := &Set{dir: dir}
	var problems []Problem
	names := map[string]string{}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, problems, fmt.Errorf("load metadata %s: %w", path, err)
		}
		d := &fileDecoder{file: path, strict: opts.Strict}
		root := d.parse(raw)
		switch base := filepath.Base(path); {
		case root == nil:
			if HasErrors(d.problems) && !isNamed(base, SingleArchFile) && !isNamed(base, ConfigFile) {
				set.failed = append(set.failed, base)
			}
		case isNamed(base, SingleArchFile):
			set.singleArch = append(set.singleArch, d.singleArch(root)...)
		case isNamed(base, ConfigFile):
			if l, ok := d.config(root); ok {
				set.excluded.Defined = true
				set.excluded.Rules = append(set.excluded.Rules, l.Rules...)
			}
		default:
			if p := d.product(root, base); p != nil {
				if other, dup := names[p.Name]; dup {
					sev := SeverityWarning
					if opts.Strict {
						sev = SeverityError
					}
					d.add(sev, p.Line, "product %q is also defined in %s", p.Name, other)
				} else {
					names[p.Name] = base
				}
				set.products = append(set.products, p)
			} else if HasErrors(d.problems) {
				set.failed = append(set.failed, base)
			}
		}
		problems = append(problems, d.problems...)
	}
	slices.Sort(set.singleArch)
	set.singleArch = slices.Compact(set.singleArch)
	if n := countErrors(problems); n > 0 {
		return set, problems, fmt.Errorf("load metadata %s: %w: %d error(s), first: %s", dir, ErrInvalid, n, firstError(problems))
	}
	return set, problems, nil
}

func isNamed(base, want string) bool {
	stem := strings.TrimSuffix(want, ".yml")
	return base == stem+".yml" || base == stem+".yaml"
}

func countErrors(ps []Problem) int {
	n := 0
	for _, p := range ps {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

func firstError(ps []Problem) string {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return p.String()
		}
	}
	return ""
}

func metadataFiles(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{dir}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	sort.Strings(out)
	return out, nil
}

var yamlErrLine = regexp.MustCompile(`line (\d+): (.*)`)

// parse decodes exactly one YAML document into a node tree.
func (d *fileDecoder) parse(raw []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.add(SeverityWarning, 1, "file is empty")
			return nil
		}
		line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		d.add(SeverityError, line, "invalid YAML: %s", msg)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.add(SeverityError, extra.Line, "more than one YAML document")
		return nil
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		d.add(SeverityWarning, 1, "file is empty")
		return nil
	}
	return doc.Content[0]
}

func (d *fileDecoder) singleArch(root *yaml.Node) []string {
	l, _ := d.stringList(root, SingleArchFile)
	return l
}

// config reads the central excluded_packages of config.yml. The file's other
// keys are qem-bot settings that qemgate configures elsewhere, so they are
// not reported.
func (d *fileDecoder) config(root *yaml.Node) (PackageList, bool) {
	pairs, ok := d.mapping(root, ConfigFile)
	if !ok {
		return PackageList{}, false
	}
	for _, p := range pairs {
		if p.key.Value == "excluded_packages" {
			return d.packageList(p.val, "excluded_packages")
		}
	}
	return PackageList{}, false
}

func (d *fileDecoder) packageList(n *yaml.Node, what string) (PackageList, bool) {
	l, ok := d.stringList(n, what)
	if !ok {
		return PackageList{}, false
	}
	for _, r := range l {
		if r == "" || r == "=" {
			d.errorf(n, "%s entries must not be empty, e.g. %s", what, example(what, nil, yaml.SequenceNode))
			return PackageList{}, false
		}
	}
	return NewPackageList(l...), true
}

var topLevelKeys = map[string]bool{
	"product": true, "settings": true, "product_repo": true, "product_version": true,
	"incidents": true, "aggregate": true, "trigger_config": true, "product_increments": true,
}

// product decodes one product file; nil means the file holds no usable
// product. Every section is checked even when an earlier one is broken, so
// one `metadata check` run shows all problems of a file.
func (d *fileDecoder) product(root *yaml.Node, base string) *Product {
	pairs, ok := d.mapping(root, "the top level")
	if !ok {
		return nil
	}
	byKey := map[string]pair{}
	for _, p := range pairs {
		byKey[p.key.Value] = p
	}
	prodPair, hasProduct := byKey["product"]
	settingsPair, hasSettings := byKey["settings"]
	if !hasProduct && !hasSettings {
		_, tc := byKey["trigger_config"]
		_, pi := byKey["product_increments"]
		if !tc && !pi {
			d.warnf(root, "no product and no settings: not product metadata, ignored")
		}
		return nil
	}
	for _, p := range pairs {
		if k := p.key.Value; !strings.HasPrefix(k, ".") && !topLevelKeys[k] {
			// Keys starting with "." are anchor holders by convention.
			d.unknown(p.key, "the top level")
		}
	}
	p := &Product{File: base, Line: root.Line}
	if hasProduct {
		p.Line = prodPair.key.Line
		p.Name, _ = d.requiredString(prodPair.val, "product")
	} else {
		d.errorf(settingsPair.key, "settings without product, e.g. product: SLES-16.0")
	}
	if hasSettings {
		p.Settings, _ = d.scalarMap(settingsPair.val, "settings")
		for _, k := range []string{"DISTRI", "VERSION"} {
			if p.Settings != nil && p.Settings[k] == "" {
				d.errorf(settingsPair.key, "settings.%s is required, e.g. %s", k, map[string]string{"DISTRI": "DISTRI: sle", "VERSION": `VERSION: "16.0"`}[k])
			}
		}
	} else {
		d.errorf(prodPair.key, "product %q has no settings, e.g. settings: %s", p.Name, examples["settings"])
	}
	if pr, has := byKey["product_repo"]; has {
		p.ProductRepo = d.productRepo(pr.val)
	}
	if pv, has := byKey["product_version"]; has {
		p.ProductVersion, _ = d.scalar(pv.val, "product_version")
	}
	if inc, has := byKey["incidents"]; has {
		p.Flavors = d.incidents(inc.val)
	}
	if agg, has := byKey["aggregate"]; has {
		p.Aggregate = d.aggregate(agg.key, agg.val)
	}
	if p.Name == "" || p.Settings == nil || p.Settings["DISTRI"] == "" || p.Settings["VERSION"] == "" {
		return nil
	}
	return p
}

func (d *fileDecoder) productRepo(n *yaml.Node) []string {
	rn := d.resolve(n)
	if rn == nil || isNull(rn) {
		return nil
	}
	if rn.Kind == yaml.ScalarNode {
		return []string{rn.Value}
	}
	l, _ := d.stringList(rn, "product_repo")
	return l
}

func (d *fileDecoder) incidents(n *yaml.Node) []Flavor {
	pairs, ok := d.mapping(n, "incidents")
	if !ok {
		return nil
	}
	var flavors []Flavor
	for _, p := range pairs {
		if p.key.Value != "FLAVOR" {
			d.unknown(p.key, "incidents")
			continue
		}
		fpairs, ok := d.mapping(p.val, "incidents.FLAVOR")
		if !ok {
			continue
		}
		for _, fp := range fpairs {
			if f, ok := d.flavor(fp.key, fp.val); ok {
				flavors = append(flavors, f)
			}
		}
	}
	return flavors
}

var flavorKeys = map[string]bool{
	"archs": true, "issues": true, "required_issues": true, "packages": true, "excluded_packages": true,
	"params_expand": true, "override_priority": true, "aggregate_job": true,
	"aggregate_check_true": true, "aggregate_check_false": true, "versioned_by_submission": true,
}

// flavor decodes one incidents.FLAVOR entry; a flavor with errors is dropped,
// as qem-bot drops a flavor whose params_expand is invalid.
func (d *fileDecoder) flavor(key, n *yaml.Node) (Flavor, bool) {
	where := "flavor " + key.Value
	f := Flavor{Name: key.Value, Line: key.Line}
	pairs, ok := d.mapping(n, where)
	if !ok {
		return f, false
	}
	before := len(d.problems)
	seen := map[string]*yaml.Node{}
	for _, p := range pairs {
		k := p.key.Value
		if !flavorKeys[k] {
			d.unknown(p.key, where)
			continue
		}
		seen[k] = p.key
		what := where + "." + k
		switch k {
		case "archs":
			f.Archs, _ = d.stringList(p.val, what)
		case "issues":
			f.Issues, _ = d.issues(p.val, what)
		case "required_issues":
			f.RequiredIssues, _ = d.stringList(p.val, what)
		case "packages":
			f.Packages, _ = d.packageList(p.val, what)
		case "excluded_packages":
			f.ExcludedPackages, _ = d.packageList(p.val, what)
		case "params_expand":
			f.ParamsExpand, _ = d.scalarMap(p.val, what)
			for _, forbidden := range []string{"DISTRI", "VERSION"} {
				if _, has := f.ParamsExpand[forbidden]; has {
					d.errorf(p.key, "%s must not set %s (the flavor is ignored)", what, forbidden)
				}
			}
		case "override_priority":
			if v, ok := d.integer(p.val, what); ok {
				f.OverridePriority = &v
			}
		case "aggregate_job":
			if v, ok := d.boolean(p.val, what); ok {
				f.AggregateJob = &v
			}
		case "aggregate_check_true":
			f.AggregateCheckTrue, _ = d.stringList(p.val, what)
		case "aggregate_check_false":
			f.AggregateCheckFalse, _ = d.stringList(p.val, what)
		case "versioned_by_submission":
			f.VersionedBySubmission, _ = d.boolean(p.val, what)
		}
	}
	if seen["archs"] == nil {
		d.errorf(key, "%s.archs is required, e.g. archs: [x86_64]", where)
	} else if len(f.Archs) == 0 && !HasErrors(d.problems[before:]) {
		d.warnf(seen["archs"], "%s.archs is empty, so nothing is scheduled", where)
	}
	if seen["issues"] == nil {
		d.errorf(key, "%s.issues is required, e.g. issues: %s", where, examples["issues"])
	}
	for _, r := range f.RequiredIssues {
		if !slices.ContainsFunc(f.Issues, func(i Issue) bool { return i.Key == r }) {
			d.warnf(seen["required_issues"], "%s.required_issues: %s is not one of its issues, so it never matches", where, r)
		}
	}
	return f, !HasErrors(d.problems[before:])
}

func (d *fileDecoder) issues(n *yaml.Node, what string) ([]Issue, bool) {
	pairs, ok := d.mapping(n, what)
	if !ok {
		return nil, false
	}
	out := make([]Issue, 0, len(pairs))
	for _, p := range pairs {
		raw, ok := d.requiredString(p.val, what+"."+p.key.Value)
		if !ok {
			continue
		}
		ch, err := ParseIssueChannel(raw)
		if err != nil {
			reason := strings.TrimPrefix(err.Error(), fmt.Sprintf("channel %q: ", raw))
			d.errorf(p.val, "%s.%s must be a channel, e.g. \"SLFO:1.1.99#16.0\"; got %q (%s)", what, p.key.Value, raw, reason)
			continue
		}
		out = append(out, Issue{Key: p.key.Value, Raw: raw, Channel: ch, Line: p.key.Line})
	}
	return out, true
}

var aggregateKeys = map[string]bool{
	"FLAVOR": true, "archs": true, "test_issues": true, "onetime": true, "packages": true, "excluded_packages": true,
}

func (d *fileDecoder) aggregate(key, n *yaml.Node) *Aggregate {
	pairs, ok := d.mapping(n, "aggregate")
	if !ok {
		return nil
	}
	before := len(d.problems)
	a := &Aggregate{Line: key.Line}
	seen := map[string]bool{}
	for _, p := range pairs {
		k := p.key.Value
		if !aggregateKeys[k] {
			d.unknown(p.key, "aggregate")
			continue
		}
		seen[k] = true
		what := "aggregate." + k
		switch k {
		case "FLAVOR":
			a.Flavor, _ = d.requiredString(p.val, what)
		case "archs":
			a.Archs, _ = d.stringList(p.val, what)
		case "test_issues":
			a.TestIssues, _ = d.issues(p.val, what)
			for _, i := range a.TestIssues {
				if !strings.HasSuffix(i.Key, "_TEST_ISSUES") {
					d.add(SeverityWarning, i.Line, "%s.%s should end in _TEST_ISSUES, e.g. OS_TEST_ISSUES (it names the _TEST_REPOS key too)", what, i.Key)
				}
			}
		case "onetime":
			a.Onetime, _ = d.boolean(p.val, what)
		case "packages":
			a.Packages, _ = d.packageList(p.val, what)
		case "excluded_packages":
			a.ExcludedPackages, _ = d.packageList(p.val, what)
		}
	}
	for _, req := range []string{"FLAVOR", "archs", "test_issues"} {
		if !seen[req] {
			d.errorf(key, "aggregate.%s is required, e.g. %s: %s", req, req, examples[req])
		}
	}
	if HasErrors(d.problems[before:]) {
		return nil
	}
	return a
}
