package metadata

import (
	"errors"
	"fmt"
)

// Severity says whether a Problem stops a metadata set from being used.
type Severity string

const (
	// SeverityWarning is reported but does not stop the set from loading.
	SeverityWarning Severity = "warning"
	// SeverityError makes Load fail; a Holder keeps its last good set.
	SeverityError Severity = "error"
)

// Problem is one finding in a metadata file, addressed as file:line so an
// editor or CI log can jump to it.
type Problem struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
}

// String renders the problem as "file:line: message".
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
}

// ErrInvalid is wrapped by Load's error when at least one problem is an error.
var ErrInvalid = errors.New("invalid metadata")

// HasErrors reports whether any problem has SeverityError.
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}
