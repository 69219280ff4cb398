package metadata

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Holder keeps the live metadata set and swaps it atomically on reload. A
// reload that fails keeps serving the last good set, so a broken commit in
// the metadata repository never stops gating.
type Holder struct {
	dir  string
	opts Options
	now  func() time.Time

	current atomic.Pointer[Set]

	mu          sync.Mutex // serialises Reload and guards the fields below
	lastErr     error
	lastReload  time.Time
	lastSuccess time.Time
	problems    []Problem
}

// NewHolder prepares a holder for dir; nothing is loaded until Reload. now is
// the clock used to stamp reloads (time.Now when nil).
func NewHolder(dir string, opts Options, now func() time.Time) *Holder {
	if now == nil {
		now = time.Now
	}
	return &Holder{dir: dir, opts: opts, now: now}
}

// Reload loads the directory again. On success the new set replaces the
// current one; on failure the current set stays and the error is recorded.
func (h *Holder) Reload() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	set, problems, err := Load(h.dir, h.opts)
	h.lastReload = h.now()
	h.problems = problems
	if err != nil {
		h.lastErr = fmt.Errorf("reload metadata: %w", err)
		return h.lastErr
	}
	h.current.Store(set)
	h.lastErr = nil
	h.lastSuccess = h.lastReload
	return nil
}

// Current is the last good set, or nil before the first successful Reload.
func (h *Holder) Current() *Set { return h.current.Load() }

// LastError is the error of the latest Reload, nil when it succeeded.
func (h *Holder) LastError() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastErr
}

// LastReload is when the latest Reload ran, successful or not.
func (h *Holder) LastReload() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastReload
}

// LastSuccess is when the current set was loaded.
func (h *Holder) LastSuccess() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastSuccess
}

// Problems are the warnings and errors of the latest Reload.
func (h *Holder) Problems() []Problem {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Problem(nil), h.problems...)
}
