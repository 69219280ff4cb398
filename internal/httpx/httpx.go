// Package httpx writes the JSON answers of every HTTP handler in qemgate
// (handlers and dashboard), so that every error answer has one shape.
package httpx

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/qemgate/qemgate/store"
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

// CheckText refuses a query or path parameter that cannot match stored
// text: a NUL, a control character, invalid UTF-8 or more than
// store.MaxFieldLen bytes. It returns the message for a 400, or "".
func CheckText(name, v string) string {
	if store.EscapeText(v) != v {
		return name + ": contains a NUL, a control character or invalid UTF-8"
	}
	if len(v) > store.MaxFieldLen {
		return fmt.Sprintf("%s: longer than %d bytes", name, store.MaxFieldLen)
	}
	return ""
}
