package gate

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// What OBS tells about a PR's build, and what the gate makes of it: which
// staging projects a PR has, which products and archs they built, with which
// product version, and whether that build can be tested. The rules are
// qem-bot's (gitea-sync, loader/gitea.py); the I/O is in obs/ and jobs/.

// ProductComposePackage is the package whose _multibuild flavors name the
// archs a staging project builds its product for.
const ProductComposePackage = "000productcompose"

// LocalArch is OBS's arch of results that belong to no machine arch; its
// results always count.
const LocalArch = "local"

// OBS package codes with a meaning for the gate; any other code of a
// published result is a failure.
const (
	PackageSucceeded = "succeeded"
	PackageExcluded  = "excluded"
)

// ResultPublished is the state of a repository whose build is published.
const ResultPublished = "published"

var (
	projectShowURL = regexp.MustCompile(`https?://[^\s?#)]*/project/show/([^/\s?#)]+)`)
	pullProduct    = regexp.MustCompile(`:PullRequest:\d+:(.+)$`)
	scmsyncVersion = regexp.MustCompile(`/products/.*#([\d.]{2,6})$`)
	listingVersion = regexp.MustCompile(`^\d+(\.\d+)*$`)
)

// StagingProjects returns the OBS projects the staging bot's comments link
// (…/project/show/<project>), sorted and without duplicates. Without any,
// it is the branch's staging project template with the PR number filled in,
// when there is one.
func StagingProjects(botComments []string, template string, number int64) []string {
	var out []string
	for _, body := range botComments {
		for _, m := range projectShowURL.FindAllStringSubmatch(body, -1) {
			out = append(out, strings.TrimRight(m[1], "."))
		}
	}
	if len(out) == 0 && template != "" {
		out = append(out, RepoURL("{staging_project}", RepoVars{Number: number, StagingProject: template}))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ProjectProduct is the product a staging project builds: the part after
// "PullRequest:<n>:" ("SLES" for SUSE:SLFO:1.1.99:PullRequest:124:SLES), or
// "" for the PR's project itself.
func ProjectProduct(project string) string {
	if m := pullProduct.FindStringSubmatch(project); m != nil {
		return m[1]
	}
	return ""
}

// RelevantArchs are the archs a product's _multibuild flavors name:
// "<prefix>_<arch>", the prefix being the product lower-cased with "SL-"
// spelt "sle_" and ":" spelt "_" (SL-Micro → sle_micro_x86_64). nil means
// unknown (no product, or no _multibuild read): every arch is relevant.
func RelevantArchs(product string, flavors []string, known []string) []string {
	if product == "" || flavors == nil {
		return nil
	}
	prefix := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(product, "SL-", "sle_"), ":", "_")) + "_"
	out := []string{}
	for _, f := range flavors {
		if arch, ok := strings.CutPrefix(f, prefix); ok && slices.Contains(known, arch) {
			out = append(out, arch)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// VersionFromSCMSync reads the product version from an <scmsync> URL ending
// in "#<version>" (…/products/SLFO#16.0 → 16.0); "" when it names none.
func VersionFromSCMSync(url string) string {
	if m := scmsyncVersion.FindStringSubmatch(strings.TrimSpace(url)); m != nil {
		return m[1]
	}
	return ""
}

// VersionFromListing reads the product version from the names of a
// published repository (SLES-16.0-x86_64-Build1.1.iso → 16.0): the
// dash-separated part right after "<product>-", when it is a version.
// qem-bot takes the first part with a digit anywhere after the prefix,
// which reads SLES-SAP-16.0-… as a SLES 16.0; here another product's
// names are not taken for this one's.
func VersionFromListing(product string, names []string) string {
	if product == "" {
		return ""
	}
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, product+"-")
		if !ok {
			continue
		}
		if part, _, _ := strings.Cut(rest, "-"); listingVersion.MatchString(part) {
			return part
		}
	}
	return ""
}

// OBSPackage is one <status> of a result: a package and its build code.
type OBSPackage struct {
	Name string `json:"name"`
	Code string `json:"code"`
}

// OBSResult is one <result> of GET /build/<project>/_result.
type OBSResult struct {
	Repository string       `json:"repository"`
	Arch       string       `json:"arch"`
	Code       string       `json:"code,omitempty"`
	State      string       `json:"state"`
	SCMSync    string       `json:"scmsync,omitempty"`
	SCMInfo    string       `json:"scminfo,omitempty"`
	Packages   []OBSPackage `json:"packages,omitempty"`
}

// OBSProject is what was read about one staging project.
type OBSProject struct {
	Name string `json:"name"`
	// Unavailable says why its results could not be read ("" when read).
	Unavailable string `json:"unavailable,omitempty"`
	// Flavors are the _multibuild flavors of ProductComposePackage; nil
	// when they could not be read.
	Flavors []string    `json:"flavors,omitempty"`
	Results []OBSResult `json:"results,omitempty"`
	// ListingVersion is the product version from the download listing, read
	// only when no <scmsync> names one (NeedsListingVersion).
	ListingVersion string `json:"listing_version,omitempty"`
}

// OBSRules are the configured filters of build results.
type OBSRules struct {
	// Repository is the repository whose results count ("product").
	Repository string
	// Products whose build state counts; empty means all.
	Products []string
	// Archs a _multibuild flavor can name.
	Archs []string
}

func (r OBSRules) counts(product string) bool {
	return len(r.Products) == 0 || slices.Contains(r.Products, product) || slices.Contains(r.Products, "all")
}

// NeedsListingVersion says whether the product version of a project must be
// read from the download listing: it builds a concrete product that counts,
// and no relevant result's <scmsync> names a version.
func NeedsListingVersion(p OBSProject, rules OBSRules) bool {
	product := ProjectProduct(p.Name)
	if product == "" || !rules.counts(product) {
		return false
	}
	for _, r := range p.Results {
		if r.Repository == rules.Repository && VersionFromSCMSync(r.SCMSync) != "" {
			return false
		}
	}
	return true
}

// BuildResult is one relevant result: a product's repository on one arch.
type BuildResult struct {
	Project string `json:"project"`
	Product string `json:"product,omitempty"`
	Arch    string `json:"arch"`
	State   string `json:"state"`
	// Version is the product version; "" for local results and products
	// whose version is unknown.
	Version string `json:"version,omitempty"`
	// Counts: the product is one whose build state counts (OBSRules.Products).
	Counts    bool     `json:"counts"`
	Succeeded []string `json:"succeeded,omitempty"`
	// Failed are "package (code)" for every package neither succeeded nor excluded.
	Failed  []string `json:"failed,omitempty"`
	SCMInfo string   `json:"scminfo,omitempty"`
}

// Published says whether the result's repository is published.
func (r BuildResult) Published() bool { return r.State == ResultPublished }

// Name is how texts name the result: "SLES x86_64", or the project for the
// PR's own project.
func (r BuildResult) Name() string { return cmp.Or(r.Product, r.Project) + " " + r.Arch }

// Build is what OBS showed about a PR's staging projects, reduced to what
// the gate uses: relevant results, the channels they make, and the projects
// that could not be read.
type Build struct {
	Projects    []string      `json:"projects"`
	Results     []BuildResult `json:"results"`
	Unavailable []string      `json:"unavailable,omitempty"`
	// Channels are "<project>:<arch>#<version>" (local: "<project>:local"),
	// the spelling metadata.ParsePullChannel reads.
	Channels []string `json:"channels"`
	// Archs are the machine archs of the results that count.
	Archs []string `json:"archs"`
	// ProductVersion is the lowest product version of the results that count.
	ProductVersion string `json:"product_version,omitempty"`
}

// BuildFromOBS applies qem-bot's rules to the projects read from OBS: keep
// results of the configured repository whose arch the product's _multibuild
// names (or local; every arch when it is unknown); a channel per result,
// with the product version from <scmsync> or the listing (a concrete
// product without a version gives no channel).
func BuildFromOBS(projects []OBSProject, rules OBSRules) Build {
	b := Build{Projects: []string{}, Results: []BuildResult{}, Channels: []string{}, Archs: []string{}}
	var versions []string
	for _, p := range projects {
		b.Projects = append(b.Projects, p.Name)
		if p.Unavailable != "" {
			b.Unavailable = append(b.Unavailable, p.Name)
			continue
		}
		product := ProjectProduct(p.Name)
		relevant := RelevantArchs(product, p.Flavors, rules.Archs)
		version := p.ListingVersion
		for _, r := range p.Results {
			if v := VersionFromSCMSync(r.SCMSync); v != "" && r.Repository == rules.Repository {
				version = v
				break
			}
		}
		for _, r := range p.Results {
			if r.Repository != rules.Repository || (r.Arch != LocalArch && relevant != nil && !slices.Contains(relevant, r.Arch)) {
				continue
			}
			res := BuildResult{Project: p.Name, Product: product, Arch: r.Arch, State: r.State,
				Counts: rules.counts(product), SCMInfo: r.SCMInfo}
			switch {
			case r.Arch == LocalArch:
				b.Channels = append(b.Channels, p.Name+":"+r.Arch)
			case version != "":
				res.Version = version
				b.Channels = append(b.Channels, p.Name+":"+r.Arch+"#"+version)
			case product == "":
				b.Channels = append(b.Channels, p.Name+":"+r.Arch)
			}
			for _, pkg := range r.Packages {
				switch pkg.Code {
				case PackageSucceeded:
					res.Succeeded = append(res.Succeeded, pkg.Name)
				case PackageExcluded:
				default:
					res.Failed = append(res.Failed, pkg.Name+" ("+pkg.Code+")")
				}
			}
			if res.Counts && r.Arch != LocalArch {
				b.Archs = append(b.Archs, r.Arch)
				if version != "" {
					versions = append(versions, version)
				}
			}
			b.Results = append(b.Results, res)
		}
	}
	slices.Sort(b.Projects)
	slices.Sort(b.Unavailable)
	slices.SortFunc(b.Results, func(a, c BuildResult) int {
		return cmp.Or(cmp.Compare(a.Project, c.Project), cmp.Compare(a.Arch, c.Arch))
	})
	slices.Sort(b.Channels)
	b.Channels = slices.Compact(b.Channels)
	slices.Sort(b.Archs)
	b.Archs = slices.Compact(b.Archs)
	slices.Sort(versions)
	if len(versions) > 0 {
		b.ProductVersion = versions[0]
	}
	return b
}

// Build states, in the order they win: a failure is final until a rebuild,
// whatever else waits.
const (
	BuildReady       = "ready"
	BuildFailed      = "failed"
	BuildUnpublished = "unpublished"
	// BuildUnavailable: a project could not be read, or OBS shows nothing
	// that counts yet.
	BuildUnavailable = "unavailable"
	// BuildOtherSHA: OBS shows the build of another commit.
	BuildOtherSHA = "other_sha"
)

// BuildStatus is the gate's reading of a Build at a head SHA.
type BuildStatus struct {
	State string `json:"state"`
	// Reasons name the product, arch and packages (failed) or what is
	// waited for; the first is the one a status says.
	Reasons []string `json:"reasons,omitempty"`
	// FailuresAllowed: failed packages were seen and allowed by the
	// configuration (obs.allow_build_failures).
	FailuresAllowed []string `json:"failures_allowed,omitempty"`
}

// Ready says whether the build can be tested.
func (s BuildStatus) Ready() bool { return s.State == BuildReady }

// BuildStatusOf decides whether a PR's build at head can be tested, with
// qem-bot's acceptance rule over the results that count: every project
// readable, every result published, no failed package (unless
// allowFailures), at least one succeeded package. A result whose <scminfo>
// names another commit than head is a build of an older push: wait.
func BuildStatusOf(b Build, head string, allowFailures bool) BuildStatus {
	var failed, unpublished, other, allowed []string
	succeeded := false
	for _, r := range b.Results {
		if !r.Counts {
			continue
		}
		if r.SCMInfo != "" && head != "" && !sameSHA(r.SCMInfo, head) {
			other = append(other, fmt.Sprintf("OBS shows the build of %.12s for %s, not of %.12s", r.SCMInfo, r.Name(), head))
			continue
		}
		if !r.Published() {
			unpublished = append(unpublished, fmt.Sprintf("build of %s not published yet (%s)", r.Name(), cmp.Or(r.State, "no state")))
			continue
		}
		succeeded = succeeded || len(r.Succeeded) > 0
		if len(r.Failed) > 0 {
			msg := fmt.Sprintf("build of %s failed: %s", r.Name(), strings.Join(r.Failed, ", "))
			if allowFailures {
				allowed = append(allowed, msg)
			} else {
				failed = append(failed, msg)
			}
		}
	}
	var unavailable []string
	for _, p := range b.Unavailable {
		unavailable = append(unavailable, fmt.Sprintf("build results of %s cannot be read", p))
	}
	switch {
	case len(failed) > 0:
		return BuildStatus{State: BuildFailed, Reasons: failed}
	case len(other) > 0:
		return BuildStatus{State: BuildOtherSHA, Reasons: other}
	case len(unavailable) > 0:
		return BuildStatus{State: BuildUnavailable, Reasons: unavailable}
	case len(unpublished) > 0:
		return BuildStatus{State: BuildUnpublished, Reasons: unpublished}
	case len(b.Projects) == 0:
		return BuildStatus{State: BuildUnavailable, Reasons: []string{"no staging project is known for the PR"}}
	case !succeeded:
		return BuildStatus{State: BuildUnavailable, Reasons: []string{
			fmt.Sprintf("no package of %s has been built and published yet", strings.Join(b.Projects, ", "))}}
	}
	return BuildStatus{State: BuildReady, FailuresAllowed: allowed}
}

func sameSHA(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	n := min(len(a), len(b))
	return n >= 7 && a[:n] == b[:n]
}

// BranchFromBuild is the branch configuration a plan uses when OBS is
// configured: the products, archs, channels and product version the PR's
// staging projects built, the static branch values for everything else.
// Without a build (nil) it is the static branch as it is.
func BranchFromBuild(static Branch, b *Build) Branch {
	if b == nil {
		return static
	}
	out := static
	out.Channels = slices.Clone(b.Channels)
	out.Archs = slices.Clone(b.Archs)
	if b.ProductVersion != "" {
		out.ProductVersion = b.ProductVersion
	}
	if len(b.Projects) == 1 {
		out.StagingProject = b.Projects[0]
	}
	return out
}

// BuildReadySignal says how the build of the head SHA is known to be ready.
// Without OBS (status nil) it is the staging bot's signal as it is. With
// OBS, the build must be ready there too; when the repository configures no
// signal of its own, OBS's word is the signal.
func BuildReadySignal(signal string, signalConfigured bool, status *BuildStatus) string {
	switch {
	case status == nil:
		return signal
	case !status.Ready():
		return ""
	case signal != "":
		return signal + "; obs: published"
	case !signalConfigured:
		return "obs: published"
	}
	return ""
}
