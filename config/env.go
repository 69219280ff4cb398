package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// envVar is one QEMGATE_* override of a scalar key.
type envVar struct {
	Name string
	Doc  string
	set  func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", v)
		}
		*p(c) = b
		return nil
	}
}

func duration(p func(*Config) *Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (like 30s or 5m)", v)
		}
		*p(c) = Duration(d)
		return nil
	}
}

func integer(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p(c) = n
		return nil
	}
}

func list(p func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = splitList(v); return nil }
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// envVars is every environment override, in the order the README documents them.
var envVars = []envVar{
	{"QEMGATE_LISTEN", "address the HTTP server listens on", str(func(c *Config) *string { return &c.Listen })},
	{"QEMGATE_DATABASE_URL", "PostgreSQL URL (secret)", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"QEMGATE_PUBLIC_URL", "external base URL, used in links we post", str(func(c *Config) *string { return &c.PublicURL })},
	{"QEMGATE_DRY_RUN", "record but never write to Gitea or openQA", boolean(func(c *Config) *bool { return &c.DryRun })},
	{"QEMGATE_ADMIN_TOKEN", "Bearer token for /admin (secret)", str(func(c *Config) *string { return &c.AdminToken })},
	{"QEMGATE_ADMIN_SESSION_TTL", "how long a browser login to /admin lasts", duration(func(c *Config) *Duration { return &c.AdminSessionTTL })},
	{"QEMGATE_ADMIN_DISABLED", "switch the admin API off (serve then needs no admin token)", boolean(func(c *Config) *bool { return &c.AdminDisabled })},
	{"QEMGATE_AUTO_MIGRATE", "apply migrations when serve starts", boolean(func(c *Config) *bool { return &c.AutoMigrate })},
	{"QEMGATE_LOG_LEVEL", "debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
	{"QEMGATE_SHUTDOWN_TIMEOUT", "how long a graceful stop may take", duration(func(c *Config) *Duration { return &c.ShutdownWait })},
	{"QEMGATE_GITEA_URL", "Gitea base URL, without /api/v1", str(func(c *Config) *string { return &c.Gitea.URL })},
	{"QEMGATE_GITEA_TOKEN", "Gitea API token (secret)", str(func(c *Config) *string { return &c.Gitea.Token })},
	{"QEMGATE_GITEA_WEBHOOK_SECRET", "comma-separated webhook secrets, for rotation (secret)", list(func(c *Config) *[]string { return &c.Gitea.WebhookSecrets })},
	{"QEMGATE_GITEA_REPOS", "comma-separated owner/repo watch list, added to gitea.repos", nil},
	{"QEMGATE_GITEA_BOT_LOGIN", "our own Gitea account, whose events are ignored", str(func(c *Config) *string { return &c.Gitea.BotLogin })},
	{"QEMGATE_GITEA_STATUS_CONTEXT", "context of the commit status we post", str(func(c *Config) *string { return &c.Gitea.StatusContext })},
	{"QEMGATE_GITEA_TIMEOUT", "timeout of one Gitea API call", duration(func(c *Config) *Duration { return &c.Gitea.Timeout })},
	{"QEMGATE_GITEA_APPROVAL_MODE", "review or group-comment", str(func(c *Config) *string { return &c.Gitea.Approval.Mode })},
	{"QEMGATE_GITEA_APPROVAL_REVIEW_BOT", "review bot named in group-comment mode", str(func(c *Config) *string { return &c.Gitea.Approval.ReviewBot })},
	{"QEMGATE_OPENQA_URL", "openQA base URL", str(func(c *Config) *string { return &c.OpenQA.URL })},
	{"QEMGATE_OPENQA_KEY", "openQA API key", str(func(c *Config) *string { return &c.OpenQA.Key })},
	{"QEMGATE_OPENQA_SECRET", "openQA API secret (secret)", str(func(c *Config) *string { return &c.OpenQA.Secret })},
	{"QEMGATE_OPENQA_CALLBACK_TOKEN", "Bearer token of openQA job-done callbacks (secret)", str(func(c *Config) *string { return &c.OpenQA.CallbackToken })},
	{"QEMGATE_OPENQA_DEV_GROUP_PATTERN", "job groups matching this do not count", str(func(c *Config) *string { return &c.OpenQA.DevGroupPattern })},
	{"QEMGATE_OPENQA_TIMEOUT", "timeout of one openQA API call", duration(func(c *Config) *Duration { return &c.OpenQA.Timeout })},
	{"QEMGATE_AMQP_URL", "amqp:// or amqps:// URL of the broker; set, serve consumes openQA and Gitea events (secret)", str(func(c *Config) *string { return &c.AMQP.URL })},
	{"QEMGATE_AMQP_CA_FILE", "CA certificates for an amqps:// broker", str(func(c *Config) *string { return &c.AMQP.CAFile })},
	{"QEMGATE_AMQP_EXCHANGE", "topic exchange the events are published on", str(func(c *Config) *string { return &c.AMQP.Exchange })},
	{"QEMGATE_AMQP_TOPIC_PREFIX", "first part of every routing key (suse, opensuse)", str(func(c *Config) *string { return &c.AMQP.TopicPrefix })},
	{"QEMGATE_AMQP_QUEUE", "durable queue qemgate consumes from", str(func(c *Config) *string { return &c.AMQP.Queue })},
	{"QEMGATE_AMQP_BINDINGS", "comma-separated routing key patterns bound to the queue (empty: the defaults)", list(func(c *Config) *[]string { return &c.AMQP.Bindings })},
	{"QEMGATE_AMQP_PREFETCH", "messages handed over before they are acknowledged", integer(func(c *Config) *int { return &c.AMQP.Prefetch })},
	{"QEMGATE_AMQP_WORKERS", "messages stored at once", integer(func(c *Config) *int { return &c.AMQP.Workers })},
	{"QEMGATE_OBS_URL", "OBS API URL; set, a PR's products and build state are read from OBS", str(func(c *Config) *string { return &c.OBS.URL })},
	{"QEMGATE_OBS_USER", "OBS user (basic auth)", str(func(c *Config) *string { return &c.OBS.User })},
	{"QEMGATE_OBS_PASSWORD", "OBS password (secret)", str(func(c *Config) *string { return &c.OBS.Password })},
	{"QEMGATE_OBS_TOKEN", "OBS API token, instead of user and password (secret)", str(func(c *Config) *string { return &c.OBS.Token })},
	{"QEMGATE_OBS_REPOSITORY", "repository of the staging projects whose results count", str(func(c *Config) *string { return &c.OBS.Repository })},
	{"QEMGATE_OBS_PRODUCTS", "comma-separated products whose build state counts (empty: all)", list(func(c *Config) *[]string { return &c.OBS.Products })},
	{"QEMGATE_OBS_ARCHS", "comma-separated archs a _multibuild flavor can name", list(func(c *Config) *[]string { return &c.OBS.Archs })},
	{"QEMGATE_OBS_DOWNLOAD_URL", "download server of the staging projects (product version fallback)", str(func(c *Config) *string { return &c.OBS.DownloadURL })},
	{"QEMGATE_OBS_WEB_URL", "OBS web interface the dashboard links staging projects to (default: the OBS URL)", str(func(c *Config) *string { return &c.OBS.WebURL })},
	{"QEMGATE_OBS_STAGING_BOT", "Gitea user whose comments link the staging projects", str(func(c *Config) *string { return &c.OBS.StagingBot })},
	{"QEMGATE_OBS_ALLOW_BUILD_FAILURES", "test and approve PRs whose build failed in part", boolean(func(c *Config) *bool { return &c.OBS.AllowBuildFailures })},
	{"QEMGATE_OBS_TIMEOUT", "timeout of one OBS API call", duration(func(c *Config) *Duration { return &c.OBS.Timeout })},
	{"QEMGATE_OBS_POLL_LIMIT", "PRs waiting for their build read from OBS again per poll cycle", integer(func(c *Config) *int { return &c.OBS.PollLimit })},
	{"QEMGATE_SMELT_URL", "SMELT base URL; set, priority and emergency come from SMELT", str(func(c *Config) *string { return &c.SMELT.URL })},
	{"QEMGATE_SMELT_TIMEOUT", "timeout of one SMELT API call", duration(func(c *Config) *Duration { return &c.SMELT.Timeout })},
	{"QEMGATE_SMELT_GITEA_HOST", "host in SMELT's key of a PR (default: the host of the Gitea URL)", str(func(c *Config) *string { return &c.SMELT.GiteaHost })},
	{"QEMGATE_METADATA_DIR", "directory of the metadata YAML files", str(func(c *Config) *string { return &c.Metadata.Dir })},
	{"QEMGATE_METADATA_STRICT", "unknown metadata keys are errors", boolean(func(c *Config) *bool { return &c.Metadata.Strict })},
	{"QEMGATE_METADATA_RELOAD_INTERVAL", "how often metadata is reloaded", duration(func(c *Config) *Duration { return &c.Metadata.ReloadInterval })},
	{"QEMGATE_WEBHOOKS_MAX_BODY_BYTES", "largest webhook body accepted", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		c.Webhooks.MaxBodyBytes = n
		return nil
	}},
	{"QEMGATE_WEBHOOKS_MAX_INFLIGHT_BYTES", "webhook bodies held at once, before verification", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		c.Webhooks.MaxInflightBytes = n
		return nil
	}},
	{"QEMGATE_WEBHOOKS_GITEA_DISABLED", "switch the Gitea receiver off (serve then needs no webhook secret)", boolean(func(c *Config) *bool { return &c.Webhooks.GiteaDisabled })},
	{"QEMGATE_WEBHOOKS_OPENQA_DISABLED", "switch the openQA receiver off (serve then needs no callback token)", boolean(func(c *Config) *bool { return &c.Webhooks.OpenQADisabled })},
	{"QEMGATE_POLL_GITEA", "interval of the Gitea reconciliation", duration(func(c *Config) *Duration { return &c.Poll.Gitea })},
	{"QEMGATE_POLL_OPENQA", "interval of the openQA reconciliation", duration(func(c *Config) *Duration { return &c.Poll.OpenQA })},
	{"QEMGATE_POLL_OPENQA_STALE_AFTER", "unfinished jobs older than this are polled", duration(func(c *Config) *Duration { return &c.Poll.OpenQAStaleAfter })},
	{"QEMGATE_RETENTION_DELIVERIES", "stored deliveries older than this are deleted", duration(func(c *Config) *Duration { return &c.Retention.Deliveries })},
	{"QEMGATE_AGGREGATES_SCHEDULE", "when aggregates are built: an interval (6h), a cron expression in UTC, or off", str(func(c *Config) *string { return &c.Aggregates.Schedule })},
	{"QEMGATE_WORKERS_GITEA", "River workers for the gitea queue", integer(func(c *Config) *int { return &c.Workers.Gitea })},
	{"QEMGATE_WORKERS_OPENQA", "River workers for the openqa queue", integer(func(c *Config) *int { return &c.Workers.OpenQA })},
	{"QEMGATE_WORKERS_DEFAULT", "River workers for the default queue", integer(func(c *Config) *int { return &c.Workers.Default })},
	{"QEMGATE_WORKERS_JOB_TIMEOUT", "bound of one attempt of an event-driven job", duration(func(c *Config) *Duration { return &c.Workers.JobTimeout })},
	{"QEMGATE_WORKERS_FETCH_COOLDOWN", "least time between two fetches of new jobs by one queue", duration(func(c *Config) *Duration { return &c.Workers.FetchCooldown })},
	{"QEMGATE_WORKERS_FETCH_POLL_INTERVAL", "how often a queue looks for jobs without a notification", duration(func(c *Config) *Duration { return &c.Workers.FetchPollInterval })},
	{"QEMGATE_WORKERS_DISPATCH_SWEEP", "how often the dispatcher looks for deliveries whose jobs are not inserted yet", duration(func(c *Config) *Duration { return &c.Workers.DispatchSweep })},
	{"QEMGATE_WORKERS_RESCUE_AFTER", "a job running this long (a killed process's) is retried; at least the job timeout", duration(func(c *Config) *Duration { return &c.Workers.RescueAfter })},
}

