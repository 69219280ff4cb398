package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/config"
)

func testAdminAuth(token, publicURL string) *adminAuth {
	cfg := config.Default()
	cfg.AdminToken = token
	cfg.PublicURL = publicURL
	return newAdminAuth(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) {})
}

func TestAdminSessionValidity(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a := testAdminAuth("admin-test-token", "http://127.0.0.1:8080")
	good, exp := a.newSession(now)
	require.Equal(t, now.Add(2*time.Hour), exp)
	require.NotContains(t, good, "admin-test-token")

	i := strings.LastIndexByte(good, '.')
	payload, sig := good[:i], good[i+1:]
	later := strings.Replace(payload, "v1.", "v1.9", 1) // a later expiry, same signature
	flipped := payload + "." + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, sig[:1]) + sig[1:]

	for _, tc := range []struct {
		name  string
		auth  *adminAuth
		value string
		at    time.Time
		ok    bool
	}{
		{"fresh", a, good, now, true},
		{"just before expiry", a, good, exp.Add(-time.Second), true},
		{"at expiry", a, good, exp, false},
		{"expired", a, good, exp.Add(time.Hour), false},
		{"another token signed it", testAdminAuth("another-token", "http://127.0.0.1:8080"), good, now, false},
		{"expiry changed", a, later + "." + sig, now, false},
		{"signature changed", a, flipped, now, false},
		{"the token itself", a, "admin-test-token", now, false},
		{"empty", a, "", now, false},
		{"no signature", a, payload, now, false},
		{"not base64", a, payload + ".!!!", now, false},
		{"over-long", a, good + strings.Repeat("A", 200), now, false},
		{"no token configured", testAdminAuth("", "http://127.0.0.1:8080"), good, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, ok := tc.auth.validSession(tc.value, tc.at)
			require.Equal(t, tc.ok, ok)
		})
	}
}

func TestCheckSameOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		method  string
		host    string
		headers map[string]string
		ok      bool
	}{
		{"GET cannot change anything", http.MethodGet, "q.example", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"HEAD", http.MethodHead, "q.example", nil, true},
		{"River UI's fetch", http.MethodPost, "q.example", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://q.example"}, true},
		{"same-origin beats a strange Origin", http.MethodPost, "q.example", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://elsewhere"}, true},
		{"sibling port or subdomain", http.MethodPost, "q.example", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://other.q.example"}, false},
		{"cross-site form", http.MethodPost, "q.example", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false},
		{"typed into the address bar", http.MethodPost, "q.example", map[string]string{"Sec-Fetch-Site": "none"}, false},
		{"DELETE cross-site", http.MethodDelete, "q.example", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"PUT from River UI", http.MethodPut, "q.example", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"old browser, Origin is public_url", http.MethodPost, "10.0.0.5:8080", map[string]string{"Origin": "https://qemgate.example"}, true},
		{"old browser, Origin is the request's host", http.MethodPost, "q.example", map[string]string{"Origin": "http://q.example"}, true},
		{"old browser, another Origin", http.MethodPost, "q.example", map[string]string{"Origin": "https://evil.example"}, false},
		{"old browser, public_url with another port", http.MethodPost, "10.0.0.5:8080", map[string]string{"Origin": "https://qemgate.example:8443"}, false},
		{"Origin null (sandboxed frame, redirect)", http.MethodPost, "q.example", map[string]string{"Origin": "null"}, false},
		{"neither header", http.MethodPost, "q.example", nil, false},
		{"Origin not a web scheme", http.MethodPost, "q.example", map[string]string{"Origin": "file://q.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, "http://"+tc.host+"/admin/river/api/jobs/retry", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			err := checkSameOrigin(r, "https://qemgate.example")
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, errCrossSite)
			}
		})
	}
}

func TestLoginNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"":                           "/admin/river/",
		"/admin/river/jobs/5":        "/admin/river/jobs/5",
		"/admin/deliveries?limit=5":  "/admin/deliveries?limit=5",
		"https://evil.example/admin": "/admin/river/",
		"//evil.example/admin/":      "/admin/river/",
		"/admin/\\evil.example":      "/admin/river/",
		"/admin/login":               "/admin/river/",
		"/":                          "/admin/river/",
	} {
		require.Equal(t, want, loginNext(next), next)
	}
}

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	l := &loginLimiter{max: 3, window: time.Minute}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		require.Zero(t, l.blocked(t0.Add(time.Duration(i)*time.Second)))
		l.fail(t0.Add(time.Duration(i) * time.Second))
	}
	require.Equal(t, 58*time.Second, l.blocked(t0.Add(2*time.Second)))
	require.Zero(t, l.blocked(t0.Add(time.Minute)), "the first failure left the window")
}

// adminClient is a browser's view of /admin: it keeps the cookie and sends
// the fetch metadata a browser would.
type adminClient struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
}

func (c *adminClient) do(method, target string, body url.Values, headers map[string]string) *httptest.ResponseRecorder {
	c.t.Helper()
	var r *http.Request
	if body != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == sessionCookie {
			if ck.MaxAge < 0 {
				c.cookie = nil
			} else {
				c.cookie = ck
			}
		}
	}
	return rec
}

var sameOrigin = map[string]string{"Sec-Fetch-Site": "same-origin"}

