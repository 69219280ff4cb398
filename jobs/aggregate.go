package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/metadata"
	"github.com/qemgate/qemgate/store"
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
	if w.deps.Metadata.Current() == nil {
		// Nothing to build from: this pass is cancelled, not retried; the
		// next one (aggregates.schedule) looks again. /readyz says why.
		reason := "no metadata loaded yet"
		if w.deps.Config.Metadata.Dir == "" {
			reason = "metadata.dir is not configured"
		}
		w.deps.Logger.InfoContext(ctx, "aggregate pass skipped", "reason", reason)
		return river.JobCancel(fmt.Errorf("aggregates: %s", reason))
	}
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

// aggregateMembers sorts the candidates into the product's aggregate archs
// by the same eligibility rules qem-bot uses (gate.AggregateIssues).
func aggregateMembers(deps Deps, set *metadata.Set, prod *metadata.Product, candidates []store.Pull) map[string][]gate.AggregateMember {
	out := map[string][]gate.AggregateMember{}
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
			Pull:     gatePull(&p, deps.now()),
			Branch:   branch,
			Metadata: set,
		})
		for arch, keys := range issues {
			out[arch] = append(out[arch], gate.AggregateMember{Repo: p.Repo, Number: p.Number, HeadSHA: p.HeadSHA,
				Priority: p.Priority, Keys: keys, Branch: branch})
		}
	}
	return out
}

// decideAggregate records a new aggregate of prod on arch when its PRs or
// their head SHAs changed since the latest one.
func decideAggregate(ctx context.Context, deps Deps, prod *metadata.Product, arch string, members []gate.AggregateMember, now time.Time) (AggregateDecision, error) {
	d := AggregateDecision{Product: prod.Name, Arch: arch, Members: len(members)}
	var latest *gate.LatestAggregate
	switch stored, err := store.LatestAggregate(ctx, deps.Store.Pool, prod.Name, arch); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return d, err
	default:
		latest = &gate.LatestAggregate{Build: stored.Build, Repohash: stored.Repohash}
	}
	plan := gate.PlanAggregate(prod, arch, members, latest, now, deps.Config.PublicURL)
	d.Outcome = plan.Outcome
	if plan.Outcome != gate.AggregateCreated {
		return d, nil
	}
	d.Build = plan.Build
	rows := make([]store.AggregateMember, 0, len(members))
	for _, m := range members {
		rows = append(rows, store.AggregateMember{Repo: m.Repo, Number: m.Number, SHA: m.HeadSHA})
	}
	run := store.TestRun{
		Product: prod.Name, Distri: plan.Settings["DISTRI"], Version: plan.Settings["VERSION"],
		Flavor: plan.Settings["FLAVOR"], Arch: arch, Build: plan.Build, Settings: plan.Settings, Priority: plan.Priority,
	}
	err := deps.Store.InTx(ctx, func(tx pgx.Tx) error {
		_, err := store.CreateAggregate(ctx, tx, store.Aggregate{Product: prod.Name, Arch: arch, Build: plan.Build, Repohash: plan.Repohash}, rows, run)
		return err
	})
	if errors.Is(err, store.ErrAggregateExists) {
		// Another pass took the build in the meantime: it has these PRs too.
		d.Outcome, d.Build = gate.AggregateUnchanged, ""
		return d, nil
	}
	return d, err
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
