package openqafake_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/openqa"
	"github.com/stretchr/testify/require"
)

const (
	key    = "0123456789ABCDEF"
	secret = "FEDCBA9876543210"
)

var now = time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)

// hookReceiver stands in for qemgate's POST /webhooks/openqa.
type hookReceiver struct {
	mu     sync.Mutex
	status int
	auth   []string
	bodies []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.auth = append(h.auth, r.Header.Get("Authorization"))
	h.bodies = append(h.bodies, string(b))
	w.WriteHeader(h.status)
}

func (h *hookReceiver) got() ([]string, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.auth...), append([]string(nil), h.bodies...)
}

type testBundle struct {
	client *openqa.Client
	hook   *hookReceiver
}

func setup(t *testing.T, opts openqafake.Options) (*openqafake.Server, *testBundle) {
	t.Helper()
	b := &testBundle{hook: &hookReceiver{status: http.StatusAccepted}}
	hookSrv := httptest.NewServer(b.hook)
	t.Cleanup(hookSrv.Close)
	opts.Now = func() time.Time { return now }
	opts.Users = append(opts.Users, openqafake.User{Name: "qemgate", Key: key, Secret: secret, Level: openqafake.LevelOperator})
	opts.Templates = append(opts.Templates,
		openqafake.Template{Distri: "sle", Version: "*", Flavor: "Online", Arch: "x86_64", Test: "qam-minimal", GroupID: 1},
		openqafake.Template{Distri: "sle", Version: "*", Flavor: "Online", Arch: "x86_64", Test: "ltp", GroupID: 1},
	)
	if opts.HookURL == "" {
		opts.HookURL = hookSrv.URL + "/webhooks/openqa"
		opts.HookToken = "callback-token"
	}
	s := openqafake.New(opts)
	t.Cleanup(s.Close)
	b.client = openqa.New(openqa.Config{URL: s.URL(), Key: key, Secret: secret, Now: func() time.Time { return now }, Backoff: time.Millisecond})
	return s, b
}

