package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/internal/httpx"
)

// sessionCookie holds a browser's admin session: a signed expiry, never the
// admin token itself.
const sessionCookie = "qemgate_admin"

// adminAuth decides who may use /admin: scripts with "Authorization:
// Bearer <admin token>", browsers with the session cookie that
// /admin/login sets after they posted the same token.
type adminAuth struct {
	token  string
	key    []byte // signs sessions; derived from the token, so rotating it ends every session
	ttl    time.Duration
	secure bool   // public_url is https: the cookie is Secure (also whenever the request came over TLS)
	origin string // public_url's origin, trusted for cookie-authenticated writes
	logger *slog.Logger
	now    func() time.Time
	fails  *loginLimiter
	// logins counts login attempts by result (ok, wrong_token, limited).
	logins func(result string)
}

func newAdminAuth(cfg config.Config, logger *slog.Logger, logins func(string)) *adminAuth {
	a := &adminAuth{
		token:  cfg.AdminToken,
		ttl:    cfg.AdminSessionTTL.D(),
		logger: logger,
		now:    time.Now,
		fails:  &loginLimiter{max: 20, window: time.Minute},
		logins: logins,
	}
	if a.ttl <= 0 {
		a.ttl = 2 * time.Hour
	}
	if a.token != "" {
		mac := hmac.New(sha256.New, []byte(a.token))
		mac.Write([]byte("qemgate admin session v1"))
		a.key = mac.Sum(nil)
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		a.secure = u.Scheme == "https"
		a.origin = u.Scheme + "://" + u.Host
	}
	return a
}

// newSession returns a cookie value that is valid until now+ttl:
// "v1.<unix expiry>.<nonce>.<HMAC-SHA256 of the rest>", base64url.
func (a *adminAuth) newSession(now time.Time) (value string, expires time.Time) {
	expires = now.Add(a.ttl).Truncate(time.Second)
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	payload := "v1." + strconv.FormatInt(expires.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(nonce)
	return payload + "." + base64.RawURLEncoding.EncodeToString(a.sign(payload)), expires
}

func (a *adminAuth) sign(payload string) []byte {
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(payload))
	return mac.Sum(nil)
}

// validSession reports whether value is a session we signed that has not
// expired at now, and when it expires.
func (a *adminAuth) validSession(value string, now time.Time) (time.Time, bool) {
	if len(a.key) == 0 || len(value) > 200 {
		return time.Time{}, false
	}
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return time.Time{}, false
	}
	payload, sig := value[:i], value[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, a.sign(payload)) {
		return time.Time{}, false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return time.Time{}, false
	}
	unix, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	exp := time.Unix(unix, 0)
	return exp, now.Before(exp)
}

// errCrossSite refuses a cookie-authenticated write that a browser did not
// send from qemgate's own pages.
var errCrossSite = errors.New("cross-site request refused: a browser session may change things only from qemgate's own pages (scripts use Authorization: Bearer)")

// checkSameOrigin lets a cookie-authenticated request through when it
// cannot change anything (GET, HEAD, OPTIONS) or when the browser says it
// comes from our own origin: Sec-Fetch-Site "same-origin" (every current
// browser sends it, also for River UI's fetch calls), or, from an older
// browser without it, an Origin equal to public_url's or to the request's
// own host. A write with neither header is refused: browsers send Origin
// with every POST, and a script should use the bearer token. SameSite=Strict
// on the cookie is the second lock: a cross-site page's request carries no
// cookie at all; this check also stops a sibling site on the same host (another
// port, a subdomain), which SameSite counts as the same site.
func checkSameOrigin(r *http.Request, trustedOrigin string) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" {
			return nil
		}
		return errCrossSite
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return errCrossSite
	}
	if trustedOrigin != "" && origin == trustedOrigin {
		return nil
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && u.Host == r.Host && (u.Scheme == "http" || u.Scheme == "https") {
		return nil
	}
	return errCrossSite
}

// require lets a request through with the bearer token, or with a valid
// session cookie when it is not a cross-site write. A browser without
// either is sent to the login form; anything else gets 401.
func (a *adminAuth) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.token == "" {
			httpx.WriteError(w, r, http.StatusUnauthorized, "admin API disabled: no token is configured", "")
			return
		}
		if _, ok := r.Header["Authorization"]; ok {
			got, ok := bearerToken(r.Header)
			if !ok || !equalToken(got, a.token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
				httpx.WriteError(w, r, http.StatusUnauthorized, "missing or wrong bearer token", "")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil {
			if _, ok := a.validSession(c.Value, a.now()); ok {
				if err := checkSameOrigin(r, a.origin); err != nil {
					a.logger.WarnContext(r.Context(), "admin request refused", "request_id", middleware.GetReqID(r.Context()),
						"method", r.Method, "path", r.URL.Path, "remote_addr", r.RemoteAddr, "reason", "cross-site write with a session cookie")
					httpx.WriteError(w, r, http.StatusForbidden, err.Error(), "")
					return
				}
				next.ServeHTTP(w, r)
				return
			}
		}
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
		httpx.WriteError(w, r, http.StatusUnauthorized, "missing or wrong bearer token (or sign in at /admin/login)", "")
	})
}

// requireExcept is require for every path but the given ones (the login
// form and the logout), which are open.
func (a *adminAuth) requireExcept(open ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		protected := a.require(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, p := range open {
				if r.URL.Path == p {
					next.ServeHTTP(w, r)
					return
				}
			}
			protected.ServeHTTP(w, r)
		})
	}
}

