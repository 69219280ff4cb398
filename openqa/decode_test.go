package openqa

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestDecodeJob(t *testing.T) {
	t.Parallel()
	var out struct {
		Job Job `json:"job"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "job.json"), &out))
	j := out.Job
	require.Equal(t, int64(5735489), j.ID)
	require.Equal(t, int64(414), j.GroupID, "group_id arrives as a string")
	require.Equal(t, "Maintenance: SLE 15 SP6 Incidents", j.Group)
	require.Equal(t, int64(45), j.Priority)
	require.Equal(t, int64(0), j.CloneID, "null clone_id")
	require.Zero(t, j.CloneID)
	require.Equal(t, int64(5735400), j.OriginID)
	require.Equal(t, int64(7), j.ParentGroupID)
	require.Equal(t, "done", j.State)
	require.True(t, IsFinal(j.State))
	require.Equal(t, "softfailed", j.Result)
	require.Equal(t, "", j.Reason)
	require.Equal(t, "mau-extratests1", j.Test)
	require.Equal(t, "1700000000", j.Setting("REPOHASH"), "numeric setting kept as text")
	require.Equal(t, ":git:6645:openssl-3", j.Setting("BUILD"))
	require.Equal(t, time.Date(2026, 8, 20, 10, 15, 42, 0, time.UTC), j.TFinished.Time)
}

func TestDecodeJobsPage(t *testing.T) {
	t.Parallel()
	var out struct {
		Jobs []Job `json:"jobs"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "jobs_page.json"), &out))
	require.Len(t, out.Jobs, 2)
	require.True(t, out.Jobs[0].TFinished.IsZero())
	require.Equal(t, int64(0), out.Jobs[0].GroupID)
	require.Equal(t, int64(11), out.Jobs[1].ID)
	require.Equal(t, int64(12), out.Jobs[1].CloneID)
	require.Equal(t, "qam-minimal", out.Jobs[1].Test, "test falls back to settings.TEST")
}

func TestDecodeScheduleResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		want   ScheduleResult
		failed int
	}{
		{file: "isos_success.json", want: ScheduleResult{ScheduledProductID: 77, IDs: []int64{101, 102, 104}, Count: 3}, failed: 2},
		{file: "isos_error_200.json", want: ScheduleResult{ScheduledProductID: 78, Error: "no products found for sle-Server-DVD-Incidents-x86_64"}},
		{file: "isos_no_templates_404.json", want: ScheduleResult{ScheduledProductID: 79, Error: "no templates found for sle-Server-DVD-Incidents-x86_64"}},
		{file: "isos_async.json", want: ScheduleResult{ScheduledProductID: 80, GruTaskID: 5, MinionJobID: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			var got ScheduleResult
			require.NoError(t, json.Unmarshal(readTestdata(t, tt.file), &got))
			require.Len(t, got.Failed, tt.failed)
			got.Failed = nil
			require.Equal(t, tt.want, got)
		})
	}
	t.Run("failed entries", func(t *testing.T) {
		t.Parallel()
		var got ScheduleResult
		require.NoError(t, json.Unmarshal(readTestdata(t, "isos_success.json"), &got))
		require.Equal(t, []FailedJob{
			{JobName: "broken-test", ErrorMessage: "Unable to create job"},
			{JobID: 103, ErrorMessages: []string{"START_AFTER_TEST=foo@64bit not found - check for dependency typos and dependency cycles"}},
		}, got.Failed)
	})
}

func TestDecodeComments(t *testing.T) {
	t.Parallel()
	var got []Comment
	require.NoError(t, json.Unmarshal(readTestdata(t, "comments.json"), &got))
	require.Len(t, got, 2)
	require.Equal(t, int64(901), got[0].ID)
	require.Equal(t, "reviewer", got[0].UserName)
	require.Equal(t, []string{"bsc#1234567"}, got[0].BugRefs)
	require.Equal(t, time.Date(2026, 8, 20, 11, 2, 3, 0, time.UTC), got[0].Created.Time)
	var found []Acceptance
	for _, c := range got {
		found = append(found, ParseAcceptableFor(c.Text)...)
	}
	require.Len(t, found, 1)
	require.Equal(t, "6645", found[0].ID)
	require.Equal(t, "known_flaky_on_ppc", found[0].Reason)
}

func TestDecodeJobGroups(t *testing.T) {
	t.Parallel()
	var got []JobGroup
	require.NoError(t, json.Unmarshal(readTestdata(t, "job_groups.json"), &got))
	require.Equal(t, []JobGroup{
		{ID: 414, Name: "Maintenance: SLE 15 SP6 Incidents", ParentID: 7, Description: "Owned by **squad QE-Core**. Contact: qe-core@example.test", DefaultPriority: 50},
		{ID: 500, Name: "Development: SLE 15 SP6", DefaultPriority: 50, SortOrder: 1},
	}, got)
}

func TestFlexInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    FlexInt
		wantErr bool
	}{
		{in: `42`, want: 42},
		{in: `"42"`, want: 42},
		{in: `" 42 "`, want: 42},
		{in: `42.0`, want: 42},
		{in: `null`, want: 0},
		{in: `""`, want: 0},
		{in: `true`, want: 1},
		{in: `-3`, want: -3},
		{in: `42.5`, wantErr: true},
		{in: `"abc"`, wantErr: true},
		{in: `[1]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var got FlexInt
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 8, 20, 10, 15, 42, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{in: `"2026-08-20T10:15:42"`, want: want},
		{in: `"2026-08-20 10:15:42 +0000"`, want: want},
		{in: `"2026-08-20 12:15:42 +0200"`, want: want},
		{in: `"2026-08-20T10:15:42Z"`, want: want},
		{in: `null`},
		{in: `""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var got Timestamp
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got))
			require.True(t, tt.want.Equal(got.Time), "got %v", got.Time)
		})
	}
	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		var got Timestamp
		require.Error(t, json.Unmarshal([]byte(`"yesterday"`), &got))
	})
	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(Timestamp{want})
		require.NoError(t, err)
		require.JSONEq(t, `"2026-08-20T10:15:42"`, string(b))
		b, err = json.Marshal(Timestamp{})
		require.NoError(t, err)
		require.Equal(t, "null", string(b))
	})
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		link []string
		want string
	}{
		{name: "mojo style", link: []string{`<http://o/api/v1/jobs?limit=2&offset=2>; rel="next", <http://o/api/v1/jobs?limit=2&offset=0>; rel="first"`}, want: "http://o/api/v1/jobs?limit=2&offset=2"},
		{name: "single quotes and order", link: []string{`<http://o/a>; rel='first', <http://o/b>; rel='next'`}, want: "http://o/b"},
		{name: "several rels and repeated headers", link: []string{`<http://o/a>; rel="first"`, `<http://o/c?x=1,2>; title="t"; rel="prev next"`}, want: "http://o/c?x=1,2"},
		{name: "no next", link: []string{`<http://o/a>; rel="first"`}},
		{name: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, l := range tt.link {
				h.Add("Link", l)
			}
			require.Equal(t, tt.want, NextLink(h))
		})
	}
}
