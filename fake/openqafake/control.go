package openqafake

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// ErrNoJob is returned by the controls for an unknown job id.
var ErrNoJob = errors.New("openqafake: no such job")

// AddJob creates a scheduled job directly, as POST /api/v1/jobs would,
// without templates. Settings should hold at least DISTRI, VERSION, FLAVOR,
// ARCH, BUILD and TEST.
func (s *Server) AddJob(settings map[string]string, groupID int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createJob(settings, groupID, 50).ID
}

// Job returns a snapshot of one job.
func (s *Server) Job(id int64) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return Job{}, false
	}
	return j.snapshot(), true
}

// Jobs returns snapshots of all jobs, oldest first.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, j.snapshot())
	}
	slices.SortFunc(out, func(a, b Job) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ISOPosts returns every POST /api/v1/isos received, in order.
func (s *Server) ISOPosts() []ISOPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.isoPosts)
}

// SetRunning moves a job to state running.
func (s *Server) SetRunning(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return fmt.Errorf("set job %d running: %w", id, ErrNoJob)
	}
	j.State = "running"
	j.TStarted = s.now()
	return nil
}

// FinishJob sets a job done with result and then delivers the job-done hook
// (synchronously, so a test sees its effect on return).
func (s *Server) FinishJob(id int64, result string) error {
	s.mu.Lock()
	j, ok := s.jobs[id]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("finish job %d: %w", id, ErrNoJob)
	}
	if j.TStarted.IsZero() {
		j.TStarted = s.now()
	}
	j.State, j.Result, j.TFinished = "done", result, s.now()
	done := s.jobEvent(j)
	done["result"], done["reason"], done["newbuild"] = result, nil, nil
	ev := s.event("job.done", done)
	s.mu.Unlock()
	s.runHook(id)
	s.publish(ev)
	return nil
}

// Obsolete cancels a job with result obsoleted, as a newer build would.
func (s *Server) Obsolete(id int64) error {
	s.mu.Lock()
	j, ok := s.jobs[id]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("obsolete job %d: %w", id, ErrNoJob)
	}
	s.cancel(j, "obsoleted")
	ev := s.event("job.cancel", s.jobEvent(j))
	s.mu.Unlock()
	s.publish(ev)
	return nil
}

// DeleteJob removes a job and its comments, as openQA's DELETE
// /api/v1/jobs/{id} (or its cleanup) does: afterwards the job is a 404.
func (s *Server) DeleteJob(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs[id] == nil {
		return fmt.Errorf("delete job %d: %w", id, ErrNoJob)
	}
	delete(s.jobs, id)
	delete(s.comments, id)
	return nil
}

// cancel ends a job that never finished; callers hold s.mu. openQA runs no
// job-done hook for cancelled jobs.
func (s *Server) cancel(j *job, result string) {
	j.State, j.Result, j.TFinished = "cancelled", result, s.now()
}

// RestartJob clones a job like openQA's restart: the clone gets a new id and
// the same settings, the original's clone_id points at it, and an unfinished
// original ends as user_restarted.
func (s *Server) RestartJob(id int64) (int64, error) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	if !ok {
		s.mu.Unlock()
		return 0, fmt.Errorf("restart job %d: %w", id, ErrNoJob)
	}
	if j.CloneID != 0 {
		s.mu.Unlock()
		return 0, fmt.Errorf("restart job %d: already cloned as %d", id, j.CloneID)
	}
	c := s.createJob(j.Settings, j.GroupID, j.Priority)
	c.OriginID = j.ID
	c.ScheduledProductID = j.ScheduledProductID
	j.CloneID = c.ID
	if j.pending() {
		s.cancel(j, "user_restarted")
	}
	// In job.restart, result is the map old → new id, and auto is added.
	restart := s.jobEvent(j)
	restart["result"], restart["auto"] = map[string]int64{strconv.FormatInt(j.ID, 10): c.ID}, 0
	ev := s.event("job.restart", restart)
	s.mu.Unlock()
	s.publish(ev)
	return c.ID, nil
}

