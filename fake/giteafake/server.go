package giteafake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is what GET /api/v1/version reports (the fixtures' Gitea).
const Version = "1.26.0"

// Options configures a fake server. The zero value is usable.
type Options struct {
	// Addr, when set (e.g. "127.0.0.1:3000"), makes the server listen there
	// instead of on a random loopback port.
	Addr string
	// PublicURL is Gitea's ROOT_URL used in payloads and Link headers;
	// defaults to the server's own URL.
	PublicURL string
	// Tokens maps API tokens to user logins (users must be added too).
	Tokens map[string]string
	// Now is the clock; defaults to time.Now truncated to seconds (UTC).
	Now func() time.Time
	// SyncBeforeAfter adds top-level before/after SHAs to "synchronized"
	// payloads as Gitea >= 1.27 does; off by default to match the 1.26 fixtures.
	SyncBeforeAfter bool
	// DeliveryTimeout bounds one webhook delivery (Gitea's DELIVER_TIMEOUT, 5 s).
	DeliveryTimeout time.Duration
}

type sequences struct {
	user, repo, team, label, pull, comment, review, status, commit, hook int64
}

// Server is a running fake Gitea. All methods are safe for concurrent use.
type Server struct {
	opts    Options
	httpSrv *httptest.Server
	root    string
	routes  []route

	mu       sync.Mutex
	seq      sequences
	users    map[string]*user
	tokens   map[string]string
	repos    map[string]*repo
	teams    []*team
	commits  map[string]*commit
	orgHooks map[string][]*hook
	syncBA   bool

	closeOnce sync.Once
	control   http.Handler

	hooks  *deliverer
	faults *faultSet
	log    *requestLog
}

// New starts a fake Gitea server; Close it when done.
func New(opts Options) *Server {
	s := &Server{
		opts: opts, users: map[string]*user{}, tokens: map[string]string{}, repos: map[string]*repo{},
		commits: map[string]*commit{}, orgHooks: map[string][]*hook{}, syncBA: opts.SyncBeforeAfter,
		faults: &faultSet{}, log: &requestLog{},
	}
	for tok, login := range opts.Tokens {
		s.tokens[tok] = login
	}
	timeout := opts.DeliveryTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	s.hooks = newDeliverer(timeout)
	s.routes = s.apiRoutes()
	s.control = s.controlRoutes()
	s.httpSrv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			panic(fmt.Sprintf("giteafake: listen %s: %v", opts.Addr, err))
		}
		s.httpSrv.Listener.Close()
		s.httpSrv.Listener = l
	}
	s.httpSrv.Start()
	s.root = strings.TrimSuffix(opts.PublicURL, "/") + "/"
	if opts.PublicURL == "" {
		s.root = s.httpSrv.URL + "/"
	}
	return s
}

// URL is the base URL to hand to gitea.NewClient (no /api/v1 suffix).
func (s *Server) URL() string { return s.httpSrv.URL }

// Close stops the webhook sender and the HTTP server.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.faults.closed())
		s.hooks.close()
		s.httpSrv.Close()
	})
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now().UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

func (s *Server) host() string {
	u, err := url.Parse(s.root)
	if err != nil {
		return "localhost"
	}
	return u.Hostname()
}

// reqCtx carries one API request through its handler.
type reqCtx struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	params map[string]string
	body   []byte
	doer   *user
}

func (rc *reqCtx) param(name string) string { return rc.params[name] }

func (rc *reqCtx) paramInt(name string) (int64, *Error) {
	n, err := strconv.ParseInt(rc.params[name], 10, 64)
	if err != nil {
		return 0, notFound()
	}
	return n, nil
}

func (rc *reqCtx) decode(v any) *Error {
	if len(bytes.TrimSpace(rc.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(rc.body, v); err != nil {
		return errf(http.StatusUnprocessableEntity, "invalid JSON body: %v", err)
	}
	return nil
}

func (rc *reqCtx) json(status int, v any) {
	rc.w.Header().Set("Content-Type", "application/json;charset=utf-8")
	rc.w.WriteHeader(status)
	b, _ := json.Marshal(v)
	_, _ = rc.w.Write(b)
}

// fail writes Gitea's API error shape {"message", "url"} (+ "errors" on 404).
func (rc *reqCtx) fail(err error) {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Status: http.StatusInternalServerError, Message: err.Error()}
	}
	body := map[string]any{"message": e.Message, "url": rc.s.root + "api/swagger"}
	if e.Status == http.StatusNotFound {
		body["errors"] = []string{}
	}
	rc.json(e.Status, body)
}

func (rc *reqCtx) requireToken() bool {
	if rc.doer == nil {
		rc.fail(&Error{Status: http.StatusUnauthorized, Message: "token is required"})
		return false
	}
	return true
}

