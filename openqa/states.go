package openqa

// Job states (lib/OpenQA/Jobs/Constants.pm).
const (
	StateScheduled = "scheduled"
	StateAssigned  = "assigned"
	StateSetup     = "setup"
	StateRunning   = "running"
	StateUploading = "uploading"
	StateDone      = "done"
	StateCancelled = "cancelled"
)

// Job results.
const (
	ResultNone              = "none"
	ResultPassed            = "passed"
	ResultSoftfailed        = "softfailed"
	ResultFailed            = "failed"
	ResultIncomplete        = "incomplete"
	ResultTimeoutExceeded   = "timeout_exceeded"
	ResultSkipped           = "skipped"
	ResultObsoleted         = "obsoleted"
	ResultParallelFailed    = "parallel_failed"
	ResultParallelRestarted = "parallel_restarted"
	ResultUserCancelled     = "user_cancelled"
	ResultUserRestarted     = "user_restarted"
)

// IsFinal reports whether a job in this state will not change any more
// (done or cancelled). Every other state, known or not, is pending.
func IsFinal(state string) bool {
	return state == StateDone || state == StateCancelled
}

// IsOK reports whether a result counts as a pass: passed or softfailed, the
// rule openQA's own CI status and `openqa-cli monitor` use.
func IsOK(result string) bool {
	return result == ResultPassed || result == ResultSoftfailed
}

// IsAborted reports whether a result means the job never produced a verdict
// of its own (skipped, obsoleted, parallel_*, user_*).
func IsAborted(result string) bool {
	switch result {
	case ResultSkipped, ResultObsoleted, ResultParallelFailed, ResultParallelRestarted,
		ResultUserCancelled, ResultUserRestarted:
		return true
	}
	return false
}

// IsIncomplete reports whether the job broke rather than failed
// (incomplete, timeout_exceeded).
func IsIncomplete(result string) bool {
	return result == ResultIncomplete || result == ResultTimeoutExceeded
}
