package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/fixture"
)

// The fuzz targets run against the real PostgreSQL that `make test` starts,
// never a stand-in: the inputs that matter are the ones the database cannot
// store (a NUL, invalid UTF-8, an index entry too large), and only the
// database says which those are. Every answer must be one of the documented
// ones; a 500, or a 503 while the database is healthy, is a finding. Seeds
// are in testdata/fuzz/<target>; `make fuzz` runs each target for FUZZTIME
// (docs/security.md says how to run them longer).

// checkAnswer fails on an answer outside allowed or one that is not our
// JSON shape.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	ok := false
	for _, s := range allowed {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("status %d, not one of %v: %s", rec.Code, allowed, rec.Body.String())
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("status %d with a body that is not JSON: %q", rec.Code, rec.Body.String())
	}
}

// FuzzGiteaWebhook feeds signed deliveries with arbitrary event types,
// delivery ids and bodies.
func FuzzGiteaWebhook(f *testing.F) {
	for _, d := range fixture.GiteaDeliveries(f) {
		f.Add(d.Headers["X-Gitea-Event-Type"], d.Headers["X-Gitea-Delivery"], d.Body)
	}
	f.Add("status", "d-status", []byte(`{"sha":"`+strings.Repeat("a", 64)+`","context":"x","repository":{"full_name":"products/SLFO"}}`))
	f.Add("pull_request", "d-null", []byte(`{"pull_request":null}`))
	f.Add("pull_request_comment", "d-neg", []byte(`{"issue":{"number":-1},"is_pull":true}`))
	f.Add("", "d-array", []byte(`[]`))

	h, _ := setup(f, func(c *config.Config) { c.Webhooks.MaxBodyBytes = 64 << 10 })
	f.Fuzz(func(t *testing.T, eventType, deliveryID string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/gitea", bytes.NewReader(body))
		req.Header["X-Gitea-Event-Type"] = []string{eventType}
		req.Header["X-Gitea-Delivery"] = []string{deliveryID}
		req.Header.Set("X-Gitea-Signature", sign(fixtureSecret, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	})
}

// FuzzOpenQAWebhook feeds authenticated callbacks with arbitrary bodies and
// delivery names.
func FuzzOpenQAWebhook(f *testing.F) {
	f.Add([]byte(`{"id": 42}`), "")
	f.Add([]byte(`{"id": "42", "result": "passed", "BUILD": ":git:1:openssl-3"}`), "hook-1")
	f.Add([]byte(`{"id": 7, "job_id": 42}`), "")
	f.Add([]byte(`{"id": 42, "result": {"42": 43}}`), "")
	f.Add([]byte(`{"id": -1}`), "")

	h, _ := setup(f, withCallbackToken)
	f.Fuzz(func(t *testing.T, body []byte, delivery string) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/openqa", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+callbackToken)
		if delivery != "" {
			req.Header["X-Qemgate-Delivery"] = []string{delivery}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	})
}

// FuzzQueryParameters feeds arbitrary query strings to the admin list and
// the dashboard API, and arbitrary path segments to the PR API.
func FuzzQueryParameters(f *testing.F) {
	f.Add("outcome=accepted&source=gitea&repo=products/SLFO&number=1&limit=10", "products", "SLFO", "1")
	f.Add("event=pull_request&before=99", "o", "r", "2")
	f.Add("states=failed,running&group_names=Maint.*&q=%23124&page=2&per_page=5", "products", "SLFO", "124")
	f.Add("builds=3", "products", "SLFO", "x")

	h, _ := setup(f)
	f.Fuzz(func(t *testing.T, query, owner, repo, number string) {
		for _, target := range []string{
			"/admin/deliveries?" + query,
			"/api/v1/pulls?" + query,
			"/api/v1/blocked?" + query,
			"/api/v1/aggregates?" + query,
			"/api/v1/pulls/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/" + url.PathEscape(number) + "?" + query,
		} {
			req, err := http.NewRequest(http.MethodGet, "http://qemgate"+target, nil)
			if err != nil {
				return // not a request a client can send
			}
			req.Header.Set("Authorization", "Bearer "+adminToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			checkAnswer(t, rec, http.StatusOK, http.StatusBadRequest, http.StatusNotFound)
		}
	})
}
