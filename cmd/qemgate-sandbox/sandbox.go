package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qemgate/qemgate/app"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/migrations"
)

// The demo's names, as on the real servers.
const (
	owner         = "products"
	repoName      = "SLFO"
	botLogin      = "qam-openqa-review"
	botToken      = "sandbox-gitea-token"
	stagingBot    = "autogits_obs_staging_bot"
	reviewTeam    = "qam-openqa"
	webhookSecret = "sandbox-webhook-secret"
	adminToken    = "sandbox-admin"
	callbackToken = "sandbox-callback"
	openqaKey     = "1234567890ABCDEF"
	openqaSecret  = "FEDCBA0987654321"
)

// metadataYAML is the demo squad's metadata, in qem-bot's format.
const metadataYAML = `product: SLES-16.0
product_repo: SLES
product_version: "16.0"
settings:
  DISTRI: sle
  VERSION: "16.0"
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64, aarch64]
      issues:
        OS_TEST_ISSUES: SLFO:1.1.99#16.0
      aggregate_job: false
`

type options struct {
	Listen, GiteaAddr, OpenQAAddr, DatabaseURL, LogLevel string
}

// sandbox is qemgate with its two fake neighbours.
type sandbox struct {
	opts    options
	gitea   *giteafake.Server
	openqa  *openqafake.Server
	app     *app.App
	pool    *pgxpool.Pool
	srv     *http.Server
	tmp     string
	pr      giteafake.PullInfo
	done    chan error
	base    string
	cleanup []func()
}

func start(ctx context.Context, o options, logOut io.Writer) (sb *sandbox, err error) {
	sb = &sandbox{opts: o, done: make(chan error, 1), base: "http://" + o.Listen}
	defer func() {
		if err != nil {
			sb.Close()
		}
	}()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("qemgate cannot listen on %s: %w", o.Listen, err)
	}
	sb.base = "http://" + ln.Addr().String()

	if err := checkFree(o.GiteaAddr); err != nil {
		ln.Close()
		return nil, err
	}
	sb.gitea = giteafake.New(giteafake.Options{Addr: o.GiteaAddr, Tokens: map[string]string{botToken: botLogin}})
	if err := checkFree(o.OpenQAAddr); err != nil {
		ln.Close()
		return nil, err
	}
	sb.openqa = openqafake.New(openqafake.Options{
		Addr:  o.OpenQAAddr,
		Users: []openqafake.User{{Name: "qemgate", Key: openqaKey, Secret: openqaSecret, Level: openqafake.LevelOperator}},
		Templates: []openqafake.Template{
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Test: "qam-minimal", GroupID: 414},
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Test: "qam-textmode", GroupID: 414},
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "aarch64", Test: "qam-minimal", GroupID: 415},
		},
		JobGroups: []openqafake.JobGroup{
			{ID: 414, Name: "Maintenance: SLES 16.0 Core Incidents", Description: "Responsible: @qe-core"},
			{ID: 415, Name: "Maintenance: SLES 16.0 aarch64 Incidents", Description: "Responsible: @qe-yam"},
		},
		HookURL:   sb.base + "/webhooks/openqa",
		HookToken: callbackToken,
	})

	if err := sb.seedGitea(); err != nil {
		ln.Close()
		return nil, err
	}
	sb.tmp, err = os.MkdirTemp("", "qemgate-sandbox-")
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(sb.tmp, "sles-16.0.yml"), []byte(metadataYAML), 0o644); err != nil {
		ln.Close()
		return nil, err
	}

	cfg := sb.config()
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: parseLevel(o.LogLevel)}))
	sb.pool, err = pgxpool.New(ctx, o.DatabaseURL)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if _, err := migrations.Up(ctx, sb.pool, logger); err != nil {
		ln.Close()
		return nil, err
	}
	sb.app, err = app.New(cfg, logger, sb.pool, app.Options{})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := sb.app.ReloadMetadata(); err != nil {
		ln.Close()
		return nil, err
	}
	sb.srv = &http.Server{Handler: sb.app.Handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := sb.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sb.done <- err
		}
	}()
	if err := sb.app.StartWorkers(ctx); err != nil {
		return nil, err
	}

	// The demo PR, opened after qemgate listens so its webhooks arrive.
	sb.pr, err = sb.gitea.OpenPull(giteafake.PullOptions{
		Owner: owner, Repo: repoName, Author: "carol", HeadOwner: "carol", Head: "update-openssl",
		Title: "openssl-3: fix CVE-2026-0001",
		Files: map[string]string{"openssl-3/_patchinfo": `<patchinfo incident="1"><package>openssl-3</package><category>security</category><rating>important</rating></patchinfo>`},
	})
	if err != nil {
		return nil, err
	}
	if err := sb.gitea.RequestReview(owner, repoName, sb.pr.Number, "alice", nil, []string{reviewTeam}); err != nil {
		return nil, err
	}
	return sb, nil
}

