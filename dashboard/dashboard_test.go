package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/httpx"
)

const (
	dashRepo   = "products/SLFO"
	dashOpenQA = "https://openqa.example.test"
	headSHA    = "1111111111111111111111111111111111111111"
	oldSHA     = "0000000000000000000000000000000000000000"
)

func dashConfig(c *config.Config) {
	c.OpenQA.URL = dashOpenQA
	c.OBS.URL, c.OBS.WebURL = "https://api.example.test", "https://build.example.test"
	c.SMELT.URL, c.SMELT.GiteaHost = "https://smelt.example.test", "src.example.test"
	c.Gitea.Repos = []config.Repo{{Name: dashRepo, PriorityLabels: map[string]int{"priority/high": 700, "priority/low": 300},
		EmergencyLabels: []string{"emergency"}}}
}

// seedDash stores open PRs in every stage, their jobs and one aggregate:
//
//	#1 testing, 550: Kernel 1 failed + 1 passed + 1 accepted, Core 3 passed; in aggregate 100 (Aggregate 1/2 failed)
//	#2 testing, 700 by label: Core 1 waiting of 2; in aggregate 100
//	#3 waiting for build, 300
//	#4 failed verdict, emergency: Containers 1 stopped (package podman)
//	#5 approved: Core passed;  #6 closed;  #7 open but never ours
func seedDash(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	exec(`INSERT INTO pulls (repo, number, state, title, author, head_sha, html_url, labels, packages, priority, emergency,
			gated, build_sha, verdict, verdict_sha, verdict_reason, verdict_detail) VALUES
		($1, 1, 'open', 'kernel update', 'alice', $2, 'https://src.example.test/products/SLFO/pulls/1', '{}', '{kernel-default}', 550, false, true, $2, 'pending', $2, '2 jobs running', NULL),
		($1, 2, 'open', 'glibc update', 'bob', $2, 'https://src.example.test/products/SLFO/pulls/2', '{priority/high}', '{glibc}', 700, false, true, $2, '', '', '', NULL),
		($1, 3, 'open', 'curl update', 'carol', $2, '', '{priority/low}', '{curl}', 300, false, true, $3, '', '', '', NULL),
		($1, 4, 'open', 'podman fix', 'dave', $2, '', '{emergency}', '{podman}', 550, true, true, $2, 'failed', $2, 'containers job stopped',
			'{"state":"failed","reasons":[{"code":"job_stopped","blocking":true,"job_id":400,"message":"job 400 incomplete","url":"https://openqa.example.test/tests/400"}],"counts":{"passed":0,"failed":0,"running":0,"stopped":1,"accepted":0,"total":1},"acceptances":[]}'),
		($1, 5, 'open', 'zlib update', 'erin', $2, '', '{}', '{zlib}', 550, false, false, $2, 'passed', $2, 'all passed', NULL),
		($1, 6, 'closed', 'gone', 'frank', $2, '', '{}', '{kernel-default}', 900, false, true, $2, '', '', '', NULL),
		($1, 7, 'open', 'not ours', 'gina', $2, '', '{}', '{vim}', 550, false, false, '', '', '', '', NULL)`,
		dashRepo, headSHA, oldSHA)
	exec(`INSERT INTO test_runs (id, repo, number, sha, distri, version, flavor, arch, build, state) VALUES
		(1, $1, 1, $2, 'sle', '16.0', 'Online', 'x86_64', ':1:kernel', 'scheduled'),
		(9, $1, 1, $3, 'sle', '16.0', 'Online', 'x86_64', ':1:old', 'superseded'),
		(2, $1, 2, $2, 'sle', '16.0', 'Online', 'x86_64', ':2:glibc', 'scheduled'),
		(4, $1, 4, $2, 'sle', '16.0', 'Online', 'x86_64', ':4:podman', 'scheduled'),
		(5, $1, 5, $2, 'sle', '16.0', 'Online', 'x86_64', ':5:zlib', 'scheduled'),
		(6, $1, 6, $2, 'sle', '16.0', 'Online', 'x86_64', ':6:kernel', 'scheduled')`, dashRepo, headSHA, oldSHA)
	exec(`INSERT INTO aggregates (id, product, arch, build, repohash) VALUES (100, 'SLES', 'x86_64', '20260101-1', 'h')`)
	exec(`INSERT INTO aggregate_members (aggregate_id, repo, number, sha) VALUES (100, $1, 1, $2), (100, $1, 2, $2)`, dashRepo, headSHA)
	exec(`INSERT INTO test_runs (id, aggregate_id, distri, version, flavor, arch, build, state) VALUES
		(100, 100, 'sle', '16.0', 'Updates', 'x86_64', '20260101-1', 'scheduled')`)
	exec(`INSERT INTO openqa_jobs (id, test_run_id, name, scenario, group_id, group_name, distri, version, build, state, result, clone_id, obsolete) VALUES
		(101, 1, 'ltp', 'ltp', 10, 'SLE 16 Kernel', 'sle', '16.0', ':1:kernel', 'done', 'failed', NULL, false),
		(102, 1, 'kdump', 'kdump', 10, 'SLE 16 Kernel', 'sle', '16.0', ':1:kernel', 'done', 'passed', NULL, false),
		(103, 1, 'kotd', 'kotd', 10, 'SLE 16 Kernel', 'sle', '16.0', ':1:kernel', 'done', 'failed', NULL, false),
		(104, 1, 'old', 'old', 10, 'SLE 16 Kernel', 'sle', '16.0', ':1:kernel', 'done', 'failed', 102, false),
		(105, 1, 'obs', 'obs', 10, 'SLE 16 Kernel', 'sle', '16.0', ':1:kernel', 'done', 'failed', NULL, true),
		(106, 1, 'a', 'a', 11, 'Maintenance: SLE 16 Core Incidents', 'sle', '16.0', ':1:kernel', 'done', 'passed', NULL, false),
		(107, 1, 'b', 'b', 11, 'Maintenance: SLE 16 Core Incidents', 'sle', '16.0', ':1:kernel', 'done', 'softfailed', NULL, false),
		(108, 1, 'c', 'c', 11, 'Maintenance: SLE 16 Core Incidents', 'sle', '16.0', ':1:kernel', 'done', 'passed', NULL, false),
		(109, 9, 'x', 'x', 10, 'SLE 16 Kernel', 'sle', '16.0', ':1:old', 'done', 'failed', NULL, false),
		(201, 2, 'a', 'a', 11, 'Maintenance: SLE 16 Core Incidents', 'sle', '16.0', ':2:glibc', 'running', 'none', NULL, false),
		(202, 2, 'b', 'b', 11, 'Maintenance: SLE 16 Core Incidents', 'sle', '16.0', ':2:glibc', 'done', 'passed', NULL, false),
		(400, 4, 'podman', 'podman', 12, 'Containers', 'sle', '16.0', ':4:podman', 'done', 'incomplete', NULL, false),
		(500, 5, 'a', 'a', 11, 'Maintenance: SLE 16 Core Incidents', 'sle', '16.0', ':5:zlib', 'done', 'passed', NULL, false),
		(600, 6, 'a', 'a', 10, 'SLE 16 Kernel', 'sle', '16.0', ':6:kernel', 'done', 'failed', NULL, false),
		(901, 100, 'upd', 'upd', 20, 'SLE 16 Aggregate', 'sle', '16.0', '20260101-1', 'done', 'failed', NULL, false),
		(902, 100, 'upd2', 'upd2', 20, 'SLE 16 Aggregate', 'sle', '16.0', '20260101-1', 'done', 'passed', NULL, false)`)
	exec(`UPDATE pulls SET build_ready_at = '2026-01-01T19:40:00Z' WHERE number = 3`)
	exec(`UPDATE pulls SET priority_source = 'smelt', obs_sha = $1, obs_read_at = now(), obs_build = $2 WHERE number = 1`, headSHA,
		`{"projects":["SUSE:SLFO:1.1.99:PullRequest:1:SLES"],"results":[{"project":"SUSE:SLFO:1.1.99:PullRequest:1:SLES","product":"SLES","arch":"x86_64","state":"published","version":"16.0","counts":true,"succeeded":["kernel-default"],"failed":["kernel-docs (failed)"]}],"channels":[],"archs":["x86_64"]}`)
	exec(`INSERT INTO reports (repo, number, sha, kind, key, state, body) VALUES
		($1, 5, $2, 'approval', '', 'passed', 'openQA tests passed'),
		($1, 4, $2, 'decline', '3f2a9c0d1e2b', 'failed', '<!-- qemgate summary -->
### openQA: failed

- [podman](https://openqa.example.test/tests/400) incomplete <script>alert(1)</script>')`, dashRepo, headSHA)
	exec(`INSERT INTO openqa_job_groups (id, name, description, contact) VALUES (10, 'SLE 16 Kernel', '', 'kernel-qa@suse.de')`)
	exec(`INSERT INTO job_acceptances (job_id, repo, number, comment_id, reason, author) VALUES (103, $1, 1, 77, 'bsc#1 known', 'qa-kernel')`, dashRepo)
	exec(`INSERT INTO reports (repo, number, sha, kind, key, state, description) VALUES ($1, 4, $2, 'status', 'qa/openqa', 'failure', '1 job stopped')`, dashRepo, headSHA)
	exec(`INSERT INTO deliveries (source, delivery_id, event, action, repo, number, body, outcome) VALUES
		('gitea', 'd-1', 'pull_request', 'synchronized', $1, 4, '\x7b7d', 'accepted')`, dashRepo)
	exec(`INSERT INTO deliveries (source, delivery_id, event, body, outcome) VALUES
		('openqa', 'job-400-0123456789abcdef', 'job_done', '\x7b7d', 'accepted')`)
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// getJSON fetches path, requires want and decodes the answer into v.
func getJSON(t *testing.T, h http.Handler, path string, want int, v any) {
	t.Helper()
	rec := get(t, h, path)
	require.Equal(t, want, rec.Code, "GET %s: %s", path, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), v), rec.Body.String())
}

