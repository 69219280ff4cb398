package pullref

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, repo string
		number     int64
		sha, want  string
	}{
		{"full SHA is cut to 12", "products/SLFO", 124, "2c8a268954a01e42748e9153707e65808dee20e4", "products/SLFO#124@2c8a268954a0"},
		{"short SHA is kept", "products/SLFO", 1, "abc123", "products/SLFO#1@abc123"},
		{"no SHA", "products/SLFO", 7, "", "products/SLFO#7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Format(tt.repo, tt.number, tt.sha))
		})
	}
}
