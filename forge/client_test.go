package forge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
)

const repoSLFO = "products/SLFO"

type observation struct {
	endpoint string
	code     int
}

type testBundle struct {
	srv *giteafake.Server
	pr  giteafake.PullInfo

	mu       sync.Mutex
	observed []observation
}

func (b *testBundle) observe(endpoint string, code int, _ time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.observed = append(b.observed, observation{endpoint, code})
}

func (b *testBundle) observations() []observation {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]observation(nil), b.observed...)
}

// client returns a Client for the fake with fast retries; edit adjusts the config.
func (b *testBundle) client(t *testing.T, token string, edit ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: b.srv.URL(), Token: token, Timeout: 5 * time.Second, Retries: 2, Backoff: time.Millisecond, Observe: b.observe}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

// setup builds the fixtures' scenario: org products, repo products/SLFO
// (writers bob and ci-bot, admin alice), team qam-openqa (qam-bot) and PR #1
// by carol from her fork, labelled needs-openqa, carrying a _patchinfo.
// objectFormat is "sha1" or "sha256".
func setup(t *testing.T, objectFormat string) (*testBundle, *Client) {
	t.Helper()
	srv := giteafake.New(giteafake.Options{Tokens: map[string]string{
		"tok-ci": "ci-bot", "tok-alice": "alice", "tok-carol": "carol", "tok-bob": "bob",
	}})
	t.Cleanup(srv.Close)
	for _, u := range []string{"alice", "bob", "carol", "ci-bot", "qam-bot"} {
		require.NoError(t, srv.AddUser(giteafake.User{Login: u}))
	}
	require.NoError(t, srv.AddOrg("products", "Products"))
	require.NoError(t, srv.AddTeam("products", giteafake.Team{Name: "qam-openqa", Members: []string{"qam-bot"}}))
	_, err := srv.AddRepo(giteafake.Repo{
		Owner: "products", Name: "SLFO", ObjectFormat: objectFormat,
		Files:   map[string]string{"hello.spec": "Name: hello\nVersion: 2.12.1\n"},
		Writers: []string{"bob", "ci-bot"}, Admins: []string{"alice"},
	})
	require.NoError(t, err)
	_, err = srv.AddLabel("products", "SLFO", giteafake.Label{Name: "needs-openqa"})
	require.NoError(t, err)
	pr, err := srv.OpenPull(giteafake.PullOptions{
		Owner: "products", Repo: "SLFO", Author: "carol", HeadOwner: "carol", Head: "update-hello",
		Title: "Update hello to 2.12.2", Labels: []string{"needs-openqa"},
		Files: map[string]string{"hello.spec": "Name: hello\nVersion: 2.12.2\n", "_patchinfo": "<patchinfo>\n  <category>recommended</category>\n</patchinfo>\n"},
	})
	require.NoError(t, err)
	b := &testBundle{srv: srv, pr: pr}
	return b, b.client(t, "tok-ci")
}

