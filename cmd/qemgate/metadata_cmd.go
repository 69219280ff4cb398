package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/metadata"
	"github.com/qemgate/qemgate/obs"
)

const metadataUsage = `usage:
  qemgate metadata check PATH [--strict]
  qemgate metadata plan --metadata DIR (--pull-json FILE | --repo OWNER/NAME --number N --sha SHA --base BRANCH --packages a,b [--labels x,y])
                        [--product-version V] [--archs a,b] [--channels c,d] [--staging-project T] [--incident-repo T]
                        [--public-url U] [--priority N] [--emergency] [--embargoed] [--strict]
                        [--obs-project P,Q (--obs-url URL | --config FILE)]
  With --obs-project the products, archs, channels and version come from the
  projects' build results in OBS, as serve reads them (obs.* of --config, or
  --obs-url with QEMGATE_OBS_USER/QEMGATE_OBS_PASSWORD or QEMGATE_OBS_TOKEN
  from the environment), and the plan shows the build and its state.
`

// runMetadata implements "qemgate metadata …": check validates metadata files,
// plan prints the test plan for a PR without scheduling anything. args are
// the words after "metadata" (a leading "metadata" is tolerated). It returns
// the process exit code: 0 ok, 1 invalid metadata, 2 usage error.
func runMetadata(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "metadata: %v\n", err)
		return 1
	}
	if len(args) > 0 && args[0] == "metadata" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, metadataUsage)
		return 2
	}
	switch args[0] {
	case "check":
		return metadataCheck(args[1:], stdout, stderr)
	case "plan":
		return metadataPlan(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, metadataUsage)
		return 0
	}
	fmt.Fprintf(stderr, "metadata: unknown sub-command %q\n%s", args[0], metadataUsage)
	return 2
}

// parseInterspersed lets flags follow positional arguments ("check PATH --strict").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func metadataCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("metadata check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "treat unknown keys as errors")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "metadata check: want exactly one PATH\n%s", metadataUsage)
		return 2
	}
	set, problems, err := metadata.Load(pos[0], metadata.Options{Strict: *strict})
	for _, p := range problems {
		fmt.Fprintln(stdout, problemLine(p))
	}
	errs, warns := 0, 0
	for _, p := range problems {
		if p.Severity == metadata.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	if err != nil && !errors.Is(err, metadata.ErrInvalid) {
		fmt.Fprintf(stderr, "metadata check: %v\n", err)
		return 1
	}
	failed := set.Failed()
	fmt.Fprintf(stderr, "%s: %d product(s) loaded, %d failed to load", pos[0], len(set.Products()), len(failed))
	if len(failed) > 0 {
		fmt.Fprintf(stderr, " (%s)", strings.Join(failed, ", "))
	}
	fmt.Fprintf(stderr, "; %d error(s), %d warning(s)", errs, warns)
	if errs > 0 {
		fmt.Fprint(stderr, "; qemgate refuses this set and keeps the last good one")
	}
	fmt.Fprintln(stderr)
	if errs > 0 {
		return 1
	}
	return 0
}

// problemLine renders a problem as compilers do, "file:line: error: message",
// so that editors and CI logs can jump to it and tell errors from warnings.
func problemLine(p metadata.Problem) string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Severity, p.Message)
}

// planOutput is what "metadata plan" prints.
type planOutput struct {
	Pull      gate.Pull      `json:"pull"`
	Branch    gate.Branch    `json:"branch"`
	PublicURL string         `json:"public_url,omitempty"`
	Runs      []gate.TestRun `json:"runs"`
	Skips     []gate.Skip    `json:"skips"`
	// OBS is what --obs-project read, and the gate's reading of it at the
	// head: what serve would decide (a build that is not ready schedules
	// nothing there; the plan is shown anyway).
	OBS *planOBS `json:"obs,omitempty"`
}

type planOBS struct {
	Build  gate.Build       `json:"build"`
	Status gate.BuildStatus `json:"status"`
}

