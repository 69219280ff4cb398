package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
)

// probe is one class of hostile or odd input and the answer the README's
// table documents for it.
type probe struct {
	class string
	req   func() *http.Request
	want  int
}

// TestProbeCampaign sends one input of every class we know of, in order,
// to the whole HTTP surface on a real database, and holds each to its
// documented answer: the README's tables and docs/security.md are this
// list. `go test -run ProbeCampaign -v ./handlers/` prints the figures.
func TestProbeCampaign(t *testing.T) {
	t.Parallel()
	h, _ := setup(t, withCallbackToken, func(c *config.Config) { c.Webhooks.MaxBodyBytes = 64 << 10 })
	pr := func(action, repo, login string) []byte {
		b, err := json.Marshal(map[string]any{"action": action, "number": 7,
			"pull_request": map[string]any{"number": 7, "head": map[string]any{"sha": strings.Repeat("a", 40)}},
			"repository":   map[string]any{"full_name": repo}, "sender": map[string]any{"login": login}})
		require.NoError(t, err)
		return b
	}
	good := pr("opened", "products/SLFO", "carol")
	n := 0
	gitea := func(body []byte, edit ...func(*http.Request)) func() *http.Request {
		return func() *http.Request {
			n++
			r := httptest.NewRequest(http.MethodPost, "/webhooks/gitea", bytes.NewReader(body))
			r.Header.Set("X-Gitea-Event-Type", "pull_request")
			r.Header.Set("X-Gitea-Delivery", fmt.Sprintf("probe-%d", n))
			r.Header.Set("X-Gitea-Signature", sign(fixtureSecret, body))
			for _, e := range edit {
				e(r)
			}
			return r
		}
	}
	set := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header[k] = []string{v} } }
	del := func(k string) func(*http.Request) { return func(r *http.Request) { r.Header.Del(k) } }
	openqa := func(body, auth string, edit ...func(*http.Request)) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/webhooks/openqa", strings.NewReader(body))
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			for _, e := range edit {
				e(r)
			}
			return r
		}
	}
	get := func(path, auth string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, path, nil)
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			return r
		}
	}
	chunked := func(r *http.Request) { r.ContentLength = -1 }
	big := bytes.Repeat([]byte(" "), 65<<10)
	bearer, admin := "Bearer "+callbackToken, "Bearer "+adminToken
	fixedID := set("X-Gitea-Delivery", "probe-fixed")

	probes := []probe{
		// Gitea receiver.
		{"gitea: a well-formed signed delivery", gitea(good, fixedID), 202},
		{"gitea: the same delivery again", gitea(good, fixedID), 202},
		{"gitea: the same id with another body", gitea(pr("synchronized", "products/SLFO", "carol"), fixedID), 202},
		{"gitea: no signature", gitea(good, del("X-Gitea-Signature")), 401},
		{"gitea: signed with another secret", gitea(good, set("X-Gitea-Signature", sign("guess", good))), 401},
		{"gitea: signature not hex", gitea(good, set("X-Gitea-Signature", "zz")), 401},
		{"gitea: empty signature (a hook without secret)", gitea(good, set("X-Gitea-Signature", "")), 401},
		{"gitea: signature in upper-case hex", gitea(good, set("X-Gitea-Signature", strings.ToUpper(sign(fixtureSecret, good)))), 202},
		{"gitea: X-Hub-Signature-256 alone", gitea(good, del("X-Gitea-Signature"), set("X-Hub-Signature-256", "sha256="+sign(fixtureSecret, good))), 202},
		{"gitea: X-Hub-Signature-256 without sha256=", gitea(good, del("X-Gitea-Signature"), set("X-Hub-Signature-256", sign(fixtureSecret, good))), 401},
		{"gitea: X-Gitea-Signature twice, the first right", gitea(good, func(r *http.Request) { r.Header.Add("X-Gitea-Signature", strings.Repeat("0", 64)) }), 401},
		{"gitea: no X-Gitea-Delivery", gitea(good, del("X-Gitea-Delivery")), 400},
		{"gitea: NUL in action", gitea(pr("op\x00ened", "products/SLFO", "carol")), 400},
		{"gitea: NUL in sender.login", gitea(pr("opened", "products/SLFO", "\x00carol")), 400},
		{"gitea: NUL in repository.full_name", gitea(pr("opened", "products/SLFO\x00", "carol")), 400},
		{"gitea: invalid UTF-8 in X-Gitea-Delivery", gitea(good, set("X-Gitea-Delivery", "probe-\xff")), 400},
		{"gitea: a control character in X-Gitea-Delivery", gitea(good, set("X-Gitea-Delivery", "probe-\x01")), 400},
		{"gitea: invalid UTF-8 in X-Gitea-Event-Type", gitea(good, set("X-Gitea-Event-Type", "pull_request\xc3")), 400},
		{"gitea: a delivery id above the index limit (3000 bytes)", gitea(good, set("X-Gitea-Delivery", strings.Repeat("d", 3000))), 400},
		{"gitea: a repository name of 3000 bytes", gitea(pr("opened", "products/"+strings.Repeat("r", 3000), "carol")), 400},
		{"gitea: invalid UTF-8 and NUL in X-Request-Id", gitea(good, set("X-Request-Id", "r\x00\xfe")), 202},
		{"gitea: HTML in action", gitea(pr("<script>alert(1)</script>", "products/SLFO", "carol")), 202},
		{"gitea: malformed JSON", gitea([]byte(`{"action": "opened", `)), 400},
		{"gitea: a JSON array", gitea([]byte(`[]`)), 400},
		{"gitea: JSON nested 10,000 deep", gitea([]byte(strings.Repeat("[", 10000))), 400},
		{"gitea: no pull_request", gitea([]byte(`{"action":"opened","repository":{"full_name":"products/SLFO"}}`)), 400},
		{"gitea: a negative PR number", gitea(pr("opened", "products/SLFO", "carol"), func(r *http.Request) {
			b := bytes.ReplaceAll(good, []byte(`"number":7`), []byte(`"number":-7`))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			r.Header.Set("X-Gitea-Signature", sign(fixtureSecret, b))
		}), 400},
		{"gitea: a status with a bad sha", gitea([]byte(`{"sha":"xyz","context":"ci","repository":{"full_name":"products/SLFO"}}`), set("X-Gitea-Event-Type", "status")), 400},
		{"gitea: an event type qemgate does not act on", gitea(good, set("X-Gitea-Event-Type", "push")), 202},
		{"gitea: a repository that is not watched", gitea(pr("opened", "someone/else", "carol")), 202},
		{"gitea: a body above max_body_bytes (Content-Length)", gitea(big), 413},
		{"gitea: a body above max_body_bytes (chunked)", gitea(big, chunked), 413},
		{"gitea: a large unsigned body", gitea(big, del("X-Gitea-Signature")), 401},
		{"gitea: GET", get("/webhooks/gitea", ""), 405},
		// openQA receiver.
		{"openqa: no token", openqa(`{"id": 1}`, ""), 401},
		{"openqa: a wrong token", openqa(`{"id": 1}`, "Bearer guess"), 401},
		{"openqa: Basic instead of Bearer", openqa(`{"id": 1}`, "Basic "+callbackToken), 401},
		{"openqa: lower-case bearer", openqa(`{"id": 1}`, "bearer "+callbackToken), 202},
		{"openqa: a job-done callback", openqa(`{"id": 2}`, bearer), 202},
		{"openqa: the same callback again", openqa(`{"id": 2}`, bearer), 202},
		{"openqa: one X-Request-Id for another job", openqa(`{"id": 3}`, bearer, set("X-Request-Id", "proxy-1")), 202},
		{"openqa: the same X-Request-Id for a third job", openqa(`{"id": 4}`, bearer, set("X-Request-Id", "proxy-1")), 202},
		{"openqa: an AMQP comment event", openqa(`{"id": 99, "job_id": 4}`, bearer), 202},
		{"openqa: NUL in result", openqa(`{"id": 5, "result": "pass\u0000ed"}`, bearer), 400},
		{"openqa: invalid UTF-8 in X-Qemgate-Delivery", openqa(`{"id": 5}`, bearer, set("X-Qemgate-Delivery", "d\xff")), 400},
		{"openqa: X-Qemgate-Delivery of 5000 bytes", openqa(`{"id": 5}`, bearer, set("X-Qemgate-Delivery", strings.Repeat("d", 5000))), 400},
		{"openqa: a negative job id", openqa(`{"id": -1}`, bearer), 400},
		{"openqa: a job id beyond int64", openqa(`{"id": 99999999999999999999}`, bearer), 400},
		{"openqa: not JSON", openqa(`id=5`, bearer), 400},
		{"openqa: a body above max_body_bytes", openqa(`{"id": 5, "x": "`+strings.Repeat("x", 65<<10)+`"}`, bearer), 413},
		// Admin API and dashboard.
		{"admin: no token", get("/admin/deliveries", ""), 401},
		{"admin: lower-case bearer", get("/admin/deliveries", "bearer "+adminToken), 200},
		{"admin: outcome=%00", get("/admin/deliveries?outcome=%00", admin), 400},
		{"admin: an outcome that does not exist", get("/admin/deliveries?outcome=nope", admin), 400},
		{"admin: invalid UTF-8 in repo", get("/admin/deliveries?repo=%ff", admin), 400},
		{"admin: a repo of 300 bytes", get("/admin/deliveries?repo="+strings.Repeat("r", 300), admin), 400},
		{"admin: limit=1000", get("/admin/deliveries?limit=1000", admin), 400},
		{"admin: number=abc", get("/admin/deliveries?number=abc", admin), 400},
		{"admin: a delivery id that is not a number", get("/admin/deliveries/abc", admin), 400},
		{"admin: a delivery that does not exist", get("/admin/deliveries/999999", admin), 404},
		{"api: NUL in a path segment", get("/api/v1/pulls/own%00er/repo/1", ""), 400},
		{"api: a PR number that is not a number", get("/api/v1/pulls/o/r/x", ""), 400},
		{"api: a state that does not exist", get("/api/v1/pulls?states=nope", ""), 400},
		{"api: a group pattern that is not a regular expression", get("/api/v1/pulls?group_names=(", ""), 400},
		{"api: per_page=0", get("/api/v1/blocked?per_page=0", ""), 400},
		{"static: the directory", get("/static/", ""), 404},
		{"static: a path out of the directory", get("/static/../handlers.go", ""), 404},
		{"static: a file", get("/static/dashboard.css", ""), 200},
		{"an unknown path", get("/nope", ""), 404},
	}
	// Same status, other answer: these must not be dropped as duplicates.
	notDuplicate := map[string]bool{
		"gitea: the same id with another body":          true,
		"openqa: one X-Request-Id for another job":      true,
		"openqa: the same X-Request-Id for a third job": true,
	}
	answers := map[int]int{}
	for _, p := range probes {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, p.req())
		answers[rec.Code]++
		require.Equal(t, p.want, rec.Code, "%s: %s", p.class, rec.Body.String())
		require.Less(t, rec.Code, 500, p.class)
		if notDuplicate[p.class] {
			require.NotContains(t, rec.Body.String(), `"duplicate"`, p.class)
			delete(notDuplicate, p.class)
		}
		if rec.Header().Get("Content-Type") == "application/json" {
			require.NotContains(t, rec.Body.String(), fixtureSecret, p.class)
			require.NotContains(t, rec.Body.String(), callbackToken, p.class)
		}
	}
	require.Empty(t, notDuplicate, "classes to check that were not probed")
	t.Logf("%d classes probed; answers by status: %v", len(probes), answers)
}
