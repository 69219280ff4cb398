package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAMQP(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"QEMGATE_DATABASE_URL": minimalDB,
		"QEMGATE_GITEA_REPOS":  "products/SLFO,products/PackageHub,pool/openssl",
		"QEMGATE_AMQP_URL":     "amqps://qemgate:s3cret@rabbit.example.test/",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	t.Run("defaults: the queue, and bindings for openQA and each watched organisation", func(t *testing.T) {
		c, err := Load("", env(base))
		require.NoError(t, err)
		require.True(t, c.AMQP.Enabled())
		require.Equal(t, "pubsub", c.AMQP.Exchange)
		require.Equal(t, "qemgate", c.AMQP.Queue)
		require.Contains(t, c.AMQP.Bindings, "suse.openqa.job.done")
		require.Contains(t, c.AMQP.Bindings, "suse.openqa.comment.create")
		require.Contains(t, c.AMQP.Bindings, "suse.src.products.pull_request.#")
		require.Contains(t, c.AMQP.Bindings, "suse.src.pool.status.#")
		require.NotContains(t, c.AMQP.Bindings, "suse.openqa.job.create", "job.create says nothing a gate needs")
		products := 0
		for _, b := range c.AMQP.Bindings {
			if strings.HasPrefix(b, "suse.src.products.") {
				products++
			}
		}
		require.Equal(t, len(giteaAMQPEvents), products, "one organisation is bound once, however many of its repositories are watched")
	})
	t.Run("an empty prefix in YAML binds bare keys", func(t *testing.T) {
		c, err := Load(writeFile(t, "q.yaml", "amqp:\n  topic_prefix: \"\"\n"), env(base))
		require.NoError(t, err)
		require.Contains(t, c.AMQP.Bindings, "openqa.job.done")
		require.Contains(t, c.AMQP.Bindings, "src.products.pull_request_sync.#")
	})
	t.Run("bindings given are kept as they are", func(t *testing.T) {
		c, err := Load("", env(with(map[string]string{"QEMGATE_AMQP_BINDINGS": "opensuse.openqa.#"})))
		require.NoError(t, err)
		require.Equal(t, []string{"opensuse.openqa.#"}, c.AMQP.Bindings)
	})
	t.Run("the URL is read from a file", func(t *testing.T) {
		m := with(map[string]string{"QEMGATE_AMQP_URL_FILE": writeFile(t, "url", "amqp://u:p@h:5673/vhost\n")})
		delete(m, "QEMGATE_AMQP_URL")
		c, err := Load("", env(m))
		require.NoError(t, err)
		require.Equal(t, "amqp://u:p@h:5673/vhost", c.AMQP.URL)
	})
	t.Run("the password never reaches the logged configuration", func(t *testing.T) {
		c, err := Load("", env(base))
		require.NoError(t, err)
		require.NotContains(t, c.Redacted().AMQP.URL, "s3cret")
		require.Contains(t, c.Redacted().AMQP.URL, "rabbit.example.test")
	})
	for _, tt := range []struct {
		name, key, value, problem string
	}{
		{"not an AMQP URL", "QEMGATE_AMQP_URL", "http://rabbit", "QEMGATE_AMQP_URL: is not an amqp://"},
		{"no queue", "QEMGATE_AMQP_QUEUE", " ", "QEMGATE_AMQP_QUEUE"},
		{"more workers than prefetch", "QEMGATE_AMQP_WORKERS", "64", "QEMGATE_AMQP_WORKERS: 64 is not between 1 and amqp.prefetch (32)"},
		{"a CA file that does not exist", "QEMGATE_AMQP_CA_FILE", "/nonexistent/ca.pem", "QEMGATE_AMQP_CA_FILE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := with(map[string]string{tt.key: tt.value})
			if tt.key == "QEMGATE_AMQP_QUEUE" {
				_, err := Load(writeFile(t, "q.yaml", "amqp:\n  queue: \"\"\n"), env(base))
				require.ErrorContains(t, err, tt.problem)
				return
			}
			_, err := Load("", env(m))
			require.ErrorContains(t, err, tt.problem)
			require.NotContains(t, err.Error(), "s3cret")
		})
	}
}