func metadataPlan(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("metadata plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dir       = fs.String("metadata", "", "metadata directory (or file)")
		strict    = fs.Bool("strict", false, "treat unknown metadata keys as errors")
		pullJSON  = fs.String("pull-json", "", "PR as JSON: a Gitea pull (API or webhook payload), a gate.Pull, or a whole plan input")
		repo      = fs.String("repo", "", "repository owner/name")
		number    = fs.Int64("number", 0, "PR number")
		sha       = fs.String("sha", "", "head SHA")
		base      = fs.String("base", "", "base branch")
		htmlURL   = fs.String("html-url", "", "PR URL (default: none)")
		packages  = fs.String("packages", "", "comma-separated package names")
		labels    = fs.String("labels", "", "comma-separated labels")
		priority  = fs.Int("priority", 0, "update priority (default 550)")
		emergency = fs.Bool("emergency", false, "emergency update")
		embargoed = fs.Bool("embargoed", false, "embargoed update")
		pv        = fs.String("product-version", "", "product version the branch builds")
		archs     = fs.String("archs", "", "comma-separated archs the branch builds (default: all)")
		channels  = fs.String("channels", "", "comma-separated channels, e.g. SLFO:1.1.99#16.0")
		staging   = fs.String("staging-project", "", "OBS staging project template, e.g. SUSE:SLFO:1.1.99:PullRequest:{number}")
		incRepo   = fs.String("incident-repo", "", "INCIDENT_REPO URL template ({number} {product_version} {arch} {product_repo} {staging_project_path})")
		publicURL = fs.String("public-url", "", "qemgate public URL, for __DASHBOARD_URL")
		obsProj   = fs.String("obs-project", "", "comma-separated OBS staging projects whose build results decide products, archs and channels")
		obsURL    = fs.String("obs-url", "", "OBS API URL (default: obs.url of --config)")
		cfgPath   = fs.String("config", "", "qemgate configuration whose obs block reads --obs-project")
	)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) > 0 || *dir == "" {
		fmt.Fprintf(stderr, "metadata plan: --metadata is required and no positional arguments are taken\n%s", metadataUsage)
		return 2
	}
	in := gate.PlanInput{}
	if *pullJSON != "" {
		if in, err = readPlanInput(*pullJSON); err != nil {
			fmt.Fprintf(stderr, "metadata plan: %v\n", err)
			return 2
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// Flags given explicitly win over the JSON file.
	str := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	list := func(name string, dst *[]string, v string) {
		if set[name] {
			*dst = splitList(v)
		}
	}
	str("repo", &in.Pull.Repo, *repo)
	str("sha", &in.Pull.HeadSHA, *sha)
	str("base", &in.Pull.Base, *base)
	str("html-url", &in.Pull.HTMLURL, *htmlURL)
	list("packages", &in.Pull.Packages, *packages)
	list("labels", &in.Pull.Labels, *labels)
	str("product-version", &in.Branch.ProductVersion, *pv)
	list("archs", &in.Branch.Archs, *archs)
	list("channels", &in.Branch.Channels, *channels)
	str("staging-project", &in.Branch.StagingProject, *staging)
	str("incident-repo", &in.Branch.IncidentRepo, *incRepo)
	str("public-url", &in.PublicURL, *publicURL)
	if set["number"] {
		in.Pull.Number = *number
	}
	if set["priority"] || in.Pull.Priority == 0 {
		in.Pull.Priority = *priority
	}
	if in.Pull.Priority == 0 {
		in.Pull.Priority = gate.DefaultPullPriority
	}
	in.Pull.Emergency = in.Pull.Emergency || *emergency
	in.Pull.Embargoed = in.Pull.Embargoed || *embargoed
	if in.Pull.Repo == "" || in.Pull.Number <= 0 {
		fmt.Fprintf(stderr, "metadata plan: the PR needs --repo and --number (or --pull-json)\n%s", metadataUsage)
		return 2
	}
	if len(in.Pull.Packages) == 0 {
		fmt.Fprintln(stderr, "metadata plan: warning: no packages given (--packages), nothing can be planned")
	}
	var fromOBS *planOBS
	if *obsProj != "" {
		if fromOBS, err = planFromOBS(ctx, splitList(*obsProj), *obsURL, *cfgPath, getenv, in.Pull.HeadSHA, stderr); err != nil {
			fmt.Fprintf(stderr, "metadata plan: %v\n", err)
			return 2
		}
		in.Branch = gate.BranchFromBuild(in.Branch, &fromOBS.Build)
	} else if set["obs-url"] || set["config"] {
		fmt.Fprintln(stderr, "metadata plan: warning: --obs-url and --config only matter with --obs-project")
	}
	if len(in.Branch.Channels) == 0 {
		fmt.Fprintln(stderr, "metadata plan: warning: no channels given (--channels), no issue can match")
	}
	if in.Pull.HeadSHA == "" {
		fmt.Fprintln(stderr, "metadata plan: warning: no head SHA given (--sha), the runs have no GITEA_SHA, so openQA is not told which commit it tests")
	}
	if in.Branch.IncidentRepo == "" {
		fmt.Fprintln(stderr, "metadata plan: warning: no incident repository given (--incident-repo), the runs have no INCIDENT_REPO and would test the released packages")
	}

	md, problems, err := metadata.Load(*dir, metadata.Options{Strict: *strict})
	for _, p := range problems {
		fmt.Fprintln(stderr, problemLine(p))
	}
	if err != nil {
		fmt.Fprintf(stderr, "metadata plan: %v\n", err)
		return 1
	}
	in.Metadata = md
	runs, skips := gate.Plan(in)
	out := planOutput{Pull: in.Pull, Branch: in.Branch, PublicURL: in.PublicURL, Runs: runs, Skips: skips, OBS: fromOBS}
	if out.Runs == nil {
		out.Runs = []gate.TestRun{}
	}
	if out.Skips == nil {
		out.Skips = []gate.Skip{}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "metadata plan: write: %v\n", err)
		return 1
	}
	return 0
}

