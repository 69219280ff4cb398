// Package config loads qemgate's configuration: a YAML file plus QEMGATE_*
// environment overrides and *_FILE secrets, validated all at once.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// Config is the whole effective configuration of one qemgate process.
type Config struct {
	Listen         string `yaml:"listen" json:"listen"`
	DatabaseURL    string `yaml:"database_url" json:"database_url"`
	PublicURL      string `yaml:"public_url" json:"public_url"`
	DryRun         bool   `yaml:"dry_run" json:"dry_run"`
	AdminToken     string `yaml:"admin_token" json:"admin_token"`
	AdminTokenFile string `yaml:"admin_token_file" json:"admin_token_file"`
	// AdminDisabled switches the admin API off on purpose: serve then
	// starts without an admin token, and /admin answers 404.
	AdminDisabled bool `yaml:"admin_disabled" json:"admin_disabled"`
	// AdminSessionTTL is how long a browser session made by /admin/login
	// lasts; it is not renewed.
	AdminSessionTTL Duration `yaml:"admin_session_ttl" json:"admin_session_ttl"`
	DatabaseURLFile string   `yaml:"database_url_file" json:"database_url_file"`
	AutoMigrate     bool     `yaml:"auto_migrate" json:"auto_migrate"`
	LogLevel        string   `yaml:"log_level" json:"log_level"`
	ShutdownWait    Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`

	Gitea      Gitea      `yaml:"gitea" json:"gitea"`
	OpenQA     OpenQA     `yaml:"openqa" json:"openqa"`
	Metadata   Metadata   `yaml:"metadata" json:"metadata"`
	Webhooks   Webhooks   `yaml:"webhooks" json:"webhooks"`
	Poll       Poll       `yaml:"poll" json:"poll"`
	Retention  Retention  `yaml:"retention" json:"retention"`
	Aggregates Aggregates `yaml:"aggregates" json:"aggregates"`
	Workers    Workers    `yaml:"workers" json:"workers"`
	// OBS and SMELT are optional: without them a PR's products come from
	// the branch configuration and its priority from its labels.
	OBS   OBS   `yaml:"obs" json:"obs"`
	SMELT SMELT `yaml:"smelt" json:"smelt"`
	// AMQP is optional: without it openQA is heard through the job-done
	// hook and Gitea through its webhook (and both through the pollers).
	AMQP AMQP `yaml:"amqp" json:"amqp"`
}

// AMQP is the message bus (RabbitMQ) on which openQA's AMQP plugin
// publishes job and comment events and a Gitea event publisher puts the
// organisation's webhook payloads. When URL is set, serve consumes from a
// durable queue bound to the exchange; every replica is a competing
// consumer of that one queue.
type AMQP struct {
	// URL is amqp:// or amqps://, with the broker's credentials (secret).
	URL     string `yaml:"url" json:"url"`
	URLFile string `yaml:"url_file" json:"url_file"`
	// CAFile verifies an amqps:// broker with these CA certificates instead
	// of the system's.
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// Exchange is the topic exchange the publishers use; it must exist
	// (it is declared passively).
	Exchange string `yaml:"exchange" json:"exchange"`
	// TopicPrefix starts every routing key: "suse" on the internal openQA,
	// "opensuse" on the public one; it may be empty.
	TopicPrefix string `yaml:"topic_prefix" json:"topic_prefix"`
	// Queue is the durable queue qemgate consumes from, so that events
	// published while qemgate is down or restarting are kept.
	Queue string `yaml:"queue" json:"queue"`
	// Bindings are the routing keys (topic patterns) bound to the queue;
	// empty means DefaultBindings.
	Bindings []string `yaml:"bindings" json:"bindings"`
	// Prefetch bounds the messages the broker hands over before they are
	// acknowledged; Workers is how many are stored at once.
	Prefetch int `yaml:"prefetch" json:"prefetch"`
	Workers  int `yaml:"workers" json:"workers"`
}

// Enabled says whether serve consumes from a broker.
func (a AMQP) Enabled() bool { return a.URL != "" }

// Key is a routing key (or pattern) under the topic prefix.
func (a AMQP) Key(rest string) string {
	if a.TopicPrefix == "" {
		return rest
	}
	return a.TopicPrefix + "." + rest
}

// giteaAMQPEvents are the Gitea event types qemgate acts on, as the
// publisher names them in routing keys.
var giteaAMQPEvents = []string{
	"pull_request", "pull_request_sync", "pull_request_label", "pull_request_review_request",
	"pull_request_review_approved", "pull_request_review_rejected", "pull_request_review_comment",
	"pull_request_comment", "status",
}

// DefaultBindings are the keys bound when amqp.bindings is empty: openQA's
// job done/restart/cancel/update_result and comment create/update/delete,
// and the Gitea events qemgate acts on, of every organisation that owns a
// watched repository.
func (c *Config) DefaultBindings() []string {
	a := c.AMQP
	keys := []string{
		a.Key("openqa.job.done"), a.Key("openqa.job.restart"), a.Key("openqa.job.cancel"), a.Key("openqa.job.update_result"),
		a.Key("openqa.comment.create"), a.Key("openqa.comment.update"), a.Key("openqa.comment.delete"),
	}
	seen := map[string]bool{}
	for _, r := range c.Gitea.Repos {
		org, _, _ := strings.Cut(r.Name, "/")
		if seen[org] {
			continue
		}
		seen[org] = true
		for _, ev := range giteaAMQPEvents {
			keys = append(keys, a.Key("src."+org+"."+ev+".#"))
		}
	}
	return keys
}

// OBS is the build service that builds every PR's staging project(s). When
// URL is set, a PR's products, archs, channels and product version are read
// from the build results of its staging projects, and its build state is
// part of the verdict.
type OBS struct {
	URL          string `yaml:"url" json:"url"`
	User         string `yaml:"user" json:"user"`
	Password     string `yaml:"password" json:"password"`
	PasswordFile string `yaml:"password_file" json:"password_file"`
	// Token is an OBS API token, sent as "Authorization: Token <token>",
	// instead of User and Password.
	Token     string `yaml:"token" json:"token"`
	TokenFile string `yaml:"token_file" json:"token_file"`
	// Repository is the repository of the staging projects whose results
	// count (qem-bot's OBS_REPO_TYPE, "product").
	Repository string `yaml:"repository" json:"repository"`
	// Products are the products (the part after PullRequest:<n>: of the
	// project name) whose build state counts; empty means all.
	Products []string `yaml:"products" json:"products"`
	// Archs are the archs a _multibuild flavor can name; results of other
	// archs (except "local") are ignored.
	Archs []string `yaml:"archs" json:"archs"`
	// DownloadURL is where the staging projects are published; the product
	// version is read from its listing when no <scmsync> names it.
	DownloadURL string `yaml:"download_url" json:"download_url"`
	// WebURL is OBS's web interface, which the dashboard links a PR's
	// staging projects to (<web_url>/project/show/<project>); empty means
	// URL. The web host cannot be derived from the API host reliably.
	WebURL string `yaml:"web_url" json:"web_url"`
	// StagingBot is the Gitea user whose comments link the PR's staging
	// projects (…/project/show/<project>).
	StagingBot string `yaml:"staging_bot" json:"staging_bot"`
	// AllowBuildFailures tests and approves a PR whose build failed in
	// part, as qem-bot's --allow-build-failures does.
	AllowBuildFailures bool     `yaml:"allow_build_failures" json:"allow_build_failures"`
	Timeout            Duration `yaml:"timeout" json:"timeout"`
	// PollLimit bounds how many PRs waiting for their build the Gitea
	// poller has read from OBS again in one cycle.
	PollLimit int `yaml:"poll_limit" json:"poll_limit"`
}

// Enabled says whether OBS is configured.
func (o OBS) Enabled() bool { return o.URL != "" }

// ProjectURL is the page of an OBS project for people: on WebURL, or on
// URL when no WebURL is set; "" when OBS is not configured.
func (o OBS) ProjectURL(project string) string {
	base := o.WebURL
	if base == "" {
		base = o.URL
	}
	if base == "" || project == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/project/show/" + url.PathEscape(project)
}

// SMELT is where the priority and the emergency flag of an update come from
// (optional; the labels decide without it).
type SMELT struct {
	URL     string   `yaml:"url" json:"url"`
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// GiteaHost is the host in SMELT's key of a PR,
	// "<host>:<owner>:<repo>:<number>"; default the host of gitea.url.
	GiteaHost string `yaml:"gitea_host" json:"gitea_host"`
}

// Enabled says whether SMELT is configured.
func (s SMELT) Enabled() bool { return s.URL != "" }

// Gitea is where pull requests come from and where verdicts go.
type Gitea struct {
	URL                string   `yaml:"url" json:"url"`
	Token              string   `yaml:"token" json:"token"`
	TokenFile          string   `yaml:"token_file" json:"token_file"`
	WebhookSecrets     []string `yaml:"webhook_secrets" json:"webhook_secrets"`
	WebhookSecretsFile string   `yaml:"webhook_secrets_file" json:"webhook_secrets_file"`
	BotLogin           string   `yaml:"bot_login" json:"bot_login"`
	StatusContext      string   `yaml:"status_context" json:"status_context"`
	Timeout            Duration `yaml:"timeout" json:"timeout"`
	Approval           Approval `yaml:"approval" json:"approval"`
	Repos              []Repo   `yaml:"repos" json:"repos"`
}

// Approval says how a passed or failed verdict is told to Gitea.
type Approval struct {
	Mode      string `yaml:"mode" json:"mode"` // review | group-comment
	ReviewBot string `yaml:"review_bot" json:"review_bot"`
}

// Repo is one watched repository and how its pull requests are gated.
type Repo struct {
	Name            string            `yaml:"name" json:"name"`
	Reviewer        Reviewer          `yaml:"reviewer" json:"reviewer"`
	BuildReady      BuildReady        `yaml:"build_ready" json:"build_ready"`
	SkipDrafts      *bool             `yaml:"skip_drafts" json:"skip_drafts"`
	PackagesFrom    string            `yaml:"packages_from" json:"packages_from"`
	PriorityLabels  map[string]int    `yaml:"priority_labels" json:"priority_labels"`
	EmergencyLabels []string          `yaml:"emergency_labels" json:"emergency_labels"`
	Branches        map[string]Branch `yaml:"branches" json:"branches"`
}

// Reviewer is who must be asked for review for a PR to be ours to gate.
type Reviewer struct {
	Users []string `yaml:"users" json:"users"`
	Teams []string `yaml:"teams" json:"teams"`
}

// BuildReady describes the signals that say the build service finished a head SHA.
type BuildReady struct {
	Review *ReviewSignal `yaml:"review" json:"review"`
	Status *StatusSignal `yaml:"status" json:"status"`
}

// ReviewSignal is a review by the staging bot whose body matches a pattern.
type ReviewSignal struct {
	User string `yaml:"user" json:"user"`
	Body string `yaml:"body" json:"body"`
	// BodyPattern is Body compiled (Resolve).
	BodyPattern *regexp.Regexp `yaml:"-" json:"-"`
}

// StatusSignal is a successful commit status whose context matches a glob.
type StatusSignal struct {
	Context string `yaml:"context" json:"context"`
}

// Branch maps a base branch to the product it builds.
type Branch struct {
	ProductVersion string   `yaml:"product_version" json:"product_version"`
	Archs          []string `yaml:"archs" json:"archs"`
	Channels       []string `yaml:"channels" json:"channels"`
	StagingProject string   `yaml:"staging_project" json:"staging_project"`
	IncidentRepo   string   `yaml:"incident_repo" json:"incident_repo"`
	TestRepo       string   `yaml:"test_repo" json:"test_repo"`
}

// OpenQA is where tests run.
type OpenQA struct {
	URL               string   `yaml:"url" json:"url"`
	Key               string   `yaml:"key" json:"key"`
	Secret            string   `yaml:"secret" json:"secret"`
	SecretFile        string   `yaml:"secret_file" json:"secret_file"`
	CallbackToken     string   `yaml:"callback_token" json:"callback_token"`
	CallbackTokenFile string   `yaml:"callback_token_file" json:"callback_token_file"`
	DevGroupPattern   string   `yaml:"dev_group_pattern" json:"dev_group_pattern"`
	DevParentGroups   []string `yaml:"dev_parent_groups" json:"dev_parent_groups"`
	// DevGroups is DevGroupPattern compiled (Resolve); nil means gate's default.
	DevGroups *regexp.Regexp `yaml:"-" json:"-"`
	Timeout   Duration       `yaml:"timeout" json:"timeout"`
}

// Metadata is where the squads' test metadata YAML lives.
type Metadata struct {
	Dir            string   `yaml:"dir" json:"dir"`
	Strict         bool     `yaml:"strict" json:"strict"`
	ReloadInterval Duration `yaml:"reload_interval" json:"reload_interval"`
}

// Webhooks bounds what the receivers accept.
type Webhooks struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes"`
	// MaxInflightBytes bounds the webhook bodies all receivers hold at once
	// before they are verified, so that strangers cannot make the process
	// hold more.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes" json:"max_inflight_bytes"`
	// GiteaDisabled and OpenQADisabled switch a receiver off on purpose:
	// serve then starts without its secret, and the route answers 404.
	GiteaDisabled  bool `yaml:"gitea_disabled" json:"gitea_disabled"`
	OpenQADisabled bool `yaml:"openqa_disabled" json:"openqa_disabled"`
}

