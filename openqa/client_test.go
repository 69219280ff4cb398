package openqa_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/openqa"
	"github.com/stretchr/testify/require"
)

const (
	operatorKey    = "0123456789ABCDEF"
	operatorSecret = "FEDCBA9876543210"
	userKey        = "1111111111111111"
	userSecret     = "2222222222222222"
)

// observation is one Observe callback.
type observation struct {
	endpoint string
	code     int
}

type testBundle struct {
	fake *openqafake.Server
	now  time.Time

	mu  sync.Mutex
	obs []observation
}

func (b *testBundle) observed() []observation {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]observation(nil), b.obs...)
}

var templates = []openqafake.Template{
	{Distri: "sle", Version: "15-SP6", Flavor: "Server-DVD-Incidents", Arch: "x86_64", Test: "qam-minimal", GroupID: 414, Settings: map[string]string{"HDD_1": "base.qcow2"}},
	{Distri: "sle", Version: "15-SP6", Flavor: "Server-DVD-Incidents", Arch: "x86_64", Test: "mau-extratests1", GroupID: 414},
	{Distri: "sle", Version: "15-SP6", Flavor: "Server-DVD-Incidents", Arch: "x86_64", Test: "ltp", GroupID: 500, Priority: 60},
}

// setup starts a fake with an operator and a plain user and returns a client
// signed as the operator; opts tweak the client config.
func setup(t *testing.T, fakeOpts openqafake.Options, opts ...func(*openqa.Config)) (*openqa.Client, *testBundle) {
	t.Helper()
	b := &testBundle{now: time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)}
	fakeOpts.Now = func() time.Time { return b.now }
	fakeOpts.Users = append(fakeOpts.Users,
		openqafake.User{Name: "qemgate", Key: operatorKey, Secret: operatorSecret, Level: openqafake.LevelOperator},
		openqafake.User{Name: "reviewer", Key: userKey, Secret: userSecret, Level: openqafake.LevelUser},
	)
	if fakeOpts.Templates == nil {
		fakeOpts.Templates = templates
	}
	if fakeOpts.JobGroups == nil {
		fakeOpts.JobGroups = []openqafake.JobGroup{
			{ID: 414, Name: "Maintenance: SLE 15 SP6 Incidents", Description: "Contact: qe-core@example.test", ParentID: 7},
			{ID: 500, Name: "Development: SLE 15 SP6"},
		}
		fakeOpts.ParentGroups = []openqafake.JobGroup{{ID: 7, Name: "Maintenance: Single Incidents"}}
	}
	b.fake = openqafake.New(fakeOpts)
	t.Cleanup(b.fake.Close)
	cfg := openqa.Config{
		URL: b.fake.URL(), Key: operatorKey, Secret: operatorSecret,
		Timeout: 5 * time.Second, Backoff: time.Millisecond,
		Now: func() time.Time { return b.now },
		Observe: func(endpoint string, code int, _ time.Duration) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.obs = append(b.obs, observation{endpoint, code})
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	return openqa.New(cfg), b
}

func isoParams(build string) url.Values {
	return url.Values{
		"DISTRI": {"SLE"}, "VERSION": {"15-SP6"}, "FLAVOR": {"Server-DVD-Incidents"}, "ARCH": {"x86_64"},
		"BUILD": {build}, "INCIDENT_ID": {"6645"}, "__DASHBOARD_URL": {"https://qemgate.example.test/pulls/1"},
	}
}

func apiError(t *testing.T, err error) *openqa.APIError {
	t.Helper()
	var e *openqa.APIError
	require.ErrorAs(t, err, &e)
	return e
}

func TestAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     func(*openqa.Config)
		skew    time.Duration
		status  int
		message string
	}{
		{name: "accepted", status: http.StatusOK},
		{name: "skew of exactly 300 s is accepted", skew: 300 * time.Second, status: http.StatusOK},
		{name: "skew ahead is accepted too", skew: -299 * time.Second, status: http.StatusOK},
		{name: "skew beyond 300 s", skew: 301 * time.Second, status: http.StatusForbidden, message: "timestamp mismatch - check whether clocks on the local host and the web UI host are in sync"},
		{name: "wrong secret", cfg: func(c *openqa.Config) { c.Secret = "nope" }, status: http.StatusForbidden, message: "unknown error (wrong secret?)"},
		{name: "unknown key", cfg: func(c *openqa.Config) { c.Key = "DEADBEEFDEADBEEF" }, status: http.StatusForbidden, message: "Not authorized"},
		{name: "missing key", cfg: func(c *openqa.Config) { c.Key = "" }, status: http.StatusForbidden, message: "no api key"},
		{name: "user level is not enough", cfg: func(c *openqa.Config) { c.Key, c.Secret = userKey, userSecret }, status: http.StatusForbidden, message: "Operator level required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*openqa.Config)
			if tt.cfg != nil {
				opts = append(opts, tt.cfg)
			}
			opts = append(opts, func(c *openqa.Config) {
				c.Now = func() time.Time { return time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC).Add(-tt.skew) }
			})
			c, b := setup(t, openqafake.Options{}, opts...)
			res, err := c.PostISOs(t.Context(), isoParams(":git:1:openssl"))
			if tt.status == http.StatusOK {
				require.NoError(t, err)
				require.Len(t, res.IDs, 3)
				return
			}
			e := apiError(t, err)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.message, e.Message)
			require.True(t, openqa.IsAuth(err))
			require.False(t, openqa.IsRetryable(err))
			require.Empty(t, b.fake.Jobs())
		})
	}
}

func TestSignsQueryAsSent(t *testing.T) {
	t.Parallel()
	// Spaces and reserved characters in a filter must be signed exactly as
	// encoded; the fake checks the raw request target like openQA does.
	c, b := setup(t, openqafake.Options{StrictGETAuth: true})
	id := b.fake.AddJob(map[string]string{"DISTRI": "sle", "BUILD": "a b/c+d&e=ü", "TEST": "t"}, 0)
	_, err := c.PostISOs(t.Context(), isoParams("x y"))
	require.NoError(t, err)
	jobs, err := c.ListJobs(t.Context(), openqa.JobFilter{Build: "a b/c+d&e=ü", Limit: 1})
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, id, jobs[0].ID)

	wrong := openqa.New(openqa.Config{URL: b.fake.URL(), Key: operatorKey, Secret: "wrong", Now: func() time.Time { return b.now }})
	_, err = wrong.ListJobs(t.Context(), openqa.JobFilter{Build: "x"})
	require.True(t, openqa.IsAuth(err), "the fake really checks GET signatures here")
}

func TestPostISOs(t *testing.T) {
	t.Parallel()
	c, b := setup(t, openqafake.Options{})
	params := isoParams(":git:6645:openssl-3")
	params.Set("_GROUP_ID", "414")
	params.Set("_PRIORITY", "45")
	params.Set("_TRIGGER_JOB_DONE_HOOK", "1")
	res, err := c.PostISOs(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, 2, res.Count)
	require.Len(t, res.IDs, 2)
	require.NotZero(t, res.ScheduledProductID)
	require.Empty(t, res.Failed)

	job, err := c.GetJob(t.Context(), res.IDs[0])
	require.NoError(t, err)
	require.Equal(t, "scheduled", job.State)
	require.Equal(t, "none", job.Result)
	require.Equal(t, int64(414), job.GroupID)
	require.Equal(t, "Maintenance: SLE 15 SP6 Incidents", job.Group)
	require.Equal(t, "Maintenance: Single Incidents", job.ParentGroup)
	require.Equal(t, int64(45), job.Priority)
	require.Equal(t, "sle", job.Setting("DISTRI"), "openQA lower-cases DISTRI")
	require.Equal(t, "6645", job.Setting("INCIDENT_ID"))
	require.Equal(t, "1", job.Setting("_TRIGGER_JOB_DONE_HOOK"), "non-switch underscore settings stay on the job")
	require.Equal(t, "base.qcow2", job.Setting("HDD_1"), "template settings are merged")
	require.Empty(t, job.Setting("__DASHBOARD_URL"), "__ keys stay on the scheduled product")
	require.Empty(t, job.Setting("_GROUP_ID"))
	require.Equal(t, "sle-15-SP6-Server-DVD-Incidents-x86_64-Build:git:6645:openssl-3-qam-minimal@64bit", job.Name)

	posts := b.fake.ISOPosts()
	require.Len(t, posts, 1)
	require.Equal(t, operatorKey, posts[0].Key)
	require.Equal(t, ":git:6645:openssl-3", posts[0].Form.Get("BUILD"))
	require.Equal(t, []observation{{"isos", 200}, {"job", 200}}, b.observed())
}

