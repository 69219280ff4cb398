package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/obs"
	"github.com/qemgate/qemgate/smelt"
	"github.com/qemgate/qemgate/store"
)

// OBS is what the workers need from the build service; *obs.Client
// implements it. Deps.OBS is nil when obs.url is not configured.
type OBS interface {
	Results(ctx context.Context, project string) ([]obs.Result, error)
	Multibuild(ctx context.Context, project, pkg string) ([]string, error)
	Listing(ctx context.Context, project, repository string) ([]string, error)
}

// SMELT is what the workers need from SMELT; *smelt.Client implements it.
// Deps.SMELT is nil when smelt.url is not configured.
type SMELT interface {
	Update(ctx context.Context, key string) (*smelt.Update, error)
}

// obsConcurrency bounds the projects of one PR read from OBS at once.
const obsConcurrency = 4

// readBuild gathers what OBS shows about the PR's staging projects (named
// in the staging bot's comments, else the branch's template) for
// gate.BuildFromOBS. A project whose results cannot be read, after the
// client's retries, is unavailable: the verdict waits and says so, and the
// poller reads it again; it is not a reason to fail the sync.
func readBuild(ctx context.Context, deps Deps, branch config.Branch, p store.Pull) (gate.Build, error) {
	cfg := deps.Config.OBS
	comments, err := deps.Forge.Comments(ctx, p.Repo, p.Number)
	if err != nil {
		return gate.Build{}, err
	}
	var bodies []string
	for _, c := range comments {
		if strings.EqualFold(c.User, cfg.StagingBot) {
			bodies = append(bodies, c.Body)
		}
	}
	rules := obsRules(cfg)
	names := gate.StagingProjects(bodies, branch.StagingProject, p.Number)
	projects := make([]gate.OBSProject, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, obsConcurrency)
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			projects[i] = readProject(ctx, deps, name, rules)
		}()
	}
	wg.Wait()
	for _, pr := range projects {
		if pr.Unavailable != "" {
			deps.Logger.WarnContext(ctx, "OBS project unreadable", "pull", p.Ref(), "project", pr.Name, "error", pr.Unavailable)
		}
	}
	return gate.BuildFromOBS(projects, rules), ctx.Err()
}

func readProject(ctx context.Context, deps Deps, name string, rules gate.OBSRules) gate.OBSProject {
	return ReadOBSProject(ctx, deps.OBS, deps.Logger, name, rules)
}

// ReadOBSProject reads what gate.BuildFromOBS needs about one staging
// project: its results, the _multibuild flavors of a product's project and,
// when no <scmsync> names the version, the download listing. Results that
// cannot be read make the project unavailable; the rest is logged.
// "qemgate metadata plan --obs-project" reads a project the same way.
func ReadOBSProject(ctx context.Context, client OBS, logger *slog.Logger, name string, rules gate.OBSRules) gate.OBSProject {
	out := gate.OBSProject{Name: name}
	results, err := client.Results(ctx, name)
	if err != nil {
		out.Unavailable = err.Error()
		return out
	}
	for _, r := range results {
		res := gate.OBSResult{Repository: r.Repository, Arch: r.Arch, Code: r.Code, State: r.State,
			SCMSync: strings.TrimSpace(r.SCMSync), SCMInfo: strings.TrimSpace(r.SCMInfo)}
		for _, s := range r.Statuses {
			res.Packages = append(res.Packages, gate.OBSPackage{Name: s.Package, Code: s.Code})
		}
		out.Results = append(out.Results, res)
	}
	if gate.ProjectProduct(name) != "" {
		// Unknown flavors make every arch relevant, as in qem-bot.
		if flavors, err := client.Multibuild(ctx, name, gate.ProductComposePackage); err == nil {
			out.Flavors = flavors
		} else if !obs.IsNotFound(err) {
			logger.WarnContext(ctx, "OBS _multibuild unreadable: every arch counts", "project", name, "error", err)
		}
	}
	if gate.NeedsListingVersion(out, rules) {
		names, err := client.Listing(ctx, name, rules.Repository)
		if err != nil {
			logger.WarnContext(ctx, "download listing unreadable: product version unknown", "project", name, "error", err)
		}
		out.ListingVersion = gate.VersionFromListing(gate.ProjectProduct(name), names)
	}
	return out
}

func obsRules(c config.OBS) gate.OBSRules { return OBSRules(c) }

// OBSRules are the configured filters of build results.
func OBSRules(c config.OBS) gate.OBSRules {
	return gate.OBSRules{Repository: c.Repository, Products: c.Products, Archs: c.Archs}
}

// readSMELT asks SMELT for the PR's priority; nil when SMELT is not
// configured, does not know the PR, or cannot be read. Priority is optional
// data: an outage leaves the labels' priority, logged, rather than holding
// the gate back.
func readSMELT(ctx context.Context, deps Deps, p store.Pull) *gate.SMELTPriority {
	if deps.SMELT == nil {
		return nil
	}
	up, err := deps.SMELT.Update(ctx, smelt.Key(deps.Config.SMELT.GiteaHost, p.Repo, p.Number))
	if err != nil {
		deps.Logger.WarnContext(ctx, "SMELT unreadable: priority from labels", "pull", p.Ref(), "error", err)
		return nil
	}
	if up == nil {
		return nil
	}
	return &gate.SMELTPriority{Priority: up.Priority, Emergency: up.Emergency}
}

// storedBuild is the OBS build stored for the PR's head, and the gate's
// reading of it; nil, nil when OBS is not configured. A head whose build
// was not read yet waits. It reads the store only: whether OBS counts is
// the configuration's word, not the presence of a client.
func storedBuild(deps Deps, p *store.Pull) (*gate.Build, *gate.BuildStatus, error) {
	if !deps.Config.OBS.Enabled() {
		return nil, nil, nil
	}
	if p.OBSSHA != p.HeadSHA || len(p.OBSBuild) == 0 {
		return nil, &gate.BuildStatus{State: gate.BuildUnavailable,
			Reasons: []string{fmt.Sprintf("the build of %.12s has not been read from OBS yet", p.HeadSHA)}}, nil
	}
	var b gate.Build
	if err := json.Unmarshal(p.OBSBuild, &b); err != nil {
		return nil, nil, fmt.Errorf("stored OBS build of %s: %w", p.Ref(), err)
	}
	st := gate.BuildStatusOf(b, p.HeadSHA, deps.Config.OBS.AllowBuildFailures)
	return &b, &st, nil
}
