package gate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/qemgate/qemgate/internal/pullref"
	"github.com/qemgate/qemgate/metadata"
)

// SubmissionType is the submission type of Gitea PRs in BUILD, SUBMISSION_ID
// and the versioned VERSION, as qem-bot writes it.
const SubmissionType = "git"

// Pull is what the plan needs to know about a PR.
type Pull struct {
	// Repo is "owner/name".
	Repo    string `json:"repo"`
	Number  int64  `json:"number"`
	HeadSHA string `json:"head_sha"`
	// Base is the target branch; it selects the Branch configuration.
	Base    string `json:"base"`
	HTMLURL string `json:"html_url"`
	// Packages come from the PR's _patchinfo files (or changed paths).
	Packages  []string `json:"packages"`
	Labels    []string `json:"labels,omitempty"`
	Emergency bool     `json:"emergency,omitempty"`
	// Priority is the update's priority (PriorityFromLabels; 550 by default).
	Priority int `json:"priority"`
	// Embargoed keeps the PR off public-cloud flavors.
	Embargoed bool `json:"embargoed,omitempty"`
}

// Ref names the PR as owner/repo#number@sha[:12] (pullref.Format).
func (p Pull) Ref() string { return pullref.Format(p.Repo, p.Number, p.HeadSHA) }

// Branch is the repository configuration of the PR's base branch.
type Branch struct {
	// ProductVersion is the product version the branch builds, e.g. "16.0".
	ProductVersion string `json:"product_version,omitempty"`
	// Archs the branch builds; empty means every arch a flavor lists.
	Archs []string `json:"archs,omitempty"`
	// Channels are matched against the metadata issues, e.g. "SLFO:1.1.99#16.0"
	// (see metadata.ParsePullChannel for the accepted spellings).
	Channels []string `json:"channels"`
	// StagingProject is the OBS project template, e.g. "SUSE:SLFO:1.1.99:PullRequest:{number}".
	StagingProject string `json:"staging_project,omitempty"`
	// IncidentRepo is the INCIDENT_REPO URL template (placeholders: see RepoURL).
	IncidentRepo string `json:"incident_repo,omitempty"`
	// TestRepo is the URL template for an aggregate's <X>_TEST_REPOS entries;
	// empty means IncidentRepo.
	TestRepo string `json:"test_repo,omitempty"`
}

// PlanInput is everything Plan decides from.
type PlanInput struct {
	Pull     Pull          `json:"pull"`
	Branch   Branch        `json:"branch"`
	Metadata *metadata.Set `json:"-"`
	// PublicURL is qemgate's public base URL, for __DASHBOARD_URL.
	PublicURL string `json:"public_url,omitempty"`
}

// TestRun is one POST /api/v1/isos: Settings is the complete form to post.
type TestRun struct {
	// Product is the metadata `product`, File the metadata file it comes from.
	Product  string            `json:"product"`
	File     string            `json:"file"`
	Distri   string            `json:"distri"`
	Version  string            `json:"version"`
	Flavor   string            `json:"flavor"`
	Arch     string            `json:"arch"`
	Build    string            `json:"build"`
	Settings map[string]string `json:"settings"`
	// WithAggregate says approval also needs the aggregate results of the product.
	WithAggregate bool `json:"with_aggregate"`
	// Priority is the posted _PRIORITY.
	Priority int `json:"priority"`
}

// SkipCode names the rule that dropped a run.
type SkipCode string

// Skip rules, checked in qem-bot's order.
const (
	SkipNoMetadata        SkipCode = "no_metadata"
	SkipNoPackages        SkipCode = "no_packages"
	SkipInvalidChannel    SkipCode = "invalid_channel"
	SkipCentralExcluded   SkipCode = "central_excluded"
	SkipProductVersion    SkipCode = "product_version"
	SkipEmbargoed         SkipCode = "embargoed"
	SkipPackagesNotListed SkipCode = "packages_not_listed"
	SkipPackageExcluded   SkipCode = "package_excluded"
	SkipParamsExpand      SkipCode = "forbidden_params_expand"
	SkipArchNotBuilt      SkipCode = "arch_not_built"
	SkipNoChannelMatch    SkipCode = "no_channel_match"
	SkipRequiredIssues    SkipCode = "required_issues_missing"
	SkipKernelRepo        SkipCode = "kernel_without_product_repo"
	SkipDuplicate         SkipCode = "duplicate_run"
)

