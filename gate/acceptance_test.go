package gate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/openqa"
)

func TestAcceptanceFor(t *testing.T) {
	t.Parallel()
	comments := []openqa.Comment{
		{ID: 1, UserName: "a", Text: "bsc#1"},
		{ID: 2, UserName: "b", Text: "@review:acceptable_for:incident_12:other_one"},
		{ID: 3, UserName: "c", Text: "@review:acceptable_for:submission_1:ours"},
		{ID: 4, UserName: "d", Text: "@review:acceptable_for:submission_1:later"},
		{ID: 5, UserName: "e", Text: "@review:acceptable_for:submission_7:"},
	}
	tests := []struct {
		id   string
		want gate.CommentAcceptance
		ok   bool
	}{
		{id: "1", want: gate.CommentAcceptance{CommentID: 3, Reason: "ours", By: "c"}, ok: true},
		{id: "12", want: gate.CommentAcceptance{CommentID: 2, Reason: "other_one", By: "b"}, ok: true},
		{id: "2"},
		{id: "01"},
		{id: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			got, ok := gate.AcceptanceFor(comments, tt.id)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}
