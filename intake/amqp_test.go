package intake

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/fixture"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// jobDone is openQA's job.done body (Plugin/AMQP.pm), as published.
const jobDone = `{"ARCH":"x86_64","BUILD":":git:12:openssl","FLAVOR":"Online-Incidents","ISO":"SLES-16.0-Online-x86_64-Build1.1.iso","MACHINE":"64bit","TEST":"mau-extratests","bugref":null,"failedmodules":[],"group_id":2,"id":5735489,"newbuild":null,"reason":null,"remaining":13,"result":"passed"}`

func TestFromAMQP(t *testing.T) {
	cfg := testConfig()
	pr := fixture.GiteaDelivery(t, "pull_request_opened")
	review := fixture.GiteaDelivery(t, "pull_request_review_requested_team")
	tests := []struct {
		name, prefix, key, id string
		body                  []byte
		source, eventType     string
		outcome, reason       string
		intent                jobs.Intent
		idPrefix              string
		label                 string
	}{
		{name: "openQA job.done: the job, only when followed", prefix: "suse", key: "suse.openqa.job.done", body: []byte(jobDone),
			source: SourceOpenQAAMQP, eventType: "job_done", outcome: store.OutcomeAccepted,
			intent: jobs.Intent{OpenQAJob: 5735489, KnownJobOnly: true}, idPrefix: "suse.openqa.job.done/job-5735489-", label: "job_done"},
		{name: "openQA job.restart: the old job, whose clone is followed", prefix: "opensuse", key: "opensuse.openqa.job.restart",
			body:   []byte(`{"id":44,"result":{"44":45},"auto":0,"BUILD":"x","TEST":"t","ARCH":"x86_64","MACHINE":"64bit","FLAVOR":"f","group_id":2}`),
			source: SourceOpenQAAMQP, eventType: "job_restart", outcome: store.OutcomeAccepted,
			intent: jobs.Intent{OpenQAJob: 44, KnownJobOnly: true}, idPrefix: "opensuse.openqa.job.restart/job-44-", label: "job_restart"},
		{name: "openQA comment.create: its job", prefix: "suse", key: "suse.openqa.comment.create",
			body:   []byte(`{"id":9,"job_id":46,"group_id":null,"parent_group_id":null,"user":"squad","text":"@review:acceptable_for:submission_12:bsc#1","created":"2026-12-01T10:00:00Z","updated":"2026-12-01T10:00:00Z"}`),
			source: SourceOpenQAAMQP, eventType: "comment_create", outcome: store.OutcomeAccepted,
			intent: jobs.Intent{OpenQAJob: 46, KnownJobOnly: true}, idPrefix: "suse.openqa.comment.create/job-46-", label: "comment_create"},
		{name: "openQA with an empty prefix", key: "openqa.job.done", body: []byte(jobDone),
			source: SourceOpenQAAMQP, eventType: "job_done", outcome: store.OutcomeAccepted,
			intent: jobs.Intent{OpenQAJob: 5735489, KnownJobOnly: true}, idPrefix: "openqa.job.done/job-5735489-", label: "job_done"},
		{name: "openQA message id names the delivery", prefix: "suse", key: "suse.openqa.job.done", id: "m-1", body: []byte(jobDone),
			source: SourceOpenQAAMQP, eventType: "job_done", outcome: store.OutcomeAccepted,
			intent: jobs.Intent{OpenQAJob: 5735489, KnownJobOnly: true}, idPrefix: "suse.openqa.job.done/job-5735489/m-1", label: "job_done"},
		{name: "openQA poison: stored as refused", prefix: "suse", key: "suse.openqa.job.done", body: []byte(`not json`),
			source: SourceOpenQAAMQP, eventType: "job_done", outcome: store.OutcomeBadRequest, reason: "not a JSON object",
			idPrefix: "suse.openqa.job.done/unreadable/", label: "job_done"},
		{name: "Gitea pull_request.opened: the webhook payload itself", prefix: "suse", key: "suse.src.products.pull_request.opened", body: pr.Body,
			source: SourceGiteaAMQP, eventType: "pull_request", outcome: store.OutcomeAccepted,
			intent: jobs.Intent{Repo: "products/SLFO", Number: 1}, idPrefix: "suse.src.products.pull_request.opened/", label: "pull_request"},
		{name: "Gitea review_requested", prefix: "suse", key: "suse.src.products.pull_request_review_request.review_requested", id: "gitea-42", body: review.Body,
			source: SourceGiteaAMQP, eventType: "pull_request_review_request", outcome: store.OutcomeAccepted,
			intent: jobs.Intent{Repo: "products/SLFO", Number: 1}, idPrefix: "gitea-42", label: "pull_request_review_request"},
		{name: "Gitea event qemgate does not act on", prefix: "suse", key: "suse.src.products.push", body: []byte(`{"ref":"refs/heads/main"}`),
			source: SourceGiteaAMQP, eventType: "push", outcome: store.OutcomeIgnored, reason: "not one qemgate acts on",
			idPrefix: "suse.src.products.push/", label: "other"},
		{name: "a key of no known shape", prefix: "suse", key: "suse.obs.package.build_success", body: []byte(`{}`),
			source: SourceGiteaAMQP, outcome: store.OutcomeBadRequest, reason: "is neither suse.openqa.* nor suse.src.*",
			idPrefix: "suse.obs.package.build_success/", label: "other"},
		{name: "another prefix than ours", prefix: "suse", key: "opensuse.openqa.job.done", body: []byte(jobDone),
			source: SourceOpenQAAMQP, eventType: "", outcome: store.OutcomeBadRequest, reason: "is neither",
			idPrefix: "opensuse.openqa.job.done/", label: "job_done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := FromAMQP(tt.prefix, tt.key, tt.id, map[string]string{"Routing-Key": tt.key}, tt.body)
			require.Equal(t, tt.source, m.Source)
			if tt.eventType != "" {
				require.Equal(t, tt.eventType, m.EventType)
			}
			d := Decide(cfg, m)
			require.Equal(t, tt.outcome, d.Row.Outcome, d.Row.Reason)
			require.Contains(t, d.Row.Reason, tt.reason)
			require.Equal(t, tt.intent, d.Intent)
			require.Equal(t, tt.key, d.Row.Event, "the routing key is stored as the event")
			require.Truef(t, len(d.Row.DeliveryID) >= len(tt.idPrefix) && d.Row.DeliveryID[:len(tt.idPrefix)] == tt.idPrefix, "id %q", d.Row.DeliveryID)
			require.Equal(t, tt.label, d.Label)
			// Delivered again after a crash: the same id, so one row.
			require.Equal(t, d.Row.DeliveryID, Decide(cfg, FromAMQP(tt.prefix, tt.key, tt.id, map[string]string{"Redelivered": "true"}, tt.body)).Row.DeliveryID)
		})
	}
}
