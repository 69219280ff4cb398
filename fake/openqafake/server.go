package openqafake

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Level is an openQA user's authorisation level.
type Level int

// Levels, lowest first.
const (
	LevelUser Level = iota + 1
	LevelOperator
	LevelAdmin
)

// User owns one API key pair.
type User struct {
	Name   string
	Key    string
	Secret string
	Level  Level
	// Expires, when set, makes the key invalid after that time.
	Expires time.Time
}

// Template is one job template: scheduling Distri/Version/Flavor/Arch creates
// a job running Test in group GroupID. Version "*" is openQA's wildcard
// product, used when no product has the exact version.
type Template struct {
	Distri, Version, Flavor, Arch string
	Test                          string
	Machine                       string // default "64bit"
	GroupID                       int64
	Priority                      int64 // default 50
	Settings                      map[string]string
}

// Product is a medium type without templates of its own; scheduling it gives
// openQA's "no templates found" 404.
type Product struct {
	Distri, Version, Flavor, Arch string
}

// JobGroup is a job group; as a parent group ParentID stays 0.
type JobGroup struct {
	ID              int64
	Name            string
	Description     string
	ParentID        int64
	DefaultPriority int64
}

// Options configures a Server. Everything can also be changed later.
type Options struct {
	// Addr is the listen address; empty means 127.0.0.1 on a free port.
	Addr string
	// Now is the server clock (default time.Now); it drives the 300 s
	// signature window and job timestamps.
	Now          func() time.Time
	Users        []User
	Templates    []Template
	Products     []Product
	JobGroups    []JobGroup
	ParentGroups []JobGroup
	// HookURL receives POST {"id": <job id>} with "Authorization: Bearer
	// HookToken" whenever a job finishes, as deploy's hook script does.
	HookURL   string
	HookToken string
	// HookOnlyTriggered runs the hook only for jobs with setting
	// _TRIGGER_JOB_DONE_HOOK=1, like openQA's generic job_done_hook.
	HookOnlyTriggered bool
	HookClient        *http.Client
	// LinkBase replaces scheme and host in Link headers, to mimic openQA
	// behind a proxy announcing an internal name.
	LinkBase string
	// StrictGETAuth verifies the signature of GET requests that carry an
	// API key and answers 403 when it is wrong. openQA's public routes do
	// not fail auth; this is stricter on purpose, to catch signing bugs in
	// query strings.
	StrictGETAuth bool
	// PerlNumbers renders ids and priorities as JSON strings, as Perl
	// sometimes does.
	PerlNumbers bool
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options
	now  func() time.Time

	mu          sync.Mutex
	users       map[string]User
	templates   []Template
	products    []Product
	groups      map[int64]JobGroup
	parents     map[int64]JobGroup
	jobs        map[int64]*job
	comments    map[int64][]*comment
	nextJob     int64
	nextProduct int64
	nextComment int64
	nextGru     int64
	isoPosts    []ISOPost
	hookCalls   []HookCall
	hookOn      bool
	publisher   Publisher
	topicPrefix string
	events      []EventCall
	faults      map[string][]*Fault
	closing     chan struct{}
	closeOnce   sync.Once
}

// New starts a fake openQA server.
func New(opts Options) *Server {
	s := &Server{
		opts:        opts,
		now:         opts.Now,
		users:       map[string]User{},
		templates:   append([]Template(nil), opts.Templates...),
		products:    append([]Product(nil), opts.Products...),
		groups:      map[int64]JobGroup{},
		parents:     map[int64]JobGroup{},
		jobs:        map[int64]*job{},
		comments:    map[int64][]*comment{},
		nextJob:     1,
		nextProduct: 1,
		nextComment: 1,
		nextGru:     1,
		hookOn:      opts.HookURL != "",
		faults:      map[string][]*Fault{},
		closing:     make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, u := range opts.Users {
		s.users[u.Key] = u
	}
	for _, g := range opts.JobGroups {
		s.groups[g.ID] = g
	}
	for _, g := range opts.ParentGroups {
		s.parents[g.ID] = g
	}
	s.srv = httptest.NewUnstartedServer(s.routes())
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			panic(fmt.Sprintf("openqafake: listen %s: %v", opts.Addr, err))
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	s.srv.Start()
	return s
}

// URL is the base URL to give the client.
func (s *Server) URL() string { return s.srv.URL }

// Close releases hanging requests and stops the server.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

// AddUser adds or replaces an API key.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Key] = u
}