func (v envVar) apply(c *Config, getenv func(string) string) []string {
	raw := getenv(v.Name)
	if raw == "" {
		return nil
	}
	if v.Name == "QEMGATE_GITEA_REPOS" {
		for _, name := range splitList(raw) {
			if _, ok := c.Repo(name); !ok {
				c.Gitea.Repos = append(c.Gitea.Repos, Repo{Name: name})
			}
		}
		return nil
	}
	if err := v.set(c, raw); err != nil {
		return []string{fmt.Sprintf("%s: %v", v.Name, err)}
	}
	return nil
}

// secret is a value that may also come from a file: NAME_FILE in the
// environment, or the YAML key ending in _file, so that it never has to sit in
// the environment or in the config file itself. The environment wins over the
// file; setting a value and its file at one level is an error.
type secret struct {
	Env     string
	YAMLKey string
	value   func(*Config) *string
	file    func(*Config) *string
}

var secrets = []secret{
	{"QEMGATE_DATABASE_URL", "database_url_file", func(c *Config) *string { return &c.DatabaseURL }, func(c *Config) *string { return &c.DatabaseURLFile }},
	{"QEMGATE_ADMIN_TOKEN", "admin_token_file", func(c *Config) *string { return &c.AdminToken }, func(c *Config) *string { return &c.AdminTokenFile }},
	{"QEMGATE_GITEA_TOKEN", "gitea.token_file", func(c *Config) *string { return &c.Gitea.Token }, func(c *Config) *string { return &c.Gitea.TokenFile }},
	{"QEMGATE_GITEA_WEBHOOK_SECRET", "gitea.webhook_secrets_file", nil, func(c *Config) *string { return &c.Gitea.WebhookSecretsFile }},
	{"QEMGATE_OPENQA_SECRET", "openqa.secret_file", func(c *Config) *string { return &c.OpenQA.Secret }, func(c *Config) *string { return &c.OpenQA.SecretFile }},
	{"QEMGATE_AMQP_URL", "amqp.url_file", func(c *Config) *string { return &c.AMQP.URL }, func(c *Config) *string { return &c.AMQP.URLFile }},
	{"QEMGATE_OBS_PASSWORD", "obs.password_file", func(c *Config) *string { return &c.OBS.Password }, func(c *Config) *string { return &c.OBS.PasswordFile }},
	{"QEMGATE_OBS_TOKEN", "obs.token_file", func(c *Config) *string { return &c.OBS.Token }, func(c *Config) *string { return &c.OBS.TokenFile }},
	{"QEMGATE_OPENQA_CALLBACK_TOKEN", "openqa.callback_token_file", func(c *Config) *string { return &c.OpenQA.CallbackToken }, func(c *Config) *string { return &c.OpenQA.CallbackTokenFile }},
}

