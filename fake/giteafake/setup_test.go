package giteafake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/giteafake"
)

const hookSecret = "fixture-secret"

// received is one webhook delivery as the receiver saw it.
type received struct {
	Header http.Header
	Body   []byte
}

// hookSink is a webhook receiver that records every delivery.
type hookSink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

func newHookSink(t *testing.T) *hookSink {
	t.Helper()
	hs := &hookSink{}
	hs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hs.mu.Lock()
		hs.got = append(hs.got, received{Header: r.Header.Clone(), Body: b})
		hs.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hs.srv.Close)
	return hs
}

func (hs *hookSink) all() []received {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]received(nil), hs.got...)
}

// byType returns deliveries whose X-Gitea-Event-Type is eventType.
func (hs *hookSink) byType(eventType string) []received {
	var out []received
	for _, r := range hs.all() {
		if r.Header.Get("X-Gitea-Event-Type") == eventType {
			out = append(out, r)
		}
	}
	return out
}

type testBundle struct {
	srv   *giteafake.Server
	sink  *hookSink
	pr    giteafake.PullInfo
	label int64
}

// setup rebuilds the scenario the fixtures were captured from: org products,
// repo products/SLFO, team qam-openqa (qam-bot), writers bob and ci-bot, PR #1
// by carol from her fork, and a repository hook to a recording receiver.
func setup(t *testing.T) *testBundle {
	t.Helper()
	srv := giteafake.New(giteafake.Options{Tokens: map[string]string{
		"tok-alice": "alice", "tok-bob": "bob", "tok-carol": "carol", "tok-ci": "ci-bot", "tok-qam": "qam-bot",
	}})
	t.Cleanup(srv.Close)
	for _, u := range []giteafake.User{
		{Login: "alice", FullName: "Alice Admin"}, {Login: "bob", FullName: "Bob Reviewer"},
		{Login: "qam-bot", FullName: "QA review bot"}, {Login: "ci-bot", FullName: "CI Bot"},
		{Login: "carol", FullName: "Carol Contributor"},
	} {
		require.NoError(t, srv.AddUser(u))
	}
	require.NoError(t, srv.AddOrg("products", "Products"))
	require.NoError(t, srv.AddTeam("products", giteafake.Team{Name: "qam-openqa", Description: "QA maintenance openQA reviewers", Members: []string{"qam-bot"}}))
	_, err := srv.AddRepo(giteafake.Repo{
		Owner: "products", Name: "SLFO", Description: "Project git for SLFO (test instance)",
		Files: map[string]string{"hello.spec": "Name: hello\nVersion: 2.12.1\n"}, Writers: []string{"bob", "ci-bot"}, Admins: []string{"alice"},
	})
	require.NoError(t, err)
	label, err := srv.AddLabel("products", "SLFO", giteafake.Label{Name: "needs-openqa", Description: "Waiting for openQA results"})
	require.NoError(t, err)
	sink := newHookSink(t)
	_, err = srv.AddHook(giteafake.Hook{Repo: "products/SLFO", URL: sink.srv.URL + "/hook", Secret: hookSecret, Events: []string{"pull_request", "issue_comment", "status"}})
	require.NoError(t, err)
	pr, err := srv.OpenPull(giteafake.PullOptions{
		Owner: "products", Repo: "SLFO", Author: "carol", HeadOwner: "carol", Head: "update-hello",
		Title: "Update hello to 2.12.2", Body: "Version update of hello.\n\nPR: pool/hello!7",
		Files: map[string]string{"hello.spec": "Name: hello\nVersion: 2.12.2\n", "_patchinfo": "<patchinfo>\n  <category>recommended</category>\n</patchinfo>\n"},
	})
	require.NoError(t, err)
	return &testBundle{srv: srv, sink: sink, pr: pr, label: label}
}

func (tb *testBundle) client(t *testing.T, token string) *gitea.Client {
	t.Helper()
	c, err := gitea.NewClient(tb.srv.URL(), gitea.SetToken(token), gitea.SetHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	require.NoError(t, err)
	return c
}

func (tb *testBundle) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, tb.srv.WaitIdle(ctx))
}

// keySetDiff compares two decoded JSON documents' key sets recursively
// (objects by keys, arrays by their first elements) and lists differences.
func keySetDiff(path string, want, got any) []string {
	var out []string
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			if got == nil {
				return nil
			}
			return []string{path + ": want object"}
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inW:
				out = append(out, path+"."+k+": unexpected")
			case !inG:
				out = append(out, path+"."+k+": missing")
			default:
				out = append(out, keySetDiff(path+"."+k, wv, gv)...)
			}
		}
	case []any:
		g, ok := got.([]any)
		if ok && len(w) > 0 && len(g) > 0 {
			out = append(out, keySetDiff(path+"[0]", w[0], g[0])...)
		}
	}
	return out
}

func requireSameKeys(t *testing.T, fixture, got []byte) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal(fixture, &w))
	require.NoError(t, json.Unmarshal(got, &g))
	diff := keySetDiff("$", w, g)
	require.Empty(t, diff, strings.Join(diff, "\n"))
}
