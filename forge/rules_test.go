package forge

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/internal/text"
)

func TestCombineStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		states []string
		want   string
	}{
		{"none is pending", nil, "pending"},
		{"all success", []string{"success", "success"}, "success"},
		{"skipped counts as success", []string{"success", "skipped"}, "success"},
		{"one pending", []string{"success", "pending"}, "pending"},
		{"failure wins over pending", []string{"pending", "failure"}, "failure"},
		{"error is failure", []string{"success", "error"}, "failure"},
		{"warning is failure since 1.26", []string{"success", "warning"}, "failure"},
		{"unknown state is pending", []string{"success", "running"}, "pending"},
		{"empty state is pending", []string{""}, "pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, CombineStates(tt.states))
		})
	}
}

func TestParseRepo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		owner, name string
		ok          bool
	}{
		{"products/SLFO", "products", "SLFO", true},
		{"pool/python-foo.bar_1", "pool", "python-foo.bar_1", true},
		{"SLFO", "", "", false},
		{"/SLFO", "", "", false},
		{"products/", "", "", false},
		{"a/b/c", "", "", false},
		{" products/SLFO", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			owner, name, err := ParseRepo(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.owner, owner)
			require.Equal(t, tt.name, name)
		})
	}
}

func TestNormalizeStatus(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ä", 300)
	tests := []struct {
		name     string
		in       StatusInput
		wantDesc string
		ok       bool
	}{
		{"pending ok", StatusInput{State: "pending", Context: "openqa", Description: "running"}, "running", true},
		{"warning ok", StatusInput{State: "warning"}, "", true},
		{"skipped refused (no SDK constant, Actions only)", StatusInput{State: "skipped"}, "", false},
		{"unknown refused", StatusInput{State: "passed"}, "", false},
		{"case matters", StatusInput{State: "SUCCESS"}, "", false},
		{"exactly 255 runes kept", StatusInput{State: "success", Description: long[:255*2]}, long[:255*2], true},
		{"long cut to 255 runes", StatusInput{State: "failure", Description: long}, strings.Repeat("ä", 254) + "…", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := normalizeStatus(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantDesc, got.Description)
			require.LessOrEqual(t, utf8.RuneCountInString(got.Description), MaxDescriptionRunes)
		})
	}
}

func TestValidateReview(t *testing.T) {
	t.Parallel()
	const sha = "2c8a268954a01e42748e9153707e65808dee20e4"
	tests := []struct {
		name string
		in   ReviewInput
		ok   bool
	}{
		{"approve with sha", ReviewInput{Event: ReviewApproved, CommitID: sha}, true},
		{"approve without sha", ReviewInput{Event: ReviewApproved}, false},
		{"request changes with body and sha", ReviewInput{Event: ReviewRequestChanges, Body: "openQA failed", CommitID: sha}, true},
		{"request changes without body", ReviewInput{Event: ReviewRequestChanges, Body: "  ", CommitID: sha}, false},
		{"comment with body, no sha", ReviewInput{Event: ReviewComment, Body: "note"}, true},
		{"comment without body", ReviewInput{Event: ReviewComment}, false},
		{"pending is not an event we send", ReviewInput{Event: ReviewPending, Body: "x", CommitID: sha}, false},
		{"empty event", ReviewInput{Body: "x", CommitID: sha}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateReview(tt.in)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrInvalid)
			}
		})
	}
}

func TestShortSHA(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"2c8a268954a01e42748e9153707e65808dee20e4", "2c8a268954a0"},
		{strings.Repeat("ab", 32), "abababababab"},
		{"abc123", "abc123"},
		{"feature/very-long-branch", "feature/very-long-branch"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, shortSHA(tt.in))
		})
	}
}

func TestStatusShows(t *testing.T) {
	t.Parallel()
	in := StatusInput{State: "success", Context: "qa/openqa", Description: "3 passed", TargetURL: "https://qemgate.example.test/pulls/products/SLFO/1"}
	shown := Status{State: "success", Context: "qa/openqa", Description: "3 passed", TargetURL: in.TargetURL}
	long := in
	long.Description = strings.Repeat("x", MaxDescriptionRunes+10)
	tests := []struct {
		name string
		s    Status
		in   StatusInput
		want bool
	}{
		{"same", shown, in, true},
		{"Gitea trimmed it", shown, StatusInput{State: "success", Context: " qa/openqa", Description: "3 passed\n", TargetURL: in.TargetURL + " "}, true},
		{"cut description", Status{State: "success", Context: "qa/openqa", Description: text.Runes(long.Description, MaxDescriptionRunes), TargetURL: in.TargetURL}, long, true},
		{"other state", Status{State: "pending", Context: "qa/openqa", Description: "3 passed", TargetURL: in.TargetURL}, in, false},
		{"other description", Status{State: "success", Context: "qa/openqa", Description: "2 passed", TargetURL: in.TargetURL}, in, false},
		{"other target", Status{State: "success", Context: "qa/openqa", Description: "3 passed"}, in, false},
		{"other context", Status{State: "success", Context: "obs/build", Description: "3 passed", TargetURL: in.TargetURL}, in, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.s.Shows(tc.in))
		})
	}
}
