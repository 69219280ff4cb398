package handlers

import "github.com/qemgate/qemgate/internal/httpx"

// The answers are written by internal/httpx, shared with the dashboard;
// these names keep the receivers as they read.
type errorBody = httpx.ErrorBody

var (
	writeJSON  = httpx.WriteJSON
	writeError = httpx.WriteError
)
