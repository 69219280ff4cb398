// Package demo is the demo world shared by the sandbox and the whole-system
// tests: the names of the story, a squad's metadata, the fake Gitea and fake
// openQA seeded with them, and a qemgate configuration pointing at both.
// The production binary never imports it.
package demo

import (
	"os"
	"path/filepath"
	"time"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
)

// The cast of the story, as on the real servers.
const (
	Owner         = "products"
	RepoName      = "SLFO"
	Repo          = Owner + "/" + RepoName
	Author        = "carol"
	Requester     = "alice"
	BotLogin      = "qam-openqa-review" // qemgate's own account
	BotToken      = "demo-gitea-token"
	StagingBot    = "autogits_obs_staging_bot"
	TeamMember    = "qam-bot"
	ReviewTeam    = "qam-openqa"
	WebhookSecret = "demo-webhook-secret"
	AdminToken    = "demo-admin"
	CallbackToken = "demo-callback-token"
	OpenQAKey     = "0123456789ABCDEF"
	OpenQASecret  = "FEDCBA9876543210"
	GroupID       = 414
	GroupIDArm    = 415
	PatchinfoPath = "openssl-3/_patchinfo"
	Patchinfo     = `<patchinfo incident="1"><package>openssl-3</package><category>security</category><rating>important</rating></patchinfo>`
)

// MetadataYAML is a squad's metadata in qem-bot's format: one flavor on two
// archs for the SLFO 1.1.99 / SLES 16.0 channel.
const MetadataYAML = `product: SLES-16.0
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

// NewGitea starts a fake Gitea (on addr, or a free loopback port when
// empty) holding the organisation, team, users and SHA-256 repository of
// the story.
func NewGitea(addr string) (*giteafake.Server, error) {
	g := giteafake.New(giteafake.Options{Addr: addr, Tokens: map[string]string{BotToken: BotLogin}})
	for _, u := range []string{Author, Requester, BotLogin, StagingBot, TeamMember} {
		if err := g.AddUser(giteafake.User{Login: u}); err != nil {
			g.Close()
			return nil, err
		}
	}
	if err := g.AddOrg(Owner, "Products"); err != nil {
		g.Close()
		return nil, err
	}
	if err := g.AddTeam(Owner, giteafake.Team{Name: ReviewTeam, Members: []string{TeamMember, BotLogin}}); err != nil {
		g.Close()
		return nil, err
	}
	if _, err := g.AddRepo(giteafake.Repo{Owner: Owner, Name: RepoName, ObjectFormat: "sha256",
		Writers: []string{StagingBot, TeamMember, Requester}, Admins: []string{BotLogin}}); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// HookGitea points the repository's webhook at qemgate.
func HookGitea(g *giteafake.Server, qemgateURL string) error {
	_, err := g.AddHook(giteafake.Hook{Repo: Repo, URL: qemgateURL + "/webhooks/gitea", Secret: WebhookSecret,
		Events: []string{"pull_request", "issue_comment", "status"}})
	return err
}

// NewOpenQA starts a fake openQA (on addr, or a free loopback port) with
// the story's job templates and groups, whose job-done hook calls qemgate.
func NewOpenQA(addr, qemgateURL string) *openqafake.Server {
	return openqafake.New(openqafake.Options{
		Addr:  addr,
		Users: []openqafake.User{{Name: "qemgate", Key: OpenQAKey, Secret: OpenQASecret, Level: openqafake.LevelOperator}},
		Templates: []openqafake.Template{
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Test: "qam-minimal", GroupID: GroupID},
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Test: "qam-textmode", GroupID: GroupID},
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "aarch64", Test: "qam-minimal", GroupID: GroupIDArm},
		},
		JobGroups: []openqafake.JobGroup{
			{ID: GroupID, Name: "Maintenance: SLES 16.0 Core Incidents", Description: "Responsible: @qe-core"},
			{ID: GroupIDArm, Name: "Maintenance: SLES 16.0 aarch64 Incidents", Description: "Responsible: @qe-yam"},
		},
		HookURL:   qemgateURL + "/webhooks/openqa",
		HookToken: CallbackToken,
	})
}

// WriteMetadata writes MetadataYAML into dir.
func WriteMetadata(dir string) error {
	return os.WriteFile(filepath.Join(dir, "sles-16.0.yml"), []byte(MetadataYAML), 0o644)
}

// Config is a qemgate configuration for the story: the repository gated for
// team qam-openqa, both build-ready signals, SLES 16.0 on two archs.
func Config(qemgateURL, giteaURL, openqaURL, metadataDir string) config.Config {
	skip := true
	cfg := config.Default()
	cfg.DatabaseURL = "set-by-the-caller"
	cfg.PublicURL = qemgateURL
	cfg.AdminToken = AdminToken
	cfg.Gitea.URL = giteaURL
	cfg.Gitea.Token = BotToken
	cfg.Gitea.WebhookSecrets = []string{WebhookSecret}
	cfg.Gitea.BotLogin = BotLogin
	cfg.Gitea.Timeout = config.Duration(5 * time.Second)
	cfg.Gitea.Approval = config.Approval{Mode: "review", ReviewBot: BotLogin}
	cfg.Gitea.Repos = []config.Repo{{
		Name:            Repo,
		Reviewer:        config.Reviewer{Users: []string{BotLogin}, Teams: []string{ReviewTeam}},
		BuildReady:      config.BuildReady{Review: &config.ReviewSignal{User: StagingBot, Body: "^Build successful"}, Status: &config.StatusSignal{Context: "obs/*"}},
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
	cfg.OpenQA.URL = openqaURL
	cfg.OpenQA.Key = OpenQAKey
	cfg.OpenQA.Secret = OpenQASecret
	cfg.OpenQA.CallbackToken = CallbackToken
	cfg.OpenQA.Timeout = config.Duration(5 * time.Second)
	cfg.Metadata.Dir = metadataDir
	return cfg
}

// OpenPull opens the story's PR (carol changes openssl-3's _patchinfo) and
// asks team qam-openqa for review, as workflow-pr does.
func OpenPull(g *giteafake.Server, title string) (giteafake.PullInfo, error) {
	pr, err := g.OpenPull(giteafake.PullOptions{Owner: Owner, Repo: RepoName, Author: Author, HeadOwner: Author,
		Head: "update-openssl", Title: title, Files: map[string]string{PatchinfoPath: Patchinfo}})
	if err != nil {
		return pr, err
	}
	return pr, g.RequestReview(Owner, RepoName, pr.Number, Requester, nil, []string{ReviewTeam})
}
