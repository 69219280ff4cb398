package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// env answers from m, with the URLs every configuration needs filled in
// unless m sets them.
func env(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		switch k {
		case "QEMGATE_GITEA_URL":
			return "https://src.example.test"
		case "QEMGATE_OPENQA_URL":
			return "https://openqa.example.test"
		}
		return ""
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

const minimalDB = "postgres://qemgate@localhost/qemgate"

func TestLoad(t *testing.T) {
	t.Parallel()

	secretFile := writeFile(t, "secret", "s3cret\n")
	secretsFile := writeFile(t, "hooks", "new-secret\nold-secret\n")
	emptyFile := writeFile(t, "empty", "\n")
	yamlFile := writeFile(t, "qemgate.yaml", `
listen: 127.0.0.1:9999
database_url: postgres://from-file/db
gitea:
  url: https://src.example.test
  webhook_secrets: [a, b]
  repos:
    - name: products/SLFO
      branches:
        main: {product_version: "16.0", archs: [x86_64]}
poll: {gitea: 1m}
`)

	tests := []struct {
		name     string
		file     string
		env      map[string]string
		problems []string // each must appear in the error
		check    func(t *testing.T, c Config)
	}{
		{
			name: "defaults with only a database",
			env:  map[string]string{"QEMGATE_DATABASE_URL": minimalDB},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "127.0.0.1:8080", c.Listen)
				require.Equal(t, "qa/openqa", c.Gitea.StatusContext)
				require.Equal(t, "review", c.Gitea.Approval.Mode)
				require.Equal(t, int64(1<<20), c.Webhooks.MaxBodyBytes)
				require.Equal(t, int64(16<<20), c.Webhooks.MaxInflightBytes)
				require.Equal(t, 30*24*time.Hour, c.Retention.Deliveries.D())
				require.True(t, c.AutoMigrate)
			},
		},
		{
			name:     "database, Gitea and openQA required",
			env:      map[string]string{"QEMGATE_GITEA_URL": "", "QEMGATE_OPENQA_URL": ""},
			problems: []string{"QEMGATE_DATABASE_URL: required", "QEMGATE_GITEA_URL: required", "QEMGATE_OPENQA_URL: required"},
		},
		{
			name: "every problem at once, each naming its key",
			env: map[string]string{
				"QEMGATE_LISTEN":                 "nope",
				"QEMGATE_DATABASE_URL":           "mysql://x",
				"QEMGATE_GITEA_URL":              "ftp://x",
				"QEMGATE_DRY_RUN":                "perhaps",
				"QEMGATE_POLL_GITEA":             "soon",
				"QEMGATE_WORKERS_GITEA":          "0",
				"QEMGATE_WORKERS_JOB_TIMEOUT":    "5m",
				"QEMGATE_WORKERS_FETCH_COOLDOWN": "0s",
				"QEMGATE_GITEA_APPROVAL_MODE":    "vote",
				"QEMGATE_LOG_LEVEL":              "loud",
			},
			problems: []string{
				`QEMGATE_LISTEN: "nope" is not host:port`,
				"QEMGATE_DATABASE_URL: is not a postgres:// URL",
				`QEMGATE_GITEA_URL: "ftp://x" is not an http(s) URL`,
				`QEMGATE_DRY_RUN: "perhaps" is not a boolean`,
				`QEMGATE_POLL_GITEA: "soon" is not a duration`,
				"QEMGATE_WORKERS_GITEA: 0 is not between 1 and 1000",
				"QEMGATE_WORKERS_RESCUE_AFTER: 3m0s must be at least workers.job_timeout (5m0s)",
				"QEMGATE_WORKERS_FETCH_COOLDOWN, QEMGATE_WORKERS_FETCH_POLL_INTERVAL: 0s and 100ms must be at least 1ms",
				`QEMGATE_GITEA_APPROVAL_MODE: "vote" is not review or group-comment`,
				`QEMGATE_LOG_LEVEL: "loud" is not one of`,
			},
		},
		{
			name: "environment wins over the file",
			file: yamlFile,
			env:  map[string]string{"QEMGATE_LISTEN": "0.0.0.0:8081", "QEMGATE_GITEA_WEBHOOK_SECRET": "x, y ,z"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "0.0.0.0:8081", c.Listen)
				require.Equal(t, "postgres://from-file/db", c.DatabaseURL)
				require.Equal(t, []string{"x", "y", "z"}, c.Gitea.WebhookSecrets)
				require.Equal(t, time.Minute, c.Poll.Gitea.D())
				require.Equal(t, []string{"products/SLFO"}, c.RepoNames())
			},
		},
		{
			name: "repos from the environment add to the file",
			file: yamlFile,
			env:  map[string]string{"QEMGATE_GITEA_REPOS": "products/SLFO,pool/kernel"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, []string{"products/SLFO", "pool/kernel"}, c.RepoNames())
				r, ok := c.Repo("PRODUCTS/slfo")
				require.True(t, ok)
				require.Equal(t, "16.0", r.Branches["main"].ProductVersion)
			},
		},
		{
			name: "secrets from _FILE",
			env: map[string]string{
				"QEMGATE_DATABASE_URL":              minimalDB,
				"QEMGATE_GITEA_TOKEN_FILE":          secretFile,
				"QEMGATE_GITEA_WEBHOOK_SECRET_FILE": secretsFile,
			},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "s3cret", c.Gitea.Token)
				require.Equal(t, []string{"new-secret", "old-secret"}, c.Gitea.WebhookSecrets)
			},
		},
		{
			name: "secret from a YAML _file key",
			file: writeFile(t, "c.yaml", "database_url: "+minimalDB+"\nopenqa:\n  secret_file: "+secretFile+"\n"),
			check: func(t *testing.T, c Config) {
				require.Equal(t, "s3cret", c.OpenQA.Secret)
			},
		},
		{
			name: "value and _FILE together",
			env: map[string]string{
				"QEMGATE_DATABASE_URL":     minimalDB,
				"QEMGATE_ADMIN_TOKEN":      "x",
				"QEMGATE_ADMIN_TOKEN_FILE": secretFile,
			},
			problems: []string{"QEMGATE_ADMIN_TOKEN_FILE: both QEMGATE_ADMIN_TOKEN and QEMGATE_ADMIN_TOKEN_FILE are set"},
		},
		{
			name:     "missing and empty secret files",
			env:      map[string]string{"QEMGATE_DATABASE_URL": minimalDB, "QEMGATE_GITEA_TOKEN_FILE": "/nonexistent/token", "QEMGATE_OPENQA_SECRET_FILE": emptyFile},
			problems: []string{"QEMGATE_GITEA_TOKEN_FILE: open /nonexistent/token", "QEMGATE_OPENQA_SECRET_FILE: empty is empty"},
		},
		{
			name:     "unknown YAML key",
			file:     writeFile(t, "bad.yaml", "database_url: x\nlisten_on: 1\n"),
			problems: []string{"field listen_on not found"},
		},
		{
			name: "per-repository problems",
			file: writeFile(t, "repos.yaml", `
database_url: `+minimalDB+`
gitea:
  approval: {mode: group-comment}
  repos:
    - name: justaname
      packages_from: guess
      build_ready: {review: {body: "(unclosed"}}
      branches: {main: {}}
`),
			problems: []string{
				`gitea.repos[0].name: "justaname" is not owner/repo`,
				`gitea.repos[0].packages_from: "guess" is not patchinfo or top_level_dirs`,
				"gitea.repos[0].build_ready.review.user: required",
				`gitea.repos[0].build_ready.review.body: "(unclosed" is not a regular expression`,
				"gitea.repos[0].branches.main.product_version: required",
				"gitea.repos[0].branches.main.archs: at least one arch is required",
				"QEMGATE_GITEA_APPROVAL_REVIEW_BOT: required when the approval mode is group-comment",
			},
		},
		{
			name: "OBS and SMELT off by default",
			env:  map[string]string{"QEMGATE_DATABASE_URL": minimalDB},
			check: func(t *testing.T, c Config) {
				require.False(t, c.OBS.Enabled())
				require.False(t, c.SMELT.Enabled())
				require.Equal(t, "product", c.OBS.Repository)
			},
		},
		{
			name: "OBS and SMELT from a file, the password from its own file",
			file: writeFile(t, "obs.yaml", "database_url: "+minimalDB+`
obs:
  url: https://api.obs.example.test
  user: qam
  password_file: `+secretFile+`
  products: [SLES]
  allow_build_failures: true
smelt: {url: https://smelt.example.test}
`),
			check: func(t *testing.T, c Config) {
				require.True(t, c.OBS.Enabled())
				require.Equal(t, "s3cret", c.OBS.Password)
				require.Equal(t, []string{"SLES"}, c.OBS.Products)
				require.True(t, c.OBS.AllowBuildFailures)
				require.Equal(t, []string{"x86_64", "aarch64", "ppc64le", "s390x"}, c.OBS.Archs)
				require.Equal(t, "src.example.test", c.SMELT.GiteaHost, "resolved from gitea.url")
				require.Equal(t, "[redacted]", c.Redacted().OBS.Password)
			},
		},
		{
			name: "OBS problems name their keys",
			env: map[string]string{
				"QEMGATE_DATABASE_URL":   minimalDB,
				"QEMGATE_OBS_URL":        "api.obs",
				"QEMGATE_OBS_POLL_LIMIT": "0",
				"QEMGATE_OBS_TIMEOUT":    "0s",
				"QEMGATE_SMELT_URL":      "smelt",
			},
			problems: []string{
				`QEMGATE_OBS_URL: "api.obs" is not an http(s) URL`,
				"QEMGATE_OBS_USER, QEMGATE_OBS_PASSWORD: required with obs.url",
				"QEMGATE_OBS_POLL_LIMIT: 0 is not between 1 and 1000",
				"QEMGATE_OBS_TIMEOUT: 0s must be positive",
				`QEMGATE_SMELT_URL: "smelt" is not an http(s) URL`,
			},
		},
		{
			name: "empty file is an empty configuration",
			file: writeFile(t, "empty.yaml", ""),
			env:  map[string]string{"QEMGATE_DATABASE_URL": minimalDB},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "127.0.0.1:8080", c.Listen)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.file, env(tt.env))
			if len(tt.problems) > 0 {
				require.Error(t, err)
				for _, p := range tt.problems {
					require.Contains(t, err.Error(), p)
				}
				if cfgErr, ok := err.(*Error); ok && tt.file == "" {
					require.Len(t, cfgErr.Problems, len(tt.problems), "one line per problem: %v", cfgErr.Problems)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	c, err := Load("", env(map[string]string{
		"QEMGATE_DATABASE_URL":          "postgres://qemgate:hunter2@db/qemgate",
		"QEMGATE_ADMIN_TOKEN":           "admin-token-value",
		"QEMGATE_GITEA_TOKEN":           "gitea-token-value",
		"QEMGATE_GITEA_WEBHOOK_SECRET":  "hook-secret-1,hook-secret-2",
		"QEMGATE_OPENQA_SECRET":         "openqa-secret-value",
		"QEMGATE_OPENQA_CALLBACK_TOKEN": "callback-token-value",
		"QEMGATE_OPENQA_KEY":            "0123456789ABCDEF",
	}))
	require.NoError(t, err)
	r := c.Redacted()
	dump := strings.Join([]string{r.DatabaseURL, r.AdminToken, r.Gitea.Token, strings.Join(r.Gitea.WebhookSecrets, ","), r.OpenQA.Secret, r.OpenQA.CallbackToken}, " ")
	for _, s := range []string{"hunter2", "admin-token-value", "gitea-token-value", "hook-secret-1", "hook-secret-2", "openqa-secret-value", "callback-token-value"} {
		require.NotContains(t, dump, s)
	}
	require.Equal(t, "postgres://qemgate:xxxxx@db/qemgate", r.DatabaseURL)
	require.Equal(t, "0123456789ABCDEF", r.OpenQA.Key, "the public key is not a secret")
	require.Len(t, r.Gitea.WebhookSecrets, 2)
	require.Contains(t, c.DatabaseURL, ":hunter2@", "the original is untouched")
}

func TestEveryEnvVarIsDocumented(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Skip("README.md not written yet")
	}
	for _, v := range EnvVars() {
		require.Contains(t, string(readme), "`"+v[0]+"`", "README must document %s", v[0])
	}
}

func TestAggregatesSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		schedule string
		interval time.Duration // 0: not an interval
		off      bool
		problem  string
	}{
		{schedule: "", problem: "QEMGATE_AGGREGATES_SCHEDULE"},
		{schedule: "6h", interval: 6 * time.Hour},
		{schedule: "1s", interval: time.Second},
		{schedule: "500ms", problem: "must be at least 1s"},
		{schedule: "-1h", problem: "must be at least 1s"},
		{schedule: "0 2 * * *"},
		{schedule: "*/30 * * * *"},
		{schedule: "off", off: true},
		{schedule: "every day", problem: "is neither an interval"},
	}
	for _, tc := range tests {
		t.Run(tc.schedule, func(t *testing.T) {
			t.Parallel()
			c, err := Load("", env(map[string]string{"QEMGATE_DATABASE_URL": minimalDB, "QEMGATE_AGGREGATES_SCHEDULE": tc.schedule}))
			if tc.schedule == "" {
				// An empty variable keeps the default, a daily cron.
				require.NoError(t, err)
				_, err := c.Aggregates.Cron()
				require.NoError(t, err)
				require.Equal(t, "0 2 * * *", c.Aggregates.Schedule)
				return
			}
			if tc.problem != "" {
				require.ErrorContains(t, err, tc.problem)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.off, c.Aggregates.Off())
			d, ok := c.Aggregates.Interval()
			require.Equal(t, tc.interval != 0, ok)
			require.Equal(t, tc.interval, d)
			if !ok && !tc.off {
				s, err := c.Aggregates.Cron()
				require.NoError(t, err)
				now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
				require.True(t, s.Next(now).After(now))
			}
		})
	}
}

