package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/rabbittest"
)

// withBus runs the world on a RabbitMQ broker: Gitea's events come through
// a publisher and openQA's through its AMQP plugin, each on the test's own
// exchange and queue; no webhook or hook calls qemgate.
func withBus(t *testing.T) worldOption {
	broker := rabbittest.Shared(t)
	name := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	broker.DeclareTopicExchange(t, "pubsub-"+name)
	return func(c *config.Config) {
		c.AMQP.URL = broker.URL
		c.AMQP.Exchange = "pubsub-" + name
		c.AMQP.Queue = "qemgate-" + name
	}
}

// The whole story over the bus: the PR's events and the staging bot's
// review arrive from Gitea's publisher, the results from openQA's; the PR
// is approved, and nothing came through a webhook.
func TestBusApprovesWithoutWebhooks(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withBus(t))
	pr, ids := w.scheduled()
	w.finish("passed", ids...)
	w.settle()

	require.Eventually(t, func() bool { return len(w.ourReviews(pr.Number, "APPROVED")) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, gate.VerdictPassed, w.pull(pr.Number).Verdict)
	require.Zero(t, w.count(`SELECT count(*) FROM deliveries WHERE source IN ('gitea', 'openqa')`), "no webhook was used")
	require.Positive(t, w.count(`SELECT count(*) FROM deliveries WHERE source = 'gitea-amqp' AND outcome = 'accepted' AND number = $1`, pr.Number))
	require.Equal(t, len(ids), w.count(`SELECT count(*) FROM deliveries WHERE source = 'openqa-amqp' AND event_type = 'job_done' AND outcome = 'accepted'`))
}

// A failure, then an acceptable_for comment: openQA's comment event makes
// it count within seconds, long before the openQA poller's stale pass
// (30 min) would have read it.
func TestBusCommentEventApprovesInSeconds(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withBus(t))
	require.Equal(t, 30*time.Minute, w.cfg.Poll.OpenQAStaleAfter.D())
	pr, ids := w.scheduled()
	w.finish("passed", ids[0], ids[2])
	w.finish("failed", ids[1])
	w.settle()
	require.Len(t, w.ourReviews(pr.Number, "REQUEST_CHANGES"), 1)

	_, err := w.openqa.AddComment(ids[1], "squad", fmt.Sprintf("@review:acceptable_for:submission_%d:bsc#1234 known issue", pr.Number))
	require.NoError(t, err)
	w.settle()
	require.Eventually(t, func() bool { return len(w.ourReviews(pr.Number, "APPROVED")) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, w.count(`SELECT count(*) FROM deliveries WHERE source = 'openqa-amqp' AND event_type = 'comment_create' AND outcome = 'accepted'`))
}

// A restarted job: job.restart makes qemgate follow the clone, whose pass
// approves.
func TestBusRestartFollowsTheClone(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withBus(t))
	pr, ids := w.scheduled()
	w.finish("passed", ids[0], ids[2])
	w.finish("failed", ids[1])
	w.settle()
	clone, err := w.openqa.RestartJob(ids[1])
	require.NoError(t, err)
	w.settle()
	require.Eventually(t, func() bool {
		return w.count(`SELECT count(*) FROM openqa_jobs WHERE id = $1`, clone) == 1
	}, 30*time.Second, 20*time.Millisecond, "the clone is followed")
	w.finish("passed", clone)
	w.settle()
	require.Eventually(t, func() bool { return len(w.ourReviews(pr.Number, "APPROVED")) == 1 }, 30*time.Second, 20*time.Millisecond)
}
