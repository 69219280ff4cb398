package jobs

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/metadata"
	"github.com/qemgate/qemgate/store"
)

// Aggregate outcomes, per product and arch.
const (
	AggregateCreated   = "created"
	AggregateUnchanged = "unchanged" // same PRs at the same head SHAs as the latest
	AggregateOnetime   = "onetime"   // onetime: only the first build of a day
	AggregateEmpty     = "empty"     // no eligible PR
)

// AggregateArgs asks to build the aggregates of every product that has an
// aggregate section, and to post those not posted yet.
type AggregateArgs struct{}

// Kind names the job.
func (AggregateArgs) Kind() string { return "aggregate" }

// AggregateWorker bundles every eligible open PR of a product into one
// build per arch, and posts it to openQA once.
type AggregateWorker struct {
	river.WorkerDefaults[AggregateArgs]
	deps Deps
}

// Work builds and posts the aggregates.
func (w *AggregateWorker) Work(ctx context.Context, _ *river.Job[AggregateArgs]) error {
	_, err := RunAggregates(ctx, w.deps, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

// AggregateDecision is what one product/arch got in one aggregate pass.
type AggregateDecision struct {
	Product string
	Arch    string
	Outcome string
	Build   string // the new build, when created
	Members int
}

// RunAggregates decides every product's aggregates, records the new ones
// with their members and test run, and posts every aggregate run that is
// not posted yet (a run recorded before a crash is posted by the next pass).
// Each posted run's jobs are synced, and its members evaluated.
func RunAggregates(ctx context.Context, deps Deps, ins Inserter) ([]AggregateDecision, error) {
	set := deps.Metadata.Current()
	if set == nil {
		return nil, errors.New("aggregates: no metadata loaded yet")
	}
	candidates, err := store.AggregateCandidates(ctx, deps.Store.Pool)
	if err != nil {
		return nil, err
	}
	now := deps.now().UTC()
	var decisions []AggregateDecision
	for _, prod := range set.Products() {
		if prod.Aggregate == nil {
			continue
		}
		byArch := aggregateMembers(deps, set, prod, candidates)
		for _, arch := range prod.Aggregate.Archs {
			d, err := decideAggregate(ctx, deps, prod, arch, byArch[arch], now)
			if err != nil {
				return decisions, err
			}
			deps.Metrics.Aggregates.WithLabelValues(d.Outcome).Inc()
			deps.Logger.InfoContext(ctx, "aggregate", "product", d.Product, "arch", d.Arch, "outcome", d.Outcome,
				"build", d.Build, "members", d.Members)
			decisions = append(decisions, d)
		}
	}
	return decisions, postAggregates(ctx, deps, ins)
}

// aggregateMember is a PR that joins a product's aggregate on one arch.
type aggregateMember struct {
	pull   store.Pull
	keys   []string // the test_issues keys it joins, e.g. OS_TEST_ISSUES
	branch gate.Branch
}

// aggregateMembers sorts the candidates into the product's aggregate archs
// by the same eligibility rules qem-bot uses (gate.AggregateIssues).
func aggregateMembers(deps Deps, set *metadata.Set, prod *metadata.Product, candidates []store.Pull) map[string][]aggregateMember {
	out := map[string][]aggregateMember{}
	for _, p := range candidates {
		rc, ok := deps.Config.Repo(p.Repo)
		if !ok {
			continue
		}
		b, ok := rc.Branches[p.BaseBranch]
		if !ok {
			continue
		}
		branch := gateBranch(b)
		issues := gate.AggregateIssues(prod, gate.PlanInput{
			Pull: gate.Pull{
				Repo: p.Repo, Number: p.Number, HeadSHA: p.HeadSHA, Base: p.BaseBranch, HTMLURL: p.HTMLURL,
				Packages: p.Packages, Labels: p.Labels, Emergency: p.Emergency, Priority: p.Priority,
			},
			Branch:   branch,
			Metadata: set,
		})
		for arch, keys := range issues {
			out[arch] = append(out[arch], aggregateMember{pull: p, keys: keys, branch: branch})
		}
	}
	return out
}

// decideAggregate records a new aggregate of prod on arch when its PRs or
// their head SHAs changed since the latest one.
func decideAggregate(ctx context.Context, deps Deps, prod *metadata.Product, arch string, members []aggregateMember, now time.Time) (AggregateDecision, error) {
	d := AggregateDecision{Product: prod.Name, Arch: arch, Members: len(members)}
	latest, err := store.LatestAggregate(ctx, deps.Store.Pool, prod.Name, arch)
	if errors.Is(err, store.ErrNotFound) {
		latest, err = nil, nil
	}
	if err != nil {
		return d, err
	}
	plan := planAggregate(prod, arch, members, latest, now, deps.Config.PublicURL)
	d.Outcome = plan.outcome
	if plan.outcome != AggregateCreated {
		return d, nil
	}
	d.Build = plan.build
	rows := make([]store.AggregateMember, 0, len(members))
	for _, m := range members {
		rows = append(rows, store.AggregateMember{Repo: m.pull.Repo, Number: m.pull.Number, SHA: m.pull.HeadSHA})
	}
	run := store.TestRun{
		Product: prod.Name, Distri: plan.settings["DISTRI"], Version: plan.settings["VERSION"],
		Flavor: plan.settings["FLAVOR"], Arch: arch, Build: plan.build, Settings: plan.settings, Priority: plan.priority,
	}
	err = deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		_, err := store.CreateAggregate(ctx, tx, store.Aggregate{Product: prod.Name, Arch: arch, Build: plan.build, Repohash: plan.repohash}, rows, run)
		return err
	})
	if errors.Is(err, store.ErrAggregateExists) {
		// Another pass took the build in the meantime: it has these PRs too.
		d.Outcome, d.Build = AggregateUnchanged, ""
		return d, nil
	}
	return d, err
}