// Poll sets the reconciliation intervals.
type Poll struct {
	Gitea            Duration `yaml:"gitea" json:"gitea"`
	OpenQA           Duration `yaml:"openqa" json:"openqa"`
	OpenQAStaleAfter Duration `yaml:"openqa_stale_after" json:"openqa_stale_after"`
}

// Retention says how long stored deliveries are kept.
type Retention struct {
	Deliveries Duration `yaml:"deliveries" json:"deliveries"`
}

// Aggregates says when the product aggregates are built.
type Aggregates struct {
	// Schedule is an interval ("6h") or a standard five-field cron
	// expression in UTC ("0 2 * * *"); "off" builds none.
	Schedule string `yaml:"schedule" json:"schedule"`
}

// Off reports whether aggregates are switched off.
func (a Aggregates) Off() bool { return strings.EqualFold(strings.TrimSpace(a.Schedule), "off") }

// Interval returns the schedule as an interval, when it is one.
func (a Aggregates) Interval() (time.Duration, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(a.Schedule))
	return d, err == nil
}

// Cron returns the schedule as a cron schedule, when it is one.
func (a Aggregates) Cron() (cron.Schedule, error) {
	return cron.ParseStandard(strings.TrimSpace(a.Schedule))
}

// Workers sets how many River workers run per queue in this process.
type Workers struct {
	Gitea   int `yaml:"gitea" json:"gitea"`
	OpenQA  int `yaml:"openqa" json:"openqa"`
	Default int `yaml:"default" json:"default"`
	// JobTimeout bounds one attempt of an event-driven job (the pollers,
	// aggregates, retention and scheduling have longer bounds of their own).
	JobTimeout Duration `yaml:"job_timeout" json:"job_timeout"`
	// RescueAfter is how long a job may stay running before River's rescuer
	// (on the leader, every 30 s) retries it: a job of a killed process. At
	// least JobTimeout.
	RescueAfter Duration `yaml:"rescue_after" json:"rescue_after"`
	// FetchCooldown is the least time between two fetches of new jobs by
	// one queue; FetchPollInterval how often a queue looks for jobs when no
	// notification woke it. River's defaults (100 ms, 1 s) put a second on
	// the tail of every reaction.
	FetchCooldown     Duration `yaml:"fetch_cooldown" json:"fetch_cooldown"`
	FetchPollInterval Duration `yaml:"fetch_poll_interval" json:"fetch_poll_interval"`
	// DispatchSweep is how often the dispatcher looks for stored deliveries
	// whose jobs are not inserted yet when nothing woke it: those a replica
	// acknowledged and then died before dispatching.
	DispatchSweep Duration `yaml:"dispatch_sweep" json:"dispatch_sweep"`
}