func (sb *sandbox) seedGitea() error {
	for _, u := range []string{"carol", "alice", botLogin, stagingBot, "qam-bot"} {
		if err := sb.gitea.AddUser(giteafake.User{Login: u}); err != nil {
			return err
		}
	}
	if err := sb.gitea.AddOrg(owner, "Products"); err != nil {
		return err
	}
	if err := sb.gitea.AddTeam(owner, giteafake.Team{Name: reviewTeam, Members: []string{"qam-bot", botLogin}}); err != nil {
		return err
	}
	if _, err := sb.gitea.AddRepo(giteafake.Repo{Owner: owner, Name: repoName, ObjectFormat: "sha256",
		Writers: []string{stagingBot, "alice", "qam-bot"}, Admins: []string{botLogin}}); err != nil {
		return err
	}
	_, err := sb.gitea.AddHook(giteafake.Hook{Repo: owner + "/" + repoName, URL: sb.base + "/webhooks/gitea", Secret: webhookSecret,
		Events: []string{"pull_request", "issue_comment", "status"}})
	return err
}

func (sb *sandbox) config() config.Config {
	skip := true
	cfg := config.Default()
	cfg.Listen = sb.opts.Listen
	cfg.DatabaseURL = sb.opts.DatabaseURL
	cfg.PublicURL = sb.base
	cfg.AdminToken = adminToken
	cfg.LogLevel = sb.opts.LogLevel
	cfg.Gitea.URL = sb.gitea.URL()
	cfg.Gitea.Token = botToken
	cfg.Gitea.WebhookSecrets = []string{webhookSecret}
	cfg.Gitea.BotLogin = botLogin
	cfg.Gitea.Approval = config.Approval{Mode: "review", ReviewBot: botLogin}
	cfg.Gitea.Repos = []config.Repo{{
		Name:            owner + "/" + repoName,
		Reviewer:        config.Reviewer{Users: []string{botLogin}, Teams: []string{reviewTeam}},
		BuildReady:      config.BuildReady{Review: &config.ReviewSignal{User: stagingBot, Body: "^Build successful"}, Status: &config.StatusSignal{Context: "obs/*"}},
		SkipDrafts:      &skip,
		PriorityLabels:  map[string]int{"priority/high": 700},
		EmergencyLabels: []string{"emergency"},
		Branches: map[string]config.Branch{"main": {
			ProductVersion: "16.0",
			Archs:          []string{"x86_64", "aarch64"},
			Channels:       []string{"SLFO:1.1.99#16.0"},
			StagingProject: "SUSE:SLFO:1.1.99:PullRequest:{number}",
			IncidentRepo:   "http://download.example.test/ibs/{staging_project_path}/product/repo/{product_repo}-{product_version}-{arch}/",
		}},
	}}
	cfg.OpenQA.URL = sb.openqa.URL()
	cfg.OpenQA.Key = openqaKey
	cfg.OpenQA.Secret = openqaSecret
	cfg.OpenQA.CallbackToken = callbackToken
	cfg.Metadata.Dir = sb.tmp
	cfg.Poll.Gitea = config.Duration(30 * time.Second)
	cfg.Poll.OpenQA = config.Duration(30 * time.Second)
	return cfg
}

// Done reports a server that stopped on its own.
func (sb *sandbox) Done() <-chan error { return sb.done }

// Close stops everything, qemgate first.
func (sb *sandbox) Close() {
	if sb.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = sb.srv.Shutdown(ctx)
		cancel()
	}
	if sb.app != nil {
		sb.app.StopWorkers(context.Background())
	}
	if sb.pool != nil {
		sb.pool.Close()
	}
	if sb.gitea != nil {
		sb.gitea.Close()
	}
	if sb.openqa != nil {
		sb.openqa.Close()
	}
	if sb.tmp != "" {
		os.RemoveAll(sb.tmp)
	}
}

func checkFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (is another sandbox running?): %w", addr, err)
	}
	return ln.Close()
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}
