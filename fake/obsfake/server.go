// Package obsfake is a stateful, in-process fake of the parts of the Open
// Build Service API qemgate reads: build results
// (GET /build/<project>/_result), _multibuild (GET
// /source/<project>/<package>/_multibuild), and a download server's
// repository listing (GET /download/<project path>/<repo>/repo?jsontable=1).
// It speaks OBS's XML, wants HTTP basic auth (or "Authorization: Token"),
// answers unknown projects with OBS's 404 <status>, and injects faults
// (status codes, latency, hangs) per endpoint and project. Controls under
// /_fake/ drive it over HTTP for the sandbox. Production code never imports it.
package obsfake

import (
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"time"
)

// Endpoint names for faults and request counts.
const (
	EndpointResult     = "result"
	EndpointMultibuild = "multibuild"
	EndpointListing    = "listing"
)

// Package is one package's code in a result ("succeeded", "failed",
// "excluded", "building", …).
type Package struct {
	Name string
	Code string
}

// Result is one repository/arch of a project.
type Result struct {
	Repository string
	Arch       string
	// State is the repository's state ("published", "building",
	// "finished", "blocked", …); Code defaults to it.
	State    string
	Code     string
	Dirty    bool
	Packages []Package
}

// Project is one staging project.
type Project struct {
	// SCMSync is the git URL it is synced from (…/products/SLFO#16.0) and
	// SCMInfo the commit it is built from; both go into every result.
	SCMSync string
	SCMInfo string
	// Flavors are the _multibuild flavors of 000productcompose; nil means
	// the package has no _multibuild (404).
	Flavors []string
	Results []Result
	// Listing are the names the download server lists per repository.
	Listing map[string][]string
}

// Options configures a Server.
type Options struct {
	// Addr is the listen address; empty means 127.0.0.1 on a free port.
	Addr string
	// User and Password are the basic-auth credentials it accepts; Token
	// an "Authorization: Token" it accepts. With none set, any request is.
	User, Password, Token string
}

// Fault changes how requests to one endpoint are answered.
type Fault struct {
	// Project limits the fault to one project; empty means every one.
	Project string
	// Times is how many requests it applies to; 0 means until cleared.
	Times int
	// Status answers with this code (and OBS's <status> body) instead.
	Status int
	// Latency delays the answer; Hang never answers (until the client
	// gives up or the server closes).
	Latency time.Duration
	Hang    bool
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu        sync.Mutex
	projects  map[string]*Project
	faults    map[string][]*Fault
	requests  map[string]int
	closing   chan struct{}
	closeOnce sync.Once
}

// New starts a fake OBS.
func New(opts Options) *Server {
	s := &Server{opts: opts, projects: map[string]*Project{}, faults: map[string][]*Fault{},
		requests: map[string]int{}, closing: make(chan struct{})}
	s.srv = httptest.NewUnstartedServer(s.routes())
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			panic(fmt.Sprintf("obsfake: listen %s: %v", opts.Addr, err))
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	s.srv.Start()
	return s
}

// URL is the API base URL.
func (s *Server) URL() string { return s.srv.URL }

// DownloadURL is the base URL of the fake download server.
func (s *Server) DownloadURL() string { return s.srv.URL + "/download" }

// Close releases hanging requests and stops the server.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

// SetProject creates or replaces a project.
func (s *Server) SetProject(name string, p Project) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := p
	cp.Results = append([]Result(nil), p.Results...)
	s.projects[name] = &cp
}

// DeleteProject removes a project: it answers 404 from then on.
func (s *Server) DeleteProject(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.projects, name)
}

// SetState sets the state of a project's results on arch ("" for every
// arch) of repository, e.g. from "building" to "published".
func (s *Server) SetState(project, repository, arch, state string) error {
	return s.update(project, repository, arch, func(r *Result) { r.State, r.Code = state, state })
}

// SetPackage sets one package's code in the results of project on arch
// ("" for every arch) of repository, adding the package when it is new.
func (s *Server) SetPackage(project, repository, arch, pkg, code string) error {
	return s.update(project, repository, arch, func(r *Result) {
		for i := range r.Packages {
			if r.Packages[i].Name == pkg {
				r.Packages[i].Code = code
				return
			}
		}
		r.Packages = append(r.Packages, Package{Name: pkg, Code: code})
	})
}

// SetSCMInfo sets the commit a project is built from (a rebuild after a push).
func (s *Server) SetSCMInfo(project, sha string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.projects[project]
	if !ok {
		return fmt.Errorf("obsfake: no project %s", project)
	}
	p.SCMInfo = sha
	return nil
}