// Skip records a run that is not scheduled, and why. Empty Product, Flavor or
// Arch mean the rule applied to the whole PR, product or flavor.
type Skip struct {
	Product string   `json:"product,omitempty"`
	File    string   `json:"file,omitempty"`
	Flavor  string   `json:"flavor,omitempty"`
	Arch    string   `json:"arch,omitempty"`
	Code    SkipCode `json:"code"`
	Reason  string   `json:"reason"`
}

// kernelIssueKeys are the product repositories a kernel flavor needs (qem-bot).
var kernelIssueKeys = []string{"OS_TEST_ISSUES", "LTSS_TEST_ISSUES", "BASE_TEST_ISSUES", "RT_TEST_ISSUES", "COCO_TEST_ISSUES"}

// embargoFlavorPrefixes are public-cloud flavors, which must not see embargoed updates.
var embargoFlavorPrefixes = []string{"Azure", "EC2", "GCE"}

// planner carries the parsed, PR-wide facts through one Plan call.
type planner struct {
	in        PlanInput
	pkgs      []string
	channels  []metadata.Channel
	livepatch bool
	number    string
}

// Plan decides which openQA products to schedule for a PR: one TestRun per
// metadata product, incidents flavor and arch that the PR is relevant for,
// and a Skip with the reason for everything it drops. Output is sorted by
// file, flavor and arch.
func Plan(in PlanInput) ([]TestRun, []Skip) {
	if in.Metadata == nil {
		return nil, []Skip{{Code: SkipNoMetadata, Reason: "no metadata loaded"}}
	}
	p := &planner{in: in, pkgs: SortPackages(in.Pull.Packages), number: strconv.FormatInt(in.Pull.Number, 10)}
	if len(p.pkgs) == 0 {
		return nil, []Skip{{Code: SkipNoPackages, Reason: "the PR names no packages (no _patchinfo <package> entries)"}}
	}
	var skips []Skip
	for _, raw := range in.Branch.Channels {
		c, err := metadata.ParsePullChannel(raw)
		if err != nil {
			skips = append(skips, Skip{Code: SkipInvalidChannel, Reason: err.Error()})
			continue
		}
		p.channels = append(p.channels, c)
	}
	if pkg, rule, ok := in.Metadata.CentralExcluded().Match(p.pkgs); ok {
		return nil, append(skips, Skip{Code: SkipCentralExcluded,
			Reason: fmt.Sprintf("package %s is on the central blocklist (config.yml excluded_packages %s)", pkg, rule)})
	}
	p.livepatch = IsLivepatch(p.pkgs)

	var runs []TestRun
	for _, prod := range in.Metadata.Products() {
		r, s := p.product(prod)
		runs = append(runs, r...)
		skips = append(skips, s...)
	}
	runs, dups := dedupe(runs)
	skips = append(skips, dups...)
	slices.SortStableFunc(skips, func(a, b Skip) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Flavor, b.Flavor), cmp.Compare(a.Arch, b.Arch))
	})
	return runs, skips
}