func TestNewDoesNoIO(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: construction must still succeed.
	c, err := New(Config{URL: "http://127.0.0.1:1/", Token: "x", Timeout: time.Second, Retries: -1})
	require.NoError(t, err)
	_, err = c.GetPull(context.Background(), repoSLFO, 1)
	require.Error(t, err)
	require.True(t, IsRetryable(err), "connection refused is retryable: %v", err)

	for _, bad := range []string{"", "src.example.test", "ftp://src.example.test", "http://"} {
		_, err := New(Config{URL: bad})
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
}

func TestGetPull(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	require.NoError(t, b.srv.RequestReview("products", "SLFO", 1, "alice", []string{"bob"}, []string{"qam-openqa"}))

	p, err := c.GetPull(ctx, repoSLFO, 1)
	require.NoError(t, err)
	require.Equal(t, repoSLFO, p.Repo)
	require.Equal(t, int64(1), p.Number)
	require.Equal(t, "open", p.State)
	require.False(t, p.Merged)
	require.False(t, p.Draft)
	require.Equal(t, "Update hello to 2.12.2", p.Title)
	require.Equal(t, "carol", p.Author)
	require.Equal(t, "main", p.BaseBranch)
	require.Equal(t, b.pr.HeadSHA, p.HeadSHA)
	require.Len(t, p.HeadSHA, 40)
	require.Equal(t, b.srv.URL()+"/products/SLFO/pulls/1", p.HTMLURL)
	require.Equal(t, []string{"needs-openqa"}, p.Labels)
	require.Equal(t, []string{"bob"}, p.RequestedReviewers)
	require.Equal(t, []string{"qam-openqa"}, p.RequestedTeams)
	require.False(t, p.CreatedAt.IsZero())
	require.False(t, p.UpdatedAt.IsZero())

	// A merged PR reads as closed and merged.
	_, err = b.srv.MergePull("products", "SLFO", 1, "alice")
	require.NoError(t, err)
	p, err = c.GetPull(ctx, repoSLFO, 1)
	require.NoError(t, err)
	require.Equal(t, "closed", p.State)
	require.True(t, p.Merged)

	_, err = c.GetPull(ctx, repoSLFO, 99)
	require.True(t, IsNotFound(err), "%v", err)
	require.False(t, IsRetryable(err))
	_, err = c.GetPull(ctx, "SLFO", 1)
	require.ErrorIs(t, err, ErrInvalid)
}

func TestListOpenPullsPaginates(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	for i := 2; i <= 120; i++ {
		title := fmt.Sprintf("Update pkg%d", i)
		if i%40 == 0 {
			title = "WIP: " + title
		}
		_, err := b.srv.OpenPull(giteafake.PullOptions{Owner: "products", Repo: "SLFO", Author: "carol", Head: fmt.Sprintf("b%d", i), Title: title, Files: map[string]string{fmt.Sprintf("pkg%d", i): "x"}})
		require.NoError(t, err)
	}
	require.NoError(t, b.srv.ClosePull("products", "SLFO", 7, "alice"))
	b.srv.ResetRequests()

	pulls, err := c.ListOpenPulls(ctx, repoSLFO)
	require.NoError(t, err)
	require.Len(t, pulls, 119)
	seen := map[int64]bool{}
	drafts := 0
	for i, p := range pulls {
		require.False(t, seen[p.Number], "PR #%d twice", p.Number)
		seen[p.Number] = true
		require.NotEqual(t, int64(7), p.Number)
		require.Equal(t, "open", p.State)
		if i > 0 {
			require.Greater(t, p.Number, pulls[i-1].Number, "oldest first")
		}
		if p.Draft {
			drafts++
		}
	}
	require.Equal(t, 3, drafts)

	reqs := b.srv.RequestsMatching("GET", "/api/v1/repos/products/SLFO/pulls")
	require.Len(t, reqs, 3, "119 PRs are 3 pages of 50")
	for i, r := range reqs {
		require.Equal(t, "50", r.Query.Get("limit"))
		require.Equal(t, fmt.Sprint(i+1), r.Query.Get("page"))
		require.Equal(t, "open", r.Query.Get("state"))
		require.Equal(t, "ci-bot", r.User, "authenticated with the token")
	}
}

func TestPullFilesAndRawFile(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	files := map[string]string{"_patchinfo": "<patchinfo/>"}
	for i := range 60 {
		files[fmt.Sprintf("pkgs/p%02d.spec", i)] = "Name: p\n"
	}
	pr, err := b.srv.OpenPull(giteafake.PullOptions{Owner: "products", Repo: "SLFO", Author: "carol", Head: "many", Title: "Many", Files: files})
	require.NoError(t, err)

	got, err := c.PullFiles(ctx, repoSLFO, pr.Number)
	require.NoError(t, err)
	require.Len(t, got, 61)
	names := map[string]string{}
	for _, f := range got {
		names[f.Filename] = f.Status
	}
	require.Equal(t, "added", names["_patchinfo"])
	require.Equal(t, "added", names["pkgs/p59.spec"])

	got, err = c.PullFiles(ctx, repoSLFO, 1)
	require.NoError(t, err)
	require.ElementsMatch(t, []ChangedFile{{Filename: "_patchinfo", Status: "added"}, {Filename: "hello.spec", Status: "changed"}}, got)

	raw, err := c.RawFile(ctx, repoSLFO, b.pr.HeadSHA, "_patchinfo")
	require.NoError(t, err)
	require.Equal(t, "<patchinfo>\n  <category>recommended</category>\n</patchinfo>\n", string(raw))
	raw, err = c.RawFile(ctx, repoSLFO, pr.HeadSHA, "/pkgs/p07.spec")
	require.NoError(t, err)
	require.Equal(t, "Name: p\n", string(raw))
	raw, err = c.RawFile(ctx, repoSLFO, "main", "hello.spec")
	require.NoError(t, err)
	require.Equal(t, "Name: hello\nVersion: 2.12.1\n", string(raw))

	_, err = c.RawFile(ctx, repoSLFO, "main", "_patchinfo")
	require.True(t, IsNotFound(err), "%v", err)
	_, err = c.RawFile(ctx, repoSLFO, "main", "")
	require.ErrorIs(t, err, ErrInvalid)
}

func TestReviews(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	require.NoError(t, b.srv.RequestReview("products", "SLFO", 1, "alice", []string{"bob"}, []string{"qam-openqa"}))

	rows, err := c.Reviews(ctx, repoSLFO, 1)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	var user, team Review
	for _, r := range rows {
		require.Equal(t, ReviewRequestReview, r.State)
		if r.Team != "" {
			team = r
		} else {
			user = r
		}
	}
	require.Equal(t, "bob", user.User)
	require.Equal(t, "qam-openqa", team.Team)
	require.Empty(t, team.User)

	// ci-bot approves the tested head; alice can dismiss it, ci-bot cannot.
	rv, err := c.CreateReview(ctx, repoSLFO, 1, ReviewInput{Event: ReviewApproved, Body: "openQA passed", CommitID: b.pr.HeadSHA})
	require.NoError(t, err)
	require.Equal(t, ReviewApproved, rv.State)
	require.Equal(t, "ci-bot", rv.User)
	require.Equal(t, b.pr.HeadSHA, rv.CommitID)
	require.False(t, rv.Stale)
	require.False(t, rv.SubmittedAt.IsZero())

	err = c.DismissReview(ctx, repoSLFO, 1, rv.ID, "new head")
	require.Error(t, err)
	require.False(t, IsRetryable(err))
	admin := b.client(t, "tok-alice")
	require.NoError(t, admin.DismissReview(ctx, repoSLFO, 1, rv.ID, "new head"))

	// A push turns the remaining rows stale; more than a page still reads whole.
	_, err = b.srv.Push("products", "SLFO", 1, giteafake.PushOptions{Files: map[string]string{"hello.spec": "Version: 2.12.3\n"}})
	require.NoError(t, err)
	for i := range 55 {
		_, err := b.srv.SubmitReview("products", "SLFO", 1, giteafake.ReviewOptions{User: "bob", State: "COMMENT", Body: fmt.Sprintf("note %d", i)})
		require.NoError(t, err)
	}
	rows, err = c.Reviews(ctx, repoSLFO, 1)
	require.NoError(t, err)
	require.Len(t, rows, 57, "bob's request, ci-bot's approval and 55 comments")
	var ours Review
	for _, r := range rows {
		if r.ID == rv.ID {
			ours = r
		}
	}
	require.True(t, ours.Dismissed)
	require.True(t, ours.Stale)
	require.Equal(t, "note 54", rows[len(rows)-1].Body)

	// Gitea refuses an author approving their own PR: permanent, with its message.
	author := b.client(t, "tok-carol")
	_, err = author.CreateReview(ctx, repoSLFO, 1, ReviewInput{Event: ReviewApproved, CommitID: b.pr.HeadSHA})
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, http.StatusUnprocessableEntity, fe.Status)
	require.Equal(t, "create_review", fe.Op)
	require.Contains(t, fe.Message, "approve your own pull is not allowed")
	require.False(t, fe.Retryable())

	before := len(b.srv.RequestsMatching("POST", "/api/v1/repos/*/*/pulls/*/reviews"))
	_, err = c.CreateReview(ctx, repoSLFO, 1, ReviewInput{Event: ReviewRequestChanges, CommitID: b.pr.HeadSHA})
	require.ErrorIs(t, err, ErrInvalid)
	require.Len(t, b.srv.RequestsMatching("POST", "/api/v1/repos/*/*/pulls/*/reviews"), before, "refused before sending")
}

