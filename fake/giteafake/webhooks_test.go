package giteafake_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/internal/fixture"
)

// playFixtureScenario replays the steps the fixtures were captured from.
func playFixtureScenario(t *testing.T, tb *testBundle) {
	t.Helper()
	s, n := tb.srv, tb.pr.Number
	require.NoError(t, s.RequestReview("products", "SLFO", n, "alice", []string{"bob"}, []string{"qam-openqa"}))
	require.NoError(t, s.AddLabels("products", "SLFO", n, "alice", "needs-openqa"))
	pr, err := s.Push("products", "SLFO", n, giteafake.PushOptions{Files: map[string]string{"hello.spec": "Name: hello\nVersion: 2.12.2\nLicense: MIT\n"}, Message: "Add License tag"})
	require.NoError(t, err)
	tb.pr = pr
	_, err = s.CreateStatus("products", "SLFO", pr.HeadSHA, "ci-bot", giteafake.StatusOptions{State: "pending", Context: "openqa"})
	require.NoError(t, err)
	_, err = s.CreateStatus("products", "SLFO", pr.HeadSHA, "ci-bot", giteafake.StatusOptions{State: "success", Context: "obs/staging-build", Description: "Build successful"})
	require.NoError(t, err)
	_, err = s.CreateStatus("products", "SLFO", pr.HeadSHA, "ci-bot", giteafake.StatusOptions{State: "success", Context: "openqa", Description: "All 12 openQA jobs have passed", TargetURL: "https://openqa.example.test/admin/productlog?id=4242"})
	require.NoError(t, err)
	_, err = s.CreateComment("products", "SLFO", n, "bob", "Changelog entry looks good. Waiting for openQA before approving.")
	require.NoError(t, err)
	_, err = s.SubmitReview("products", "SLFO", n, giteafake.ReviewOptions{User: "qam-bot", State: giteafake.ReviewApproved, Body: "openQA: All 12 openQA jobs have passed\nTested commit: " + pr.HeadSHA})
	require.NoError(t, err)
	tb.waitIdle(t)
}

func TestDeliveriesMatchFixtures(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	playFixtureScenario(t, tb)

	for _, fx := range fixture.GiteaDeliveries(t) {
		t.Run(fx.Name, func(t *testing.T) {
			t.Parallel()
			eventType := fx.Headers["X-Gitea-Event-Type"]
			got := tb.sink.byType(eventType)
			require.NotEmpty(t, got, "no %s delivery", eventType)
			d := got[len(got)-1]
			require.Equal(t, fx.Headers["X-Gitea-Event"], d.Header.Get("X-Gitea-Event"))
			for name := range fx.Headers {
				if name == "Accept-Encoding" {
					continue
				}
				_, ok := d.Header[name]
				require.True(t, ok, "header %s missing", name)
			}
			requireSameKeys(t, fx.Body, d.Body)
		})
	}
}

func TestDeliveryWireFormat(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.waitIdle(t)
	got := tb.sink.byType("pull_request")
	require.Len(t, got, 1)
	d := got[0]

	// Pretty-printed with two spaces and no trailing newline, like MarshalIndent.
	var v any
	require.NoError(t, json.Unmarshal(d.Body, &v))
	var want bytes.Buffer
	require.NoError(t, json.Indent(&want, compact(t, d.Body), "", "  "))
	require.Equal(t, want.Bytes(), d.Body)
	require.NotEqual(t, byte('\n'), d.Body[len(d.Body)-1])

	ok, err := gitea.VerifyWebhookSignature(hookSecret, d.Header.Get("X-Gitea-Signature"), d.Body)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, d.Header.Get("X-Gitea-Signature"), d.Header.Get("X-Gogs-Signature"))
	require.Equal(t, "sha256="+d.Header.Get("X-Gitea-Signature"), d.Header.Get("X-Hub-Signature-256"))
	m := hmac.New(sha1.New, []byte(hookSecret))
	m.Write(d.Body)
	require.Equal(t, "sha1="+hex.EncodeToString(m.Sum(nil)), d.Header.Get("X-Hub-Signature"))

	id := d.Header.Get("X-Gitea-Delivery")
	require.Len(t, id, 36)
	require.Equal(t, id, d.Header.Get("X-Gogs-Delivery"))
	require.Equal(t, id, d.Header.Get("X-GitHub-Delivery"))
	require.Equal(t, "pull_request", d.Header.Get("X-GitHub-Event"))
	require.Equal(t, "repository", d.Header.Get("X-Gitea-Hook-Installation-Target-Type"))
	require.Equal(t, "application/json", d.Header.Get("Content-Type"))
	require.Equal(t, "Go-http-client/1.1", d.Header.Get("User-Agent"))

	var pl struct {
		Action      string `json:"action"`
		PullRequest struct {
			Head struct {
				Sha  string `json:"sha"`
				Repo struct {
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &pl))
	require.Equal(t, "opened", pl.Action)
	require.Equal(t, tb.pr.HeadSHA, pl.PullRequest.Head.Sha)
	require.Equal(t, "carol/SLFO", pl.PullRequest.Head.Repo.FullName)

	recs := tb.srv.Deliveries()
	require.Len(t, recs, 1)
	require.Equal(t, id, recs[0].ID)
	require.True(t, recs[0].Succeeded())
	require.Equal(t, 1, recs[0].Sends)
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, json.Compact(&out, b))
	return out.Bytes()
}