func schedule(t *testing.T, b *testBundle, build string, extra ...string) []int64 {
	t.Helper()
	v := url.Values{"DISTRI": {"sle"}, "VERSION": {"16.0"}, "FLAVOR": {"Online"}, "ARCH": {"x86_64"}, "BUILD": {build}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	res, err := b.client.PostISOs(t.Context(), v)
	require.NoError(t, err)
	return res.IDs
}

func TestJobDoneHook(t *testing.T) {
	t.Parallel()
	t.Run("delivered on finish", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, openqafake.Options{})
		ids := schedule(t, b, "1", "_TRIGGER_JOB_DONE_HOOK", "1")
		require.NoError(t, s.FinishJob(ids[0], "failed"))
		auth, bodies := b.hook.got()
		require.Equal(t, []string{"Bearer callback-token"}, auth)
		require.Len(t, bodies, 1)
		require.JSONEq(t, `{"id":`+jsonInt(ids[0])+`}`, bodies[0])
		require.Equal(t, []openqafake.HookCall{{JobID: ids[0], Status: http.StatusAccepted}}, s.HookCalls())
		job, _ := s.Job(ids[0])
		require.Equal(t, "done", job.State)
		require.Equal(t, "failed", job.Result)
		require.Equal(t, now, job.TFinished)
	})
	t.Run("receiver errors are recorded and can be redelivered", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, openqafake.Options{})
		b.hook.status = http.StatusServiceUnavailable
		ids := schedule(t, b, "1")
		require.NoError(t, s.FinishJob(ids[0], "passed"))
		b.hook.mu.Lock()
		b.hook.status = http.StatusOK
		b.hook.mu.Unlock()
		require.Equal(t, http.StatusOK, s.DeliverHook(ids[0]).Status)
		require.Equal(t, []openqafake.HookCall{{JobID: ids[0], Status: 503}, {JobID: ids[0], Status: 200}}, s.HookCalls())
	})
	t.Run("unreachable receiver", func(t *testing.T) {
		t.Parallel()
		s, b := setup(t, openqafake.Options{HookURL: "http://127.0.0.1:1/hook"})
		ids := schedule(t, b, "1")
		require.NoError(t, s.FinishJob(ids[0], "passed"))
		calls := s.HookCalls()
		require.Len(t, calls, 1)
		require.Zero(t, calls[0].Status)
		require.NotEmpty(t, calls[0].Err)
	})
	tests := []struct {
		name     string
		opts     openqafake.Options
		settings []string
		disable  bool
		obsolete bool
	}{
		{name: "switched off", disable: true},
		{name: "job opted out", settings: []string{"_TRIGGER_JOB_DONE_HOOK", "0"}},
		{name: "only triggered jobs", opts: openqafake.Options{HookOnlyTriggered: true}},
		{name: "cancelled jobs never run the hook", obsolete: true},
	}
	for _, tt := range tests {
		t.Run("not delivered: "+tt.name, func(t *testing.T) {
			t.Parallel()
			s, b := setup(t, tt.opts)
			ids := schedule(t, b, "1", tt.settings...)
			if tt.disable {
				s.SetHookEnabled(false)
			}
			if tt.obsolete {
				require.NoError(t, s.Obsolete(ids[0]))
			} else {
				require.NoError(t, s.FinishJob(ids[0], "passed"))
			}
			require.Empty(t, s.HookCalls())
			_, bodies := b.hook.got()
			require.Empty(t, bodies)
		})
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestControlHTTP(t *testing.T) {
	t.Parallel()
	s, b := setup(t, openqafake.Options{})
	ids := schedule(t, b, "1")
	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		resp, err := http.PostForm(s.URL()+path, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	id := jsonInt(ids[0])
	post("/_fake/jobs/"+id+"/running", nil)
	job, _ := s.Job(ids[0])
	require.Equal(t, "running", job.State)

	post("/_fake/jobs/"+id+"/finish", url.Values{"result": {"softfailed"}})
	job, _ = s.Job(ids[0])
	require.Equal(t, "softfailed", job.Result)
	require.Len(t, s.HookCalls(), 1)

	out := post("/_fake/jobs/"+id+"/restart", nil)
	clone := int64(out["id"].(float64))
	job, _ = s.Job(ids[0])
	require.Equal(t, clone, job.CloneID)

	post("/_fake/jobs/"+id+"/comments", url.Values{"user": {"reviewer"}, "text": {"@review:acceptable_for:submission_1:x"}})
	comments, err := b.client.JobComments(t.Context(), ids[0])
	require.NoError(t, err)
	require.Len(t, comments, 1)
	require.Equal(t, "reviewer", comments[0].UserName)

	post("/_fake/jobs/"+jsonInt(ids[1])+"/obsolete", nil)
	job, _ = s.Job(ids[1])
	require.Equal(t, "obsoleted", job.Result)

	post("/_fake/hook", url.Values{"enabled": {"false"}})
	post("/_fake/jobs/"+jsonInt(clone)+"/finish", nil)
	require.Len(t, s.HookCalls(), 1)

	post("/_fake/faults/job", url.Values{"status": {"500"}, "times": {"1"}})
	resp, err := http.Get(s.URL() + "/api/v1/jobs/" + id)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)

	resp, err = http.Post(s.URL()+"/_fake/jobs/999/finish", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, err = http.Get(s.URL() + "/_fake/isos")
	require.NoError(t, err)
	defer resp.Body.Close()
	var posts []openqafake.ISOPost
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&posts))
	require.Len(t, posts, 1)
	require.Equal(t, "1", posts[0].Form.Get("BUILD"))
}

