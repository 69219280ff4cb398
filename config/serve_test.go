package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServeProblems(t *testing.T) {
	t.Parallel()
	complete := func() Config {
		c := Default()
		c.Gitea.WebhookSecrets = []string{"2757e7e7a3c55384"}
		c.OpenQA.CallbackToken = "611bcbd2e3773c05"
		c.AdminToken = "fb617132dd7bcfee"
		return c
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"every secret set", func(*Config) {}, nil},
		{"no webhook secret", func(c *Config) { c.Gitea.WebhookSecrets = []string{" "} },
			[]string{"QEMGATE_GITEA_WEBHOOK_SECRET: required to receive Gitea webhooks"}},
		{"the Gitea receiver switched off", func(c *Config) { c.Gitea.WebhookSecrets, c.Webhooks.GiteaDisabled = nil, true }, nil},
		{"no callback token", func(c *Config) { c.OpenQA.CallbackToken = "" },
			[]string{"QEMGATE_OPENQA_CALLBACK_TOKEN: required to receive openQA callbacks"}},
		{"the openQA receiver switched off", func(c *Config) { c.OpenQA.CallbackToken, c.Webhooks.OpenQADisabled = "", true }, nil},
		{"no admin token", func(c *Config) { c.AdminToken = "" },
			[]string{"QEMGATE_ADMIN_TOKEN: required for the admin API"}},
		{"the admin API switched off", func(c *Config) { c.AdminToken, c.AdminDisabled = "", true }, nil},
		{"nothing at all", func(c *Config) { c.Gitea.WebhookSecrets, c.OpenQA.CallbackToken, c.AdminToken = nil, "", "" },
			[]string{"QEMGATE_GITEA_WEBHOOK_SECRET: required", "QEMGATE_OPENQA_CALLBACK_TOKEN: required", "QEMGATE_ADMIN_TOKEN: required"}},
		{"placeholders", func(c *Config) {
			c.Gitea.WebhookSecrets = []string{"real-one", "change-me-webhook-secret"}
			c.AdminToken = "Change-Me-admin-token"
			c.OpenQA.Secret = "REPLACE-ME"
			c.Gitea.Token = "changeme"
		}, []string{
			"QEMGATE_ADMIN_TOKEN: is an example's placeholder",
			"QEMGATE_GITEA_TOKEN: is an example's placeholder",
			"QEMGATE_GITEA_WEBHOOK_SECRET (secret 2): is an example's placeholder",
			"QEMGATE_OPENQA_SECRET: is an example's placeholder",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := complete()
			tt.mutate(&c)
			got := c.ServeProblems()
			require.Len(t, got, len(tt.want), "%q", got)
			for i, w := range tt.want {
				require.Contains(t, got[i], w)
			}
		})
	}
}
