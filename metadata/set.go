package metadata

import "slices"

// Issue is one `issues` / `test_issues` entry: the openQA setting key
// (e.g. OS_TEST_ISSUES) and the channel whose updates it names.
type Issue struct {
	Key     string  `json:"key"`
	Raw     string  `json:"raw"`
	Channel Channel `json:"channel"`
	Line    int     `json:"line"`
}

// Flavor is one `incidents.FLAVOR.<flavor>` entry: how PRs are tested on that
// openQA FLAVOR.
type Flavor struct {
	Name           string   `json:"name"`
	Line           int      `json:"line"`
	Archs          []string `json:"archs"`
	Issues         []Issue  `json:"issues"`
	RequiredIssues []string `json:"required_issues,omitempty"`
	// Packages is the allowlist: when defined, a PR needs one matching package.
	Packages         PackageList       `json:"packages"`
	ExcludedPackages PackageList       `json:"excluded_packages"`
	ParamsExpand     map[string]string `json:"params_expand,omitempty"`
	// OverridePriority replaces the computed _PRIORITY when set.
	OverridePriority *int `json:"override_priority,omitempty"`
	// AggregateJob nil means the default true: approval also needs aggregate results.
	AggregateJob          *bool    `json:"aggregate_job,omitempty"`
	AggregateCheckTrue    []string `json:"aggregate_check_true,omitempty"`
	AggregateCheckFalse   []string `json:"aggregate_check_false,omitempty"`
	VersionedBySubmission bool     `json:"versioned_by_submission,omitempty"`
}

// Aggregate is a product's `aggregate:` section: one FLAVOR, built per arch,
// bundling every eligible PR.
type Aggregate struct {
	Line             int         `json:"line"`
	Flavor           string      `json:"flavor"`
	Archs            []string    `json:"archs"`
	TestIssues       []Issue     `json:"test_issues"`
	Onetime          bool        `json:"onetime,omitempty"`
	Packages         PackageList `json:"packages"`
	ExcludedPackages PackageList `json:"excluded_packages"`
}

// Product is one metadata file with a `product` and `settings`.
type Product struct {
	// File is the file's base name, e.g. "sles-16.0.yml".
	File string `json:"file"`
	Name string `json:"product"`
	Line int    `json:"line"`
	// Settings are posted with every job; DISTRI and VERSION are always present.
	Settings       map[string]string `json:"settings"`
	ProductRepo    []string          `json:"product_repo,omitempty"`
	ProductVersion string            `json:"product_version,omitempty"`
	// Flavors keep the order of the file.
	Flavors   []Flavor   `json:"flavors,omitempty"`
	Aggregate *Aggregate `json:"aggregate,omitempty"`
}

// EmbargoFiltered reports whether the product's jobs must not see embargoed
// updates: qem-bot treats any setting key starting with PUBLIC (public cloud)
// that way.
func (p *Product) EmbargoFiltered() bool {
	for k := range p.Settings {
		if len(k) >= 6 && k[:6] == "PUBLIC" {
			return true
		}
	}
	return false
}

// Set is one loaded metadata directory. It is never modified after Load, so
// it may be shared between goroutines; callers must treat everything it
// returns as read-only.
type Set struct {
	dir        string
	products   []*Product
	singleArch []string
	excluded   PackageList
	// failed are the files that hold a product which could not be loaded.
	failed []string
}

// Failed lists the files (base names) whose product could not be loaded
// because of an error, invalid YAML included; their problems say why. A
// product that loaded with a flavor or aggregate dropped is not among them.
func (s *Set) Failed() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.failed)
}

// NewSet builds a set in memory, for tests and tools that do not read files.
func NewSet(products []*Product, singleArch []string, centralExcluded PackageList) *Set {
	s := &Set{products: slices.Clone(products), singleArch: slices.Clone(singleArch), excluded: centralExcluded}
	slices.Sort(s.singleArch)
	return s
}

// Dir is the directory (or single file) the set was loaded from.
func (s *Set) Dir() string { return s.dir }

// Products lists the products in file-name order.
func (s *Set) Products() []*Product { return slices.Clone(s.products) }

// Product finds a product by its `product` name.
func (s *Set) Product(name string) (*Product, bool) {
	for _, p := range s.products {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// SingleArch lists singlearch.yml, sorted.
func (s *Set) SingleArch() []string { return slices.Clone(s.singleArch) }

// HasSingleArch reports whether a package of pkgs is in singlearch.yml; such
// PRs are not required to pass aggregates.
func (s *Set) HasSingleArch(pkgs []string) bool {
	for _, p := range pkgs {
		if _, ok := slices.BinarySearch(s.singleArch, p); ok {
			return true
		}
	}
	return false
}

// CentralExcluded is config.yml's excluded_packages: a blocklist for every product.
func (s *Set) CentralExcluded() PackageList { return s.excluded }