// aggregatePlan is the pure decision about one product/arch aggregate.
type aggregatePlan struct {
	outcome  string
	build    string
	repohash string
	settings map[string]string
	priority int
}

// planAggregate follows qem-bot's aggregate rules with two differences: the
// very first aggregate of a product/arch is created too, and REPOHASH hashes
// the PRs and their head SHAs (a push changes it) instead of repomd revisions.
func planAggregate(prod *metadata.Product, arch string, members []aggregateMember, latest *store.Aggregate, now time.Time, publicURL string) aggregatePlan {
	if len(members) == 0 {
		return aggregatePlan{outcome: AggregateEmpty}
	}
	p := aggregatePlan{repohash: aggregateRepohash(members)}
	if latest != nil && latest.Repohash == p.repohash {
		p.outcome = AggregateUnchanged
		return p
	}
	var counter int
	p.build, counter = nextAggregateBuild(latest, now)
	if prod.Aggregate.Onetime && counter > 1 {
		p.outcome = AggregateOnetime
		return p
	}
	p.outcome = AggregateCreated
	p.settings, p.priority = aggregateSettings(prod, arch, members, p.build, p.repohash, publicURL)
	return p
}

// aggregateRepohash is an md5 over the sorted "repo#number:sha" of the
// members, prefixed with "start" as qem-bot's is.
func aggregateRepohash(members []aggregateMember) string {
	parts := make([]string, 0, len(members))
	for _, m := range members {
		parts = append(parts, fmt.Sprintf("%s#%d:%s", m.pull.Repo, m.pull.Number, strings.ToLower(m.pull.HeadSHA)))
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
func nextAggregateBuild(latest *store.Aggregate, now time.Time) (string, int) {
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
func aggregateSettings(prod *metadata.Product, arch string, members []aggregateMember, build, repohash, publicURL string) (map[string]string, int) {
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
	s[gate.TriggerJobDoneHook] = "1"
	issues := map[string][]string{}
	repos := map[string][]string{}
	var all []string
	maxPriority := 0
	for _, m := range members {
		number := strconv.FormatInt(m.pull.Number, 10)
		all = append(all, number)
		maxPriority = max(maxPriority, m.pull.Priority)
		for _, key := range m.keys {
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
	if p, ok := gate.AggregatePriority(maxPriority); ok {
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
func testRepos(prod *metadata.Product, arch string, m aggregateMember) []string {
	tmpl := cmp.Or(m.branch.TestRepo, m.branch.IncidentRepo)
	if tmpl == "" {
		return nil
	}
	names := prod.ProductRepo
	if len(names) == 0 {
		names = []string{prod.Name}
	}
	pv := cmp.Or(m.branch.ProductVersion, prod.ProductVersion, prod.Settings["VERSION"])
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, gate.RepoURL(tmpl, gate.RepoVars{
			Number: m.pull.Number, ProductVersion: pv, Arch: arch, ProductRepo: name, StagingProject: m.branch.StagingProject,
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

// postAggregates posts every aggregate run not posted yet, then enqueues the
// sync of the jobs it created and the evaluation of its members.
func postAggregates(ctx context.Context, deps Deps, ins Inserter) error {
	runs, err := store.PlannedAggregateRuns(ctx, deps.Store.Pool)
	if err != nil {
		return err
	}
	var retry error
	for _, r := range runs {
		ref := fmt.Sprintf("aggregate %s/%s %s", r.Product, r.Arch, r.Build)
		ids, err := postRun(ctx, deps, deps.Logger.With("aggregate", ref), r, ref)
		if err != nil {
			retry = errors.Join(retry, err)
			continue
		}
		members, err := store.AggregateMembers(ctx, deps.Store.Pool, r.AggregateID)
		if err != nil {
			return err
		}
		err = deps.Store.InTx(ctx, func(tx pgx.Tx) error {
			for _, id := range ids {
				if _, err := InsertDebounced(ctx, ins, tx, SyncOpenQAJobArgs{ID: id}); err != nil {
					return err
				}
			}
			for _, m := range members {
				if _, err := InsertDebounced(ctx, ins, tx, EvaluateArgs{Repo: m.Repo, Number: m.Number}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return retry
}
