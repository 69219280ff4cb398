package jobs

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/forge"
)

func TestRetryWrite(t *testing.T) {
	t.Parallel()
	unavailable := &forge.Error{Op: "create_status", Status: 503}
	refused := &forge.Error{Op: "create_review", Status: 422}
	tests := []struct {
		name   string
		errs   []error // what each try returns; nil = success
		cancel bool
		tries  int
		ok     bool
	}{
		{"first try", []error{nil}, false, 1, true},
		{"after two 5xx", []error{unavailable, unavailable, nil}, false, 3, true},
		{"a 4xx is not tried again", []error{refused, nil}, false, 1, false},
		{"gives up after writeTries", []error{unavailable, unavailable, unavailable, unavailable, nil}, false, writeTries, false},
		{"a cancelled job stops", []error{unavailable, nil}, true, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			tries := 0
			id, err := retryWrite(ctx, func() (int64, error) {
				err := tc.errs[tries]
				tries++
				if err != nil {
					return 0, err
				}
				return 42, nil
			})
			require.Equal(t, tc.tries, tries)
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, int64(42), id)
			} else {
				require.Error(t, err)
			}
		})
	}
}
