// Package delivery makes Gitea webhook deliveries for load tests: a captured
// delivery sent again with a fresh id, about one of N PRs, signed as Gitea signs.
package delivery

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// DefaultFixture is the captured pull_request_sync delivery: the event a
// push to a PR sends, and so the commonest one that carries work.
func DefaultFixture() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "fixtures", "gitea", "pull_request_synchronized.json")
}

// Template is a captured delivery to send again and again.
type Template struct {
	Body    []byte
	Headers map[string]string
}

// Load reads <name>.json and <name>.headers.json as captured.
func Load(bodyPath string) (Template, error) {
	body, err := os.ReadFile(bodyPath)
	if err != nil {
		return Template{}, fmt.Errorf("read fixture: %w", err)
	}
	raw, err := os.ReadFile(strings.TrimSuffix(bodyPath, ".json") + ".headers.json")
	if err != nil {
		return Template{}, fmt.Errorf("read fixture headers: %w", err)
	}
	var h struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return Template{}, fmt.Errorf("fixture headers %s: %w", bodyPath, err)
	}
	return Template{Body: body, Headers: h.Headers}, nil
}

// prNumbers is the part of a pull_request payload that names the PR.
type prNumbers struct {
	Number      int64 `json:"number"`
	PullRequest *struct {
		Number int64 `json:"number"`
	} `json:"pull_request"`
}

// ForPull returns body as if it were about PR number: the top-level
// "number" and pull_request.number change, every other byte stays as Gitea
// sent it (URLs still name the captured PR; the receiver does not read
// them). It fails when body is not a pull_request payload with both fields
// equal, which is what the byte-level rewrite relies on.
func ForPull(body []byte, number int64) ([]byte, error) {
	var p prNumbers
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("fixture is not JSON: %w", err)
	}
	if p.PullRequest == nil || p.Number <= 0 || p.PullRequest.Number != p.Number {
		return nil, fmt.Errorf("fixture is not a pull_request payload with number == pull_request.number")
	}
	old := []byte(`"number": ` + strconv.FormatInt(p.Number, 10) + ",")
	if c := bytes.Count(body, old); c != 2 {
		return nil, fmt.Errorf("fixture has %s %d times, want exactly twice (top level and pull_request)", old, c)
	}
	out := bytes.ReplaceAll(body, old, []byte(`"number": `+strconv.FormatInt(number, 10)+","))
	var check prNumbers
	if err := json.Unmarshal(out, &check); err != nil || check.Number != number || check.PullRequest.Number != number {
		return nil, fmt.Errorf("rewriting the fixture for PR %d did not give a payload about PR %d", number, number)
	}
	return out, nil
}

// Signed is one body ready to send, with the signature headers Gitea
// computes for it.
type Signed struct {
	Body       []byte
	Signatures map[string]string
}

// Sign computes every signature header Gitea sends: hex HMAC-SHA256 in
// X-Gitea-Signature and X-Gogs-Signature, the same with "sha256=" in
// X-Hub-Signature-256, and HMAC-SHA1 in X-Hub-Signature.
func Sign(secret string, body []byte) Signed {
	m256 := hmac.New(sha256.New, []byte(secret))
	m256.Write(body)
	s256 := hex.EncodeToString(m256.Sum(nil))
	m1 := hmac.New(sha1.New, []byte(secret))
	m1.Write(body)
	return Signed{Body: body, Signatures: map[string]string{
		"X-Gitea-Signature":   s256,
		"X-Gogs-Signature":    s256,
		"X-Hub-Signature-256": "sha256=" + s256,
		"X-Hub-Signature":     "sha1=" + hex.EncodeToString(m1.Sum(nil)),
	}}
}

// deliveryHeaders are what Gitea sends with every delivery of the same
// event: the captured headers less the per-delivery ones (id, signatures)
// and those the HTTP client sets itself.
func deliveryHeaders(captured map[string]string) http.Header {
	h := http.Header{}
	for k, v := range captured {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Accept-Encoding",
			"X-Gitea-Delivery", "X-Gogs-Delivery", "X-Github-Delivery",
			"X-Gitea-Signature", "X-Gogs-Signature", "X-Hub-Signature", "X-Hub-Signature-256":
			continue
		}
		h.Set(k, v)
	}
	return h
}

// setDelivery sets what changes from one delivery to the next.
func setDelivery(h http.Header, id string, s Signed) {
	h.Set("X-Gitea-Delivery", id)
	h.Set("X-Gogs-Delivery", id)
	h.Set("X-Github-Delivery", id)
	for k, v := range s.Signatures {
		h.Set(k, v)
	}
}

// NewID returns a random UUID, as Gitea uses for delivery ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// Source makes delivery after delivery from one captured delivery.
type Source struct {
	headers http.Header
	bodies  []Signed
}

// NewSource signs tpl's body rewritten for PRs 1..prs with secret, once,
// so that making a delivery costs no more than a client's.
func NewSource(tpl Template, secret string, prs int) (*Source, error) {
	if prs < 1 {
		return nil, fmt.Errorf("delivery source: %d PRs: must be at least 1", prs)
	}
	s := &Source{headers: deliveryHeaders(tpl.Headers), bodies: make([]Signed, prs)}
	for i := range s.bodies {
		b, err := ForPull(tpl.Body, int64(i+1))
		if err != nil {
			return nil, err
		}
		s.bodies[i] = Sign(secret, b)
	}
	return s, nil
}

// Next returns delivery seq: a fresh id, about PR seq mod N + 1, with all the
// headers Gitea sends. Concurrent callers are safe.
func (s *Source) Next(seq int64) (body []byte, h http.Header) {
	b := s.bodies[seq%int64(len(s.bodies))]
	h = s.headers.Clone()
	setDelivery(h, NewID(), b)
	return b.Body, h
}

// BodyBytes is the size of the bodies, as captured for PR 1.
func (s *Source) BodyBytes() int { return len(s.bodies[0].Body) }

// First is the body of the delivery for PR 1, as the baseline inserts it.
func (s *Source) First() []byte { return s.bodies[0].Body }
