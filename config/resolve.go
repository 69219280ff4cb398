package config

import (
	"fmt"
	"net/url"
	"regexp"
)

// Resolve fills the defaults that depend on other keys and compiles every
// pattern, once, so that consumers read typed, resolved values: approval
// mode and review bot, skip_drafts, the development-group pattern and the
// build-ready review body, SMELT's Gitea host. Load calls it after validation; app.New calls it
// again for configurations built in code. It is idempotent.
func (c *Config) Resolve() error {
	if c.Gitea.Approval.Mode == "" {
		c.Gitea.Approval.Mode = "review"
	}
	if c.Gitea.Approval.ReviewBot == "" {
		c.Gitea.Approval.ReviewBot = c.Gitea.BotLogin
	}
	if c.OpenQA.DevGroupPattern != "" {
		re, err := regexp.Compile(c.OpenQA.DevGroupPattern)
		if err != nil {
			return fmt.Errorf("openqa.dev_group_pattern: %q is not a regular expression: %w", c.OpenQA.DevGroupPattern, err)
		}
		c.OpenQA.DevGroups = re
	}
	if c.SMELT.Enabled() && c.SMELT.GiteaHost == "" {
		u, err := url.Parse(c.Gitea.URL)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("smelt.gitea_host: required when gitea.url (%q) names no host", c.Gitea.URL)
		}
		c.SMELT.GiteaHost = u.Hostname()
	}
	for i := range c.Gitea.Repos {
		r := &c.Gitea.Repos[i]
		if r.SkipDrafts == nil {
			skip := true
			r.SkipDrafts = &skip
		}
		if sig := r.BuildReady.Review; sig != nil {
			re, err := regexp.Compile(sig.Body)
			if err != nil {
				return fmt.Errorf("gitea.repos[%d].build_ready.review.body: %q is not a regular expression: %w", i, sig.Body, err)
			}
			sig.BodyPattern = re
		}
	}
	return nil
}

// SkipsDrafts says whether the repository's draft PRs wait until they are
// marked ready (skip_drafts, default true).
func (r Repo) SkipsDrafts() bool { return r.SkipDrafts == nil || *r.SkipDrafts }
