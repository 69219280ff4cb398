package dashboard

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/smelt"
	"github.com/qemgate/qemgate/store"
)

// What the PR page says beyond the stored rows, derived so that no two lines
// of the page can contradict each other.

// runView is a test run with what its jobs say: the run's own state is only
// about posting it to openQA ("scheduled" stays after every job finished).
type runView struct {
	store.TestRun
	// Outcome says in words where the run's tests are: "planned",
	// "waiting for openQA", "running: 2 of 5 finished",
	// "finished: 1 failed", "finished: passed", "superseded", ….
	Outcome string `json:"outcome"`
	// Counts are over the run's counted jobs (newest of a clone chain, not
	// obsolete), acceptances counting as passed.
	Counts jobCounts `json:"counts"`
}

// runOutcome says where a run's tests are, from its counted jobs.
func runOutcome(r store.TestRun, jobs []store.OpenQAJob, accepted map[int64]bool) runView {
	v := runView{TestRun: r}
	for _, j := range jobs {
		if j.CloneID == 0 && !j.Obsolete {
			v.Counts.add(store.DashResult{State: j.State, Result: j.Result, Accepted: accepted[j.ID], Jobs: 1})
		}
	}
	c := v.Counts
	switch {
	case r.State == store.RunSuperseded:
		v.Outcome = "superseded by a newer push"
	case r.State == store.RunPlanned:
		v.Outcome = "planned, not posted to openQA yet"
	case r.State == store.RunFailed:
		v.Outcome = "could not be posted to openQA"
	case r.State == store.RunDryRun:
		v.Outcome = "dry run: not posted"
	case c.Total == 0 && len(r.JobIDs) == 0 && r.State == store.RunScheduled:
		v.Outcome = "posted; openQA created no jobs"
	case c.Total == 0:
		v.Outcome = "posted; waiting for openQA's jobs"
	case c.Waiting > 0:
		v.Outcome = fmt.Sprintf("running: %d of %d finished", c.Total-c.Waiting, c.Total)
	case c.Failed > 0:
		v.Outcome = fmt.Sprintf("finished: %d failed", c.Failed)
	case c.Stopped > 0:
		v.Outcome = fmt.Sprintf("finished: %d stopped", c.Stopped)
	default:
		v.Outcome = "finished: passed"
	}
	return v
}

// gatingText says whether the PR is ours to gate, and why not when it is
// not: after qemgate approved the head no review is requested any more, so
// "no" alone would read as if qemgate had nothing to do with it.
func gatingText(p store.Pull, reports []store.Report) string {
	if p.Gated {
		return "yes: a review is requested from our reviewer, or our last review does not approve the head"
	}
	for _, r := range reports {
		if r.Kind == store.ReportApproval && r.SHA == p.HeadSHA && p.HeadSHA != "" {
			if r.DryRun {
				return "done: qemgate approved the head (dry run); a new push makes it ours again"
			}
			return "done: qemgate approved the head; a new push makes it ours again"
		}
	}
	if p.State != "open" {
		return "no: the pull request is " + p.State
	}
	return "no: no review is requested from our reviewer"
}

// obsView is what OBS showed about the PR's staging projects, as the PR page
// shows it: links, the results per product and arch, and the gate's
// reading of them at the head.
type obsView struct {
	Projects []obsProject `json:"projects"`
	// SHA is the head the build was read for; Current says it is the
	// PR's head now.
	SHA     string             `json:"sha"`
	Current bool               `json:"current"`
	ReadAt  *time.Time         `json:"read_at"`
	Results []gate.BuildResult `json:"results"`
	// Status is gate.BuildStatusOf at the head (current builds only).
	Status *gate.BuildStatus `json:"status"`
}

type obsProject struct {
	Name        string `json:"name"`
	URL         string `json:"url,omitempty"`
	Unavailable bool   `json:"unavailable,omitempty"`
}

// newOBSView decodes pulls.obs_build; nil when OBS never showed anything.
func newOBSView(cfg config.Config, p store.Pull) *obsView {
	if len(p.OBSBuild) == 0 {
		return nil
	}
	var b gate.Build
	if err := json.Unmarshal(p.OBSBuild, &b); err != nil {
		return nil
	}
	v := &obsView{SHA: p.OBSSHA, Current: p.OBSSHA != "" && p.OBSSHA == p.HeadSHA, ReadAt: p.OBSReadAt,
		Results: b.Results, Projects: []obsProject{}}
	if v.Results == nil {
		v.Results = []gate.BuildResult{}
	}
	for _, name := range b.Projects {
		unavailable := false
		for _, u := range b.Unavailable {
			unavailable = unavailable || u == name
		}
		v.Projects = append(v.Projects, obsProject{Name: name, URL: cfg.OBS.ProjectURL(name), Unavailable: unavailable})
	}
	if v.Current {
		st := gate.BuildStatusOf(b, p.HeadSHA, cfg.OBS.AllowBuildFailures)
		v.Status = &st
	}
	return v
}

// smeltURL is the PR's page on SMELT when SMELT is configured.
func smeltURL(cfg config.Config, p store.Pull) string {
	if !cfg.SMELT.Enabled() {
		return ""
	}
	return smelt.PageURL(cfg.SMELT.URL, smelt.Key(cfg.SMELT.GiteaHost, p.Repo, p.Number))
}