// Resolve fills the defaults that depend on other keys and compiles the
// patterns once; consumers read the results.
func TestResolve(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Gitea.BotLogin = "qam-openqa-review"
	no := false
	c.Gitea.Repos = []Repo{
		{Name: "products/SLFO", BuildReady: BuildReady{Review: &ReviewSignal{User: "bot", Body: "^Build successful"}}},
		{Name: "products/Other", SkipDrafts: &no},
	}
	require.NoError(t, c.Resolve())
	require.Equal(t, "review", c.Gitea.Approval.Mode)
	require.Equal(t, "qam-openqa-review", c.Gitea.Approval.ReviewBot, "the review bot defaults to the bot login")
	require.True(t, c.Gitea.Repos[0].SkipsDrafts())
	require.True(t, *c.Gitea.Repos[0].SkipDrafts, "resolved, not left nil")
	require.False(t, c.Gitea.Repos[1].SkipsDrafts())
	require.True(t, c.Gitea.Repos[0].BuildReady.Review.BodyPattern.MatchString("Build successful: all green"))
	require.True(t, c.OpenQA.DevGroups.MatchString("Development: SLE 16"))
	require.NoError(t, c.Resolve(), "idempotent")

	c.OpenQA.DevGroupPattern = "("
	require.ErrorContains(t, c.Resolve(), "openqa.dev_group_pattern")
}
