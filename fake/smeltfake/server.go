// Package smeltfake is a stateful, in-process fake of SMELT's v2 updates
// API: GET /api/experimental/v2/updates/<quoted key> answers
// {"data": {…, "priority": N, "is_emergency": B}} for a known update and 404
// otherwise, with faults (status codes, latency) for tests. Controls under
// /_fake/ drive it over HTTP. Production code never imports it.
package smeltfake

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Update is what SMELT knows about one update.
type Update struct {
	// Priority nil renders as null.
	Priority  *int
	Emergency bool
}

// Fault changes how the next requests are answered.
type Fault struct {
	Times   int // 0: until cleared
	Status  int
	Latency time.Duration
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	updates  map[string]Update
	faults   []*Fault
	requests int
	closing  chan struct{}
	once     sync.Once
}

// New starts a fake SMELT on addr (empty: a free port on 127.0.0.1).
func New(addr string) *Server {
	s := &Server{updates: map[string]Update{}, closing: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/experimental/v2/updates/{key}", s.handleUpdate)
	mux.HandleFunc("PUT /_fake/updates/{key}", func(w http.ResponseWriter, r *http.Request) {
		var u Update
		if v := r.FormValue("priority"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			u.Priority = &n
		}
		u.Emergency = r.FormValue("emergency") == "true"
		s.SetUpdate(r.PathValue("key"), u)
		w.WriteHeader(http.StatusNoContent)
	})
	s.srv = httptest.NewUnstartedServer(mux)
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			panic(fmt.Sprintf("smeltfake: listen %s: %v", addr, err))
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	s.srv.Start()
	return s
}

// URL is the base URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.srv.Close()
}

// SetUpdate creates or replaces an update under its key
// ("<host>:<owner>:<repo>:<number>").
func (s *Server) SetUpdate(key string, u Update) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates[key] = u
}

// InjectFault adds a fault after the ones there are.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Requests is how many update reads arrived, faults included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) take() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.faults) == 0 {
		return nil
	}
	f := s.faults[0]
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			s.faults = s.faults[1:]
		}
	}
	c := *f
	return &c
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	if f := s.take(); f != nil {
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			case <-s.closing:
				return
			}
		}
		if f.Status != 0 {
			writeJSON(w, f.Status, map[string]any{"detail": http.StatusText(f.Status)})
			return
		}
	}
	key := r.PathValue("key") // the mux has unescaped %3A already
	s.mu.Lock()
	u, ok := s.updates[key]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"name":         key,
		"priority":     u.Priority,
		"is_emergency": u.Emergency,
		"status":       map[string]any{"name": "testing"},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
