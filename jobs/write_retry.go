package jobs

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/qemgate/qemgate/forge"
)

// A Gitea write is tried up to writeTries times inside one job attempt,
// writeBackoff·2ⁿ apart (with jitter, at most maxWriteBackoff), before the
// attempt is given back to River. Six calls that each fail now and then
// would otherwise fail the whole job most of the time, and River's backoff
// between attempts is far longer than a blip.
const (
	writeTries      = 4
	writeBackoff    = 250 * time.Millisecond
	maxWriteBackoff = 2 * time.Second
)

// retryWrite runs do until it succeeds, fails for good, or writeTries are
// used up. do must look at Gitea before it writes (our review, comment or
// status at the SHA), so that a try whose answer was lost is found by the
// next one instead of being written twice.
func retryWrite(ctx context.Context, do func() (int64, error)) (int64, error) {
	for try := 1; ; try++ {
		id, err := do()
		if err == nil || try >= writeTries || !forge.IsRetryable(err) || ctx.Err() != nil {
			return id, err
		}
		d := min(writeBackoff<<(try-1), maxWriteBackoff)
		d += rand.N(d/4 + 1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return id, err
		case <-t.C:
		}
	}
}
