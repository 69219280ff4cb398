package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// verifyGiteaSignature reports whether body was signed with one of secrets.
// Gitea sends hex HMAC-SHA256 in X-Gitea-Signature and, the same value with
// a "sha256=" prefix, in X-Hub-Signature-256; either is accepted. Several
// secrets allow a rotation without dropping deliveries. Comparisons are in
// constant time; an empty signature (a hook without secret) never matches.
func verifyGiteaSignature(secrets []string, h http.Header, body []byte) bool {
	var got []byte
	if s := strings.TrimSpace(h.Get("X-Gitea-Signature")); s != "" {
		got, _ = hex.DecodeString(s)
	} else if s := strings.TrimSpace(h.Get("X-Hub-Signature-256")); strings.HasPrefix(s, "sha256=") {
		got, _ = hex.DecodeString(strings.TrimPrefix(s, "sha256="))
	}
	if len(got) != sha256.Size {
		return false
	}
	ok := 0
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		// Check every secret, so the time taken does not tell which one matched.
		ok |= subtle.ConstantTimeCompare(mac.Sum(nil), got)
	}
	return ok == 1
}

// equalToken compares a presented token with the configured one in constant time.
func equalToken(got, want string) bool {
	if want == "" {
		return false
	}
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// requireBearer lets a request through only with "Authorization: Bearer <token>".
func requireBearer(token, realm string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if token == "" {
				writeError(w, r, http.StatusUnauthorized, realm+" API disabled: no token is configured", "")
				return
			}
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !equalToken(strings.TrimSpace(got), token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
				writeError(w, r, http.StatusUnauthorized, "missing or wrong bearer token", "")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