func TestPostISOsQuirks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		params      func(url.Values)
		status      int
		message     string
		noTemplates bool
		wantResult  bool
	}{
		{
			name:    "missing parameters are a text/plain 400",
			params:  func(v url.Values) { v.Del("DISTRI"); v.Del("ARCH") },
			status:  400,
			message: "Error: missing parameters: DISTRI ARCH",
		},
		{
			name:        "no templates is a 404",
			params:      func(v url.Values) { v.Set("_GROUP_ID", "999") },
			status:      404,
			message:     "no templates found for SLE-Server-DVD-Incidents-x86_64",
			noTemplates: true,
			wantResult:  true,
		},
		{
			name:       "no products is an error inside 200",
			params:     func(v url.Values) { v.Set("FLAVOR", "Nope") },
			status:     200,
			message:    "no products found for SLE-Nope-x86_64",
			wantResult: true,
		},
		{
			name:       "TEST with _OBSOLETE is refused inside 200",
			params:     func(v url.Values) { v.Set("TEST", "ltp"); v.Set("_OBSOLETE", "1") },
			status:     200,
			message:    "One must not specify TEST and _DEPRIORITIZEBUILD=1/_OBSOLETE=1 at the same time as it is likely not intended to deprioritize the whole build when scheduling a single scenario.",
			wantResult: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, openqafake.Options{})
			params := isoParams(":git:1:pkg")
			tt.params(params)
			res, err := c.PostISOs(t.Context(), params)
			e := apiError(t, err)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.message, e.Message)
			require.Equal(t, tt.noTemplates, openqa.IsNoTemplates(err))
			require.False(t, openqa.IsRetryable(err))
			if tt.wantResult {
				require.NotNil(t, res)
				require.NotZero(t, res.ScheduledProductID)
				require.Empty(t, res.IDs)
			}
			require.Empty(t, b.fake.Jobs())
		})
	}
}

func TestPostISOsFilters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		set   map[string]string
		tests []string
	}{
		{name: "all templates", tests: []string{"qam-minimal", "mau-extratests1", "ltp"}},
		{name: "TEST list", set: map[string]string{"TEST": "ltp, qam-minimal"}, tests: []string{"qam-minimal", "ltp"}},
		{name: "group by name", set: map[string]string{"_GROUP": "Development: SLE 15 SP6"}, tests: []string{"ltp"}},
		{name: "unknown group name yields no jobs", set: map[string]string{"_GROUP": "nope"}},
		{name: "lower-case keys are upper-cased", set: map[string]string{"test": "ltp"}, tests: []string{"ltp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, openqafake.Options{})
			params := isoParams("1")
			for k, v := range tt.set {
				params.Set(k, v)
			}
			res, err := c.PostISOs(t.Context(), params)
			require.NoError(t, err)
			require.Len(t, res.IDs, len(tt.tests))
			var got []string
			for _, j := range b.fake.Jobs() {
				got = append(got, j.Settings["TEST"])
			}
			require.ElementsMatch(t, tt.tests, got)
		})
	}
}