func TestHookWithoutSecretSendsEmptySignatures(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	sink := newHookSink(t)
	_, err := tb.srv.AddHook(giteafake.Hook{Org: "products", URL: sink.srv.URL, Events: []string{"status"}})
	require.NoError(t, err)
	_, err = tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", giteafake.StatusOptions{State: "pending", Context: "openqa"})
	require.NoError(t, err)
	tb.waitIdle(t)
	got := sink.all()
	require.Len(t, got, 1)
	require.Equal(t, "", got[0].Header.Get("X-Gitea-Signature"))
	require.Equal(t, "sha256=", got[0].Header.Get("X-Hub-Signature-256"))
	require.Equal(t, "sha1=", got[0].Header.Get("X-Hub-Signature"))
	require.Equal(t, "organization", got[0].Header.Get("X-Gitea-Hook-Installation-Target-Type"))
}

func TestEventSubscription(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	statusOnly := newHookSink(t)
	_, err := tb.srv.AddHook(giteafake.Hook{Repo: "products/SLFO", URL: statusOnly.srv.URL, Events: []string{"status"}})
	require.NoError(t, err)
	require.NoError(t, tb.srv.AddLabels("products", "SLFO", tb.pr.Number, "alice", "needs-openqa"))
	_, err = tb.srv.SubmitReview("products", "SLFO", tb.pr.Number, giteafake.ReviewOptions{User: "bob", State: giteafake.ReviewRequestChanges, Body: "Please add a %changelog entry."})
	require.NoError(t, err)
	tb.waitIdle(t)
	require.Empty(t, statusOnly.all())

	rejected := tb.sink.byType("pull_request_review_rejected")
	require.Len(t, rejected, 1)
	require.Equal(t, "pull_request_rejected", rejected[0].Header.Get("X-Gitea-Event"))
	var pl struct {
		Review struct{ Type, Content string } `json:"review"`
	}
	require.NoError(t, json.Unmarshal(rejected[0].Body, &pl))
	require.Equal(t, "pull_request_review_rejected", pl.Review.Type)
	require.Equal(t, "Please add a %changelog entry.", pl.Review.Content)

	labelled := tb.sink.byType("pull_request_label")
	require.Len(t, labelled, 1)
	require.Equal(t, "pull_request", labelled[0].Header.Get("X-Gitea-Event"))
	require.Contains(t, string(labelled[0].Body), `"action": "label_updated"`)
}

