package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// memIngest stands in for the database so the fuzzer can run fast; the
// real ingest is covered by the tests against PostgreSQL.
type memIngest struct{ seen map[string]bool }

func (m *memIngest) Accept(_ context.Context, d *store.Delivery, _ jobs.Intent) (jobs.Accepted, error) {
	if m.seen[d.DeliveryID] {
		return jobs.Accepted{Duplicate: true}, nil
	}
	m.seen[d.DeliveryID] = true
	return jobs.Accepted{Delivery: int64(len(m.seen)), JobIDs: []int64{1}}, nil
}

// FuzzGiteaWebhook feeds arbitrary bodies and event types, correctly
// signed so that they reach the parser: the handler never panics and never
// answers 500.
func FuzzGiteaWebhook(f *testing.F) {
	for _, d := range fixture.GiteaDeliveries(f) {
		f.Add(d.Headers["X-Gitea-Event-Type"], d.Body)
	}
	f.Add("status", []byte(`{"sha":"`+string(bytes.Repeat([]byte("a"), 64))+`","context":"x","repository":{"full_name":"products/SLFO"}}`))
	f.Add("pull_request", []byte(`{"pull_request":null}`))
	f.Add("pull_request_comment", []byte(`{"issue":{"number":-1},"is_pull":true}`))
	f.Add("", []byte(`[]`))

	cfg := testConfig()
	h := NewServer(Deps{
		Config:  cfg,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ingest:  &memIngest{seen: map[string]bool{}},
		Metrics: NewMetrics(),
		Ready:   func(context.Context) (map[string]string, error) { return nil, nil },
	})
	f.Fuzz(func(t *testing.T, eventType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/gitea", bytes.NewReader(body))
		req.Header.Set("X-Gitea-Event-Type", eventType)
		req.Header.Set("X-Gitea-Delivery", "fuzz")
		req.Header.Set("X-Gitea-Signature", sign(fixtureSecret, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for event %q body %q: %s", rec.Code, eventType, body, rec.Body.String())
		}
	})
}