func TestCombinedStatusAcrossPages(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	sha := b.pr.HeadSHA

	cs, err := c.CombinedStatus(ctx, repoSLFO, sha)
	require.NoError(t, err)
	require.Equal(t, "pending", cs.State, "no statuses is pending, not Gitea's empty state")
	require.Equal(t, sha, cs.SHA)
	require.Empty(t, cs.Statuses)

	// The oldest context fails; Gitea orders contexts newest first, so it is
	// alone on page 2 and page 1 alone would say success.
	_, err = b.srv.CreateStatus("products", "SLFO", sha, "ci-bot", giteafake.StatusOptions{State: "failure", Context: "ctx-00", Description: "broken"})
	require.NoError(t, err)
	for i := 1; i < 60; i++ {
		_, err := b.srv.CreateStatus("products", "SLFO", sha, "ci-bot", giteafake.StatusOptions{State: "success", Context: fmt.Sprintf("ctx-%02d", i)})
		require.NoError(t, err)
	}
	b.srv.ResetRequests()
	cs, err = c.CombinedStatus(ctx, repoSLFO, sha)
	require.NoError(t, err)
	require.Equal(t, "failure", cs.State)
	require.Len(t, cs.Statuses, 60)
	reqs := b.srv.RequestsMatching("GET", "/api/v1/repos/products/SLFO/commits/*/status")
	require.Len(t, reqs, 2)
	require.Equal(t, "50", reqs[1].Query.Get("limit"))
	require.Equal(t, "2", reqs[1].Query.Get("page"))
	require.Equal(t, "ci-bot", reqs[0].User, "the raw request carries the token too")

	// The latest status per context wins.
	_, err = b.srv.CreateStatus("products", "SLFO", sha, "ci-bot", giteafake.StatusOptions{State: "success", Context: "ctx-00", Description: "fixed", TargetURL: "https://openqa.example.test/t1"})
	require.NoError(t, err)
	cs, err = c.CombinedStatus(ctx, repoSLFO, sha)
	require.NoError(t, err)
	require.Equal(t, "success", cs.State)
	require.Len(t, cs.Statuses, 60)
	var ctx0 Status
	for _, s := range cs.Statuses {
		if s.Context == "ctx-00" {
			ctx0 = s
		}
	}
	require.Equal(t, Status{Context: "ctx-00", State: "success", Description: "fixed", TargetURL: "https://openqa.example.test/t1", Creator: "ci-bot", UpdatedAt: ctx0.UpdatedAt}, ctx0)
	require.False(t, ctx0.UpdatedAt.IsZero())
}