// AddComment adds a job comment as user and returns its id.
func (s *Server) AddComment(jobID int64, user, text string) (int64, error) {
	s.mu.Lock()
	j := s.jobs[jobID]
	if j == nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("comment on job %d: %w", jobID, ErrNoJob)
	}
	now := s.now()
	c := &comment{ID: s.nextComment, Text: text, User: user, Created: now, Updated: now}
	s.nextComment++
	s.comments[jobID] = append(s.comments[jobID], c)
	ev := s.event("comment.create", commentEvent(jobID, j.GroupID, c))
	s.mu.Unlock()
	s.publish(ev)
	return c.ID, nil
}

// controlRoutes exposes the controls over HTTP under /_fake/ for sandboxes
// where the test drives a separate process. No authentication.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	jobOp := func(pattern string, op func(r *http.Request, id int64) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			id, ok := pathID(r)
			if !ok {
				writeError(w, r, http.StatusBadRequest, "bad job id")
				return
			}
			v, err := op(r, id)
			switch {
			case errors.Is(err, ErrNoJob):
				writeError(w, r, http.StatusNotFound, err.Error())
			case err != nil:
				writeError(w, r, http.StatusBadRequest, err.Error())
			default:
				writeJSON(w, r, http.StatusOK, v)
			}
		})
	}
	jobOp("POST /_fake/jobs/{id}/finish", func(r *http.Request, id int64) (any, error) {
		result := r.FormValue("result")
		if result == "" {
			result = "passed"
		}
		return map[string]any{"id": id}, s.FinishJob(id, result)
	})
	jobOp("POST /_fake/jobs/{id}/running", func(_ *http.Request, id int64) (any, error) {
		return map[string]any{"id": id}, s.SetRunning(id)
	})
	jobOp("POST /_fake/jobs/{id}/obsolete", func(_ *http.Request, id int64) (any, error) {
		return map[string]any{"id": id}, s.Obsolete(id)
	})
	jobOp("POST /_fake/jobs/{id}/restart", func(_ *http.Request, id int64) (any, error) {
		clone, err := s.RestartJob(id)
		return map[string]any{"id": clone, "origin_id": id}, err
	})
	jobOp("POST /_fake/jobs/{id}/comments", func(r *http.Request, id int64) (any, error) {
		user := r.FormValue("user")
		if user == "" {
			user = "fake"
		}
		cid, err := s.AddComment(id, user, r.FormValue("text"))
		return map[string]any{"id": cid}, err
	})
	mux.HandleFunc("POST /_fake/jobs", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Settings map[string]string `json:"settings"`
			GroupID  int64             `json:"group_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, r, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, r, http.StatusOK, map[string]any{"id": s.AddJob(body.Settings, body.GroupID)})
	})
	mux.HandleFunc("GET /_fake/isos", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, s.ISOPosts())
	})
	mux.HandleFunc("GET /_fake/hook", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, s.HookCalls())
	})
	mux.HandleFunc("POST /_fake/hook", func(w http.ResponseWriter, r *http.Request) {
		on, err := strconv.ParseBool(r.FormValue("enabled"))
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "enabled must be a boolean")
			return
		}
		s.SetHookEnabled(on)
		writeJSON(w, r, http.StatusOK, map[string]any{"enabled": on})
	})
	mux.HandleFunc("POST /_fake/faults/{endpoint}", func(w http.ResponseWriter, r *http.Request) {
		f, err := faultFromForm(r)
		if err != nil {
			writeError(w, r, http.StatusBadRequest, err.Error())
			return
		}
		s.InjectFault(r.PathValue("endpoint"), f)
		writeJSON(w, r, http.StatusOK, map[string]any{"endpoint": r.PathValue("endpoint")})
	})
	mux.HandleFunc("DELETE /_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		writeJSON(w, r, http.StatusOK, map[string]any{})
	})
}
