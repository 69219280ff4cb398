package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// giteaSignature returns the signature a delivery presents. Gitea sends hex
// HMAC-SHA256 in X-Gitea-Signature and the same value with a "sha256="
// prefix in X-Hub-Signature-256; the first is read, the second only when the
// first is absent (a GitHub-style sender). Hex is read in either case. A
// header given twice with a value each is refused rather than guessed at,
// and so is an empty one (a hook without secret): ok is false.
func giteaSignature(h http.Header) (sig []byte, ok bool) {
	values := func(name string) []string {
		var out []string
		for _, v := range h.Values(name) {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	s := values("X-Gitea-Signature")
	if len(s) == 0 {
		hub := values("X-Hub-Signature-256")
		if len(hub) != 1 || !strings.HasPrefix(hub[0], "sha256=") {
			return nil, false
		}
		s = []string{strings.TrimPrefix(hub[0], "sha256=")}
	}
	if len(s) != 1 {
		return nil, false
	}
	sig, err := hex.DecodeString(s[0])
	return sig, err == nil && len(sig) == sha256.Size
}

// verifyGiteaSignature reports whether body was signed with one of secrets.
// Several secrets allow a rotation without dropping deliveries. Comparisons
// are in constant time.
func verifyGiteaSignature(secrets []string, got, body []byte) bool {
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

// bearerToken returns the credentials of "Authorization: Bearer <token>".
// The scheme is matched case-insensitively, as RFC 7235 says; the header
// must be given once.
func bearerToken(h http.Header) (string, bool) {
	v := h.Values("Authorization")
	if len(v) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(v[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
