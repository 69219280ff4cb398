package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// placeholders are what example files put where a secret goes.
var placeholders = []string{"change-me", "changeme", "replace-me", "replaceme"}

func isPlaceholder(v string) bool {
	v = strings.ToLower(v)
	for _, p := range placeholders {
		if strings.Contains(v, p) {
			return true
		}
	}
	return false
}

// ServeProblems lists what keeps this configuration from serving, each
// naming its key: a receiver or the admin API that is on but has no secret
// (it would refuse everything with 401, and say nothing at start), and a
// secret that is still an example's placeholder. Other commands do not
// need the secrets, so Load does not ask for them.
func (c *Config) ServeProblems() []string {
	var p []string
	nonEmpty := func(vs []string) bool {
		for _, v := range vs {
			if strings.TrimSpace(v) != "" {
				return true
			}
		}
		return false
	}
	if !c.Webhooks.GiteaDisabled && !nonEmpty(c.Gitea.WebhookSecrets) {
		p = append(p, "QEMGATE_GITEA_WEBHOOK_SECRET: required to receive Gitea webhooks (gitea.webhook_secrets or QEMGATE_GITEA_WEBHOOK_SECRET_FILE), or switch the receiver off with webhooks.gitea_disabled: true")
	}
	if !c.Webhooks.OpenQADisabled && strings.TrimSpace(c.OpenQA.CallbackToken) == "" {
		p = append(p, "QEMGATE_OPENQA_CALLBACK_TOKEN: required to receive openQA callbacks (openqa.callback_token or QEMGATE_OPENQA_CALLBACK_TOKEN_FILE), or switch the receiver off with webhooks.openqa_disabled: true")
	}
	if !c.AdminDisabled && strings.TrimSpace(c.AdminToken) == "" {
		p = append(p, "QEMGATE_ADMIN_TOKEN: required for the admin API (admin_token or QEMGATE_ADMIN_TOKEN_FILE), or switch it off with admin_disabled: true")
	}
	secrets := map[string]string{
		"QEMGATE_ADMIN_TOKEN":           c.AdminToken,
		"QEMGATE_GITEA_TOKEN":           c.Gitea.Token,
		"QEMGATE_OPENQA_SECRET":         c.OpenQA.Secret,
		"QEMGATE_OPENQA_CALLBACK_TOKEN": c.OpenQA.CallbackToken,
	}
	for i, s := range c.Gitea.WebhookSecrets {
		secrets[fmt.Sprintf("QEMGATE_GITEA_WEBHOOK_SECRET (secret %d)", i+1)] = s
	}
	for _, key := range slices.Sorted(maps.Keys(secrets)) {
		if isPlaceholder(secrets[key]) {
			p = append(p, key+": is an example's placeholder, not a secret; set a real one (make run generates throwaway ones)")
		}
	}
	return p
}
