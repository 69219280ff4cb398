package metadata

import "strings"

// neverMatched is excluded from every package rule: qem-bot ignores it because
// it ships with every livepatch update and would otherwise pull kernel flavors in.
const neverMatched = "kernel-livepatch-tools"

// PackageRule is one entry of a packages or excluded_packages list: a name
// prefix, or with a leading "=" in the YAML an exact package name.
type PackageRule struct {
	Name  string `json:"name"`
	Exact bool   `json:"exact,omitempty"`
}

// ParsePackageRule turns "foo" into a prefix rule and "=foo" into an exact one.
func ParsePackageRule(s string) PackageRule {
	if name, ok := strings.CutPrefix(s, "="); ok {
		return PackageRule{Name: name, Exact: true}
	}
	return PackageRule{Name: s}
}

// Matches reports whether pkg is covered by the rule.
func (r PackageRule) Matches(pkg string) bool {
	if pkg == neverMatched {
		return false
	}
	if r.Exact {
		return pkg == r.Name
	}
	return strings.HasPrefix(pkg, r.Name)
}

// String gives the rule back in its YAML spelling.
func (r PackageRule) String() string {
	if r.Exact {
		return "=" + r.Name
	}
	return r.Name
}

// PackageList is a packages or excluded_packages list. Defined distinguishes
// an absent key (no filter) from an empty list (an allowlist that admits nothing),
// as qem-bot does.
type PackageList struct {
	Defined bool          `json:"defined"`
	Rules   []PackageRule `json:"rules,omitempty"`
}

// NewPackageList builds a defined list from YAML spellings.
func NewPackageList(rules ...string) PackageList {
	l := PackageList{Defined: true}
	for _, r := range rules {
		l.Rules = append(l.Rules, ParsePackageRule(r))
	}
	return l
}

// Match returns the first package of pkgs covered by a rule, and the rule.
func (l PackageList) Match(pkgs []string) (pkg string, rule PackageRule, ok bool) {
	for _, p := range pkgs {
		for _, r := range l.Rules {
			if r.Matches(p) {
				return p, r, true
			}
		}
	}
	return "", PackageRule{}, false
}

// MatchesAny reports whether any of pkgs is covered by a rule of the list.
func (l PackageList) MatchesAny(pkgs []string) bool {
	_, _, ok := l.Match(pkgs)
	return ok
}

// Allows applies the list as an allowlist: an undefined list allows everything.
func (l PackageList) Allows(pkgs []string) bool {
	return !l.Defined || l.MatchesAny(pkgs)
}

// Excludes applies the list as a blocklist: an undefined list excludes nothing.
func (l PackageList) Excludes(pkgs []string) bool {
	return l.Defined && l.MatchesAny(pkgs)
}