type blockedAnswer struct {
	Blocked []blockedRow `json:"blocked"`
	States  []string     `json:"states"`
	Total   int          `json:"total"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
}

func numbers[T interface{ number() int64 }](list []T) []int64 {
	out := []int64{}
	for _, x := range list {
		out = append(out, x.number())
	}
	return out
}

func (r blockedRow) number() int64 { return r.Number }
func (p pullView) number() int64   { return p.Number }

func buttons(list []groupResult) []string {
	out := []string{}
	for _, g := range list {
		out = append(out, g.Name+" "+g.Label)
	}
	return out
}

func TestAPIBlocked(t *testing.T) {
	t.Parallel()
	h := dashSetup(t)

	t.Run("default: by priority, failed stopped and waiting buttons", func(t *testing.T) {
		t.Parallel()
		var a blockedAnswer
		getJSON(t, h, "/api/v1/blocked", http.StatusOK, &a)
		require.Equal(t, []int64{4, 2, 1, 3}, numbers(a.Blocked), "emergency first, then priority descending, then age; approved, closed and not-ours PRs are not blocked")
		require.Equal(t, 4, a.Total)
		require.Equal(t, []string{"failed", "stopped", "waiting"}, a.States)

		four, two, one, three := a.Blocked[0], a.Blocked[1], a.Blocked[2], a.Blocked[3]
		require.True(t, two.HighPriority)
		require.Equal(t, "priority 700 (label priority/high)", two.PriorityReason)
		require.Equal(t, []string{"SLE 16 Core 1/2"}, buttons(two.Results), "the Core nick, one of two waiting")
		require.Equal(t, "waiting", two.Results[0].Status)

		require.False(t, one.HighPriority)
		require.Equal(t, []string{"SLE 16 Kernel 1/3"}, buttons(one.Results), "clone and obsolete jobs do not count; the accepted one passes")
		require.Equal(t, jobCounts{Passed: 2, Failed: 1, Accepted: 1, Total: 3}, one.Results[0].Counts)
		require.Equal(t, "https://openqa.example.test/tests/overview?build=%3A1%3Akernel&distri=sle&groupid=10&version=16.0", one.Results[0].URL)
		require.Equal(t, []string{"SLE 16 Aggregate 1/2"}, buttons(one.AggregateResults))
		require.Equal(t, "https://openqa.example.test/tests/overview?build=20260101-1&distri=sle&groupid=20&version=16.0", one.AggregateResults[0].URL)
		require.Equal(t, 1, one.HiddenResults, "the passed Core group is hidden")
		require.Equal(t, jobCounts{Passed: 5, Failed: 1, Accepted: 1, Total: 6}, one.Counts)
		require.Equal(t, []failingTest{
			{JobID: 101, Name: "ltp", Arch: "x86_64", Status: "failed", Result: "failed", Group: "SLE 16 Kernel", Contact: "kernel-qa@suse.de", URL: "https://openqa.example.test/tests/101"},
			{JobID: 901, Name: "upd", Arch: "x86_64", Status: "failed", Result: "failed", Group: "SLE 16 Aggregate", Aggregate: "SLES x86_64", URL: "https://openqa.example.test/tests/901"},
		}, one.FailingTests, "the accepted, cloned and obsolete jobs do not block")
		require.Equal(t, 2, one.FailingTotal)
		require.Len(t, two.FailingTests, 1, "a waiting job is not a failing test; the aggregate's failure is")
		require.Equal(t, "SLES x86_64", two.FailingTests[0].Aggregate)

		require.True(t, four.HighPriority)
		require.Equal(t, "emergency (label emergency)", four.PriorityReason)
		require.Equal(t, []string{"Containers 1/1"}, buttons(four.Results))
		require.Equal(t, "stopped", four.Results[0].Status)
		require.Equal(t, stageFailed, four.Stage)
		require.Equal(t, []string{"podman stopped"}, func() []string {
			var names []string
			for _, f := range four.FailingTests {
				names = append(names, f.Name+" "+f.Status)
			}
			return names
		}(), "a stopped job blocks too")

		require.True(t, three.NoResults)
		require.Equal(t, stageWaitingForBuild, three.Stage)
	})

	for _, tc := range []struct {
		name, query string
		want        []int64
		buttons     map[int64][]string // own buttons of some rows
	}{
		{"one group", "group_names=kernel", []int64{1}, map[int64][]string{1: {"SLE 16 Kernel 1/3"}}},
		{"several groups", "group_names=KERNEL,%20containers", []int64{4, 1}, nil},
		{"nick anchored: only PRs the group blocks", "group_names=core$", []int64{2}, map[int64][]string{2: {"SLE 16 Core 1/2"}}},
		{"full name matches too", "group_names=^Maintenance:", []int64{2}, nil},
		{"aggregate group keeps the rows", "group_names=aggregate", []int64{2, 1}, map[int64][]string{2: {}, 1: {}}},
		{"no match", "group_names=nothing", []int64{}, nil},
		{"empty parts ignored", "group_names=,%20,", []int64{4, 2, 1, 3}, nil},
		{"passed shown", "states=passed", []int64{4, 2, 1, 3}, map[int64][]string{1: {"SLE 16 Core 3"}}},
		{"states repeated", "states=passed&states=failed", []int64{4, 2, 1, 3}, map[int64][]string{1: {"SLE 16 Core 3", "SLE 16 Kernel 1/3"}}},
		{"states hide buttons, not rows", "states=stopped", []int64{4, 2, 1, 3}, map[int64][]string{1: {}, 4: {"Containers 1/1"}}},
		{"a group that passed blocks nothing, whatever the states", "group_names=core$&states=passed", []int64{2}, nil},
		{"search package", "q=PODMAN", []int64{4}, nil},
		{"search number", "q=%233", []int64{3}, nil},
		{"search and group", "q=kernel&group_names=kernel", []int64{1}, nil},
		{"search and a group that passed", "q=kernel&group_names=core", []int64{}, nil},
		{"page two", "per_page=2&page=2", []int64{1, 3}, nil},
		{"past the end", "per_page=2&page=9", []int64{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a blockedAnswer
			getJSON(t, h, "/api/v1/blocked?"+tc.query, http.StatusOK, &a)
			require.Equal(t, tc.want, numbers(a.Blocked))
			for _, row := range a.Blocked {
				if want, ok := tc.buttons[row.Number]; ok {
					require.Equal(t, want, buttons(row.Results), "row %d", row.Number)
				}
			}
		})
	}

	for _, tc := range []struct{ name, query, msg string }{
		{"bad regexp", "group_names=kernel,(%5B", `group_names: "([" is not a valid regular expression`},
		{"bad state", "states=failed,broken", `states: "broken" is not one of failed, stopped, waiting, passed`},
		{"bad page", "page=0", "page: must be a whole number from 1"},
		{"per_page too big", "per_page=501", "per_page: must be a whole number from 1 to 500"},
		{"per_page not a number", "per_page=x", "per_page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e httpx.ErrorBody
			getJSON(t, h, "/api/v1/blocked?"+tc.query, http.StatusBadRequest, &e)
			require.Contains(t, e.Error, tc.msg)
		})
	}
}

func TestAPIPulls(t *testing.T) {
	t.Parallel()
	h := dashSetup(t)
	type answer struct {
		Pulls []pullView `json:"pulls"`
		Total int        `json:"total"`
	}
	for _, tc := range []struct {
		name, query string
		want        []int64
	}{
		{"all open, by stage then priority", "", []int64{2, 1, 7, 3, 5, 4}},
		{"one stage", "states=approved", []int64{5}},
		{"stages joined", "states=failed,waiting_for_build", []int64{7, 3, 4}},
		{"group", "group_names=core", []int64{2, 1, 5}},
		{"search", "q=zlib", []int64{5}},
		{"paged", "per_page=4&page=2", []int64{5, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a answer
			getJSON(t, h, "/api/v1/pulls?"+tc.query, http.StatusOK, &a)
			require.Equal(t, tc.want, numbers(a.Pulls))
		})
	}
	t.Run("counts and stage", func(t *testing.T) {
		t.Parallel()
		var a answer
		getJSON(t, h, "/api/v1/pulls?q=kernel", http.StatusOK, &a)
		require.Len(t, a.Pulls, 1)
		p := a.Pulls[0]
		require.Equal(t, stageTesting, p.Stage)
		require.Equal(t, jobCounts{Passed: 5, Failed: 1, Accepted: 1, Total: 6}, p.Counts)
		require.Equal(t, jobCounts{Passed: 1, Failed: 1, Total: 2}, p.AggregateCounts)
		require.Equal(t, "/pulls/products/SLFO/1", p.Path)
		require.Equal(t, "pending", p.Verdict)
	})
	t.Run("group narrows counts", func(t *testing.T) {
		t.Parallel()
		var a answer
		getJSON(t, h, "/api/v1/pulls?q=kernel&group_names=kernel", http.StatusOK, &a)
		require.Equal(t, jobCounts{Passed: 2, Failed: 1, Accepted: 1, Total: 3}, a.Pulls[0].Counts)
		require.Equal(t, jobCounts{}, a.Pulls[0].AggregateCounts)
	})
	t.Run("bad stage", func(t *testing.T) {
		t.Parallel()
		var e httpx.ErrorBody
		getJSON(t, h, "/api/v1/pulls?states=blocked", http.StatusBadRequest, &e)
		require.Contains(t, e.Error, `states: "blocked" is not one of testing, waiting_for_build, approved, failed`)
	})
}

func TestAPIPull(t *testing.T) {
	t.Parallel()
	h := dashSetup(t)

	t.Run("detail", func(t *testing.T) {
		t.Parallel()
		var d struct {
			pullDetail
			Verdict struct {
				State   string          `json:"state"`
				Current bool            `json:"current"`
				Detail  json.RawMessage `json:"detail"`
			} `json:"verdict"`
		}
		getJSON(t, h, "/api/v1/pulls/products/SLFO/1", http.StatusOK, &d)
		require.Equal(t, "kernel update", d.Pull.Title)
		require.Equal(t, "pending", d.Verdict.State)
		require.True(t, d.Verdict.Current)
		require.JSONEq(t, "null", string(d.Verdict.Detail))
		require.Len(t, d.Runs, 2, "runs at every SHA")
		require.Equal(t, int64(9), d.Runs[0].ID, "newest first")
		ids := []int64{}
		for _, j := range d.Jobs {
			ids = append(ids, j.ID)
		}
		require.Equal(t, []int64{103, 101, 106, 107, 108, 102, 105, 104}, ids, "head jobs only: failed first, then by group and name, uncounted last")
		require.True(t, d.Jobs[0].Accepted)
		require.Equal(t, "failed", d.Jobs[0].Status, "the status is openQA's; acceptance is told apart")
		require.False(t, d.Jobs[6].Counted)
		require.Equal(t, "https://openqa.example.test/tests/101", d.Jobs[1].URL)
		require.Len(t, d.Acceptances, 1)
		require.Equal(t, "bsc#1 known", d.Acceptances[0].Reason)
		require.Equal(t, []string{"SLE 16 Core 3", "SLE 16 Kernel 1/3"}, buttons(d.Results))
		require.Equal(t, []string{"SLE 16 Aggregate 1/2"}, buttons(d.AggregateResults))
		require.Len(t, d.Aggregates, 1)
		require.Empty(t, d.Reports)
		require.Empty(t, d.Deliveries)
	})
	t.Run("verdict detail, reports and deliveries", func(t *testing.T) {
		t.Parallel()
		var d struct {
			pullDetail
			Verdict struct {
				Detail struct {
					State   string `json:"state"`
					Reasons []struct {
						Code string `json:"code"`
					} `json:"reasons"`
				} `json:"detail"`
			} `json:"verdict"`
		}
		getJSON(t, h, "/api/v1/pulls/products/SLFO/4", http.StatusOK, &d)
		require.Equal(t, "failed", d.Verdict.Detail.State)
		require.Equal(t, "job_stopped", d.Verdict.Detail.Reasons[0].Code)
		require.Len(t, d.Reports, 2)
		require.Len(t, d.Deliveries, 2, "the job-done delivery of its job 400 is the PR's too")
		require.Equal(t, "job-400-0123456789abcdef", d.Deliveries[0].DeliveryID)
		require.Equal(t, "synchronized", d.Deliveries[1].Action)
	})
	t.Run("closed PR still answers", func(t *testing.T) {
		t.Parallel()
		var d pullDetail
		getJSON(t, h, "/api/v1/pulls/products/SLFO/6", http.StatusOK, &d)
		require.Equal(t, []string{"SLE 16 Kernel 1/1"}, buttons(d.Results))
	})
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		var e httpx.ErrorBody
		getJSON(t, h, "/api/v1/pulls/products/SLFO/99", http.StatusNotFound, &e)
		require.Equal(t, "no such pull request", e.Error)
	})
	t.Run("bad number", func(t *testing.T) {
		t.Parallel()
		var e httpx.ErrorBody
		getJSON(t, h, "/api/v1/pulls/products/SLFO/x", http.StatusBadRequest, &e)
		require.Contains(t, e.Error, "number")
	})
}

func TestAPIAggregates(t *testing.T) {
	t.Parallel()
	h := dashSetup(t)
	type answer struct {
		Aggregates []aggregateView `json:"aggregates"`
		Total      int             `json:"total"`
	}
	t.Run("latest with members and counts", func(t *testing.T) {
		t.Parallel()
		var a answer
		getJSON(t, h, "/api/v1/aggregates", http.StatusOK, &a)
		require.Len(t, a.Aggregates, 1)
		g := a.Aggregates[0]
		require.Equal(t, "20260101-1", g.Build)
		require.Len(t, g.Members, 2)
		require.Equal(t, []string{"kernel-default"}, g.Members[0].Packages)
		require.Equal(t, jobCounts{Passed: 1, Failed: 1, Total: 2}, g.Counts)
		require.Equal(t, []string{"SLE 16 Aggregate 1/2"}, buttons(g.Results))
	})
	for _, tc := range []struct {
		name, query string
		want        int
	}{
		{"member package", "q=glibc", 1},
		{"member number", "q=2", 1},
		{"no member", "q=podman", 0},
		{"group", "group_names=aggregate", 1},
		{"other group", "group_names=kernel", 0},
		{"states hide buttons", "states=passed", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a answer
			getJSON(t, h, "/api/v1/aggregates?"+tc.query, http.StatusOK, &a)
			require.Len(t, a.Aggregates, tc.want)
			require.Equal(t, tc.want, a.Total)
		})
	}
	t.Run("bad builds", func(t *testing.T) {
		t.Parallel()
		var e httpx.ErrorBody
		getJSON(t, h, "/api/v1/aggregates?builds=31", http.StatusBadRequest, &e)
		require.Contains(t, e.Error, "builds")
	})
}

func TestDashboardPages(t *testing.T) {
	t.Parallel()
	h := dashSetup(t)
	for _, tc := range []struct {
		name, path string
		status     int
		contains   []string
		excludes   []string
	}{
		{"active", "/", 200, []string{"Active pull requests", `id="s-testing"`, `id="s-waiting_for_build"`, "products/SLFO#7"}, []string{"products/SLFO#6"}},
		{"blocked filtered", "/blocked?group_names=kernel", 200,
			[]string{`id="pr-1"`, "SLE 16 Kernel", "1/3", `value="kernel"`, `href="https://openqa.example.test/tests/overview?build=%3A1%3Akernel&amp;distri=sle&amp;groupid=10&amp;version=16.0"`},
			[]string{`id="pr-2"`, `id="pr-4"`}},
		{"blocked highlight", "/blocked", 200, []string{`class="high-priority"`, "priority 700 (label priority/high)", "emergency (label emergency)", "No results yet"}, nil},
		{"blocked bad filter", "/blocked?group_names=(", 400, []string{"Bad filter: group_names: &#34;(&#34; is not a valid regular expression"}, nil},
		{"pull", "/pulls/products/SLFO/4", 200, []string{"Open products/SLFO#4 in Gitea", "job 400 incomplete", "1 job stopped", "synchronized",
			"commit status qa/openqa", "request for changes", `<h5>openQA: failed</h5>`, `<li><a href="https://openqa.example.test/tests/400">podman</a> incomplete &lt;script&gt;`,
			"finished: 1 stopped", "<td>openqa</td><td>job_done</td>"},
			[]string{"qemgate summary", "3f2a9c0d1e2b", "<script>alert", ">scheduled<"}},
		{"pull with an OBS build and SMELT", "/pulls/products/SLFO/1", 200, []string{
			`<a href="https://build.example.test/project/show/SUSE:SLFO:1.1.99:PullRequest:1:SLES">SUSE:SLFO:1.1.99:PullRequest:1:SLES in OBS</a>`,
			`<a href="https://smelt.example.test/updates/src.example.test%3Aproducts%3ASLFO%3A1">SMELT</a>`,
			"kernel-docs (failed)", "build of SLES x86_64 failed", "from SMELT", "finished: 1 failed"}, nil},
		{"pull after a push: the old build is not the head's", "/pulls/products/SLFO/3", 200,
			[]string{"the head is not built yet (the build of <code>000000000000</code>, an older head, was ready"}, []string{"· build ready"}},
		{"pull approved by us is explained", "/pulls/products/SLFO/5", 200,
			[]string{"done: qemgate approved the head; a new push makes it ours again"}, []string{"<dd>no</dd>"}},
		{"unknown pull", "/pulls/products/SLFO/99", 404, []string{"does not know this pull request"}, nil},
		{"aggregates", "/aggregates", 200, []string{"SLES x86_64 · build 20260101-1", "2 pull requests", "products/SLFO#2"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := get(t, h, tc.path)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
			body := rec.Body.String()
			for _, s := range tc.contains {
				require.Contains(t, body, s)
			}
			for _, s := range tc.excludes {
				require.NotContains(t, body, s)
			}
		})
	}
	t.Run("pager keeps the filter", func(t *testing.T) {
		t.Parallel()
		body := get(t, h, "/blocked?group_names=sle&per_page=1").Body.String()
		require.Contains(t, body, `href="/blocked?group_names=sle&amp;page=2&amp;per_page=1" rel="next"`)
		require.Contains(t, body, "2 pull requests, page 1 of 2")
	})
	t.Run("static", func(t *testing.T) {
		t.Parallel()
		rec := get(t, h, "/static/dashboard.css")
		require.Equal(t, http.StatusOK, rec.Code)
		require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css"))
		require.Contains(t, rec.Body.String(), "prefers-color-scheme: dark")
		require.Equal(t, http.StatusNotFound, get(t, h, "/static/nope.js").Code)
	})
}
