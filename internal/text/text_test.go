package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestRunes(t *testing.T) {
	t.Parallel()
	require.Equal(t, "héllo", Runes("héllo", 5))
	require.Equal(t, "hél…", Runes("héllo", 4))
	require.Equal(t, "a…", Runes("a b", 2), "no space before the mark")
	require.Equal(t, "", Runes("abc", 0))
	cut := Runes(strings.Repeat("é", 300), 140)
	require.True(t, utf8.ValidString(cut))
	require.Equal(t, 140, utf8.RuneCountInString(cut))
}

func TestBytes(t *testing.T) {
	t.Parallel()
	require.Equal(t, "abc", Bytes("abc", 3))
	s := strings.Repeat("é", 10) // 20 bytes
	for n := 4; n < 20; n++ {
		cut := Bytes(s, n)
		require.True(t, utf8.ValidString(cut), "n=%d", n)
		require.LessOrEqual(t, len(cut), n, "n=%d", n)
		require.True(t, strings.HasSuffix(cut, Ellipsis))
	}
	require.Equal(t, "", Bytes("abcdef", 2))
}