func TestPostISOsObsolete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		onlySame   bool
		obsoleteA  bool // the older build's unfinished job
		obsoleteB1 bool // same build, unfinished
	}{
		{name: "any build", obsoleteA: true, obsoleteB1: true},
		{name: "only same build", onlySame: true, obsoleteB1: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, b := setup(t, openqafake.Options{})
			older, err := c.PostISOs(t.Context(), isoParams("A"))
			require.NoError(t, err)
			same, err := c.PostISOs(t.Context(), isoParams("B"))
			require.NoError(t, err)
			require.NoError(t, b.fake.FinishJob(older.IDs[1], "passed"))
			_, err = b.fake.AddComment(same.IDs[2], "reviewer", "looking at it")
			require.NoError(t, err)
			params := isoParams("B")
			params.Set("_OBSOLETE", "1")
			if tt.onlySame {
				params.Set("_ONLY_OBSOLETE_SAME_BUILD", "1")
			}
			newer, err := c.PostISOs(t.Context(), params)
			require.NoError(t, err)
			require.Len(t, newer.IDs, 3)

			jobs, err := c.ListJobs(t.Context(), openqa.JobFilter{IDs: append(older.IDs, same.IDs...)})
			require.NoError(t, err)
			byID := map[int64]openqa.Job{}
			for _, j := range jobs {
				byID[j.ID] = j
			}
			check := func(id int64, obsolete bool) {
				t.Helper()
				if obsolete {
					require.Equal(t, "cancelled", byID[id].State, "job %d", id)
					require.Equal(t, "obsoleted", byID[id].Result, "job %d", id)
				} else {
					require.NotEqual(t, "obsoleted", byID[id].Result, "job %d", id)
				}
			}
			check(older.IDs[0], tt.obsoleteA)
			check(older.IDs[1], false) // finished
			check(same.IDs[0], tt.obsoleteB1)
			check(same.IDs[2], false) // has a comment
		})
	}
}

func TestPostISOsIsNeverRetried(t *testing.T) {
	t.Parallel()
	t.Run("5xx", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{})
		b.fake.InjectFault("isos", openqafake.Fault{Status: 503, Times: 1})
		_, err := c.PostISOs(t.Context(), isoParams("1"))
		require.True(t, openqa.IsRetryable(err))
		require.Equal(t, 503, apiError(t, err).Status)
		require.Equal(t, []observation{{"isos", 503}}, b.observed())
	})
	t.Run("answer lost after the jobs were created", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{})
		b.fake.InjectFault("isos", openqafake.Fault{Drop: true, AfterHandling: true, Times: 1})
		_, err := c.PostISOs(t.Context(), isoParams("1"))
		e := apiError(t, err)
		require.Equal(t, 0, e.Status)
		require.True(t, e.Retryable())
		require.Len(t, b.fake.ISOPosts(), 1, "one POST only")
		require.Len(t, b.fake.Jobs(), 3, "the jobs exist although the client saw an error")
		require.Equal(t, []observation{{"isos", 0}}, b.observed())
	})
}

func TestGetJob(t *testing.T) {
	t.Parallel()
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, openqafake.Options{})
		_, err := c.GetJob(t.Context(), 4242)
		require.True(t, openqa.IsNotFound(err))
		require.False(t, openqa.IsRetryable(err))
	})
	t.Run("retries server errors", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{})
		id := b.fake.AddJob(map[string]string{"TEST": "t"}, 0)
		b.fake.InjectFault("job", openqafake.Fault{Status: 502, Body: "<html>Bad Gateway</html>", Times: 2})
		job, err := c.GetJob(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, id, job.ID)
		require.Equal(t, []observation{{"job", 502}, {"job", 502}, {"job", 200}}, b.observed())
	})
	t.Run("gives up after Retries", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{}, func(c *openqa.Config) { c.Retries = 2 })
		id := b.fake.AddJob(map[string]string{"TEST": "t"}, 0)
		b.fake.InjectFault("job", openqafake.Fault{Status: 429})
		_, err := c.GetJob(t.Context(), id)
		require.True(t, openqa.IsRetryable(err))
		require.Len(t, b.observed(), 3)
	})
	t.Run("4xx is not retried", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{})
		b.fake.InjectFault("job", openqafake.Fault{Status: 400})
		_, err := c.GetJob(t.Context(), 1)
		require.Equal(t, "injected fault", apiError(t, err).Message)
		require.Len(t, b.observed(), 1)
	})
	t.Run("each attempt times out", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{}, func(c *openqa.Config) { c.Timeout = 50 * time.Millisecond; c.Retries = 1 })
		b.fake.InjectFault("job", openqafake.Fault{Hang: true})
		_, err := c.GetJob(t.Context(), 1)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.True(t, openqa.IsRetryable(err))
		require.Equal(t, []observation{{"job", 0}, {"job", 0}}, b.observed())
	})
	t.Run("caller cancellation stops retrying", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{}, func(c *openqa.Config) { c.Retries = 100 })
		b.fake.InjectFault("job", openqafake.Fault{Hang: true})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.GetJob(ctx, 1)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, openqa.IsRetryable(err))
	})
	t.Run("Perl numbers as strings", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t, openqafake.Options{PerlNumbers: true})
		res, err := c.PostISOs(t.Context(), isoParams("1"))
		require.NoError(t, err)
		require.Len(t, res.IDs, 3)
		job, err := c.GetJob(t.Context(), res.IDs[2])
		require.NoError(t, err)
		require.Equal(t, res.IDs[2], job.ID)
		require.Equal(t, int64(500), job.GroupID)
		require.Equal(t, int64(60), job.Priority)
		require.NotEmpty(t, b.fake.Jobs())
	})
}

