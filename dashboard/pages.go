package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/httpx"
	"github.com/qemgate/qemgate/store"
)

// The pages are server-rendered from the same views as the JSON API, so
// they work without JavaScript; static/refresh.js only reloads them.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var pageFuncs = template.FuncMap{
	"join": strings.Join,
	"short": func(sha string) string {
		if len(sha) > 12 {
			return sha[:12]
		}
		return sha
	},
	"iso": func(t any) string {
		if tt := timeOf(t); !tt.IsZero() {
			return tt.UTC().Format(time.RFC3339)
		}
		return ""
	},
	"when": func(t any) string {
		if tt := timeOf(t); !tt.IsZero() {
			return tt.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"stage":      stageLabel,
	"markdown":   renderMarkdown,
	"reportKind": reportKind,
	// count is "1 pull request", "2 pull requests".
	"count": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
}

func timeOf(t any) time.Time {
	switch v := t.(type) {
	case time.Time:
		return v
	case *time.Time:
		if v != nil {
			return *v
		}
	}
	return time.Time{}
}

func stageLabel(s string) string {
	switch s {
	case stageWaitingForBuild:
		return "waiting for build"
	case stageTesting:
		return "testing"
	case stageApproved:
		return "approved"
	case stageFailed:
		return "failed"
	}
	return s
}

// pages are parsed once: a broken template fails every test at start.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"active", "blocked", "pull", "aggregates", "notfound"} {
		out[name] = template.Must(template.New(name).Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}()

// HandleStatic serves the CSS and script; they are tiny, so a short cache
// keeps a deploy's change visible within minutes.
func HandleStatic() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a directory listing tells strangers nothing they need.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if fi, err := fs.Stat(sub, path.Clean("/" + name)[1:]); name == "" || err != nil || fi.IsDir() {
			httpx.WriteError(w, r, http.StatusNotFound, "no such file", "")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

type stateOption struct {
	Value, Label string
	Checked      bool
}

// pageData is what every page template gets.
type pageData struct {
	Title, Nav, Path, APIPath string
	Now                       time.Time
	LastJobChange             *time.Time
	Filter                    dashFilter
	StatesLegend              string
	StateOptions              []stateOption
	Total, Pages              int
	Noun                      string
	PrevURL, NextURL          string
	Message                   string

	Sections   []activeSection
	Blocked    []blockedRow
	Aggregates []aggregateView
	Detail     *pullDetail
}

type activeSection struct {
	Stage, Label string
	Pulls        []pullView
}

// Reasons are the gate's reasons behind the stored verdict.
func (p *pullDetail) Reasons() []gate.Reason {
	if p.Verdict.parsed == nil {
		return nil
	}
	return p.Verdict.parsed.Reasons
}

func newPageData(r *http.Request, d Deps, title, nav, api string) pageData {
	return pageData{Title: title, Nav: nav, Path: r.URL.Path, APIPath: api, Now: time.Now(),
		LastJobChange: lastChange(r.Context(), d)}
}

func (p *pageData) options(values []string, label func(string) string) {
	for _, v := range values {
		checked := false
		for _, s := range p.Filter.States {
			checked = checked || s == v
		}
		p.StateOptions = append(p.StateOptions, stateOption{Value: v, Label: label(v), Checked: checked})
	}
}

// paging fills the pager from a list's length, keeping every other query
// parameter so the links stay bookmarkable.
func (p *pageData) paging(r *http.Request, total int, noun, nouns string) {
	p.Total, p.Noun = total, nouns
	if total == 1 {
		p.Noun = noun
	}
	p.Pages = max(1, (total+p.Filter.PerPage-1)/p.Filter.PerPage)
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if p.Filter.Page > 1 {
		p.PrevURL = link(min(p.Filter.Page-1, p.Pages))
	}
	if p.Filter.Page < p.Pages {
		p.NextURL = link(p.Filter.Page + 1)
	}
}

func render(w http.ResponseWriter, r *http.Request, d Deps, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		d.Logger.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageError renders a failed read as a page: 400 for a bad filter (the
// message names the parameter), 404 for an unknown PR, 503 otherwise.
func pageError(w http.ResponseWriter, r *http.Request, d Deps, data pageData, err error) {
	var bad badRequest
	status := http.StatusServiceUnavailable
	data.Message = "The dashboard data could not be read; try again in a moment."
	switch {
	case errors.As(err, &bad):
		status, data.Message = http.StatusBadRequest, "Bad filter: "+bad.msg
	case errors.Is(err, store.ErrNotFound):
		status, data.Message = http.StatusNotFound, "qemgate does not know this pull request."
	default:
		d.Logger.ErrorContext(r.Context(), "dashboard page", "path", r.URL.Path, "error", err)
	}
	data.Title = http.StatusText(status)
	render(w, r, d, status, "notfound", data)
}

// readPage reads the list a page shows and fills the page's filter, state
// options and pager; a bad filter or a failed read has been answered with
// an error page when ok is false.
func readPage[T any](w http.ResponseWriter, r *http.Request, d Deps, data *pageData, l dashList[T]) (items []T, ok bool) {
	f, err := l.filter(r)
	data.Filter = f
	if err != nil {
		pageError(w, r, d, *data, err)
		return nil, false
	}
	data.StatesLegend = l.legend
	data.options(l.states, l.label)
	if items, err = l.load(r.Context(), d, f); err != nil {
		pageError(w, r, d, *data, err)
		return nil, false
	}
	data.paging(r, len(items), l.noun, l.nouns)
	return items, true
}

// HandleActivePage renders / from the active view.
func HandleActivePage(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data := newPageData(r, d, "Active pull requests", "active", "pulls")
		list, ok := readPage(w, r, d, &data, activeList)
		if !ok {
			return
		}
		for _, p := range page(list, data.Filter) {
			if n := len(data.Sections); n == 0 || data.Sections[n-1].Stage != p.Stage {
				data.Sections = append(data.Sections, activeSection{Stage: p.Stage, Label: stageLabel(p.Stage)})
			}
			s := &data.Sections[len(data.Sections)-1]
			s.Pulls = append(s.Pulls, p)
		}
		render(w, r, d, http.StatusOK, "active", data)
	}
}

// HandleBlockedPage renders /blocked.
func HandleBlockedPage(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data := newPageData(r, d, "Blocked by tests", "blocked", "blocked")
		if r.URL.RawQuery != "" {
			data.APIPath += "?" + r.URL.RawQuery
		}
		list, ok := readPage(w, r, d, &data, blockedList)
		if !ok {
			return
		}
		data.Blocked = page(list, data.Filter)
		render(w, r, d, http.StatusOK, "blocked", data)
	}
}

// HandleAggregatesPage renders /aggregates.
func HandleAggregatesPage(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data := newPageData(r, d, "Aggregates", "aggregates", "aggregates")
		list, ok := readPage(w, r, d, &data, aggregatesList)
		if !ok {
			return
		}
		data.Aggregates = page(list, data.Filter)
		render(w, r, d, http.StatusOK, "aggregates", data)
	}
}

// HandlePullPage renders /pulls/{owner}/{repo}/{number}.
func HandlePullPage(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		repo, number, err := pullParams(r)
		data := newPageData(r, d, repo+"#"+strconv.FormatInt(number, 10), "", "pulls/"+repo+"/"+strconv.FormatInt(number, 10))
		if err != nil {
			pageError(w, r, d, data, err)
			return
		}
		if data.Detail, err = loadPullDetail(r.Context(), d, repo, number); err != nil {
			pageError(w, r, d, data, err)
			return
		}
		data.Title = repo + "#" + strconv.FormatInt(number, 10) + " " + data.Detail.Pull.Title
		render(w, r, d, http.StatusOK, "pull", data)
	}
}