// AddTemplates adds job templates.
func (s *Server) AddTemplates(ts ...Template) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates = append(s.templates, ts...)
}

// AddJobGroup adds or replaces a job group.
func (s *Server) AddJobGroup(g JobGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[g.ID] = g
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, s.withFault(name, s.maybeAuth(h)))
	}
	api("POST /api/v1/isos", "isos", s.handlePostISOs)
	api("GET /api/v1/jobs", "jobs", s.handleListJobs)
	api("GET /api/v1/jobs/{id}", "job", s.handleGetJob)
	api("GET /api/v1/jobs/{id}/comments", "comments", s.handleListComments)
	api("POST /api/v1/jobs/{id}/comments", "comment_post", s.handlePostComment)
	api("GET /api/v1/job_groups", "job_groups", s.handleListGroups(false))
	api("GET /api/v1/job_groups/{id}", "job_group", s.handleGetGroup(false))
	api("GET /api/v1/parent_groups", "parent_groups", s.handleListGroups(true))
	api("GET /api/v1/parent_groups/{id}", "parent_group", s.handleGetGroup(true))
	s.controlRoutes(mux)
	return mux
}

// authenticate checks the HMAC headers the way openQA's Auth.pm does and
// returns the user, or the reason string openQA would send with 403.
func (s *Server) authenticate(r *http.Request, need Level) (User, string) {
	key := r.Header.Get("X-API-Key")
	if key == "" {
		return User{}, "no api key"
	}
	s.mu.Lock()
	u, ok := s.users[key]
	s.mu.Unlock()
	if !ok {
		return User{}, "Not authorized"
	}
	stamp := r.Header.Get("X-API-Microtime")
	ts, err := strconv.ParseFloat(stamp, 64)
	now := s.now()
	if err != nil || math.Abs(float64(now.Unix())-ts) > 300 {
		return User{}, "timestamp mismatch - check whether clocks on the local host and the web UI host are in sync"
	}
	if !u.Expires.IsZero() && now.After(u.Expires) {
		return User{}, "api key expired"
	}
	// openQA signs the raw request target exactly as received, then the
	// timestamp header string as sent.
	mac := hmac.New(sha1.New, []byte(u.Secret))
	mac.Write([]byte(r.RequestURI + stamp))
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get("X-API-Hash"))) {
		return User{}, "unknown error (wrong secret?)"
	}
	switch {
	case need >= LevelAdmin && u.Level < LevelAdmin:
		return User{}, "Administrator level required"
	case need >= LevelOperator && u.Level < LevelOperator:
		return User{}, "Operator level required"
	}
	return u, ""
}

// maybeAuth applies StrictGETAuth.
func (s *Server) maybeAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.StrictGETAuth && r.Method == http.MethodGet && r.Header.Get("X-API-Key") != "" {
			if _, ok := s.requireAuth(w, r, 0); !ok {
				return
			}
		}
		h(w, r)
	}
}

// requireAuth writes openQA's 403 and returns false when auth fails.
func (s *Server) requireAuth(w http.ResponseWriter, r *http.Request, need Level) (User, bool) {
	u, reason := s.authenticate(r, need)
	if reason != "" {
		writeError(w, r, http.StatusForbidden, reason)
		return User{}, false
	}
	return u, true
}

// writeJSON renders v; openQA's before_render hook adds error_status to any
// non-200 JSON object when the client accepts JSON but not HTML.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if m, ok := v.(map[string]any); ok && status != http.StatusOK {
		accept := r.Header.Get("Accept")
		if strings.Contains(accept, "json") && !strings.Contains(accept, "html") {
			m["error_status"] = status
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, r, status, map[string]any{"error": msg})
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}