func TestListJobsPaging(t *testing.T) {
	t.Parallel()
	// openQA behind a proxy announces its internal name in Link headers; the
	// client must follow the path and query on its own base URL.
	c, b := setup(t, openqafake.Options{LinkBase: "http://openqa-internal.invalid:9526", StrictGETAuth: true})
	var want []int64
	for i := range 5 {
		want = append(want, b.fake.AddJob(map[string]string{"DISTRI": "sle", "BUILD": "20260820-1", "TEST": "t" + strconv.Itoa(i)}, 0))
	}
	b.fake.AddJob(map[string]string{"DISTRI": "sle", "BUILD": "other", "TEST": "t"}, 0)
	jobs, err := c.ListJobs(t.Context(), openqa.JobFilter{Distri: "sle", Build: "20260820-1", Limit: 2})
	require.NoError(t, err)
	var got []int64
	for _, j := range jobs {
		got = append(got, j.ID)
	}
	require.Equal(t, []int64{want[4], want[3], want[2], want[1], want[0]}, got, "newest first, every page")
	require.Equal(t, []observation{{"jobs", 200}, {"jobs", 200}, {"jobs", 200}}, b.observed())
}

func TestListJobsIDBatches(t *testing.T) {
	t.Parallel()
	c, b := setup(t, openqafake.Options{})
	var ids []int64
	for range 450 {
		ids = append(ids, b.fake.AddJob(map[string]string{"TEST": "t"}, 0))
	}
	jobs, err := c.ListJobs(t.Context(), openqa.JobFilter{IDs: ids})
	require.NoError(t, err)
	require.Len(t, jobs, 450)
	require.Len(t, b.observed(), 3, "200 ids per request")
}