// signedRequest signs like openQA's Python client: a float timestamp.
func signedRequest(t *testing.T, s *openqafake.Server, method, target, stamp, accept string) (int, map[string]any, string) {
	t.Helper()
	return signedForm(t, s, method, target, stamp, accept, "DISTRI=sle&VERSION=16.0&FLAVOR=Online&ARCH=x86_64&BUILD=py")
}

func signedForm(t *testing.T, s *openqafake.Server, method, target, stamp, accept, form string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+target, strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(target + stamp))
	req.Header.Set("X-API-Key", key)
	req.Header.Set("X-API-Microtime", stamp)
	req.Header.Set("X-API-Hash", hex.EncodeToString(mac.Sum(nil)))
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out, resp.Header.Get("Content-Type")
}

func TestAuthDetails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		stamp       string
		accept      string
		status      int
		errorStatus any
	}{
		{name: "float timestamp as the Python client sends", stamp: "1787227200.0", status: 200},
		{name: "error_status added for JSON clients", stamp: "1787226000", accept: "application/json", status: 403, errorStatus: float64(403)},
		{name: "no error_status for browsers", stamp: "1787226000", accept: "text/html,application/json", status: 403},
		{name: "garbage timestamp", stamp: "soon", accept: "application/json", status: 403, errorStatus: float64(403)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, openqafake.Options{})
			status, body, ctype := signedRequest(t, s, http.MethodPost, "/api/v1/isos", tt.stamp, tt.accept)
			require.Equal(t, tt.status, status)
			require.Contains(t, ctype, "application/json")
			require.Equal(t, tt.errorStatus, body["error_status"])
			if status != 200 {
				require.Contains(t, body["error"], "timestamp mismatch")
			}
		})
	}
}

func TestExpiredKey(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, openqafake.Options{})
	s.AddUser(openqafake.User{Name: "old", Key: "AAAA", Secret: "BBBB", Level: openqafake.LevelAdmin, Expires: now.Add(-time.Hour)})
	c := openqa.New(openqa.Config{URL: s.URL(), Key: "AAAA", Secret: "BBBB", Now: func() time.Time { return now }})
	_, err := c.PostISOs(t.Context(), url.Values{"DISTRI": {"sle"}, "VERSION": {"1"}, "FLAVOR": {"Online"}, "ARCH": {"x86_64"}})
	var e *openqa.APIError
	require.ErrorAs(t, err, &e)
	require.Equal(t, "api key expired", e.Message)
}

func TestDeprioritizeBuild(t *testing.T) {
	t.Parallel()
	s, b := setup(t, openqafake.Options{})
	first := schedule(t, b, "20260820-1")
	schedule(t, b, "20260820-2", "_DEPRIORITIZEBUILD", "1", "_DEPRIORITIZE_LIMIT", "70")
	job, _ := s.Job(first[0])
	require.Equal(t, int64(60), job.Priority)
	require.Equal(t, "scheduled", job.State)
	schedule(t, b, "20260820-3", "_DEPRIORITIZEBUILD", "1", "_DEPRIORITIZE_LIMIT", "70")
	job, _ = s.Job(first[0])
	require.Equal(t, int64(70), job.Priority)
	schedule(t, b, "20260820-4", "_DEPRIORITIZEBUILD", "1", "_DEPRIORITIZE_LIMIT", "70")
	job, _ = s.Job(first[0])
	require.Equal(t, "obsoleted", job.Result, "pushed past the limit")
}