// A browser signs in with the token, uses the admin API with the cookie,
// is refused a cross-site write, and signs out.
func TestAdminBrowserSession(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	c := &adminClient{t: t, h: h}

	rec := c.do(http.MethodGet, "/admin/river/", nil, map[string]string{"Accept": "text/html"})
	require.Equal(t, http.StatusSeeOther, rec.Code, "a browser without a session is sent to the form")
	require.Equal(t, "/admin/login?next=%2Fadmin%2Friver%2F", rec.Header().Get("Location"))
	require.Equal(t, http.StatusUnauthorized, c.do(http.MethodGet, "/admin/deliveries", nil, nil).Code, "a script still gets 401")

	rec = c.do(http.MethodGet, "/admin/login?next=/admin/deliveries", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `name="next" value="/admin/deliveries"`)

	rec = c.do(http.MethodPost, "/admin/login", url.Values{"token": {"wrong"}}, sameOrigin)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Body.String(), "Wrong admin token")
	require.Nil(t, c.cookie)
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.adminLogins.WithLabelValues("wrong_token")))

	rec = c.do(http.MethodPost, "/admin/login", url.Values{"token": {adminToken}, "next": {"/admin/deliveries"}},
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	require.Equal(t, http.StatusForbidden, rec.Code, "a cross-site form cannot sign a browser in")
	require.Nil(t, c.cookie)

	rec = c.do(http.MethodPost, "/admin/login", url.Values{"token": {adminToken}, "next": {"/admin/deliveries"}}, sameOrigin)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, "/admin/deliveries", rec.Header().Get("Location"))
	require.NotNil(t, c.cookie)
	require.NotContains(t, c.cookie.Value, adminToken)
	require.True(t, c.cookie.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, c.cookie.SameSite)
	require.Equal(t, "/admin", c.cookie.Path)
	require.False(t, c.cookie.Secure, "public_url is http")
	require.Equal(t, int((2 * time.Hour).Seconds()), c.cookie.MaxAge)

	require.Equal(t, http.StatusOK, c.do(http.MethodGet, "/admin/deliveries", nil, nil).Code)
	rec = c.do(http.MethodGet, "/admin/login", nil, nil)
	require.Contains(t, rec.Body.String(), "Signed in until")

	// A write: the resync of a PR qemgate does not know is 404 once past
	// the door, so 404 means "let in" and 403 "refused at the door".
	resync := "/admin/pulls/products/SLFO/999/resync"
	require.Equal(t, http.StatusForbidden, c.do(http.MethodPost, resync, nil, map[string]string{"Sec-Fetch-Site": "same-site"}).Code)
	require.Equal(t, http.StatusForbidden, c.do(http.MethodPost, resync, nil, nil).Code, "no fetch metadata, no Origin")
	require.NotEqual(t, http.StatusForbidden, c.do(http.MethodPost, resync, nil, sameOrigin).Code)
	require.NotEqual(t, http.StatusForbidden, c.do(http.MethodPost, resync, nil, map[string]string{"Origin": "http://127.0.0.1:8080"}).Code, "public_url's origin")

	// Bearer requests are as they were: no fetch metadata needed.
	bearer := &adminClient{t: t, h: h}
	require.NotEqual(t, http.StatusForbidden, bearer.do(http.MethodPost, resync, nil, map[string]string{"Authorization": "Bearer " + adminToken}).Code)
	require.Equal(t, http.StatusUnauthorized, c.do(http.MethodGet, "/admin/deliveries", nil, map[string]string{"Authorization": "Bearer wrong"}).Code,
		"a wrong bearer token is not rescued by a cookie")

	saved := c.cookie
	rec = c.do(http.MethodPost, "/admin/logout", nil, sameOrigin)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Nil(t, c.cookie, "the cookie is deleted")
	require.Equal(t, http.StatusUnauthorized, c.do(http.MethodGet, "/admin/deliveries", nil, nil).Code)
	c.cookie = saved
	require.Equal(t, http.StatusForbidden, c.do(http.MethodPost, "/admin/logout", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}).Code)
}

func TestAdminLoginSecureCookie(t *testing.T) {
	t.Parallel()
	h, _ := setup(t, func(c *config.Config) { c.PublicURL = "https://qemgate.example" })
	c := &adminClient{t: t, h: h}
	rec := c.do(http.MethodPost, "/admin/login", url.Values{"token": {adminToken}}, map[string]string{"Origin": "https://qemgate.example"})
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, "/admin/river/", rec.Header().Get("Location"))
	require.True(t, c.cookie.Secure, "public_url is https")
}

func TestAdminLoginLimited(t *testing.T) {
	t.Parallel()
	h, b := setup(t)
	c := &adminClient{t: t, h: h}
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, c.do(http.MethodPost, "/admin/login", url.Values{"token": {"guess"}}, sameOrigin).Code)
	}
	rec := c.do(http.MethodPost, "/admin/login", url.Values{"token": {adminToken}}, sameOrigin)
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "even the right token waits: it is not checked")
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Nil(t, c.cookie)
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.adminLogins.WithLabelValues("limited")))
	rec = c.do(http.MethodGet, "/admin/deliveries", nil, map[string]string{"Authorization": "Bearer " + adminToken})
	require.Equal(t, http.StatusOK, rec.Code, "scripts with the bearer token are not limited")
}