func (s secret) resolve(c *Config, getenv func(string) string) []string {
	envKey := s.Env + "_FILE"
	if getenv(s.Env) != "" {
		if getenv(envKey) != "" {
			return []string{fmt.Sprintf("%s: both %s and %s are set; use one", envKey, s.Env, envKey)}
		}
		return nil // the environment value was applied already
	}
	key, path := envKey, getenv(envKey)
	if path == "" {
		key, path = s.YAMLKey, *s.file(c)
		if path != "" && s.hasValue(c) {
			return []string{fmt.Sprintf("%s: the value is set in the file too; use one", s.YAMLKey)}
		}
	}
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", key, err)}
	}
	v := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(v) == "" {
		return []string{fmt.Sprintf("%s: %s is empty", key, filepath.Base(path))}
	}
	if s.value == nil {
		// Webhook secrets: one per line or comma-separated, so a rotation is an edit of one file.
		c.Gitea.WebhookSecrets = splitList(strings.ReplaceAll(v, "\n", ","))
		return nil
	}
	*s.value(c) = v
	return nil
}

func (s secret) hasValue(c *Config) bool {
	if s.value == nil {
		return len(c.Gitea.WebhookSecrets) > 0
	}
	return *s.value(c) != ""
}

// EnvVars returns the documented environment variables with a short description each.
func EnvVars() [][2]string {
	out := make([][2]string, 0, len(envVars)+len(secrets))
	for _, v := range envVars {
		out = append(out, [2]string{v.Name, v.Doc})
	}
	for _, s := range secrets {
		out = append(out, [2]string{s.Env + "_FILE", "read " + s.Env + " from this file"})
	}
	return out
}