// product plans one metadata product. Channel relevance is decided first so
// that a product or flavor that does not concern the PR's channels at all
// yields one skip instead of one per rule and arch: a plan over dozens of
// unrelated products stays readable. Within a relevant flavor the rules apply
// in qem-bot's order.
func (p *planner) product(prod *metadata.Product) ([]TestRun, []Skip) {
	skip := func(flavor, arch string, code SkipCode, format string, args ...any) Skip {
		return Skip{Product: prod.Name, File: prod.File, Flavor: flavor, Arch: arch, Code: code, Reason: fmt.Sprintf(format, args...)}
	}
	if bpv := p.in.Branch.ProductVersion; bpv != "" && prod.ProductVersion != "" && bpv != prod.ProductVersion {
		return nil, []Skip{skip("", "", SkipProductVersion, "product version %s, the branch builds %s", prod.ProductVersion, bpv)}
	}
	var runs []TestRun
	var skips []Skip
	relevant := false
	for _, f := range prod.Flavors {
		matches := map[string]map[string][]metadata.Channel{}
		var built []string
		for _, arch := range f.Archs {
			if len(p.in.Branch.Archs) > 0 && !slices.Contains(p.in.Branch.Archs, arch) {
				continue
			}
			built = append(built, arch)
			if m := p.matchIssues(f.Issues, arch); len(m) > 0 {
				matches[arch] = m
			}
		}
		if len(matches) == 0 {
			archs := built
			if len(archs) == 0 {
				archs = f.Archs
			}
			skips = append(skips, skip(f.Name, "", SkipNoChannelMatch, "no issue channel (%s) matches the PR channels on %s",
				issueList(f.Issues), strings.Join(archs, ", ")))
			continue
		}
		relevant = true
		if s, ok := p.flavorSkip(prod, f); ok {
			skips = append(skips, skip(f.Name, "", s.Code, "%s", s.Reason))
			continue
		}
		for _, arch := range f.Archs {
			matched := matches[arch]
			switch {
			case !slices.Contains(built, arch):
				skips = append(skips, skip(f.Name, arch, SkipArchNotBuilt, "the branch does not build %s", arch))
			case len(matched) == 0:
				skips = append(skips, skip(f.Name, arch, SkipNoChannelMatch, "no issue channel (%s) matches the PR channels on %s", issueList(f.Issues), arch))
			case len(f.RequiredIssues) > 0 && !slices.ContainsFunc(f.RequiredIssues, func(k string) bool { return matched[k] != nil }):
				skips = append(skips, skip(f.Name, arch, SkipRequiredIssues, "none of the required issues %s matches", strings.Join(f.RequiredIssues, ", ")))
			case strings.Contains(f.Name, "Kernel") && !p.livepatch && !strings.HasSuffix(f.Name, "Azure") &&
				!slices.ContainsFunc(kernelIssueKeys, func(k string) bool { return matched[k] != nil }):
				skips = append(skips, skip(f.Name, arch, SkipKernelRepo, "a kernel flavor needs one of %s", strings.Join(kernelIssueKeys, ", ")))
			default:
				runs = append(runs, p.run(prod, f, arch, matched))
			}
		}
	}
	if !relevant {
		return nil, []Skip{skip("", "", SkipNoChannelMatch, "none of the product's issue channels matches the PR channels (%s)", strings.Join(p.in.Branch.Channels, ", "))}
	}
	return runs, skips
}

// flavorSkip applies the arch-independent rules of one flavor.
func (p *planner) flavorSkip(prod *metadata.Product, f metadata.Flavor) (Skip, bool) {
	if p.in.Pull.Embargoed && embargoFiltered(prod, f.Name) {
		return Skip{Code: SkipEmbargoed, Reason: "embargoed updates are not tested on public-cloud flavors"}, true
	}
	if !f.Packages.Allows(p.pkgs) {
		return Skip{Code: SkipPackagesNotListed, Reason: fmt.Sprintf("no package matches the flavor's packages %s", ruleList(f.Packages))}, true
	}
	if pkg, rule, ok := f.ExcludedPackages.Match(p.pkgs); ok {
		return Skip{Code: SkipPackageExcluded, Reason: fmt.Sprintf("package %s matches excluded_packages %s", pkg, rule)}, true
	}
	for _, k := range []string{"DISTRI", "VERSION"} {
		if _, bad := f.ParamsExpand[k]; bad {
			return Skip{Code: SkipParamsExpand, Reason: "params_expand must not set " + k}, true
		}
	}
	return Skip{}, false
}

func embargoFiltered(prod *metadata.Product, flavor string) bool {
	return prod.EmbargoFiltered() || slices.ContainsFunc(embargoFlavorPrefixes, func(pre string) bool { return strings.HasPrefix(flavor, pre) })
}

// matchIssues maps each issue key to the PR channels that satisfy it on arch.
func (p *planner) matchIssues(issues []metadata.Issue, arch string) map[string][]metadata.Channel {
	out := map[string][]metadata.Channel{}
	for _, is := range issues {
		if m := metadata.MatchChannels(is.Channel, p.channels, arch); len(m) > 0 {
			out[is.Key] = m
		}
	}
	return out
}