// Duration is a time.Duration that reads "5m" style strings from YAML.
type Duration time.Duration

// UnmarshalYAML accepts Go duration strings.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 30s or 5m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as "5m0s", also in logged JSON.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		PublicURL:       "http://127.0.0.1:8080",
		AutoMigrate:     true,
		LogLevel:        "info",
		ShutdownWait:    Duration(10 * time.Second),
		AdminSessionTTL: Duration(2 * time.Hour),
		Gitea: Gitea{
			StatusContext: "qa/openqa",
			Timeout:       Duration(30 * time.Second),
			Approval:      Approval{Mode: "review"},
		},
		OpenQA:     OpenQA{DevGroupPattern: "Devel|Test", Timeout: Duration(30 * time.Second)},
		Metadata:   Metadata{ReloadInterval: Duration(5 * time.Minute)},
		Webhooks:   Webhooks{MaxBodyBytes: 1 << 20, MaxInflightBytes: 16 << 20},
		Poll:       Poll{Gitea: Duration(5 * time.Minute), OpenQA: Duration(5 * time.Minute), OpenQAStaleAfter: Duration(30 * time.Minute)},
		Retention:  Retention{Deliveries: Duration(30 * 24 * time.Hour)},
		Aggregates: Aggregates{Schedule: "0 2 * * *"},
		Workers: Workers{Gitea: 4, OpenQA: 4, Default: 8,
			JobTimeout: Duration(2 * time.Minute), RescueAfter: Duration(3 * time.Minute),
			FetchCooldown: Duration(10 * time.Millisecond), FetchPollInterval: Duration(100 * time.Millisecond),
			DispatchSweep: Duration(time.Second)},
		OBS: OBS{Repository: "product", Archs: []string{"x86_64", "aarch64", "ppc64le", "s390x"},
			StagingBot: "autogits_obs_staging_bot", Timeout: Duration(30 * time.Second), PollLimit: 20},
		SMELT: SMELT{Timeout: Duration(30 * time.Second)},
		AMQP:  AMQP{Exchange: "pubsub", TopicPrefix: "suse", Queue: "qemgate", Prefetch: 32, Workers: 4},
	}
}

