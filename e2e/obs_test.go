package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/obsfake"
	"github.com/qemgate/qemgate/fake/smeltfake"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/demo"
)

// obsWorld is the world with a fake OBS and a fake SMELT configured.
func obsWorld(t *testing.T) (*world, *obsfake.Server, *smeltfake.Server) {
	t.Helper()
	o := demo.NewOBS("")
	t.Cleanup(o.Close)
	s := demo.NewSMELT("")
	t.Cleanup(s.Close)
	w := newWorld(t, func(c *config.Config) { demo.WithOBS(c, o.URL(), s.URL()) })
	return w, o, s
}

// stagingBotSays is a comment of the staging bot linking the PR's project,
// which Gitea sends qemgate as an event.
func (w *world) stagingBotSays(number int64) {
	w.t.Helper()
	_, err := w.gitea.CreateComment(owner, repoName, number, stagingBot, demo.StagingComment(number))
	require.NoError(w.t, err)
}

// lastStatus waits until our latest status at sha has state, and returns it.
func (w *world) lastStatus(sha, state string) (description string) {
	w.t.Helper()
	require.Eventually(w.t, func() bool {
		st := w.ourStatuses(sha)
		if len(st) > 0 && st[len(st)-1].State == state {
			description = st[len(st)-1].Description
			return true
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "no %s status at %.12s", state, sha)
	return description
}

// Unpublished → pending with the reason and nothing scheduled; published →
// scheduled on the archs OBS built, and approved when the jobs pass.
func TestOBSUnpublishedThenPublished(t *testing.T) {
	t.Parallel()
	w, o, s := obsWorld(t)
	pr := w.openPull("Update openssl-3")
	prio := 900
	s.SetUpdate(demo.SMELTKey(pr.Number), smeltfake.Update{Priority: &prio})
	demo.BuildSLES(o, pr.Number, pr.HeadSHA, "building", "building")
	w.stagingBotSays(pr.Number)
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	require.Equal(t, "build of SLES aarch64 not published yet (building)", w.lastStatus(pr.HeadSHA, "pending"))
	require.Empty(t, w.openqa.ISOPosts(), "nothing is scheduled before the build is published")
	p := w.pull(pr.Number)
	require.Equal(t, []any{900, gate.PrioritySourceSMELT}, []any{p.Priority, p.PrioritySource})

	require.NoError(t, o.SetState(demo.StagingProject(pr.Number), "product", "", "published"))
	require.NoError(t, o.SetPackage(demo.StagingProject(pr.Number), "product", "x86_64", "000productcompose:sles_x86_64", "succeeded"))
	require.NoError(t, o.SetPackage(demo.StagingProject(pr.Number), "product", "aarch64", "000productcompose:sles_aarch64", "succeeded"))
	w.stagingBotSays(pr.Number) // the staging bot's next comment is the event
	w.settle()
	require.Len(t, w.openqa.ISOPosts(), 2, "x86_64 and aarch64, as OBS built them")
	for _, post := range w.openqa.ISOPosts() {
		require.Contains(t, post.Form.Get("INCIDENT_REPO"), "SUSE:/SLFO:/1.1.99:/PullRequest:/")
		require.Equal(t, "15", post.Form.Get("_PRIORITY"), "SMELT's 900: 50+10-45")
	}
	for _, j := range w.openqa.Jobs() {
		w.finish("passed", j.ID)
	}
	w.settle()
	w.lastStatus(pr.HeadSHA, "success")
	require.Len(t, w.ourReviews(pr.Number, "APPROVED"), 1)
}

// One arch failing: a failure status naming product, arch and package, a
// request for changes, no tests; the rebuild at the same SHA unblocks it.
func TestOBSFailedBuildBlocksUntilRebuilt(t *testing.T) {
	t.Parallel()
	w, o, _ := obsWorld(t)
	pr := w.openPull("Update openssl-3")
	demo.BuildSLES(o, pr.Number, pr.HeadSHA, "published", "succeeded")
	require.NoError(t, o.SetPackage(demo.StagingProject(pr.Number), "product", "aarch64", "000productcompose:sles_aarch64", "failed"))
	w.stagingBotSays(pr.Number)
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	desc := w.lastStatus(pr.HeadSHA, "failure")
	require.Equal(t, "build of SLES aarch64 failed: 000productcompose:sles_aarch64 (failed)", desc)
	require.Empty(t, w.openqa.ISOPosts())
	declined := w.ourReviews(pr.Number, "REQUEST_CHANGES")
	require.Len(t, declined, 1)
	require.True(t, strings.Contains(declined[0].Body, "its build failed"), declined[0].Body)
	require.Empty(t, w.ourReviews(pr.Number, "APPROVED"))

	require.NoError(t, o.SetPackage(demo.StagingProject(pr.Number), "product", "aarch64", "000productcompose:sles_aarch64", "succeeded"))
	w.stagingBotSays(pr.Number)
	w.settle()
	require.Len(t, w.openqa.ISOPosts(), 2, "scheduled after the rebuild")
	w.lastStatus(pr.HeadSHA, "pending")
}

// A project that answers 500, then slowly: the PR waits and says why, and
// converges once OBS answers.
func TestOBSFaults(t *testing.T) {
	t.Parallel()
	w, o, _ := obsWorld(t)
	pr := w.openPull("Update openssl-3")
	demo.BuildSLES(o, pr.Number, pr.HeadSHA, "published", "succeeded")
	o.InjectFault(obsfake.EndpointResult, obsfake.Fault{Status: 500})
	w.stagingBotSays(pr.Number)
	w.buildSucceeds(pr.Number, pr.HeadSHA)
	w.settle()
	require.Contains(t, w.lastStatus(pr.HeadSHA, "pending"), "cannot be read")
	require.Empty(t, w.openqa.ISOPosts())

	o.ClearFaults()
	o.InjectFault(obsfake.EndpointResult, obsfake.Fault{Latency: 300 * time.Millisecond, Times: 1})
	w.stagingBotSays(pr.Number)
	w.settle()
	require.Len(t, w.openqa.ISOPosts(), 2)
}