func TestListJobsFiltersAndClones(t *testing.T) {
	t.Parallel()
	c, b := setup(t, openqafake.Options{})
	res, err := c.PostISOs(t.Context(), isoParams("B1"))
	require.NoError(t, err)
	require.NoError(t, b.fake.FinishJob(res.IDs[0], "failed"))
	clone, err := b.fake.RestartJob(res.IDs[0])
	require.NoError(t, err)
	require.NoError(t, b.fake.SetRunning(clone))

	orig, err := c.GetJob(t.Context(), res.IDs[0])
	require.NoError(t, err)
	require.Equal(t, clone, orig.CloneID)
	require.NotZero(t, orig.CloneID)
	require.Equal(t, "failed", orig.Result)
	cl, err := c.GetJob(t.Context(), clone)
	require.NoError(t, err)
	require.Equal(t, orig.ID, cl.OriginID)
	require.Equal(t, orig.Name, cl.Name)
	delete(orig.Settings, "NAME") // carries the job id
	delete(cl.Settings, "NAME")
	require.Equal(t, orig.Settings, cl.Settings)

	group := int64(414)
	tests := []struct {
		name   string
		filter openqa.JobFilter
		want   []int64
	}{
		{name: "current scope drops the cloned original", filter: openqa.JobFilter{Build: "B1", Scope: "current"}, want: []int64{clone, res.IDs[2], res.IDs[1]}},
		{name: "all", filter: openqa.JobFilter{Build: "B1"}, want: []int64{clone, res.IDs[2], res.IDs[1], res.IDs[0]}},
		{name: "state list", filter: openqa.JobFilter{Build: "B1", State: []string{"running", "done"}}, want: []int64{clone, res.IDs[0]}},
		{name: "result", filter: openqa.JobFilter{Result: []string{"failed"}}, want: []int64{res.IDs[0]}},
		{name: "group", filter: openqa.JobFilter{GroupID: &group, Scope: "current"}, want: []int64{clone, res.IDs[1]}},
		{name: "latest per scenario", filter: openqa.JobFilter{Distri: "sle", Latest: true}, want: []int64{clone, res.IDs[2], res.IDs[1]}},
		{name: "job setting", filter: openqa.JobFilter{JobSettings: []string{"TEST=ltp"}}, want: []int64{res.IDs[2]}},
		{name: "no match", filter: openqa.JobFilter{Build: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobs, err := c.ListJobs(t.Context(), tt.filter)
			require.NoError(t, err)
			var got []int64
			for _, j := range jobs {
				got = append(got, j.ID)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestJobComments(t *testing.T) {
	t.Parallel()
	c, b := setup(t, openqafake.Options{})
	id := b.fake.AddJob(map[string]string{"TEST": "t"}, 0)
	_, err := b.fake.AddComment(id, "reviewer", "bsc#1234567\n@review:acceptable_for:submission_6645:flaky_ppc")
	require.NoError(t, err)
	comments, err := c.JobComments(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, comments, 1)
	require.Equal(t, "reviewer", comments[0].UserName)
	require.Equal(t, []string{"bsc#1234567"}, comments[0].BugRefs)
	require.Equal(t, b.now, comments[0].Created.Time)
	require.Equal(t, []openqa.Acceptance{{Kind: "submission", ID: "6645", Reason: "flaky_ppc"}}, openqa.ParseAcceptableFor(comments[0].Text))

	_, err = c.JobComments(t.Context(), 999)
	require.True(t, openqa.IsNotFound(err))
	require.Equal(t, "Job 999 does not exist", apiError(t, err).Message)
}

func TestJobGroups(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, openqafake.Options{})
	groups, err := c.JobGroups(t.Context())
	require.NoError(t, err)
	require.Equal(t, []openqa.JobGroup{
		{ID: 414, Name: "Maintenance: SLE 15 SP6 Incidents", Description: "Contact: qe-core@example.test", ParentID: 7, DefaultPriority: 50},
		{ID: 500, Name: "Development: SLE 15 SP6", DefaultPriority: 50},
	}, groups)
	g, err := c.JobGroup(t.Context(), 414)
	require.NoError(t, err)
	require.Equal(t, groups[0], *g)
	_, err = c.JobGroup(t.Context(), 1)
	require.True(t, openqa.IsNotFound(err))
	parents, err := c.ParentGroups(t.Context())
	require.NoError(t, err)
	require.Equal(t, []openqa.JobGroup{{ID: 7, Name: "Maintenance: Single Incidents", DefaultPriority: 50}}, parents)
	p, err := c.ParentGroup(t.Context(), 7)
	require.NoError(t, err)
	require.Equal(t, "Maintenance: Single Incidents", p.Name)
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	c := openqa.New(openqa.Config{URL: srv.URL, Key: "k", Secret: "s", Backoff: time.Millisecond})
	_, err := c.JobGroups(t.Context())
	require.Equal(t, http.StatusFound, apiError(t, err).Status)
	require.False(t, openqa.IsRetryable(err))
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	c := openqa.New(openqa.Config{URL: "not a url"})
	_, err := c.GetJob(t.Context(), 1)
	require.Error(t, err)
	require.False(t, openqa.IsRetryable(err))
	require.False(t, errors.Is(err, context.Canceled))
}
