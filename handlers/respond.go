package handlers

import (
	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/internal/nonnil"
)

// The answers are written by internal/httpx, shared with the dashboard, and
// empty lists made by internal/nonnil; these names keep the receivers,
// admin and replay as they read.
type errorBody = httpx.ErrorBody

var (
	writeJSON  = httpx.WriteJSON
	writeError = httpx.WriteError
	nonNilIDs  = nonnil.Slice[int64]
)
