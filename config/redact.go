package config

import "net/url"

// redacted stands for a secret that is set; an unset one stays empty so the
// log still tells whether it was configured.
const redacted = "[redacted]"

// Redacted returns a copy that is safe to log: every secret is replaced.
func (c Config) Redacted() Config {
	r := c
	hide := func(s *string) {
		if *s != "" {
			*s = redacted
		}
	}
	if r.DatabaseURL != "" {
		r.DatabaseURL = redactURL(r.DatabaseURL)
	}
	hide(&r.AdminToken)
	hide(&r.Gitea.Token)
	hide(&r.OpenQA.Secret)
	hide(&r.OpenQA.CallbackToken)
	hide(&r.OBS.Password)
	hide(&r.OBS.Token)
	if len(r.Gitea.WebhookSecrets) > 0 {
		s := make([]string, len(r.Gitea.WebhookSecrets))
		for i := range s {
			s[i] = redacted
		}
		r.Gitea.WebhookSecrets = s
	}
	return r
}

// redactURL keeps the host and database of a URL but hides any password,
// also one given as a query parameter.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
