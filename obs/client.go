// Package obs reads what the Open Build Service built for a PR's staging
// projects: build results (GET /build/<project>/_result), _multibuild
// flavors (GET /source/<project>/<package>/_multibuild) and, from the
// download server, a repository's listing (…/repo?jsontable=1). Everything
// OBS says is XML. Every call has a timeout; reads are retried with backoff
// on 5xx, 429 and transport errors, never on another 4xx. Credentials are
// never logged or put into errors.
package obs

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qemgate/qemgate/internal/retry"
)

// Defaults used when Config leaves a field zero.
const (
	DefaultTimeout = 30 * time.Second
	DefaultRetries = 3
	DefaultBackoff = 250 * time.Millisecond

	maxBackoff = 30 * time.Second
	maxBody    = 32 << 20
)

// Config says where OBS is and how to authenticate.
type Config struct {
	// URL is the API base URL, e.g. https://api.suse.de.
	URL string
	// User and Password are sent with HTTP basic auth; Token, when set,
	// instead as "Authorization: Token <token>".
	User, Password, Token string
	// DownloadURL is the download server of the published projects.
	DownloadURL string
	// Timeout bounds each attempt (default 30 s).
	Timeout time.Duration
	// Retries after a retryable error (default 3; negative means none).
	Retries int
	// Backoff is the first wait between attempts, doubled each time.
	Backoff    time.Duration
	HTTPClient *http.Client
	// Observe, when set, is called once per attempt with the endpoint
	// ("result", "multibuild", "listing"), the HTTP status (0: no answer)
	// and the duration.
	Observe func(endpoint string, code int, d time.Duration)
}

// Client talks to one OBS instance. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	cfg.Timeout, cfg.Retries, cfg.Backoff = retry.Defaults(cfg.Timeout, cfg.Retries, cfg.Backoff, DefaultTimeout, DefaultRetries, DefaultBackoff)
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	return &Client{cfg: cfg, http: &hc}
}

// Error is every failure the client reports. Status 0 means no answer.
type Error struct {
	Status   int
	Endpoint string
	// Message is OBS's <summary>, the body's start, or the transport error.
	Message string
	err     error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("obs %s: %s", e.Endpoint, e.Message)
	}
	return fmt.Sprintf("obs %s: HTTP %d: %s", e.Endpoint, e.Status, e.Message)
}

// Unwrap exposes the transport error.
func (e *Error) Unwrap() error { return e.err }

// Retryable: 5xx, 429 and requests that got no answer (not our own
// cancellation) may succeed later; other answers will not.
func (e *Error) Retryable() bool { return retry.Transient(e.Status, e.err) }

// IsRetryable reports whether err is an *Error worth retrying.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// IsNotFound reports whether OBS answered 404 (unknown project or package).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// Result is one <result> of a project's build results.
type Result struct {
	Project    string `xml:"project,attr"`
	Repository string `xml:"repository,attr"`
	Arch       string `xml:"arch,attr"`
	Code       string `xml:"code,attr"`
	State      string `xml:"state,attr"`
	Dirty      bool   `xml:"dirty,attr"`
	// SCMSync is the git URL the project is synced from (…#16.0), SCMInfo
	// the commit it was built from.
	SCMSync  string   `xml:"scmsync"`
	SCMInfo  string   `xml:"scminfo"`
	Statuses []Status `xml:"status"`
}

// Status is one package's build code in a result.
type Status struct {
	Package string `xml:"package,attr"`
	Code    string `xml:"code,attr"`
	Details string `xml:"details"`
}

// Results reads GET /build/<project>/_result.
func (c *Client) Results(ctx context.Context, project string) ([]Result, error) {
	var list struct {
		XMLName xml.Name `xml:"resultlist"`
		Results []Result `xml:"result"`
	}
	if err := c.getXML(ctx, "result", c.api("build", project, "_result"), &list); err != nil {
		return nil, err
	}
	return list.Results, nil
}

// Multibuild reads the flavors of GET /source/<project>/<package>/_multibuild
// (<flavor>, or the older <package>, elements).
func (c *Client) Multibuild(ctx context.Context, project, pkg string) ([]string, error) {
	var mb struct {
		XMLName  xml.Name `xml:"multibuild"`
		Flavors  []string `xml:"flavor"`
		Packages []string `xml:"package"`
	}
	if err := c.getXML(ctx, "multibuild", c.api("source", project, pkg, "_multibuild"), &mb); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(mb.Flavors)+len(mb.Packages))
	for _, f := range append(mb.Flavors, mb.Packages...) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out, nil
}

