// Package httpx writes the JSON answers of every HTTP handler in qemgate
// (handlers and dashboard), so that every error answer has one shape.
package httpx

import (
	"encoding/json"
	"net/http"
)

// ErrorBody is the one shape of every error answer.
type ErrorBody struct {
	Error    string `json:"error"`
	Delivery string `json:"delivery,omitempty"`
}

// WriteJSON answers status with v, indented.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError answers status with msg (and the delivery it concerns, if any)
// as an ErrorBody.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, msg, delivery string) {
	WriteJSON(w, status, ErrorBody{Error: msg, Delivery: delivery})
}
