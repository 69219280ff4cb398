package openqa

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAcceptableFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []Acceptance
	}{
		{name: "incident", text: "@review:acceptable_for:incident_38190:bsc1234_known", want: []Acceptance{{Kind: "incident", ID: "38190", Reason: "bsc1234_known"}}},
		{name: "submission", text: "@review:acceptable_for:submission_6645:flaky", want: []Acceptance{{Kind: "submission", ID: "6645", Reason: "flaky"}}},
		{name: "anywhere in the text, reason ends at whitespace", text: "bsc#1 see @review:acceptable_for:incident_7:infra_issue and more words", want: []Acceptance{{Kind: "incident", ID: "7", Reason: "infra_issue"}}},
		{name: "CRLF becomes space", text: "bsc#1\r\n@review:acceptable_for:incident_7:why\r\nnext line", want: []Acceptance{{Kind: "incident", ID: "7", Reason: "why"}}},
		{name: "non-printables are dropped before matching", text: "@review:acceptable_for:incident_7:ok\u00e9\u200bfine", want: []Acceptance{{Kind: "incident", ID: "7", Reason: "okfine"}}},
		{name: "two markers", text: "@review:acceptable_for:incident_1:a @review:acceptable_for:submission_2:b", want: []Acceptance{{Kind: "incident", ID: "1", Reason: "a"}, {Kind: "submission", ID: "2", Reason: "b"}}},
		{name: "reason required", text: "@review:acceptable_for:incident_7:"},
		{name: "reason required before whitespace", text: "@review:acceptable_for:incident_7: "},
		{name: "a leading space is a one-character reason, as in qem-bot", text: "@review:acceptable_for:incident_7:  x", want: []Acceptance{{Kind: "incident", ID: "7", Reason: ""}}},
		{name: "unknown kind", text: "@review:acceptable_for:request_7:why"},
		{name: "missing number", text: "@review:acceptable_for:incident_:why"},
		{name: "no marker", text: "label:force_result:passed"},
		{name: "case sensitive", text: "@Review:acceptable_for:incident_7:why"},
		{name: "vertical tab ends the reason like Python's \\s", text: "@review:acceptable_for:incident_7:why\vrest", want: []Acceptance{{Kind: "incident", ID: "7", Reason: "why"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, ParseAcceptableFor(tt.text))
		})
	}
}

func ExampleParseAcceptableFor() {
	text := "bsc#1234567\r\n@review:acceptable_for:submission_6645:known_flaky_on_ppc"
	for _, a := range ParseAcceptableFor(text) {
		fmt.Println(a.Kind, a.ID, a.Reason)
	}
	// Output: submission 6645 known_flaky_on_ppc
}

func TestStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state string
		final bool
	}{
		{StateScheduled, false},
		{StateAssigned, false},
		{StateSetup, false},
		{StateRunning, false},
		{StateUploading, false},
		{StateDone, true},
		{StateCancelled, true},
		{"something_new", false},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.final, IsFinal(tt.state))
		})
	}
}

func TestResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		result     string
		ok         bool
		aborted    bool
		incomplete bool
	}{
		{ResultPassed, true, false, false},
		{ResultSoftfailed, true, false, false},
		{ResultFailed, false, false, false},
		{ResultNone, false, false, false},
		{ResultIncomplete, false, false, true},
		{ResultTimeoutExceeded, false, false, true},
		{ResultSkipped, false, true, false},
		{ResultObsoleted, false, true, false},
		{ResultParallelFailed, false, true, false},
		{ResultParallelRestarted, false, true, false},
		{ResultUserCancelled, false, true, false},
		{ResultUserRestarted, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.result, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.ok, IsOK(tt.result))
			require.Equal(t, tt.aborted, IsAborted(tt.result))
			require.Equal(t, tt.incomplete, IsIncomplete(tt.result))
		})
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	// Vectors computed with Python's hmac module, as openQA's Python client does.
	require.Equal(t, "b2233562a97468f85ce1cefcac8272fa3f148673", Sign("1234567890ABCDEF", "/api/v1/jobs?state=done&limit=5", 1700000000))
	require.Equal(t, "b6cf0e39f7cdc3c01830866fff82d91d420ea3e8", Sign("1234567890ABCDEF", "/api/v1/isos", 1700000000))
}