// run builds the settings of one test run, in qem-bot's precedence: product
// settings, the run's own keys, issue keys, INCIDENT_REPO, _PRIORITY, then
// params_expand over all of those, and finally the links and Gitea keys.
func (p *planner) run(prod *metadata.Product, f metadata.Flavor, arch string, matched map[string][]metadata.Channel) TestRun {
	pull := p.in.Pull
	s := maps.Clone(prod.Settings)
	version := prod.Settings["VERSION"]
	if f.VersionedBySubmission {
		version = fmt.Sprintf("%s:%s-%d", version, SubmissionType, pull.Number)
	}
	s["DISTRI"] = prod.Settings["DISTRI"]
	s["VERSION"] = version
	s["FLAVOR"] = f.Name
	s["ARCH"] = arch
	s["INCIDENT_ID"] = p.number
	s["SUBMISSION_ID"] = SubmissionType + ":" + p.number
	s["BUILD"] = fmt.Sprintf(":%s:%d:%s", SubmissionType, pull.Number, p.pkgs[0])
	s["_OBSOLETE"] = "1"
	s["_ONLY_OBSOLETE_SAME_BUILD"] = "1"
	s[TriggerJobDoneHook] = "1"
	if p.livepatch {
		s["KGRAFT"] = "1"
	}
	for key := range matched {
		s[key] = p.number
	}
	if repo := p.incidentRepo(p.in.Branch.IncidentRepo, prod, arch, matched); repo != "" {
		s["INCIDENT_REPO"] = repo
	}
	priority := JobPriority(f.Name, f.OverridePriority, pull.Priority, pull.Emergency)
	s["_PRIORITY"] = strconv.Itoa(priority)
	maps.Copy(s, f.ParamsExpand)
	if v, err := strconv.Atoi(s["_PRIORITY"]); err == nil {
		priority = v
	}
	if pull.HTMLURL != "" {
		s["__SOURCE_CHANGE_URL"] = pull.HTMLURL
		s["GITEA_PR_URL"] = pull.HTMLURL
	}
	if p.in.PublicURL != "" {
		s["__DASHBOARD_URL"] = DashboardURL(p.in.PublicURL, pull.Repo, pull.Number)
	}
	if pull.HeadSHA != "" {
		s["GITEA_SHA"] = pull.HeadSHA
	}
	if pull.Repo != "" {
		s["GITEA_REPO"] = pull.Repo
	}
	return TestRun{
		Product: prod.Name, File: prod.File,
		Distri: s["DISTRI"], Version: s["VERSION"], Flavor: s["FLAVOR"], Arch: s["ARCH"], Build: s["BUILD"],
		Settings:      s,
		WithAggregate: p.withAggregate(prod, f, s),
		Priority:      priority,
	}
}

// TriggerJobDoneHook opts a job into openQA's generic job_done_hook, so that
// the hook calls qemgate for our jobs and not for every job of the instance.
const TriggerJobDoneHook = "_TRIGGER_JOB_DONE_HOOK"

// DashboardURL is the PR's page on qemgate's dashboard.
func DashboardURL(publicURL, repo string, number int64) string {
	return fmt.Sprintf("%s/pulls/%s/%d", strings.TrimRight(publicURL, "/"), repo, number)
}

// withAggregate follows qem-bot (singlearch packages never need aggregates;
// aggregate_job defaults to true; with aggregate_job false the check keys
// decide) and additionally requires that the product has an aggregate that
// will include the PR, so approval never waits for results that cannot come.
func (p *planner) withAggregate(prod *metadata.Product, f metadata.Flavor, settings map[string]string) bool {
	if p.in.Metadata.HasSingleArch(p.pkgs) {
		return false
	}
	if len(p.aggregateIssues(prod)) == 0 {
		return false
	}
	if f.AggregateJob == nil || *f.AggregateJob {
		return true
	}
	has := func(k string) bool { _, ok := settings[k]; return ok }
	pos, neg := f.AggregateCheckTrue, f.AggregateCheckFalse
	if (len(pos) > 0 && slices.ContainsFunc(pos, has)) || (len(neg) > 0 && !slices.ContainsFunc(neg, has)) {
		return false
	}
	return len(pos) > 0 && len(neg) > 0
}

// AggregateIssues tells which aggregate test_issues keys the PR joins, per
// aggregate arch, for the product's aggregate section; an empty map means the
// PR is not part of that aggregate. The same eligibility rules as qem-bot's
// aggregates apply: no livepatch, no embargo on public-cloud products, and the
// aggregate's and the central package filters.
func AggregateIssues(prod *metadata.Product, in PlanInput) map[string][]string {
	if in.Metadata == nil {
		return nil
	}
	p := &planner{in: in, pkgs: SortPackages(in.Pull.Packages)}
	for _, raw := range in.Branch.Channels {
		if c, err := metadata.ParsePullChannel(raw); err == nil {
			p.channels = append(p.channels, c)
		}
	}
	if len(p.pkgs) == 0 || in.Metadata.CentralExcluded().Excludes(p.pkgs) {
		return nil
	}
	p.livepatch = IsLivepatch(p.pkgs)
	return p.aggregateIssues(prod)
}

