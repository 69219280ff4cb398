package giteafake

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// controlRoutes maps the /_fake/ JSON endpoints (for sandboxes and other
// processes) onto the Go control API. Errors use the API's error shape.
func (s *Server) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, fn func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			out, err := fn(r)
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				e, ok := err.(*Error)
				if !ok {
					e = &Error{Status: http.StatusBadRequest, Message: err.Error()}
				}
				w.WriteHeader(e.Status)
				_ = json.NewEncoder(w).Encode(map[string]string{"message": e.Message, "url": s.root + "api/swagger"})
				return
			}
			if out == nil {
				out = map[string]bool{"ok": true}
			}
			_ = json.NewEncoder(w).Encode(out)
		})
	}
	decode := func(r *http.Request, v any) error {
		if err := json.NewDecoder(r.Body).Decode(v); err != nil {
			return errf(http.StatusBadRequest, "decode body: %v", err)
		}
		return nil
	}
	type prRef struct {
		owner, repo string
		n           int64
	}
	// pullRef reads the path values of a prPath endpoint and, when in is not
	// nil, then decodes the body into it.
	pullRef := func(r *http.Request, in any) (prRef, error) {
		n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
		if err != nil {
			return prRef{}, errf(http.StatusBadRequest, "bad PR number %q", r.PathValue("number"))
		}
		if in != nil {
			if err := decode(r, in); err != nil {
				return prRef{}, err
			}
		}
		return prRef{owner: r.PathValue("owner"), repo: r.PathValue("repo"), n: n}, nil
	}
	type actor struct {
		Actor string `json:"actor"`
	}

	handle("POST /_fake/users", func(r *http.Request) (any, error) {
		var in struct {
			User
			Token string `json:"token"`
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		if err := s.AddUser(in.User); err != nil {
			return nil, err
		}
		if in.Token != "" {
			s.AddToken(in.Token, in.Login)
		}
		return nil, nil
	})
	handle("POST /_fake/orgs", func(r *http.Request) (any, error) {
		var in struct {
			Name     string `json:"name"`
			FullName string `json:"full_name"`
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		return nil, s.AddOrg(in.Name, in.FullName)
	})
	handle("POST /_fake/orgs/{org}/teams", func(r *http.Request) (any, error) {
		var in Team
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		return nil, s.AddTeam(r.PathValue("org"), in)
	})
	handle("POST /_fake/repos", func(r *http.Request) (any, error) {
		var in Repo
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		sha, err := s.AddRepo(in)
		return map[string]string{"sha": sha}, err
	})
	handle("POST /_fake/repos/{owner}/{repo}/labels", func(r *http.Request) (any, error) {
		var in Label
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		id, err := s.AddLabel(r.PathValue("owner"), r.PathValue("repo"), in)
		return map[string]int64{"id": id}, err
	})
	handle("POST /_fake/hooks", func(r *http.Request) (any, error) {
		var in Hook
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		id, err := s.AddHook(in)
		return map[string]int64{"id": id}, err
	})
	handle("POST /_fake/pulls", func(r *http.Request) (any, error) {
		var in PullOptions
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		return s.OpenPull(in)
	})
	const prPath = "/_fake/pulls/{owner}/{repo}/{number}"
	handle("POST "+prPath+"/push", func(r *http.Request) (any, error) {
		var in PushOptions
		pr, err := pullRef(r, &in)
		if err != nil {
			return nil, err
		}
		return s.Push(pr.owner, pr.repo, pr.n, in)
	})
	handle("POST "+prPath+"/merge", func(r *http.Request) (any, error) {
		var in actor
		pr, err := pullRef(r, &in)
		if err != nil {
			return nil, err
		}
		sha, err := s.MergePull(pr.owner, pr.repo, pr.n, in.Actor)
		return map[string]string{"merge_commit_sha": sha}, err
	})
	for _, verb := range []string{"close", "reopen"} {
		closing := verb == "close"
		handle("POST "+prPath+"/"+verb, func(r *http.Request) (any, error) {
			var in actor
			pr, err := pullRef(r, &in)
			if err != nil {
				return nil, err
			}
			return nil, s.setClosed(pr.owner, pr.repo, pr.n, in.Actor, closing)
		})
	}
	handle("POST "+prPath+"/labels", func(r *http.Request) (any, error) {
		var in struct {
			Actor  string   `json:"actor"`
			Labels []string `json:"labels"`
		}
		pr, err := pullRef(r, &in)
		if err != nil {
			return nil, err
		}
		return nil, s.AddLabels(pr.owner, pr.repo, pr.n, in.Actor, in.Labels...)
	})
	handle("DELETE "+prPath+"/labels/{label}", func(r *http.Request) (any, error) {
		pr, err := pullRef(r, nil)
		if err != nil {
			return nil, err
		}
		return nil, s.RemoveLabel(pr.owner, pr.repo, pr.n, r.URL.Query().Get("actor"), r.PathValue("label"))
	})
	handle("POST "+prPath+"/reviews", func(r *http.Request) (any, error) {
		var in ReviewOptions
		pr, err := pullRef(r, &in)
		if err != nil {
			return nil, err
		}
		id, err := s.SubmitReview(pr.owner, pr.repo, pr.n, in)
		return map[string]int64{"id": id}, err
	})
	handle("GET "+prPath+"/reviews", func(r *http.Request) (any, error) {
		pr, err := pullRef(r, nil)
		if err != nil {
			return nil, err
		}
		return s.Reviews(pr.owner, pr.repo, pr.n)
	})
	handle("POST "+prPath+"/requested_reviewers", func(r *http.Request) (any, error) {
		var in struct {
			Requester     string   `json:"requester"`
			Reviewers     []string `json:"reviewers"`
			TeamReviewers []string `json:"team_reviewers"`
		}
		pr, err := pullRef(r, &in)
		if err != nil {
			return nil, err
		}
		return nil, s.RequestReview(pr.owner, pr.repo, pr.n, in.Requester, in.Reviewers, in.TeamReviewers)
	})
	handle("POST "+prPath+"/comments", func(r *http.Request) (any, error) {
		var in struct {
			User string `json:"user"`
			Body string `json:"body"`
		}
		pr, err := pullRef(r, &in)
		if err != nil {
			return nil, err
		}
		id, err := s.CreateComment(pr.owner, pr.repo, pr.n, in.User, in.Body)
		return map[string]int64{"id": id}, err
	})
	handle("POST /_fake/statuses/{owner}/{repo}/{sha}", func(r *http.Request) (any, error) {
		var in struct {
			StatusOptions
			Creator string `json:"creator"`
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		idx, err := s.CreateStatus(r.PathValue("owner"), r.PathValue("repo"), r.PathValue("sha"), in.Creator, in.StatusOptions)
		return map[string]int64{"id": idx}, err
	})
	handle("GET /_fake/deliveries", func(r *http.Request) (any, error) {
		type view struct {
			Delivery
			Body json.RawMessage `json:"body"`
		}
		out := []view{}
		for _, d := range s.Deliveries() {
			out = append(out, view{Delivery: d, Body: d.Body})
		}
		return out, nil
	})
	handle("POST /_fake/deliveries/{id}/redeliver", func(r *http.Request) (any, error) {
		id, err := s.Redeliver(r.PathValue("id"))
		return map[string]string{"id": id}, err
	})
	handle("POST /_fake/flush", func(r *http.Request) (any, error) {
		return map[string]int{"released": s.Flush()}, nil
	})
	handle("GET /_fake/switches", func(r *http.Request) (any, error) {
		return s.CurrentSwitches(), nil
	})
	handle("PUT /_fake/switches", func(r *http.Request) (any, error) {
		var in Switches
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		s.SetSwitches(in)
		return in, nil
	})
	handle("POST /_fake/faults", func(r *http.Request) (any, error) {
		var in Fault
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		s.AddFault(in)
		return nil, nil
	})
	handle("DELETE /_fake/faults", func(r *http.Request) (any, error) {
		s.ClearFaults()
		return nil, nil
	})
	handle("GET /_fake/requests", func(r *http.Request) (any, error) {
		return s.Requests(), nil
	})
	return mux
}
