package forge

import (
	"fmt"
	"strings"

	"github.com/qemgate/qemgate/internal/text"
)

// CombineStates is Gitea's (1.26) rule for a commit's combined state: any
// error, failure or warning makes failure; all success or skipped makes
// success; anything else, including no statuses at all, is pending.
func CombineStates(states []string) string {
	if len(states) == 0 {
		return "pending"
	}
	allOK := true
	for _, st := range states {
		switch st {
		case "error", "failure", "warning":
			return "failure"
		case "success", "skipped":
		default:
			allOK = false
		}
	}
	if allOK {
		return "success"
	}
	return "pending"
}

// ParseRepo splits "owner/name".
func ParseRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") ||
		strings.TrimSpace(owner) != owner || strings.TrimSpace(name) != name {
		return "", "", fmt.Errorf("repo %q: want owner/name: %w", repo, ErrInvalid)
	}
	return owner, name, nil
}

// MaxDescriptionRunes bounds a status description. Gitea stores it as TEXT
// but its UI and other forges assume about 255 characters.
const MaxDescriptionRunes = 255

// validStatusStates are the states Gitea's API documents for writes. Gitea
// stores whatever it gets (VARCHAR(7)), so an unknown state would silently
// turn the combined status pending: refuse it here.
var validStatusStates = map[string]bool{"pending": true, "success": true, "error": true, "failure": true, "warning": true}

// normalizeStatus validates s and truncates its description.
func normalizeStatus(s StatusInput) (StatusInput, error) {
	if !validStatusStates[s.State] {
		return s, fmt.Errorf("status state %q: want pending, success, error, failure or warning: %w", s.State, ErrInvalid)
	}
	s.Description = text.Runes(s.Description, MaxDescriptionRunes)
	return s, nil
}

// validateReview mirrors Gitea's rules so that a bad review fails fast and
// permanently instead of as a 422 (or the SDK's untyped "body is empty").
func validateReview(r ReviewInput) error {
	switch r.Event {
	case ReviewApproved:
	case ReviewRequestChanges, ReviewComment:
		if strings.TrimSpace(r.Body) == "" {
			return fmt.Errorf("review %s needs a body: %w", r.Event, ErrInvalid)
		}
	default:
		return fmt.Errorf("review event %q: want APPROVED, REQUEST_CHANGES or COMMENT: %w", r.Event, ErrInvalid)
	}
	if r.Event != ReviewComment && r.CommitID == "" {
		// Without commit_id Gitea reviews whatever the head is by then,
		// which may not be the SHA that was tested.
		return fmt.Errorf("review %s needs the tested commit_id: %w", r.Event, ErrInvalid)
	}
	return nil
}

// shortSHA is the sha[:12] used to name a commit in errors and logs; other
// refs (branch names) are kept whole.
func shortSHA(sha string) string {
	if len(sha) <= 12 {
		return sha
	}
	for _, r := range sha {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return sha
		}
	}
	return sha[:12]
}
