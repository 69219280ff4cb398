package openqafake_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/openqafake"
)

type recorder struct {
	mu   sync.Mutex
	keys []string
	msgs []map[string]any
}

func (r *recorder) Publish(key string, body []byte) error {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key)
	r.msgs = append(r.msgs, m)
	return nil
}

// TestEventsHaveOpenQAsShape: the fake publishes what Plugin/AMQP.pm
// publishes, under openQA's routing keys.
func TestEventsHaveOpenQAsShape(t *testing.T) {
	s := openqafake.New(openqafake.Options{})
	t.Cleanup(s.Close)
	rec := &recorder{}
	s.SetPublisher(rec, "suse")
	settings := map[string]string{"DISTRI": "sle", "VERSION": "16.0", "FLAVOR": "Online", "ARCH": "x86_64", "BUILD": ":git:1:openssl", "TEST": "minimal", "MACHINE": "64bit", "ISO": "a.iso"}
	a := s.AddJob(settings, 414)
	b := s.AddJob(settings, 414)

	require.NoError(t, s.FinishJob(a, "failed"))
	clone, err := s.RestartJob(a)
	require.NoError(t, err)
	_, err = s.AddComment(a, "squad", "@review:acceptable_for:submission_1:bsc#1")
	require.NoError(t, err)
	require.NoError(t, s.Obsolete(b))

	require.Equal(t, []string{"suse.openqa.job.done", "suse.openqa.job.restart", "suse.openqa.comment.create", "suse.openqa.job.cancel"}, rec.keys)
	done := rec.msgs[0]
	require.Equal(t, float64(a), done["id"])
	require.Equal(t, "failed", done["result"])
	require.Equal(t, ":git:1:openssl", done["BUILD"])
	require.Equal(t, float64(414), done["group_id"])
	require.Equal(t, "a.iso", done["ISO"])
	require.Equal(t, float64(1), done["remaining"], "the other job of the build is still pending")
	require.Contains(t, done, "failedmodules")
	require.NotContains(t, done, "DISTRI", "openQA sends no DISTRI or VERSION")
	restart := rec.msgs[1]
	require.Equal(t, map[string]any{itoa(a): float64(clone)}, restart["result"], "old id → new id")
	comment := rec.msgs[2]
	require.Equal(t, float64(a), comment["job_id"])
	require.Equal(t, "squad", comment["user"])
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, comment["created"])
	require.Len(t, s.Events(), 4)

	s.SetPublisher(rec, "")
	require.NoError(t, s.FinishJob(clone, "passed"))
	require.Equal(t, "openqa.job.done", rec.keys[4], "an empty prefix is no prefix")
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
