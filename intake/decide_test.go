package intake

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

func testConfig() *config.Config {
	cfg := config.Default()
	cfg.Gitea.BotLogin = "qam-openqa-review"
	cfg.Gitea.Repos = []config.Repo{{Name: "products/SLFO"}}
	return &cfg
}

// TestDecideGiteaFixtures reads every captured Gitea delivery as the
// webhook receiver hands it over, byte for byte.
func TestDecideGiteaFixtures(t *testing.T) {
	cfg := testConfig()
	for _, f := range fixture.GiteaDeliveries(t) {
		t.Run(f.Name, func(t *testing.T) {
			d := Decide(cfg, Message{
				Source: SourceGitea, ID: f.Headers["X-Gitea-Delivery"],
				Event: f.Headers["X-Gitea-Event"], EventType: f.Headers["X-Gitea-Event-Type"], Body: f.Body,
			})
			require.Equal(t, store.OutcomeAccepted, d.Row.Outcome, d.Row.Reason)
			require.Equal(t, f.Headers["X-Gitea-Delivery"], d.Row.DeliveryID)
			require.Equal(t, "products/SLFO", d.Row.Repo)
			require.Equal(t, f.Headers["X-Gitea-Event-Type"], d.Label)
			require.Equal(t, "products/SLFO", d.Intent.Repo)
			if d.Row.EventType == "status" {
				require.NotEmpty(t, d.Intent.SHA)
			} else {
				require.NotZero(t, d.Intent.Number)
				require.Equal(t, d.Intent.Number, *d.Row.Number)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	cfg := testConfig()
	pr := fixture.GiteaDelivery(t, "pull_request_opened")
	tests := []struct {
		name    string
		m       Message
		outcome string
		reason  string // a part of the stored reason
		id      string // the stored delivery id, or its prefix when it ends in "*"
		intent  jobs.Intent
		label   string
	}{
		{name: "gitea: an unwatched repository is stored and ignored",
			m:       Message{Source: SourceGitea, ID: "d1", EventType: "pull_request", Body: []byte(strings.Replace(string(pr.Body), `"products/SLFO"`, `"products/Other"`, -1))},
			outcome: store.OutcomeIgnored, reason: "not watched", id: "d1", label: "pull_request"},
		{name: "gitea: an event type qemgate does not act on",
			m:       Message{Source: SourceGitea, ID: "d2", EventType: "push", Body: []byte(`{"ref":"main"}`)},
			outcome: store.OutcomeIgnored, reason: `"push" is not one`, id: "d2", label: "other"},
		{name: "gitea: not JSON is refused with the reason",
			m:       Message{Source: SourceGitea, ID: "d3", EventType: "pull_request", Body: []byte(`{`)},
			outcome: store.OutcomeBadRequest, reason: "not valid JSON", id: "d3", label: "pull_request"},
		{name: "gitea: a NUL in the delivery id is escaped and refused",
			m:       Message{Source: SourceGitea, ID: "d\x00", EventType: "pull_request", Body: pr.Body},
			outcome: store.OutcomeBadRequest, reason: "delivery id", id: `d\x00`, label: "pull_request"},
		{name: "openqa: a job-done hook without an id of its sender is named by job and body",
			m:       Message{Source: SourceOpenQA, Body: []byte(`{"id": 42}`)},
			outcome: store.OutcomeAccepted, id: "job-42-*", intent: jobs.Intent{OpenQAJob: 42}, label: "job_done"},
		{name: "openqa: the sender's id names the delivery",
			m:       Message{Source: SourceOpenQA, ID: "hook-1", Body: []byte(`{"id": 42}`)},
			outcome: store.OutcomeAccepted, id: "job-42/hook-1", intent: jobs.Intent{OpenQAJob: 42}, label: "job_done"},
		{name: "openqa: a comment event is about its job",
			m:       Message{Source: SourceOpenQA, Body: []byte(`{"id": 9, "job_id": 46, "text": "x"}`)},
			outcome: store.OutcomeAccepted, id: "job-46-*", intent: jobs.Intent{OpenQAJob: 46}, label: "comment"},
		{name: "openqa: no job id is stored as refused",
			m:       Message{Source: SourceOpenQA, Body: []byte(`{"result": "passed"}`)},
			outcome: store.OutcomeBadRequest, reason: `no positive "id"`, id: "unreadable/*", label: "other"},
		{name: "a source nobody reads",
			m:       Message{Source: "smtp", ID: "x", Body: []byte(`{}`)},
			outcome: store.OutcomeBadRequest, reason: "not read", id: "x", label: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(cfg, tt.m)
			require.Equal(t, tt.outcome, d.Row.Outcome, d.Row.Reason)
			require.Contains(t, d.Row.Reason, tt.reason)
			if prefix, ok := strings.CutSuffix(tt.id, "*"); ok {
				require.True(t, strings.HasPrefix(d.Row.DeliveryID, prefix), d.Row.DeliveryID)
			} else {
				require.Equal(t, tt.id, d.Row.DeliveryID)
			}
			require.Equal(t, tt.intent, d.Intent, "work only for what is accepted")
			require.Equal(t, tt.label, d.Label)
			require.Equal(t, tt.m.Body, d.Row.Body)
		})
	}
}

// TestDecideIsRepeatable: a replay decides what the original decided.
func TestDecideIsRepeatable(t *testing.T) {
	cfg := testConfig()
	for _, f := range fixture.GiteaDeliveries(t) {
		m := Message{Source: SourceGitea, ID: "x", EventType: f.Headers["X-Gitea-Event-Type"], Body: f.Body}
		require.Equal(t, Decide(cfg, m), Decide(cfg, m), f.Name)
	}
}
