package gate

// This file is the aggregate decision: which build an aggregate of a
// product and arch gets, whether one is due at all, and the settings of its
// POST /api/v1/isos. The aggregate worker gathers the members and the latest
// aggregate, asks PlanAggregate, and records what it says.

import (
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qemgate/qemgate/metadata"
)

// Aggregate outcomes, per product and arch.
const (
	AggregateCreated   = "created"
	AggregateUnchanged = "unchanged" // same PRs at the same head SHAs as the latest
	AggregateOnetime   = "onetime"   // onetime: only the first build of a day
	AggregateEmpty     = "empty"     // no eligible PR
)

// AggregateMember is a PR that joins a product's aggregate on one arch.
type AggregateMember struct {
	Repo     string
	Number   int64
	HeadSHA  string
	Priority int
	// Keys are the test_issues keys it joins, e.g. OS_TEST_ISSUES
	// (AggregateIssues).
	Keys   []string
	Branch Branch
}

// LatestAggregate is what the previous aggregate of the product and arch was.
type LatestAggregate struct {
	Build    string
	Repohash string
}

// AggregatePlan is the decision about one product/arch aggregate.
type AggregatePlan struct {
	Outcome  string
	Build    string
	Repohash string
	Settings map[string]string
	Priority int
}

// PlanAggregate follows qem-bot's aggregate rules with two differences: the
// very first aggregate of a product/arch is created too, and REPOHASH hashes
// the PRs and their head SHAs (a push changes it) instead of repomd revisions.
func PlanAggregate(prod *metadata.Product, arch string, members []AggregateMember, latest *LatestAggregate, now time.Time, publicURL string) AggregatePlan {
	if len(members) == 0 {
		return AggregatePlan{Outcome: AggregateEmpty}
	}
	p := AggregatePlan{Repohash: AggregateRepohash(members)}
	if latest != nil && latest.Repohash == p.Repohash {
		p.Outcome = AggregateUnchanged
		return p
	}
	var counter int
	p.Build, counter = nextAggregateBuild(latest, now)
	if prod.Aggregate.Onetime && counter > 1 {
		p.Outcome = AggregateOnetime
		return p
	}
	p.Outcome = AggregateCreated
	p.Settings, p.Priority = aggregateSettings(prod, arch, members, p.Build, p.Repohash, publicURL)
	return p
}

// AggregateRepohash is an md5 over the sorted "repo#number:sha" of the
// members, prefixed with "start" as qem-bot's is.
func AggregateRepohash(members []AggregateMember) string {
	parts := make([]string, 0, len(members))
	for _, m := range members {
		parts = append(parts, fmt.Sprintf("%s#%d:%s", m.Repo, m.Number, strings.ToLower(m.HeadSHA)))
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	h := md5.New()
	h.Write([]byte("start"))
	for _, s := range parts {
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// nextAggregateBuild is BUILD=<UTC day YYYYMMDD>-<N>: N counts up within a
// day per product and arch, and starts at 1 on a new day.
func nextAggregateBuild(latest *LatestAggregate, now time.Time) (string, int) {
	day := now.UTC().Format("20060102")
	counter := 1
	if latest != nil {
		if rest, ok := strings.CutPrefix(latest.Build, day+"-"); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				counter = n + 1
			}
		}
	}
	return fmt.Sprintf("%s-%d", day, counter), counter
}

// aggregateSettings is the form of an aggregate's POST /api/v1/isos: the
// product settings, FLAVOR, ARCH, BUILD, REPOHASH, _DEPRIORITIZEBUILD,
// _TRIGGER_JOB_DONE_HOOK, per
// test_issues key the PR numbers (<X>_TEST_ISSUES) and their repositories
// (<X>_TEST_REPOS), every number in the list setting TEST_ISSUES[], and
// _PRIORITY from the most urgent member.
func aggregateSettings(prod *metadata.Product, arch string, members []AggregateMember, build, repohash, publicURL string) (map[string]string, int) {
	agg := prod.Aggregate
	s := maps.Clone(prod.Settings)
	if s == nil {
		s = map[string]string{}
	}
	s["FLAVOR"] = agg.Flavor
	s["ARCH"] = arch
	s["BUILD"] = build
	s["REPOHASH"] = repohash
	s["_DEPRIORITIZEBUILD"] = "1"
	s[TriggerJobDoneHook] = "1"
	issues := map[string][]string{}
	repos := map[string][]string{}
	var all []string
	maxPriority := 0
	for _, m := range members {
		number := strconv.FormatInt(m.Number, 10)
		all = append(all, number)
		maxPriority = max(maxPriority, m.Priority)
		for _, key := range m.Keys {
			issues[key] = append(issues[key], number)
			repos[key] = append(repos[key], testRepos(prod, arch, m)...)
		}
	}
	for key, numbers := range issues {
		s[key] = joinSorted(numbers)
		if r := joinSorted(repos[key]); r != "" {
			s[strings.TrimSuffix(key, "_TEST_ISSUES")+"_TEST_REPOS"] = r
		}
	}
	s["TEST_ISSUES[]"] = joinSorted(all)
	priority := 0
	if p, ok := AggregatePriority(maxPriority); ok {
		priority = p
		s["_PRIORITY"] = strconv.Itoa(p)
	}
	if publicURL != "" {
		s["__DASHBOARD_URL"] = strings.TrimRight(publicURL, "/") + "/aggregates"
	}
	return s, priority
}

// testRepos are a member's repository URLs for the aggregate: the branch's
// test_repo template (incident_repo when unset), one per product_repo.
func testRepos(prod *metadata.Product, arch string, m AggregateMember) []string {
	tmpl := cmp.Or(m.Branch.TestRepo, m.Branch.IncidentRepo)
	if tmpl == "" {
		return nil
	}
	names := prod.ProductRepo
	if len(names) == 0 {
		names = []string{prod.Name}
	}
	pv := cmp.Or(m.Branch.ProductVersion, prod.ProductVersion, prod.Settings["VERSION"])
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, RepoURL(tmpl, RepoVars{
			Number: m.Number, ProductVersion: pv, Arch: arch, ProductRepo: name, StagingProject: m.Branch.StagingProject,
		}))
	}
	return out
}

// joinSorted sorts (numerically where it can), dedupes and joins with commas.
func joinSorted(vals []string) string {
	vals = slices.Clone(vals)
	slices.SortFunc(vals, func(a, b string) int {
		na, ea := strconv.ParseInt(a, 10, 64)
		nb, eb := strconv.ParseInt(b, 10, 64)
		if ea == nil && eb == nil {
			return cmp.Compare(na, nb)
		}
		return cmp.Compare(a, b)
	})
	return strings.Join(slices.Compact(vals), ",")
}