// Listing returns the names in a published repository of project on the
// download server: GET <download>/<project with ":" as ":/">/<repository>/repo?jsontable=1.
// Without a download URL it returns nothing.
func (c *Client) Listing(ctx context.Context, project, repository string) ([]string, error) {
	if c.cfg.DownloadURL == "" {
		return nil, nil
	}
	u := strings.TrimRight(c.cfg.DownloadURL, "/") + "/" + strings.ReplaceAll(project, ":", ":/") + "/" +
		url.PathEscape(repository) + "/repo?jsontable=1"
	resp, err := c.get(ctx, "listing", u, false)
	if err != nil {
		return nil, err
	}
	var table struct {
		Data []struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.body, &table); err != nil {
		return nil, &Error{Status: resp.status, Endpoint: "GET " + redactURL(u), Message: "decode listing: " + err.Error()}
	}
	names := make([]string, 0, len(table.Data))
	for _, d := range table.Data {
		names = append(names, d.Name)
	}
	return names, nil
}

func (c *Client) api(parts ...string) string {
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.TrimRight(c.cfg.URL, "/") + "/" + strings.Join(parts, "/")
}

type response struct {
	status int
	body   []byte
}

func (c *Client) getXML(ctx context.Context, endpoint, u string, v any) error {
	resp, err := c.get(ctx, endpoint, u, true)
	if err != nil {
		return err
	}
	if err := xml.Unmarshal(resp.body, v); err != nil {
		return &Error{Status: resp.status, Endpoint: "GET " + redactURL(u), Message: "decode XML: " + err.Error()}
	}
	return nil
}

// get runs one GET with the retry policy.
func (c *Client) get(ctx context.Context, endpoint, u string, auth bool) (*response, error) {
	return retry.Do(ctx, retry.Policy{Retries: c.cfg.Retries, Backoff: c.cfg.Backoff, Max: maxBackoff},
		func(ctx context.Context) (*response, error) { return c.once(ctx, endpoint, u, auth) },
		func(err error) (bool, time.Duration) { return IsRetryable(err), 0 })
}

func (c *Client) once(ctx context.Context, endpoint, u string, auth bool) (*response, error) {
	name := "GET " + redactURL(u)
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Endpoint: name, Message: "invalid URL in configuration"}
	}
	if auth {
		req.Header.Set("Accept", "application/xml")
		switch {
		case c.cfg.Token != "":
			req.Header.Set("Authorization", "Token "+c.cfg.Token)
		case c.cfg.User != "":
			req.SetBasicAuth(c.cfg.User, c.cfg.Password)
		}
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observed(endpoint, 0, start)
		msg := "no answer"
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			msg = fmt.Sprintf("no answer within %s", c.cfg.Timeout)
		}
		return nil, &Error{Endpoint: name, Message: msg, err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	c.observed(endpoint, resp.StatusCode, start)
	if err != nil {
		return nil, &Error{Endpoint: name, Message: "read body: " + err.Error(), err: err}
	}
	if len(b) > maxBody {
		return nil, &Error{Status: resp.StatusCode, Endpoint: name, Message: fmt.Sprintf("response larger than %d bytes", maxBody)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Status: resp.StatusCode, Endpoint: name, Message: errorSummary(b)}
	}
	return &response{status: resp.StatusCode, body: b}, nil
}

// unwrapURLError drops *url.Error, whose text repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) observed(endpoint string, code int, start time.Time) {
	if c.cfg.Observe != nil {
		c.cfg.Observe(endpoint, code, time.Since(start))
	}
}

// errorSummary is OBS's <status code="…"><summary>…</summary></status>, or
// the start of whatever else the body holds.
func errorSummary(b []byte) string {
	var st struct {
		Code    string `xml:"code,attr"`
		Summary string `xml:"summary"`
	}
	if xml.Unmarshal(b, &st) == nil && (st.Summary != "" || st.Code != "") {
		return strings.TrimSpace(st.Code + ": " + st.Summary)
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// redactURL drops user information from a URL for errors and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}