// Error lists every problem found in a configuration, each naming its key.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// Load reads the optional YAML file at path, applies QEMGATE_* overrides from
// getenv, reads *_FILE secrets and validates the result. Every problem is
// reported at once in an *Error.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	var problems []string
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, &Error{Problems: []string{fmt.Sprintf("--config: %v", err)}}
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, errEOF(err)) {
			return cfg, &Error{Problems: []string{fmt.Sprintf("%s: %v", path, err)}}
		}
	}
	for _, v := range envVars {
		problems = append(problems, v.apply(&cfg, getenv)...)
	}
	for _, s := range secrets {
		problems = append(problems, s.resolve(&cfg, getenv)...)
	}
	problems = append(problems, cfg.validate()...)
	if len(problems) == 0 {
		if err := cfg.Resolve(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return cfg, &Error{Problems: problems}
	}
	return cfg, nil
}

// LoadOBS reads the obs block as Load does (the file, QEMGATE_OBS_*
// overrides, its secret files), for commands that need OBS and nothing
// else: only problems of the obs block are reported.
func LoadOBS(path string, getenv func(string) string) (OBS, error) {
	cfg, err := Load(path, getenv)
	var cerr *Error
	if err == nil || !errors.As(err, &cerr) {
		return cfg.OBS, err
	}
	var mine []string
	for _, p := range cerr.Problems {
		if strings.HasPrefix(p, "QEMGATE_OBS_") || strings.HasPrefix(p, "--config") || strings.HasPrefix(p, path+":") {
			mine = append(mine, p)
		}
	}
	if len(mine) > 0 {
		return cfg.OBS, &Error{Problems: mine}
	}
	return cfg.OBS, nil
}

