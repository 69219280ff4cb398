package metadata_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/metadata"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestHolderReload(t *testing.T) {
	t.Parallel()
	dir := writeDir(t, map[string]string{"p.yml": "product: A\nsettings: {DISTRI: sle, VERSION: '1'}\n"})
	clock := &fakeClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	h := metadata.NewHolder(dir, metadata.Options{}, clock.Now)
	require.Nil(t, h.Current(), "nothing before the first reload")

	require.NoError(t, h.Reload())
	first := h.Current()
	require.NotNil(t, first)
	_, ok := first.Product("A")
	require.True(t, ok)
	require.Equal(t, clock.Now(), h.LastReload())
	require.Equal(t, clock.Now(), h.LastSuccess())
	require.NoError(t, h.LastError())

	// A broken commit: the good set stays, the error and its time are recorded.
	clock.Advance(time.Minute)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.yml"), []byte("product: A\nsettings: {DISTRI: sle}\n"), 0o600))
	err := h.Reload()
	require.ErrorIs(t, err, metadata.ErrInvalid)
	require.Same(t, first, h.Current())
	require.ErrorIs(t, h.LastError(), metadata.ErrInvalid)
	require.Equal(t, clock.Now(), h.LastReload())
	require.Equal(t, clock.Now().Add(-time.Minute), h.LastSuccess())
	require.Len(t, h.Problems(), 1)

	// Fixed: the new set is swapped in.
	clock.Advance(time.Minute)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.yml"), []byte("product: B\nsettings: {DISTRI: sle, VERSION: '2'}\n"), 0o600))
	require.NoError(t, h.Reload())
	require.NotSame(t, first, h.Current())
	_, ok = h.Current().Product("B")
	require.True(t, ok)
	require.NoError(t, h.LastError())
	require.Empty(t, h.Problems())
}

func TestHolderConcurrentReads(t *testing.T) {
	t.Parallel()
	h := metadata.NewHolder("testdata/qem-bot", metadata.Options{}, nil)
	require.NoError(t, h.Reload())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				require.NotNil(t, h.Current())
			}
		})
	}
	for range 5 {
		require.NoError(t, h.Reload())
	}
	wg.Wait()
	require.False(t, h.LastReload().IsZero())
}