// cookie returns the session cookie to set; an empty value with a past
// expiry deletes it.
func (a *adminAuth) cookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/admin",
		HttpOnly: true,
		Secure:   a.secure || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = int(a.ttl.Seconds())
	}
	return c
}

// loginNext is where a successful login goes: a path under /admin/, never
// another site.
func loginNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, "/admin/login") || strings.HasPrefix(next, "/admin/logout") {
		return "/admin/river/"
	}
	return next
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>qemgate admin · sign in</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem .6rem}input[type=password]{width:100%;box-sizing:border-box}
.error{color:#b00020}nav a{margin-right:1rem}</style></head>
<body><h1>qemgate admin</h1>
{{if .SignedIn}}<p>Signed in until {{.Until}}.</p>
<nav><a href="/admin/river/">River UI</a><a href="/admin/deliveries">Deliveries (JSON)</a><a href="/">Dashboard</a></nav>
<form method="post" action="/admin/logout"><p><button type="submit" id="logout">Sign out</button></p></form>
{{else}}{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/admin/login">
<input type="hidden" name="next" value="{{.Next}}">
<p><label for="token">Admin token</label><br><input type="password" id="token" name="token" autocomplete="current-password" required autofocus></p>
<p><button type="submit" id="signin">Sign in</button></p>
</form>
<p>The session lasts {{.TTL}} and is a signed cookie, not the token. Scripts use <code>Authorization: Bearer</code>.</p>
{{end}}</body></html>
`))

type loginView struct {
	SignedIn bool
	Until    string
	Error    string
	Next     string
	TTL      time.Duration
}

func (a *adminAuth) renderLogin(w http.ResponseWriter, status int, v loginView) {
	v.TTL = a.ttl
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, v)
}

// handleLoginForm shows the login form, or who is signed in.
func (a *adminAuth) handleLoginForm() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil {
			if exp, ok := a.validSession(c.Value, a.now()); ok {
				a.renderLogin(w, http.StatusOK, loginView{SignedIn: true, Until: exp.UTC().Format("2006-01-02 15:04 UTC")})
				return
			}
		}
		a.renderLogin(w, http.StatusOK, loginView{Next: loginNext(r.URL.Query().Get("next"))})
	}
}

// handleLogin checks the posted admin token in constant time and sets the
// session cookie. Failures are logged without the token and limited.
func (a *adminAuth) handleLogin() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		log := a.logger.With("request_id", middleware.GetReqID(r.Context()), "remote_addr", r.RemoteAddr)
		if a.token == "" {
			httpx.WriteError(w, r, http.StatusUnauthorized, "admin API disabled: no token is configured", "")
			return
		}
		// The login form is a write too: a cross-site form must not sign the
		// browser in to an attacker's session (login CSRF) or guess tokens.
		if err := checkSameOrigin(r, a.origin); err != nil {
			log.WarnContext(r.Context(), "admin login refused", "reason", "cross-site")
			httpx.WriteError(w, r, http.StatusForbidden, err.Error(), "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := r.ParseForm(); err != nil {
			httpx.WriteError(w, r, http.StatusBadRequest, "could not read the form", "")
			return
		}
		next := loginNext(r.PostForm.Get("next"))
		now := a.now()
		if wait := a.fails.blocked(now); wait > 0 {
			a.logins("limited")
			log.WarnContext(r.Context(), "admin login refused", "reason", "too many failed logins", "retry_after_s", int(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			a.renderLogin(w, http.StatusTooManyRequests, loginView{Next: next, Error: "Too many failed sign-ins; try again in a minute."})
			return
		}
		if !equalToken(r.PostForm.Get("token"), a.token) {
			a.fails.fail(now)
			a.logins("wrong_token")
			log.WarnContext(r.Context(), "admin login failed", "reason", "wrong token")
			a.renderLogin(w, http.StatusUnauthorized, loginView{Next: next, Error: "Wrong admin token."})
			return
		}
		value, expires := a.newSession(now)
		http.SetCookie(w, a.cookie(r, value, expires))
		a.logins("ok")
		log.InfoContext(r.Context(), "admin login", "expires", expires.UTC().Format(time.RFC3339))
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// handleLogout deletes the session cookie. The session is signed, not
// stored: a copy of the cookie stays valid until it expires (admin_session_ttl);
// rotating the admin token ends every session at once.
func (a *adminAuth) handleLogout() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(sessionCookie); err == nil {
			if err := checkSameOrigin(r, a.origin); err != nil {
				httpx.WriteError(w, r, http.StatusForbidden, err.Error(), "")
				return
			}
		}
		http.SetCookie(w, a.cookie(r, "", time.Time{}))
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
	}
}

// loginLimiter refuses logins for a while after max failures within window,
// for every client at once: behind a proxy they all share one address, and
// scripts do not log in (they send the bearer token, which is not limited).
type loginLimiter struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	failures []time.Time
}

func (l *loginLimiter) trim(now time.Time) {
	keep := l.failures[:0]
	for _, t := range l.failures {
		if now.Sub(t) < l.window {
			keep = append(keep, t)
		}
	}
	l.failures = keep
}

func (l *loginLimiter) fail(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trim(now)
	l.failures = append(l.failures, now)
}

// blocked returns how long logins are refused from now, or 0.
func (l *loginLimiter) blocked(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trim(now)
	if len(l.failures) < l.max {
		return 0
	}
	return l.window - now.Sub(l.failures[len(l.failures)-l.max])
}