func TestAsyncAndWildcardVersion(t *testing.T) {
	t.Parallel()
	s, b := setup(t, openqafake.Options{})
	res, err := b.client.PostISOs(t.Context(), url.Values{"DISTRI": {"SLE"}, "VERSION": {"any"}, "FLAVOR": {"Online"}, "ARCH": {"x86_64"}, "async": {"1"}})
	require.NoError(t, err)
	require.NotZero(t, res.GruTaskID)
	require.Empty(t, res.IDs)
	require.Len(t, s.Jobs(), 2, "the fake creates the jobs at once")
	require.Equal(t, res.ScheduledProductID, s.Jobs()[0].ScheduledProductID)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s, b := setup(t, openqafake.Options{})
	s.InjectFault("job_groups", openqafake.Fault{Status: 503, Times: 2})
	_, err := openqa.New(openqa.Config{URL: s.URL(), Retries: -1}).JobGroups(t.Context())
	require.True(t, openqa.IsRetryable(err))
	groups, err := b.client.JobGroups(t.Context()) // one more 503, then success
	require.NoError(t, err)
	require.Empty(t, groups)

	s.InjectFault("job_groups", openqafake.Fault{Latency: 20 * time.Millisecond, Times: 1})
	start := time.Now()
	_, err = b.client.JobGroups(t.Context())
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)

	s.InjectFault("job_groups", openqafake.Fault{Drop: true})
	_, err = openqa.New(openqa.Config{URL: s.URL(), Retries: -1}).JobGroups(t.Context())
	var e *openqa.APIError
	require.ErrorAs(t, err, &e)
	require.Zero(t, e.Status)
	s.ClearFaults()
	_, err = b.client.JobGroups(t.Context())
	require.NoError(t, err)

	// Stacked faults with rates: a request spared by one meets the next.
	s.AddFault("job_groups", openqafake.Fault{Status: 503, Rate: 0.5})
	s.AddFault("job_groups", openqafake.Fault{Status: 502, Times: 1})
	once := openqa.New(openqa.Config{URL: s.URL(), Retries: -1})
	codes := map[int]int{}
	for range 200 {
		_, err := once.JobGroups(t.Context())
		var e *openqa.APIError
		if errors.As(err, &e) {
			codes[e.Status]++
		} else {
			require.NoError(t, err)
			codes[200]++
		}
	}
	require.Equal(t, 1, codes[502], "the second fault hits once, when the first spares a request")
	// Binomial(200, 0.5): outside 60..140 once in about 10^8 runs.
	require.Greater(t, codes[503], 60)
	require.Less(t, codes[503], 140)
	require.Equal(t, 200, codes[200]+codes[502]+codes[503])
}

func TestFixedAddr(t *testing.T) {
	t.Parallel()
	l, err := freeAddr()
	require.NoError(t, err)
	s := openqafake.New(openqafake.Options{Addr: l})
	t.Cleanup(s.Close)
	require.Equal(t, "http://"+l, s.URL())
	_, err = openqa.New(openqa.Config{URL: s.URL()}).JobGroups(t.Context())
	require.NoError(t, err)
}

// freeAddr finds a free loopback address; the race with another listener is
// harmless in a test.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func TestPostComment(t *testing.T) {
	t.Parallel()
	s, b := setup(t, openqafake.Options{})
	ids := schedule(t, b, "1")
	stamp := "1787227200"
	target := "/api/v1/jobs/" + jsonInt(ids[0]) + "/comments"
	status, body, _ := signedForm(t, s, http.MethodPost, target, stamp, "application/json", "text=bsc%231+%40review%3Aacceptable_for%3Aincident_9%3Awhy")
	require.Equal(t, http.StatusOK, status)
	require.NotZero(t, body["id"])
	comments, err := b.client.JobComments(t.Context(), ids[0])
	require.NoError(t, err)
	require.Len(t, comments, 1)
	require.Equal(t, "qemgate", comments[0].UserName)
	require.Equal(t, []string{"bsc#1"}, comments[0].BugRefs)
	require.Equal(t, []openqa.Acceptance{{Kind: "incident", ID: "9", Reason: "why"}}, openqa.ParseAcceptableFor(comments[0].Text))

	status, body, _ = signedForm(t, s, http.MethodPost, target, stamp, "application/json", "text=+")
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, float64(400), body["error_status"])

	status, _, _ = signedForm(t, s, http.MethodPost, "/api/v1/jobs/999/comments", stamp, "", "text=x")
	require.Equal(t, http.StatusNotFound, status)
}