func (s *Server) update(project, repository, arch string, f func(*Result)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.projects[project]
	if !ok {
		return fmt.Errorf("obsfake: no project %s", project)
	}
	n := 0
	for i := range p.Results {
		r := &p.Results[i]
		if r.Repository == repository && (arch == "" || r.Arch == arch) {
			f(r)
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("obsfake: project %s has no result %s/%s", project, repository, arch)
	}
	return nil
}

// InjectFault adds a fault for an endpoint after the ones it has.
func (s *Server) InjectFault(endpoint string, f Fault) {
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

// Requests is how many requests reached an endpoint, faults included.
func (s *Server) Requests(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[endpoint]
}

func (s *Server) takeFault(endpoint, project string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[endpoint]++
	fs := s.faults[endpoint]
	for i, f := range fs {
		if f.Project != "" && f.Project != project {
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

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /build/{project}/_result", s.api(EndpointResult, s.handleResult))
	mux.HandleFunc("GET /source/{project}/{package}/_multibuild", s.api(EndpointMultibuild, s.handleMultibuild))
	mux.HandleFunc("GET /download/", s.handleListing)
	s.controlRoutes(mux)
	return mux
}

// api checks credentials, then applies the endpoint's faults.
func (s *Server) api(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Use your SUSE developer account"`)
			writeStatus(w, http.StatusUnauthorized, "authentication_required", "Authentication required")
			return
		}
		if s.fault(w, r, endpoint, r.PathValue("project")) {
			return
		}
		h(w, r)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	o := s.opts
	if o.User == "" && o.Token == "" {
		return true
	}
	if o.Token != "" && r.Header.Get("Authorization") == "Token "+o.Token {
		return true
	}
	u, p, ok := r.BasicAuth()
	return ok && o.User != "" && u == o.User && p == o.Password
}

// fault answers the request when a fault hits it.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, endpoint, project string) bool {
	f := s.takeFault(endpoint, project)
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
		case <-s.closing:
			return true
		}
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return true
	}
	if f.Status != 0 {
		writeStatus(w, f.Status, "injected_fault", http.StatusText(f.Status))
		return true
	}
	return false
}

func (s *Server) project(name string) (Project, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.projects[name]
	if !ok {
		return Project{}, false
	}
	cp := *p
	cp.Results = make([]Result, len(p.Results))
	for i, r := range p.Results {
		r.Packages = append([]Package(nil), r.Packages...)
		cp.Results[i] = r
	}
	return cp, true
}

// The XML OBS writes for a result list.
type (
	xmlResultList struct {
		XMLName xml.Name    `xml:"resultlist"`
		State   string      `xml:"state,attr"`
		Results []xmlResult `xml:"result"`
	}
	xmlResult struct {
		Project    string      `xml:"project,attr"`
		Repository string      `xml:"repository,attr"`
		Arch       string      `xml:"arch,attr"`
		Code       string      `xml:"code,attr"`
		State      string      `xml:"state,attr"`
		Dirty      string      `xml:"dirty,attr,omitempty"`
		SCMSync    string      `xml:"scmsync,omitempty"`
		SCMInfo    string      `xml:"scminfo,omitempty"`
		Statuses   []xmlStatus `xml:"status"`
	}
	xmlStatus struct {
		Package string `xml:"package,attr"`
		Code    string `xml:"code,attr"`
	}
)

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("project")
	p, ok := s.project(name)
	if !ok {
		writeStatus(w, http.StatusNotFound, "unknown_project", name)
		return
	}
	out := xmlResultList{State: fmt.Sprintf("%x", len(p.Results))}
	for _, res := range p.Results {
		x := xmlResult{Project: name, Repository: res.Repository, Arch: res.Arch, Code: res.Code, State: res.State,
			SCMSync: p.SCMSync, SCMInfo: p.SCMInfo}
		if x.Code == "" {
			x.Code = res.State
		}
		if res.Dirty {
			x.Dirty = "true"
		}
		pkgs := append([]Package(nil), res.Packages...)
		sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
		for _, pkg := range pkgs {
			x.Statuses = append(x.Statuses, xmlStatus{Package: pkg.Name, Code: pkg.Code})
		}
		out.Results = append(out.Results, x)
	}
	writeXML(w, http.StatusOK, out)
}

func (s *Server) handleMultibuild(w http.ResponseWriter, r *http.Request) {
	name, pkg := r.PathValue("project"), r.PathValue("package")
	p, ok := s.project(name)
	switch {
	case !ok:
		writeStatus(w, http.StatusNotFound, "unknown_project", name)
	case pkg != "000productcompose":
		writeStatus(w, http.StatusNotFound, "unknown_package", fmt.Sprintf("%s/%s", name, pkg))
	case p.Flavors == nil:
		writeStatus(w, http.StatusNotFound, "no_such_file", "_multibuild")
	default:
		type mb struct {
			XMLName xml.Name `xml:"multibuild"`
			Flavors []string `xml:"flavor"`
		}
		writeXML(w, http.StatusOK, mb{Flavors: p.Flavors})
	}
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// writeStatus is OBS's error body: <status code="…"><summary>…</summary></status>.
func writeStatus(w http.ResponseWriter, status int, code, summary string) {
	type st struct {
		XMLName xml.Name `xml:"status"`
		Code    string   `xml:"code,attr"`
		Summary string   `xml:"summary"`
	}
	writeXML(w, status, st{Code: code, Summary: summary})
}