func TestCreateStatus(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	sha := b.pr.HeadSHA
	desc := strings.Repeat("é", 400)

	require.NoError(t, c.CreateStatus(ctx, repoSLFO, sha, StatusInput{State: "pending", Context: "qam-openqa", Description: desc, TargetURL: "https://qemgate.example.test/pulls/products/SLFO/1"}))
	rows, err := b.srv.Statuses("products", "SLFO", sha)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "pending", rows[0].State)
	require.Equal(t, "qam-openqa", rows[0].Context)
	require.Equal(t, "ci-bot", rows[0].Creator)
	require.Equal(t, "https://qemgate.example.test/pulls/products/SLFO/1", rows[0].TargetURL)
	require.Equal(t, strings.Repeat("é", 254)+"…", rows[0].Description)

	err = c.CreateStatus(ctx, repoSLFO, sha, StatusInput{State: "passed", Context: "qam-openqa"})
	require.ErrorIs(t, err, ErrInvalid)
	rows, err = b.srv.Statuses("products", "SLFO", sha)
	require.NoError(t, err)
	require.Len(t, rows, 1, "an invalid state is never sent")

	// Without write access Gitea answers 403: permanent.
	err = b.client(t, "tok-carol").CreateStatus(ctx, repoSLFO, sha, StatusInput{State: "success", Context: "qam-openqa"})
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, http.StatusForbidden, fe.Status)
	require.False(t, fe.Retryable())
}

