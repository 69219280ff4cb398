package obsfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleListing is the download server: MirrorCache's JSON table of a
// published repository, /download/<project, ":" as ":/">/<repository>/repo?jsontable=1.
func (s *Server) handleListing(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/download/")
	body, ok := strings.CutSuffix(rest, "/repo")
	i := strings.LastIndex(body, "/")
	if !ok || i < 0 || r.URL.Query().Get("jsontable") == "" {
		http.NotFound(w, r)
		return
	}
	project, repository := strings.ReplaceAll(body[:i], ":/", ":"), body[i+1:]
	if s.fault(w, r, EndpointListing, project) {
		return
	}
	p, found := s.project(project)
	names, listed := p.Listing[repository]
	if !found || !listed {
		http.NotFound(w, r)
		return
	}
	type entry struct {
		Name  string `json:"name"`
		Size  int    `json:"size"`
		MTime int64  `json:"mtime"`
	}
	out := struct {
		Data []entry `json:"data"`
	}{Data: []entry{}}
	for _, n := range names {
		out.Data = append(out.Data, entry{Name: n, Size: 4096, MTime: 1767225600})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// controlRoutes drive the fake over HTTP (the sandbox's curl lines):
//
//	PUT  /_fake/projects/{project}          body: Project as JSON
//	POST /_fake/projects/{project}/state    repository, arch ("" all), state
//	POST /_fake/projects/{project}/package  repository, arch ("" all), package, code
//	POST /_fake/faults/{endpoint}           project, status, times, latency, hang
//	DELETE /_fake/faults
func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /_fake/projects/{project}", func(w http.ResponseWriter, r *http.Request) {
		var p Project
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.SetProject(r.PathValue("project"), p)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_fake/projects/{project}/state", func(w http.ResponseWriter, r *http.Request) {
		answer(w, s.SetState(r.PathValue("project"), r.FormValue("repository"), r.FormValue("arch"), r.FormValue("state")))
	})
	mux.HandleFunc("POST /_fake/projects/{project}/package", func(w http.ResponseWriter, r *http.Request) {
		answer(w, s.SetPackage(r.PathValue("project"), r.FormValue("repository"), r.FormValue("arch"), r.FormValue("package"), r.FormValue("code")))
	})
	mux.HandleFunc("POST /_fake/faults/{endpoint}", func(w http.ResponseWriter, r *http.Request) {
		f := Fault{Project: r.FormValue("project")}
		var err error
		if v := r.FormValue("status"); v != "" && err == nil {
			f.Status, err = strconv.Atoi(v)
		}
		if v := r.FormValue("times"); v != "" && err == nil {
			f.Times, err = strconv.Atoi(v)
		}
		if v := r.FormValue("latency"); v != "" && err == nil {
			f.Latency, err = time.ParseDuration(v)
		}
		if v := r.FormValue("hang"); v != "" && err == nil {
			f.Hang, err = strconv.ParseBool(v)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.InjectFault(r.PathValue("endpoint"), f)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /_fake/faults", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
}

func answer(w http.ResponseWriter, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
