package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/qemgate/qemgate/internal/text"
)

// Gitea commit status states the verdict maps to.
const (
	StatusPending = "pending"
	StatusSuccess = "success"
	StatusFailure = "failure"
)

// Approval modes (config gitea.approval.mode).
const (
	ApprovalModeReview       = "review"
	ApprovalModeGroupComment = "group-comment"
)

// SummaryMarker is the hidden first line of qemgate's summary comment; the
// reporter finds its earlier comment by it and edits that one in place.
const SummaryMarker = "<!-- qemgate summary -->"

// MaxStatusDescription is the longest commit status description, in runes,
// that we send (Gitea keeps descriptions short in its UI).
const MaxStatusDescription = 140

// maxListedJobs caps the failing jobs listed in one comment; the dashboard
// has the rest.
const maxListedJobs = 30

// StatusFor maps a verdict to a Gitea commit status state and description,
// e.g. ("failure", "12 passed, 1 failed, 0 running"). Accepted and stopped
// counts appear when non-zero. With no counted job, or when the verdict waits
// for something other than running jobs, the first reason says why.
func StatusFor(v Verdict) (state, description string) {
	switch v.State {
	case VerdictPassed:
		state = StatusSuccess
	case VerdictPending:
		state = StatusPending
	default:
		state = StatusFailure
	}
	if v.State == VerdictNoJobs {
		return state, "no openQA jobs were created"
	}
	desc := CountsText(v.Counts)
	// The counts explain a failure with failed or stopped jobs, and a wait
	// with running ones; anything else (a run openQA refused, an unknown
	// job, a draft, a build) is said in words.
	explained := (v.State == VerdictFailed && v.Counts.Failed+v.Counts.Stopped > 0) ||
		(v.State == VerdictPending && v.Counts.Running > 0) || v.State == VerdictPassed
	if why := firstReason(v); why != "" && (v.Counts.Total == 0 || !explained) {
		if v.Counts.Total == 0 {
			desc = why
		} else {
			desc += "; " + why
		}
	}
	return state, text.Runes(desc, MaxStatusDescription)
}

// CountsText spells counts as "12 passed, 1 accepted, 1 failed, 2 stopped, 3 running";
// accepted and stopped only when non-zero.
func CountsText(c Counts) string {
	parts := []string{strconv.Itoa(c.Passed) + " passed"}
	if c.Accepted > 0 {
		parts = append(parts, strconv.Itoa(c.Accepted)+" accepted")
	}
	parts = append(parts, strconv.Itoa(c.Failed)+" failed")
	if c.Stopped > 0 {
		parts = append(parts, strconv.Itoa(c.Stopped)+" stopped")
	}
	parts = append(parts, strconv.Itoa(c.Running)+" running")
	return strings.Join(parts, ", ")
}

// firstReason is the message of the first reason that explains the state:
// a blocking one for failed verdicts, a pending one for pending verdicts.
func firstReason(v Verdict) string {
	for _, r := range v.Reasons {
		if r.Blocking == (v.State != VerdictPending) && r.Code != ReasonJobsRunning {
			return r.Message
		}
	}
	return ""
}

// ApprovalMarker is the first line of a group-comment approval,
// "@<reviewBot>: approved"; with the tested SHA it identifies our approval.
func ApprovalMarker(reviewBot string) string {
	return fmt.Sprintf("@%s: approved", strings.TrimPrefix(reviewBot, "@"))
}

// IsApprovalComment reports whether a comment approves sha in the
// group-review protocol of reviewBot.
func IsApprovalComment(body, reviewBot, sha string) bool {
	return strings.Contains(body, ApprovalMarker(reviewBot)) && strings.Contains(body, "Tested commit: "+sha)
}

// DismissalBody says why our approval of approvedSHA no longer holds.
func DismissalBody(approvedSHA, headSHA string) string {
	return fmt.Sprintf("New commits were pushed: the openQA approval of %.12s does not hold for %.12s, which is being tested.", approvedSHA, headSHA)
}

// ApprovalBody is the body that approves pull at its head SHA. In
// group-comment mode it follows the group-review protocol: first line
// "@<reviewBot>: approved", a summary, last line "Tested commit: <sha>".
// In review mode it is the body of an APPROVED review.
func ApprovalBody(pull Pull, v Verdict, mode, reviewBot, dashboardURL string) string {
	var b strings.Builder
	if mode == ApprovalModeGroupComment {
		b.WriteString(ApprovalMarker(reviewBot) + "\n")
	}
	fmt.Fprintf(&b, "openQA tests passed for %s: %s.\n", pull.Ref(), CountsText(v.Counts))
	writeAcceptances(&b, v.Acceptances)
	if dashboardURL != "" {
		fmt.Fprintf(&b, "Details: %s\n", dashboardURL)
	}
	fmt.Fprintf(&b, "Tested commit: %s", pull.HeadSHA)
	return b.String()
}