func TestSwitches(t *testing.T) {
	t.Parallel()
	statusOpts := func(desc string) giteafake.StatusOptions {
		return giteafake.StatusOptions{State: "pending", Context: "openqa", Description: desc}
	}
	descriptions := func(t *testing.T, rs []received) []string {
		var out []string
		for _, r := range rs {
			var pl struct{ Description string }
			require.NoError(t, json.Unmarshal(r.Body, &pl))
			out = append(out, pl.Description)
		}
		return out
	}

	t.Run("drop records but does not send", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.SetSwitches(giteafake.Switches{Drop: true})
		_, err := tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", statusOpts("dropped"))
		require.NoError(t, err)
		tb.waitIdle(t)
		require.Empty(t, tb.sink.byType("status"))
		var dropped []giteafake.Delivery
		for _, d := range tb.srv.Deliveries() {
			if d.EventType == "status" {
				dropped = append(dropped, d)
			}
		}
		require.Len(t, dropped, 1)
		require.True(t, dropped[0].Dropped)
		require.Zero(t, dropped[0].Sends)

		// A replay gets a new UUID and the same body, and is sent once drop is off.
		tb.srv.SetSwitches(giteafake.Switches{})
		id, err := tb.srv.Redeliver(dropped[0].ID)
		require.NoError(t, err)
		require.NotEqual(t, dropped[0].ID, id)
		tb.waitIdle(t)
		got := tb.sink.byType("status")
		require.Len(t, got, 1)
		require.Equal(t, id, got[0].Header.Get("X-Gitea-Delivery"))
		require.Equal(t, dropped[0].Body, got[0].Body)
	})

	t.Run("duplicate sends twice with one id", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.SetSwitches(giteafake.Switches{Duplicate: true})
		_, err := tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", statusOpts("twice"))
		require.NoError(t, err)
		tb.waitIdle(t)
		got := tb.sink.byType("status")
		require.Len(t, got, 2)
		require.Equal(t, got[0].Header.Get("X-Gitea-Delivery"), got[1].Header.Get("X-Gitea-Delivery"))
		require.Equal(t, got[0].Body, got[1].Body)
	})

	t.Run("reorder reverse releases on flush", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.waitIdle(t)
		tb.srv.SetSwitches(giteafake.Switches{Reorder: giteafake.ReorderReverse})
		for _, d := range []string{"one", "two", "three"} {
			_, err := tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", statusOpts(d))
			require.NoError(t, err)
		}
		tb.waitIdle(t)
		require.Empty(t, tb.sink.byType("status"))
		require.Equal(t, 3, tb.srv.Flush())
		tb.waitIdle(t)
		require.Equal(t, []string{"three", "two", "one"}, descriptions(t, tb.sink.byType("status")))
	})

	t.Run("shuffle is a permutation", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.srv.SetSwitches(giteafake.Switches{Reorder: giteafake.ReorderShuffle, Seed: 7})
		for _, d := range []string{"a", "b", "c", "d", "e"} {
			_, err := tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", statusOpts(d))
			require.NoError(t, err)
		}
		require.Equal(t, 5, tb.srv.Flush())
		tb.waitIdle(t)
		require.ElementsMatch(t, []string{"a", "b", "c", "d", "e"}, descriptions(t, tb.sink.byType("status")))
	})

	t.Run("disabled records nothing", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.waitIdle(t)
		before := len(tb.srv.Deliveries())
		tb.srv.SetSwitches(giteafake.Switches{Disabled: true})
		_, err := tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", statusOpts("off"))
		require.NoError(t, err)
		tb.waitIdle(t)
		require.Len(t, tb.srv.Deliveries(), before)
		require.Empty(t, tb.sink.byType("status"))
	})

	t.Run("delay holds each send", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		tb.waitIdle(t)
		tb.srv.SetSwitches(giteafake.Switches{Delay: 50 * time.Millisecond})
		start := time.Now()
		_, err := tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", statusOpts("late"))
		require.NoError(t, err)
		tb.waitIdle(t)
		require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
		require.Len(t, tb.sink.byType("status"), 1)
	})
}

func TestFailedDeliveryIsRecordedNotRetried(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	_, err := tb.srv.AddHook(giteafake.Hook{Repo: "products/SLFO", URL: "http://127.0.0.1:1/unreachable", Events: []string{"status"}})
	require.NoError(t, err)
	_, err = tb.srv.CreateStatus("products", "SLFO", tb.pr.HeadSHA, "ci-bot", giteafake.StatusOptions{State: "success", Context: "openqa"})
	require.NoError(t, err)
	tb.waitIdle(t)
	for _, d := range tb.srv.Deliveries() {
		if d.URL == "http://127.0.0.1:1/unreachable" {
			require.Equal(t, 1, d.Sends)
			require.False(t, d.Succeeded())
			require.NotEmpty(t, d.Err)
			return
		}
	}
	t.Fatal("no delivery to the unreachable hook recorded")
}