// listOptions applies Gitea's paging rules: page >= 1, limit 0 => 30, cap 50.
func (rc *reqCtx) listOptions() (page, limit int) {
	page, _ = strconv.Atoi(rc.r.URL.Query().Get("page"))
	limit, _ = strconv.Atoi(rc.r.URL.Query().Get("limit"))
	if page <= 0 {
		page = 1
	}
	if limit <= 0 {
		limit = 30
	}
	if limit > 50 {
		limit = 50
	}
	return page, limit
}

// paginate applies the request's paging to total items: it sets the paging
// headers (see setPaging) and returns the slice bounds of the requested page.
func (rc *reqCtx) paginate(total int, links bool) (start, end int) {
	page, limit := rc.listOptions()
	rc.setPaging(total, page, limit, links)
	return pageBounds(total, page, limit)
}

// repoFromRequest resolves {owner}/{repo}. Caller holds s.mu.
func (s *Server) repoFromRequest(rc *reqCtx) (*repo, error) {
	return s.repoLocked(rc.param("owner"), rc.param("repo"))
}

// pullFromRequest resolves {owner}/{repo} and the PR {index}. Caller holds s.mu.
func (s *Server) pullFromRequest(rc *reqCtx) (*pull, error) {
	n, perr := rc.paramInt("index")
	if perr != nil {
		return nil, perr
	}
	return s.pullLocked(rc.param("owner"), rc.param("repo"), n)
}

// writableRepo resolves {owner}/{repo} and fails with denied (403) unless
// the doer may write to it. Caller holds s.mu.
func (s *Server) writableRepo(rc *reqCtx, denied string) (*repo, error) {
	r, err := s.repoFromRequest(rc)
	if err != nil {
		return nil, err
	}
	if !s.canWrite(r, rc.doer) {
		return nil, errf(http.StatusForbidden, "%s", denied)
	}
	return r, nil
}

// pageBounds returns the slice bounds of the requested page over total items.
func pageBounds(total, page, limit int) (int, int) {
	start := (page - 1) * limit
	if start > total {
		start = total
	}
	end := start + limit
	if end > total {
		end = total
	}
	return start, end
}

// setPaging sets X-Total-Count and, with links, Gitea's Link header (absolute
// ROOT_URL-based URLs, entries joined by "," in next,last,first,prev order).
func (rc *reqCtx) setPaging(total, page, limit int, links bool) {
	h := rc.w.Header()
	h.Set("X-Total-Count", strconv.Itoa(total))
	expose := "X-Total-Count"
	if links {
		pages := (total + limit - 1) / limit
		if pages < 1 {
			pages = 1
		}
		var out []string
		add := func(p int, rel string) {
			q := rc.r.URL.Query()
			q.Set("page", strconv.Itoa(p))
			out = append(out, fmt.Sprintf("<%s%s?%s>; rel=%q", rc.s.root, strings.TrimPrefix(rc.r.URL.Path, "/"), q.Encode(), rel))
		}
		if page < pages {
			add(page+1, "next")
			add(pages, "last")
		}
		if page > 1 {
			add(1, "first")
			add(page-1, "prev")
		}
		if len(out) > 0 {
			h.Set("Link", strings.Join(out, ","))
			expose = "Link, X-Total-Count"
		}
	}
	h.Set("Access-Control-Expose-Headers", expose)
}

// authenticate maps the Authorization header to a user. ok is false when a
// credential was given but is not valid.
func (s *Server) authenticate(r *http.Request) (u *user, ok bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return nil, true
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || (!strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer")) {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	login, known := s.tokens[strings.TrimSpace(tok)]
	if !known || s.users[login] == nil {
		return nil, false
	}
	return s.users[login], true
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.control.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	sw := &statusWriter{ResponseWriter: w}
	rc := &reqCtx{s: s, w: sw, r: r, body: body}
	doer, ok := s.authenticate(r)
	rc.doer = doer
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, Time: time.Now()}
	if doer != nil {
		rec.User = doer.login
	}
	defer func() {
		rec.Status = sw.status
		s.log.add(rec)
	}()

	f := s.faults.take(r)
	if f != nil && f.Drop && f.AfterHandling {
		// The write happens; its answer is lost on the way back.
		inner := &statusWriter{ResponseWriter: discardWriter{header: http.Header{}}}
		rc.w = inner
		s.route(rc, ok)
		sw.status = inner.status
		dropConnection(w)
		return
	}
	if s.faults.apply(sw, r, s.root, f) {
		return
	}
	s.route(rc, ok)
}

// route runs the API handler the request names.
func (s *Server) route(rc *reqCtx, authenticated bool) {
	r := rc.r
	if !authenticated {
		rc.fail(&Error{Status: http.StatusUnauthorized, Message: "invalid username, password or token"})
		return
	}
	for _, rt := range s.routes {
		if params, match := rt.match(r.Method, r.URL.Path); match {
			rc.params = params
			if rt.auth && !rc.requireToken() {
				return
			}
			if err := s.runLocked(rt.h, rc); err != nil {
				rc.fail(err)
			}
			return
		}
	}
	rc.fail(notFound())
}