func (p *planner) aggregateIssues(prod *metadata.Product) map[string][]string {
	agg := prod.Aggregate
	if agg == nil || p.livepatch || (p.in.Pull.Embargoed && embargoFiltered(prod, agg.Flavor)) ||
		!agg.Packages.Allows(p.pkgs) || agg.ExcludedPackages.Excludes(p.pkgs) {
		return nil
	}
	out := map[string][]string{}
	for _, arch := range agg.Archs {
		if len(p.in.Branch.Archs) > 0 && !slices.Contains(p.in.Branch.Archs, arch) {
			continue
		}
		issuesArch := cmp.Or(prod.Settings["TEST_ISSUES_ARCH"], arch)
		var keys []string
		for k := range p.matchIssues(agg.TestIssues, issuesArch) {
			keys = append(keys, k)
		}
		if len(keys) > 0 {
			slices.Sort(keys)
			out[arch] = keys
		}
	}
	return out
}

// incidentRepo expands the branch's repository template for one run; with a
// {product_repo} placeholder it yields one URL per product_repo entry, comma
// separated and sorted as qem-bot does.
func (p *planner) incidentRepo(template string, prod *metadata.Product, arch string, matched map[string][]metadata.Channel) string {
	if template == "" {
		return ""
	}
	pv := cmp.Or(p.in.Branch.ProductVersion, prod.ProductVersion, matchedProductVersion(matched), prod.Settings["VERSION"])
	repos := prod.ProductRepo
	if len(repos) == 0 {
		repos = []string{prod.Name}
	}
	var urls []string
	for _, repo := range repos {
		urls = append(urls, RepoURL(template, RepoVars{
			Number: p.in.Pull.Number, ProductVersion: pv, Arch: arch, ProductRepo: repo,
			StagingProject: p.in.Branch.StagingProject,
		}))
	}
	slices.Sort(urls)
	return strings.Join(slices.Compact(urls), ",")
}

func matchedProductVersion(matched map[string][]metadata.Channel) string {
	var pvs []string
	for _, cs := range matched {
		for _, c := range cs {
			if c.ProductVersion != "" {
				pvs = append(pvs, c.ProductVersion)
			}
		}
	}
	slices.Sort(pvs)
	if len(pvs) == 0 {
		return ""
	}
	return pvs[0]
}

// RepoVars are the values substituted into repository URL templates.
type RepoVars struct {
	Number         int64
	ProductVersion string
	Arch           string
	ProductRepo    string
	// StagingProject is itself a template ({number}).
	StagingProject string
}

// RepoURL expands {number}, {product_version}, {arch}, {product_repo},
// {staging_project} and {staging_project_path} (the project with ":" turned
// into ":/", as download servers lay OBS projects out). Unknown placeholders
// stay as they are.
func RepoURL(template string, v RepoVars) string {
	number := strconv.FormatInt(v.Number, 10)
	staging := strings.ReplaceAll(v.StagingProject, "{number}", number)
	return strings.NewReplacer(
		"{number}", number,
		"{product_version}", v.ProductVersion,
		"{arch}", v.Arch,
		"{product_repo}", v.ProductRepo,
		"{staging_project}", staging,
		"{staging_project_path}", strings.ReplaceAll(staging, ":", ":/"),
	).Replace(template)
}

// dedupe keeps the first run per openQA product (DISTRI, VERSION, FLAVOR,
// ARCH, BUILD): two identical posts would obsolete each other's jobs.
func dedupe(runs []TestRun) ([]TestRun, []Skip) {
	slices.SortStableFunc(runs, func(a, b TestRun) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Flavor, b.Flavor), cmp.Compare(a.Arch, b.Arch))
	})
	seen := map[string]TestRun{}
	var out []TestRun
	var skips []Skip
	for _, r := range runs {
		key := strings.Join([]string{r.Distri, r.Version, r.Flavor, r.Arch, r.Build}, "\x00")
		if first, dup := seen[key]; dup {
			skips = append(skips, Skip{Product: r.Product, File: r.File, Flavor: r.Flavor, Arch: r.Arch, Code: SkipDuplicate,
				Reason: fmt.Sprintf("the same openQA product is already planned by %s (%s)", first.Product, first.File)})
			continue
		}
		seen[key] = r
		out = append(out, r)
	}
	return out, skips
}

func issueList(issues []metadata.Issue) string {
	parts := make([]string, 0, len(issues))
	for _, i := range issues {
		parts = append(parts, i.Key+"="+i.Raw)
	}
	return strings.Join(parts, ", ")
}

func ruleList(l metadata.PackageList) string {
	parts := make([]string, 0, len(l.Rules))
	for _, r := range l.Rules {
		parts = append(parts, r.String())
	}
	return "[" + strings.Join(parts, " ") + "]"
}