// errEOF lets an empty file count as an empty configuration.
func errEOF(err error) error {
	if err != nil && err.Error() == "EOF" {
		return err
	}
	return errors.New("not eof")
}

var hostPort = regexp.MustCompile(`^[^:\s]*:\d{1,5}$`)

func (c *Config) validate() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil || !hostPort.MatchString(c.Listen) {
		add("QEMGATE_LISTEN: %q is not host:port", c.Listen)
	}
	if c.DatabaseURL == "" {
		add("QEMGATE_DATABASE_URL: required (a postgres:// URL)")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		add("QEMGATE_DATABASE_URL: is not a postgres:// URL")
	}
	checkURL := func(key, v string, required bool) {
		if v == "" {
			if required {
				add("%s: required", key)
			}
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("%s: %q is not an http(s) URL", key, v)
		}
	}
	checkURL("QEMGATE_PUBLIC_URL", c.PublicURL, true)
	checkURL("QEMGATE_GITEA_URL", c.Gitea.URL, true)
	checkURL("QEMGATE_OPENQA_URL", c.OpenQA.URL, true)
	checkURL("QEMGATE_OBS_URL", c.OBS.URL, false)
	checkURL("QEMGATE_OBS_DOWNLOAD_URL", c.OBS.DownloadURL, false)
	checkURL("QEMGATE_OBS_WEB_URL", c.OBS.WebURL, false)
	checkURL("QEMGATE_SMELT_URL", c.SMELT.URL, false)
	if c.AMQP.Enabled() {
		if u, err := url.Parse(c.AMQP.URL); err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
			add("QEMGATE_AMQP_URL: is not an amqp:// or amqps:// URL")
		}
		if c.AMQP.Exchange == "" {
			add("QEMGATE_AMQP_EXCHANGE: must not be empty")
		}
		if c.AMQP.Queue == "" {
			add("QEMGATE_AMQP_QUEUE: must not be empty")
		}
		if c.AMQP.Prefetch < 1 || c.AMQP.Prefetch > 10000 {
			add("QEMGATE_AMQP_PREFETCH: %d is not between 1 and 10000", c.AMQP.Prefetch)
		}
		if c.AMQP.Workers < 1 || c.AMQP.Workers > c.AMQP.Prefetch {
			add("QEMGATE_AMQP_WORKERS: %d is not between 1 and amqp.prefetch (%d)", c.AMQP.Workers, c.AMQP.Prefetch)
		}
		if c.AMQP.CAFile != "" {
			if _, err := os.Stat(c.AMQP.CAFile); err != nil {
				add("QEMGATE_AMQP_CA_FILE: %v", err)
			}
		}
		for i, b := range c.AMQP.Bindings {
			if b == "" || strings.ContainsAny(b, " \t\n") {
				add("amqp.bindings[%d]: %q is not a routing key pattern", i, b)
			}
		}
	}
	if c.OBS.Enabled() {
		switch {
		case c.OBS.Token == "" && (c.OBS.User == "" || c.OBS.Password == ""):
			add("QEMGATE_OBS_USER, QEMGATE_OBS_PASSWORD: required with obs.url (or QEMGATE_OBS_TOKEN)")
		case c.OBS.Token != "" && c.OBS.Password != "":
			add("QEMGATE_OBS_TOKEN: obs.token and obs.password are both set; use one")
		}
		if c.OBS.Repository == "" {
			add("QEMGATE_OBS_REPOSITORY: must not be empty")
		}
		if len(c.OBS.Archs) == 0 {
			add("QEMGATE_OBS_ARCHS: at least one arch is required")
		}
		if c.OBS.StagingBot == "" {
			add("QEMGATE_OBS_STAGING_BOT: must not be empty")
		}
		if c.OBS.PollLimit < 1 || c.OBS.PollLimit > 1000 {
			add("QEMGATE_OBS_POLL_LIMIT: %d is not between 1 and 1000", c.OBS.PollLimit)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("QEMGATE_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.Gitea.Approval.Mode {
	case "review", "group-comment":
	default:
		add("QEMGATE_GITEA_APPROVAL_MODE: %q is not review or group-comment", c.Gitea.Approval.Mode)
	}
	if c.Gitea.Approval.Mode == "group-comment" && c.Gitea.Approval.ReviewBot == "" {
		add("QEMGATE_GITEA_APPROVAL_REVIEW_BOT: required when the approval mode is group-comment")
	}
	if c.Gitea.StatusContext == "" {
		add("QEMGATE_GITEA_STATUS_CONTEXT: must not be empty")
	}
	if _, err := regexp.Compile(c.OpenQA.DevGroupPattern); err != nil {
		add("QEMGATE_OPENQA_DEV_GROUP_PATTERN: %q is not a regular expression: %v", c.OpenQA.DevGroupPattern, err)
	}
	if c.Webhooks.MaxBodyBytes <= 0 {
		add("QEMGATE_WEBHOOKS_MAX_BODY_BYTES: %d must be positive", c.Webhooks.MaxBodyBytes)
	}
	if c.Webhooks.MaxInflightBytes < c.Webhooks.MaxBodyBytes {
		add("QEMGATE_WEBHOOKS_MAX_INFLIGHT_BYTES: %d must be at least webhooks.max_body_bytes (%d)", c.Webhooks.MaxInflightBytes, c.Webhooks.MaxBodyBytes)
	}
	positive := func(key string, d Duration) {
		if d <= 0 {
			add("%s: %s must be positive", key, d.D())
		}
	}
	positive("QEMGATE_SHUTDOWN_TIMEOUT", c.ShutdownWait)
	positive("QEMGATE_ADMIN_SESSION_TTL", c.AdminSessionTTL)
	positive("QEMGATE_GITEA_TIMEOUT", c.Gitea.Timeout)
	positive("QEMGATE_OPENQA_TIMEOUT", c.OpenQA.Timeout)
	positive("QEMGATE_OBS_TIMEOUT", c.OBS.Timeout)
	positive("QEMGATE_SMELT_TIMEOUT", c.SMELT.Timeout)
	positive("QEMGATE_METADATA_RELOAD_INTERVAL", c.Metadata.ReloadInterval)
	positive("QEMGATE_POLL_GITEA", c.Poll.Gitea)
	positive("QEMGATE_POLL_OPENQA", c.Poll.OpenQA)
	positive("QEMGATE_POLL_OPENQA_STALE_AFTER", c.Poll.OpenQAStaleAfter)
	positive("QEMGATE_RETENTION_DELIVERIES", c.Retention.Deliveries)
	positive("QEMGATE_WORKERS_JOB_TIMEOUT", c.Workers.JobTimeout)
	positive("QEMGATE_WORKERS_DISPATCH_SWEEP", c.Workers.DispatchSweep)
	if c.Workers.FetchCooldown < Duration(time.Millisecond) || c.Workers.FetchPollInterval < c.Workers.FetchCooldown {
		add("QEMGATE_WORKERS_FETCH_COOLDOWN, QEMGATE_WORKERS_FETCH_POLL_INTERVAL: %s and %s must be at least 1ms, the poll interval at least the cooldown",
			c.Workers.FetchCooldown.D(), c.Workers.FetchPollInterval.D())
	}
	if c.Workers.RescueAfter < c.Workers.JobTimeout {
		add("QEMGATE_WORKERS_RESCUE_AFTER: %s must be at least workers.job_timeout (%s)", c.Workers.RescueAfter.D(), c.Workers.JobTimeout.D())
	}
	if d, ok := c.Aggregates.Interval(); ok {
		if d < time.Second {
			add("QEMGATE_AGGREGATES_SCHEDULE: %s must be at least 1s", d)
		}
	} else if _, err := c.Aggregates.Cron(); err != nil && !c.Aggregates.Off() {
		add("QEMGATE_AGGREGATES_SCHEDULE: %q is neither an interval (like 6h) nor a cron expression (like \"0 2 * * *\") nor off: %v", c.Aggregates.Schedule, err)
	}
	for key, n := range map[string]int{"QEMGATE_WORKERS_GITEA": c.Workers.Gitea, "QEMGATE_WORKERS_OPENQA": c.Workers.OpenQA, "QEMGATE_WORKERS_DEFAULT": c.Workers.Default} {
		if n < 1 || n > 1000 {
			add("%s: %d is not between 1 and 1000", key, n)
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Gitea.Repos {
		key := fmt.Sprintf("gitea.repos[%d]", i)
		if !validRepoName(r.Name) {
			add("%s.name: %q is not owner/repo", key, r.Name)
		}
		if seen[r.Name] {
			add("%s.name: %q is listed twice", key, r.Name)
		}
		seen[r.Name] = true
		switch r.PackagesFrom {
		case "", "patchinfo", "top_level_dirs":
		default:
			add("%s.packages_from: %q is not patchinfo or top_level_dirs", key, r.PackagesFrom)
		}
		if r.BuildReady.Review != nil {
			if r.BuildReady.Review.User == "" {
				add("%s.build_ready.review.user: required", key)
			}
			if _, err := regexp.Compile(r.BuildReady.Review.Body); err != nil {
				add("%s.build_ready.review.body: %q is not a regular expression: %v", key, r.BuildReady.Review.Body, err)
			}
		}
		if r.BuildReady.Status != nil && r.BuildReady.Status.Context == "" {
			add("%s.build_ready.status.context: required", key)
		}
		names := make([]string, 0, len(r.Branches))
		for name := range r.Branches {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			b := r.Branches[name]
			if b.ProductVersion == "" {
				add("%s.branches.%s.product_version: required", key, name)
			}
			if len(b.Archs) == 0 {
				add("%s.branches.%s.archs: at least one arch is required", key, name)
			}
		}
	}
	return p
}

func validRepoName(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	return ok && owner != "" && name != "" && !strings.ContainsAny(name, "/ \t")
}

// RepoNames returns the watched repositories as owner/repo.
func (c *Config) RepoNames() []string {
	out := make([]string, 0, len(c.Gitea.Repos))
	for _, r := range c.Gitea.Repos {
		out = append(out, r.Name)
	}
	return out
}

// Repo returns the configuration of a watched repository (case-insensitive,
// as Gitea treats owner and repository names).
func (c *Config) Repo(fullName string) (Repo, bool) {
	for _, r := range c.Gitea.Repos {
		if strings.EqualFold(r.Name, fullName) {
			return r, true
		}
	}
	return Repo{}, false
}

func parseBool(s string) (bool, error) { return strconv.ParseBool(strings.TrimSpace(s)) }
