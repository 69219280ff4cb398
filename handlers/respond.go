package handlers

import (
	"encoding/json"
	"net/http"
)

// errorBody is the one shape of every error answer.
type errorBody struct {
	Error    string `json:"error"`
	Delivery string `json:"delivery,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, _ *http.Request, status int, msg, delivery string) {
	writeJSON(w, status, errorBody{Error: msg, Delivery: delivery})
}
