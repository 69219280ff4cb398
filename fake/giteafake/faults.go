package giteafake

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Fault makes matching API requests misbehave. Path is matched by segments:
// "*" matches one segment, a final "**" the rest (e.g.
// "/api/v1/repos/*/*/statuses/*"). Method "" matches any method.
type Fault struct {
	Method string `json:"method,omitempty"`
	Path   string `json:"path"`
	// Status, when non-zero, is answered instead of the real handler, with
	// Body (default: Gitea's {"message","url"} error shape).
	Status int    `json:"status,omitempty"`
	Body   string `json:"body,omitempty"`
	// Times limits the fault to the next N matching calls; 0 means always.
	Times int `json:"times,omitempty"`
	// Latency delays the answer (real or injected).
	Latency time.Duration `json:"latency,omitempty"`
	// Hang blocks until the client gives up (or the server closes).
	Hang bool `json:"hang,omitempty"`
	// Drop closes the connection without an answer. With AfterHandling the
	// request takes effect first, so the client loses the answer to a write
	// that happened.
	Drop          bool `json:"drop,omitempty"`
	AfterHandling bool `json:"after_handling,omitempty"`
	// Rate, when in (0, 1), makes the fault hit only that fraction of the
	// matching calls, at random; the calls it spares go on to the next
	// fault, and only hits count towards Times. 0 means every call.
	Rate float64 `json:"rate,omitempty"`
}

type activeFault struct {
	Fault
	left int
}

type faultSet struct {
	mu     sync.Mutex
	faults []*activeFault
	done   chan struct{}
	once   sync.Once
}

func (fs *faultSet) closed() chan struct{} {
	fs.once.Do(func() { fs.done = make(chan struct{}) })
	return fs.done
}

func pathMatches(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if p == "**" && i == len(ps)-1 {
			return true
		}
		if i >= len(segs) || (p != "*" && p != segs[i]) {
			return false
		}
	}
	return len(ps) == len(segs)
}

// take returns the first active fault for the request and uses one of its calls.
func (fs *faultSet) take(r *http.Request) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.faults {
		if (f.Method != "" && !strings.EqualFold(f.Method, r.Method)) || !pathMatches(f.Path, r.URL.Path) {
			continue
		}
		if f.Rate > 0 && f.Rate < 1 && rand.Float64() >= f.Rate {
			continue
		}
		if f.Times > 0 {
			f.left--
			if f.left <= 0 {
				fs.faults = append(fs.faults[:i:i], fs.faults[i+1:]...)
			}
		}
		out := f.Fault
		return &out
	}
	return nil
}

// apply runs the fault f taken for the request (nil: none); it reports
// whether the response was written. A drop after handling is the caller's.
func (fs *faultSet) apply(w http.ResponseWriter, r *http.Request, root string, f *Fault) bool {
	if f == nil {
		return false
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-fs.closed():
			return true
		}
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-fs.closed():
		}
		return true
	}
	if f.Drop && !f.AfterHandling {
		dropConnection(w)
		return true
	}
	if f.Status == 0 {
		return false
	}
	body := f.Body
	if body == "" {
		body = `{"message":"` + http.StatusText(f.Status) + `","url":"` + root + `api/swagger"}`
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
	return true
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// discardWriter takes a response that the client will never see.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// AddFault installs a fault; faults are tried in the order added.
func (s *Server) AddFault(f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &activeFault{Fault: f, left: f.Times})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// Request is one recorded API call.
type Request struct {
	Method string     `json:"method"`
	Path   string     `json:"path"`
	Query  url.Values `json:"query,omitempty"`
	// User is the authenticated login ("" when anonymous or invalid).
	User   string    `json:"user,omitempty"`
	Body   []byte    `json:"body,omitempty"`
	Status int       `json:"status"`
	Time   time.Time `json:"time"`
}

type requestLog struct {
	mu   sync.Mutex
	reqs []Request
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
}

// Requests returns every API request served so far (control endpoints
// excluded), in completion order.
func (s *Server) Requests() []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return append([]Request(nil), s.log.reqs...)
}

// RequestsMatching filters Requests by method ("" = any) and path pattern
// (same syntax as Fault.Path).
func (s *Server) RequestsMatching(method, pattern string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if (method == "" || strings.EqualFold(method, r.Method)) && pathMatches(pattern, r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.reqs = nil
}
