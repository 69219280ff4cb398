package nonnil

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSlice(t *testing.T) {
	t.Parallel()
	var none []int64
	b, err := json.Marshal(Slice(none))
	require.NoError(t, err)
	require.Equal(t, "[]", string(b))
	some := []string{"a"}
	require.Equal(t, some, Slice(some))
}
