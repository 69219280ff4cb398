package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestForPullRewritesOnlyTheNumbers(t *testing.T) {
	t.Parallel()
	tpl, err := Load(DefaultFixture())
	require.NoError(t, err)
	tests := []struct {
		number  int64
		wantLen int // the captured number is 1: one digit, twice
	}{
		{1, len(tpl.Body)},
		{7, len(tpl.Body)},
		{42, len(tpl.Body) + 2},
		{200, len(tpl.Body) + 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.number), func(t *testing.T) {
			t.Parallel()
			out, err := ForPull(tpl.Body, tt.number)
			require.NoError(t, err)
			require.Len(t, out, tt.wantLen)
			var got, orig map[string]any
			require.NoError(t, json.Unmarshal(out, &got))
			require.NoError(t, json.Unmarshal(tpl.Body, &orig))
			require.EqualValues(t, tt.number, got["number"])
			require.EqualValues(t, tt.number, got["pull_request"].(map[string]any)["number"])
			// Everything else is as captured.
			delete(got, "number")
			delete(orig, "number")
			delete(got["pull_request"].(map[string]any), "number")
			delete(orig["pull_request"].(map[string]any), "number")
			require.Equal(t, orig, got)
		})
	}
}

func TestForPullRefusesOtherPayloads(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not JSON":           `{`,
		"no pull_request":    `{"number": 1,"sha":"x"}`,
		"numbers disagree":   `{"number": 1,"pull_request":{"number": 2,"x":1}}`,
		"compact formatting": `{"number":1,"pull_request":{"number":1,"x":1}}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ForPull([]byte(body), 5)
			require.Error(t, err)
		})
	}
}

func TestSignMatchesGitea(t *testing.T) {
	t.Parallel()
	// The captured headers were computed by Gitea with the fixture secret:
	// signing the captured body again must give them back.
	tpl, err := Load(DefaultFixture())
	require.NoError(t, err)
	s := Sign("fixture-secret", tpl.Body)
	for _, h := range []string{"X-Gitea-Signature", "X-Gogs-Signature", "X-Hub-Signature-256", "X-Hub-Signature"} {
		require.Equal(t, tpl.Headers[h], s.Signatures[h], h)
	}

	body, err := ForPull(tpl.Body, 17)
	require.NoError(t, err)
	s = Sign("other", body)
	m := hmac.New(sha256.New, []byte("other"))
	m.Write(body)
	require.Equal(t, hex.EncodeToString(m.Sum(nil)), s.Signatures["X-Gitea-Signature"])
	require.NotEqual(t, tpl.Headers["X-Gitea-Signature"], s.Signatures["X-Gitea-Signature"])
}

func TestDeliveryHeaders(t *testing.T) {
	t.Parallel()
	tpl, err := Load(DefaultFixture())
	require.NoError(t, err)
	h := deliveryHeaders(tpl.Headers)
	require.Equal(t, "pull_request_sync", h.Get("X-Gitea-Event-Type"))
	require.Equal(t, "pull_request", h.Get("X-Gitea-Event"))
	for _, gone := range []string{"Content-Length", "Accept-Encoding", "X-Gitea-Delivery", "X-Gitea-Signature", "X-Hub-Signature-256"} {
		require.Empty(t, h.Get(gone), gone)
	}

	req := h.Clone()
	s := Sign("bench-secret", tpl.Body)
	id := NewID()
	setDelivery(req, id, s)
	require.Equal(t, id, req.Get("X-Gitea-Delivery"))
	require.Equal(t, id, req.Get("X-Github-Delivery"))
	require.Equal(t, "sha256="+req.Get("X-Gitea-Signature"), req.Get("X-Hub-Signature-256"))
	require.Empty(t, h.Get("X-Gitea-Delivery"), "the shared headers are not changed")
}

func TestNewDeliveryIDIsARandomUUID(t *testing.T) {
	t.Parallel()
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		require.Regexp(t, uuid, id)
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
}

func TestSourceCyclesOverPRsWithFreshIDs(t *testing.T) {
	t.Parallel()
	tpl, err := Load(DefaultFixture())
	require.NoError(t, err)
	src, err := NewSource(tpl, "bench-secret", 3)
	require.NoError(t, err)
	require.Equal(t, len(tpl.Body), src.BodyBytes())
	ids := map[string]bool{}
	for seq, wantPR := range []int64{1, 2, 3, 1, 2, 3, 1} {
		body, h := src.Next(int64(seq))
		var p prNumbers
		require.NoError(t, json.Unmarshal(body, &p))
		require.Equal(t, wantPR, p.Number, "seq %d", seq)
		m := hmac.New(sha256.New, []byte("bench-secret"))
		m.Write(body)
		require.Equal(t, hex.EncodeToString(m.Sum(nil)), h.Get("X-Gitea-Signature"))
		require.Equal(t, "pull_request_sync", h.Get("X-Gitea-Event-Type"))
		id := h.Get("X-Gitea-Delivery")
		require.False(t, ids[id], "delivery id %s reused", id)
		ids[id] = true
	}
	_, err = NewSource(tpl, "s", 0)
	require.ErrorContains(t, err, "at least 1")
}