// DeclineBody is the body that declines pull at its head SHA, naming every
// blocking reason (job, group, link, contact). In group-comment mode it is
// "@<reviewBot>: decline", the summary, and "Tested commit: <sha>"; in review
// mode the body of a REQUEST_CHANGES review.
func DeclineBody(pull Pull, v Verdict, mode, reviewBot, dashboardURL string) string {
	var b strings.Builder
	if mode == ApprovalModeGroupComment {
		fmt.Fprintf(&b, "@%s: decline\n", strings.TrimPrefix(reviewBot, "@"))
	}
	switch {
	case v.State == VerdictNoJobs:
		fmt.Fprintf(&b, "openQA tests cannot approve %s: no openQA jobs were created.\n", pull.Ref())
	case v.Counts.Total == 0 && slices.ContainsFunc(v.Reasons, func(r Reason) bool { return r.Code == ReasonBuildFailed }):
		fmt.Fprintf(&b, "openQA tests cannot approve %s: its build failed, nothing was tested.\n", pull.Ref())
	default:
		fmt.Fprintf(&b, "openQA tests failed for %s: %s.\n", pull.Ref(), CountsText(v.Counts))
	}
	writeReasons(&b, v.Reasons, true)
	writeAcceptances(&b, v.Acceptances)
	if dashboardURL != "" {
		fmt.Fprintf(&b, "Details: %s\n", dashboardURL)
	}
	fmt.Fprintf(&b, "Tested commit: %s", pull.HeadSHA)
	return b.String()
}

// SummaryBody is the human-readable comment qemgate keeps up to date on the
// PR (edited in place). Its first line is SummaryMarker.
func SummaryBody(pull Pull, v Verdict, dashboardURL string) string {
	var b strings.Builder
	b.WriteString(SummaryMarker + "\n")
	fmt.Fprintf(&b, "### openQA: %s\n\n", summaryTitle(v.State))
	fmt.Fprintf(&b, "Commit `%s`: %s.\n", pull.HeadSHA, CountsText(v.Counts))
	if blocking := slices.ContainsFunc(v.Reasons, func(r Reason) bool { return r.Blocking }); blocking {
		b.WriteString("\nBlocking:\n")
		writeReasons(&b, v.Reasons, true)
	}
	if v.State == VerdictPending {
		b.WriteString("\nWaiting for:\n")
		writeReasons(&b, v.Reasons, false)
	}
	if len(v.Acceptances) > 0 {
		b.WriteString("\n")
		writeAcceptances(&b, v.Acceptances)
	}
	if dashboardURL != "" {
		fmt.Fprintf(&b, "\nDetails: %s\n", dashboardURL)
	}
	return strings.TrimRight(b.String(), "\n")
}

// IsSummaryComment tells whether a PR comment is qemgate's summary comment.
func IsSummaryComment(body string) bool {
	return strings.HasPrefix(strings.TrimSpace(body), SummaryMarker)
}

func summaryTitle(state string) string {
	switch state {
	case VerdictPassed:
		return "passed"
	case VerdictFailed:
		return "failed"
	case VerdictNoJobs:
		return "no jobs"
	default:
		return "running"
	}
}

// writeReasons lists the blocking (or the pending) reasons as markdown
// bullets, at most maxListedJobs of them.
func writeReasons(b *strings.Builder, reasons []Reason, blocking bool) {
	n := 0
	for _, r := range reasons {
		if r.Blocking != blocking {
			continue
		}
		n++
		if n > maxListedJobs {
			continue
		}
		b.WriteString("- " + reasonLine(r) + "\n")
	}
	if n > maxListedJobs {
		fmt.Fprintf(b, "- … and %d more\n", n-maxListedJobs)
	}
}

// reasonLine is one reason in markdown: a job links to openQA and names its
// group and contact; other reasons are their message.
func reasonLine(r Reason) string {
	if r.JobID == 0 {
		return r.Message
	}
	name := r.Scenario
	if name == "" {
		name = "job " + strconv.FormatInt(r.JobID, 10)
	}
	if r.URL != "" {
		name = fmt.Sprintf("[%s](%s)", name, r.URL)
	}
	line := name + " " + outcome(r)
	var details []string
	if r.Aggregate {
		details = append(details, "aggregate")
	}
	if r.Group != "" {
		details = append(details, "group "+r.Group)
	}
	if r.Contact != "" {
		details = append(details, "contact "+r.Contact)
	}
	if len(details) > 0 {
		line += " (" + strings.Join(details, ", ") + ")"
	}
	return line
}

func outcome(r Reason) string {
	switch r.Code {
	case ReasonJobFailed, ReasonJobStopped:
		return resultWords(r.Result)
	case ReasonCloneUnsynced:
		return "was restarted; waiting for the restart"
	default:
		return r.Message
	}
}

func writeAcceptances(b *strings.Builder, as []Acceptance) {
	for i, a := range as {
		if i == maxListedJobs {
			fmt.Fprintf(b, "- … and %d more accepted\n", len(as)-maxListedJobs)
			break
		}
		if i == 0 {
			b.WriteString("Accepted despite a not-ok result:\n")
		}
		name := a.Scenario
		if name == "" {
			name = "job " + strconv.FormatInt(a.JobID, 10)
		}
		if a.URL != "" {
			name = fmt.Sprintf("[%s](%s)", name, a.URL)
		}
		by := ""
		if a.By != "" {
			by = " by " + a.By
		}
		fmt.Fprintf(b, "- %s %s: %s%s\n", name, resultWords(a.Result), a.Reason, by)
	}
}

// ReasonSetKey is a stable hash of the verdict state and its blocking reasons
// (job ids with results, other reasons by code, run and message), so negative
// feedback is posted once per head SHA and set of reasons whatever their
// order.
func ReasonSetKey(v Verdict) string {
	var items []string
	for _, r := range v.Reasons {
		if !r.Blocking {
			continue
		}
		if r.JobID != 0 {
			items = append(items, fmt.Sprintf("job\x00%d\x00%s", r.JobID, r.Result))
		} else {
			items = append(items, fmt.Sprintf("%s\x00%s\x00%s", r.Code, r.RunKey, r.Message))
		}
	}
	slices.Sort(items)
	h := sha256.New()
	h.Write([]byte(v.State))
	for _, it := range items {
		h.Write([]byte{'\n'})
		h.Write([]byte(it))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
