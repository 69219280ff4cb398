package smelt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/smeltfake"
	"github.com/qemgate/qemgate/smelt"
)

func TestKeyAndURL(t *testing.T) {
	t.Parallel()
	key := smelt.Key("src.suse.de", "products/SLFO", 124)
	require.Equal(t, "src.suse.de:products:SLFO:124", key)
	require.Equal(t, "https://smelt.suse.de/api/experimental/v2/updates/src.suse.de%3Aproducts%3ASLFO%3A124",
		smelt.UpdateURL("https://smelt.suse.de/", key), "quoted like qem-bot's urllib quote")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	f := smeltfake.New("")
	t.Cleanup(f.Close)
	key := smelt.Key("src.suse.de", "products/SLFO", 124)
	prio := 700
	f.SetUpdate(key, smeltfake.Update{Priority: &prio, Emergency: true})
	f.SetUpdate(smelt.Key("src.suse.de", "products/SLFO", 125), smeltfake.Update{})
	ctx := context.Background()
	c := smelt.New(smelt.Config{URL: f.URL(), Backoff: time.Millisecond})

	u, err := c.Update(ctx, key)
	require.NoError(t, err)
	require.Equal(t, 700, *u.Priority)
	require.True(t, u.Emergency)

	u, err = c.Update(ctx, smelt.Key("src.suse.de", "products/SLFO", 125))
	require.NoError(t, err)
	require.Nil(t, u.Priority, "null priority")

	u, err = c.Update(ctx, smelt.Key("src.suse.de", "products/SLFO", 999))
	require.NoError(t, err)
	require.Nil(t, u, "404 is unknown, not an error")

	before := f.Requests()
	f.InjectFault(smeltfake.Fault{Status: 503, Times: 2})
	u, err = c.Update(ctx, key)
	require.NoError(t, err)
	require.NotNil(t, u)
	require.Equal(t, 3, f.Requests()-before, "two 503s retried")

	before = f.Requests()
	f.InjectFault(smeltfake.Fault{Status: 400, Times: 1})
	_, err = c.Update(ctx, key)
	require.Error(t, err)
	require.False(t, smelt.IsRetryable(err))
	require.Equal(t, 1, f.Requests()-before, "a 400 is not retried")

	f.InjectFault(smeltfake.Fault{Latency: 2 * time.Second, Times: 1})
	_, err = smelt.New(smelt.Config{URL: f.URL(), Timeout: 50 * time.Millisecond, Retries: -1}).Update(ctx, key)
	require.True(t, smelt.IsRetryable(err), "%v", err)
}

func TestUndecodable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"detail": "x"}`)) }))
	t.Cleanup(srv.Close)
	_, err := smelt.New(smelt.Config{URL: srv.URL}).Update(context.Background(), "k")
	require.ErrorContains(t, err, "no data")
}