func splitList(s string) []string {
	out := []string{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// giteaPull is the part of a Gitea pull request (API answer, or the
// pull_request object of a webhook payload) that a plan needs.
type giteaPull struct {
	Number  int64  `json:"number"`
	HTMLURL string `json:"html_url"`
	Head    struct {
		SHA string `json:"sha"`
	} `json:"head"`
	Base struct {
		Ref  string `json:"ref"`
		Repo struct {
			FullName string `json:"full_name"`
		} `json:"repo"`
	} `json:"base"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
}

// readPlanInput reads --pull-json: a whole gate.PlanInput ({"pull": …}), a
// Gitea webhook payload ({"pull_request": …}), a Gitea pull ({"head": …}), or
// a gate.Pull ({"repo": …}).
func readPlanInput(path string) (gate.PlanInput, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return gate.PlanInput{}, fmt.Errorf("read --pull-json: %w", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return gate.PlanInput{}, fmt.Errorf("parse %s: %w", path, err)
	}
	var in gate.PlanInput
	switch {
	case probe["pull"] != nil:
		err = json.Unmarshal(raw, &in)
	case probe["pull_request"] != nil:
		in.Pull, err = fromGitea(probe["pull_request"])
	case probe["head"] != nil:
		in.Pull, err = fromGitea(raw)
	default:
		err = json.Unmarshal(raw, &in.Pull)
	}
	if err != nil {
		return gate.PlanInput{}, fmt.Errorf("parse %s: %w", path, err)
	}
	return in, nil
}

func fromGitea(raw []byte) (gate.Pull, error) {
	var gp giteaPull
	if err := json.Unmarshal(raw, &gp); err != nil {
		return gate.Pull{}, err
	}
	p := gate.Pull{
		Repo: gp.Base.Repo.FullName, Number: gp.Number, HeadSHA: gp.Head.SHA, Base: gp.Base.Ref, HTMLURL: gp.HTMLURL,
	}
	for _, l := range gp.Labels {
		p.Labels = append(p.Labels, l.Name)
	}
	if p.Number <= 0 {
		return gate.Pull{}, errors.New("pull request without a number")
	}
	return p, nil
}

// planFromOBS reads the staging projects from OBS as serve does
// (jobs.ReadOBSProject, gate.BuildFromOBS) and decides the build state at
// sha (gate.BuildStatusOf). The obs block comes from the configuration file
// when one is given; --obs-url wins over its URL, and credentials come from
// the environment as for serve, never from the command line.
func planFromOBS(ctx context.Context, projects []string, url, cfgPath string, getenv func(string) string, sha string, stderr io.Writer) (*planOBS, error) {
	cfg := config.Default().OBS
	if cfgPath != "" {
		full, err := config.LoadOBS(cfgPath, getenv)
		if err != nil {
			return nil, err
		}
		cfg = full
	} else {
		cfg.User, cfg.Password, cfg.Token = getenv("QEMGATE_OBS_USER"), getenv("QEMGATE_OBS_PASSWORD"), getenv("QEMGATE_OBS_TOKEN")
	}
	if url != "" {
		cfg.URL = url
	}
	if cfg.URL == "" {
		return nil, fmt.Errorf("--obs-project needs --obs-url or a --config with obs.url")
	}
	client := obs.New(obs.Config{URL: cfg.URL, User: cfg.User, Password: cfg.Password, Token: cfg.Token,
		DownloadURL: cfg.DownloadURL, Timeout: cfg.Timeout.D()})
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rules := jobs.OBSRules(cfg)
	read := make([]gate.OBSProject, len(projects))
	for i, name := range projects {
		read[i] = jobs.ReadOBSProject(ctx, client, logger, name, rules)
		if read[i].Unavailable != "" {
			fmt.Fprintf(stderr, "metadata plan: warning: %s: %s\n", name, read[i].Unavailable)
		}
	}
	b := gate.BuildFromOBS(read, rules)
	return &planOBS{Build: b, Status: gate.BuildStatusOf(b, sha, cfg.AllowBuildFailures)}, nil
}