func TestComments(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()

	cm, err := c.CreateComment(ctx, repoSLFO, 1, "<!-- openqa state=pending -->\nopenQA: scheduled")
	require.NoError(t, err)
	require.Equal(t, "ci-bot", cm.User)
	require.NotZero(t, cm.ID)
	require.NoError(t, c.EditComment(ctx, repoSLFO, cm.ID, "<!-- openqa state=passed -->\nopenQA: passed"))
	for i := range 59 {
		_, err := b.srv.CreateComment("products", "SLFO", 1, "bob", fmt.Sprintf("comment %d", i))
		require.NoError(t, err)
	}

	all, err := c.Comments(ctx, repoSLFO, 1)
	require.NoError(t, err)
	require.Len(t, all, 60)
	require.Equal(t, cm.ID, all[0].ID)
	require.Equal(t, "<!-- openqa state=passed -->\nopenQA: passed", all[0].Body)
	require.Equal(t, "bob", all[59].User)
	require.Equal(t, "comment 58", all[59].Body)

	err = c.EditComment(ctx, repoSLFO, 9999, "x")
	require.True(t, IsNotFound(err), "%v", err)
	_, err = c.CreateComment(ctx, repoSLFO, 1, "")
	require.ErrorIs(t, err, ErrInvalid)
}

func TestPullsForCommit(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha1")
	ctx := context.Background()
	first := b.pr.HeadSHA

	got, err := c.PullsForCommit(ctx, repoSLFO, first)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(1), got[0].Number)

	// After a push the old SHA is still a commit of PR #1 but not its head.
	pushed, err := b.srv.Push("products", "SLFO", 1, giteafake.PushOptions{Files: map[string]string{"x": "y"}})
	require.NoError(t, err)
	got, err = c.PullsForCommit(ctx, repoSLFO, first)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = c.PullsForCommit(ctx, repoSLFO, pushed.HeadSHA[:10])
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, pushed.HeadSHA, got[0].HeadSHA)

	// An unknown commit: the endpoint says 404, the scan finds nothing.
	b.srv.ResetRequests()
	got, err = c.PullsForCommit(ctx, repoSLFO, strings.Repeat("0", 40))
	require.NoError(t, err)
	require.Empty(t, got)
	require.Len(t, b.srv.RequestsMatching("GET", "/api/v1/repos/products/SLFO/commits/*/pull"), 1, "a 404 is not retried")
	require.Len(t, b.srv.RequestsMatching("GET", "/api/v1/repos/products/SLFO/pulls"), 1)

	// A 500 from the endpoint is an error, not "none".
	b.srv.AddFault(giteafake.Fault{Path: "/api/v1/repos/*/*/commits/*/pull", Status: 500})
	_, err = c.PullsForCommit(ctx, repoSLFO, first)
	require.True(t, IsRetryable(err), "%v", err)
}

func TestSHA256Repository(t *testing.T) {
	t.Parallel()
	b, c := setup(t, "sha256")
	ctx := context.Background()
	sha := b.pr.HeadSHA
	require.Len(t, sha, 64)

	p, err := c.GetPull(ctx, repoSLFO, 1)
	require.NoError(t, err)
	require.Equal(t, sha, p.HeadSHA)

	require.NoError(t, c.CreateStatus(ctx, repoSLFO, sha, StatusInput{State: "success", Context: "qam-openqa"}))
	cs, err := c.CombinedStatus(ctx, repoSLFO, sha)
	require.NoError(t, err)
	require.Equal(t, "success", cs.State)
	require.Equal(t, sha, cs.SHA)

	raw, err := c.RawFile(ctx, repoSLFO, sha, "_patchinfo")
	require.NoError(t, err)
	require.Contains(t, string(raw), "<category>recommended</category>")

	got, err := c.PullsForCommit(ctx, repoSLFO, sha)
	require.NoError(t, err)
	require.Len(t, got, 1)

	rv, err := c.CreateReview(ctx, repoSLFO, 1, ReviewInput{Event: ReviewApproved, CommitID: sha})
	require.NoError(t, err)
	require.Equal(t, sha, rv.CommitID)
}
