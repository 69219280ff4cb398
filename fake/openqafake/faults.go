package openqafake

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Fault changes how the next requests to one endpoint are answered. Endpoint
// names: isos, jobs, job, comments, comment_post, job_groups, job_group,
// parent_groups, parent_group.
type Fault struct {
	// Times is how many requests the fault applies to; 0 means until cleared.
	Times int
	// Status, when set, answers with this code instead of handling the
	// request (nothing is created). Body defaults to {"error":"injected fault"}.
	Status int
	Body   string
	// Latency delays the request before it is handled.
	Latency time.Duration
	// Hang blocks until the client gives up or the server closes.
	Hang bool
	// Drop closes the connection without an answer. With AfterHandling the
	// request is handled first, so the client loses the answer to a request
	// that took effect.
	Drop          bool
	AfterHandling bool
	// Rate, when in (0, 1), makes the fault hit only that fraction of the
	// requests, at random; the requests it spares go on to the endpoint's
	// next fault, and only hits count towards Times. 0 means every request.
	Rate float64
}

// InjectFault sets the fault for an endpoint, replacing any earlier ones.
func (s *Server) InjectFault(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = []*Fault{&f}
}

// AddFault adds a fault for an endpoint after the ones it has; a request
// meets them in that order.
func (s *Server) AddFault(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*Fault{}
}

// takeFault returns the fault that hits this request and counts it down.
func (s *Server) takeFault(endpoint string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.faults[endpoint]
	for i, f := range fs {
		if f.Rate > 0 && f.Rate < 1 && rand.Float64() >= f.Rate {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults[endpoint] = append(fs[:i:i], fs[i+1:]...)
			}
		}
		c := *f
		return &c
	}
	return nil
}

func (s *Server) withFault(endpoint string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := s.takeFault(endpoint)
		if f == nil {
			h.ServeHTTP(w, r)
			return
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.closing:
				t.Stop()
				return
			}
		}
		if f.Hang {
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		}
		if f.Drop {
			if f.AfterHandling {
				h.ServeHTTP(discard{header: http.Header{}}, r)
			}
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		if f.Status != 0 {
			body := f.Body
			if body == "" {
				writeError(w, r, f.Status, "injected fault")
				return
			}
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(body))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// discard swallows a response the client will never see.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

func faultFromForm(r *http.Request) (Fault, error) {
	var f Fault
	var err error
	intVal := func(key string) int {
		if v := r.FormValue(key); v != "" && err == nil {
			var n int
			n, err = strconv.Atoi(v)
			return n
		}
		return 0
	}
	boolVal := func(key string) bool {
		if v := r.FormValue(key); v != "" && err == nil {
			var b bool
			b, err = strconv.ParseBool(v)
			return b
		}
		return false
	}
	f.Times = intVal("times")
	f.Status = intVal("status")
	f.Body = r.FormValue("body")
	f.Hang = boolVal("hang")
	f.Drop = boolVal("drop")
	f.AfterHandling = boolVal("after_handling")
	if v := r.FormValue("rate"); v != "" && err == nil {
		f.Rate, err = strconv.ParseFloat(v, 64)
	}
	if v := r.FormValue("latency"); v != "" && err == nil {
		f.Latency, err = time.ParseDuration(v)
	}
	if err != nil {
		return Fault{}, fmt.Errorf("fault: %w", err)
	}
	return f, nil
}