// runLocked runs an API handler under s.mu: every handler reads or changes
// the shared state.
func (s *Server) runLocked(h func(*reqCtx) error, rc *reqCtx) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return h(rc)
}

// route is one API endpoint; pattern segments are literals, {name} or
// {name...} (rest of the path). First match in registration order wins.
// A handler runs under s.mu and either writes its response or returns the
// error to write.
type route struct {
	method  string
	pattern []string
	auth    bool
	h       func(*reqCtx) error
}

func (rt route) match(method, path string) (map[string]string, bool) {
	if rt.method != method {
		return nil, false
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, p := range rt.pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "...}") {
			if i >= len(segs) {
				return nil, false
			}
			params[p[1:len(p)-4]] = strings.Join(segs[i:], "/")
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, false
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, len(segs) == len(rt.pattern)
}

// apiRoutes is the whole REST surface of the fake, in one place.
func (s *Server) apiRoutes() []route {
	r := func(method, pattern string, auth bool, h func(*reqCtx) error) route {
		return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), auth: auth, h: h}
	}
	const repo = "api/v1/repos/{owner}/{repo}"
	return []route{
		r("GET", "api/v1/version", false, handleVersion),
		r("GET", "api/v1/user", true, handleMyUser),
		r("GET", "api/v1/users/{login}", false, handleUser),
		r("GET", repo, false, handleGetRepo),
		r("GET", repo+"/pulls", false, handleListPulls),
		r("GET", repo+"/pulls/{index}", false, handleGetPull),
		r("GET", repo+"/pulls/{index}/files", false, handlePullFiles),
		r("GET", repo+"/pulls/{index}/reviews", false, handleListReviews),
		r("POST", repo+"/pulls/{index}/reviews", true, handleCreateReview),
		r("GET", repo+"/pulls/{index}/reviews/{id}", false, handleGetReview),
		r("POST", repo+"/pulls/{index}/reviews/{id}/dismissals", true, handleDismissReview(true)),
		r("POST", repo+"/pulls/{index}/reviews/{id}/undismissals", true, handleDismissReview(false)),
		r("POST", repo+"/pulls/{index}/requested_reviewers", true, handleReviewRequests(true)),
		r("DELETE", repo+"/pulls/{index}/requested_reviewers", true, handleReviewRequests(false)),
		r("POST", repo+"/pulls/{index}/merge", true, handleMergePull),
		r("GET", repo+"/issues/comments/{id}", false, handleGetComment),
		r("PATCH", repo+"/issues/comments/{id}", true, handleEditComment),
		r("DELETE", repo+"/issues/comments/{id}", true, handleDeleteComment),
		r("GET", repo+"/issues/{index}/comments", false, handleListComments),
		r("POST", repo+"/issues/{index}/comments", true, handleCreateComment),
		r("GET", repo+"/issues/{index}/timeline", false, handleTimeline),
		r("GET", repo+"/issues/{index}/labels", false, handleIssueLabels),
		r("POST", repo+"/issues/{index}/labels", true, handleAddLabels),
		r("DELETE", repo+"/issues/{index}/labels/{id}", true, handleRemoveLabel),
		r("GET", repo+"/labels", false, handleRepoLabels),
		r("POST", repo+"/statuses/{sha}", true, handleCreateStatus),
		r("GET", repo+"/statuses/{sha}", false, handleListStatuses),
		r("GET", repo+"/commits/{ref}/statuses", false, handleListStatuses),
		r("GET", repo+"/commits/{ref}/status", false, handleCombinedStatus),
		r("GET", repo+"/commits/{sha}/pull", false, handleCommitPull),
		r("GET", repo+"/raw/{path...}", false, handleRaw),
		r("GET", repo+"/media/{path...}", false, handleRaw),
		r("GET", repo+"/contents/{path...}", false, handleContents),
	}
}

func handleVersion(rc *reqCtx) error {
	rc.json(http.StatusOK, map[string]string{"version": Version})
	return nil
}

func handleMyUser(rc *reqCtx) error {
	rc.json(http.StatusOK, rc.s.toUser(rc.doer, false))
	return nil
}

func handleUser(rc *reqCtx) error {
	u := rc.s.users[rc.param("login")]
	if u == nil {
		return notFound()
	}
	rc.json(http.StatusOK, rc.s.toUser(u, true))
	return nil
}

func handleGetRepo(rc *reqCtx) error {
	r, err := rc.s.repoFromRequest(rc)
	if err != nil {
		return err
	}
	rc.json(http.StatusOK, rc.s.toRepo(r, rc.doer))
	return nil
}
