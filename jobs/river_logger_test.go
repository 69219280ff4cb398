package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRiverLoggerDemotesInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		level slog.Level // of our logger
		log   slog.Level // of River's line
		want  string     // the level logged, or "" for nothing
	}{
		{"info hidden at info", slog.LevelInfo, slog.LevelInfo, ""},
		{"debug hidden at info", slog.LevelInfo, slog.LevelDebug, ""},
		{"warn kept", slog.LevelInfo, slog.LevelWarn, "level=WARN"},
		{"error kept", slog.LevelInfo, slog.LevelError, "level=ERROR"},
		{"info shown as debug at debug", slog.LevelDebug, slog.LevelInfo, "level=DEBUG"},
		{"warn hidden at error", slog.LevelError, slog.LevelWarn, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := RiverLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level}))).
				With("component", "river").WithGroup("g")
			l.Log(context.Background(), tc.log, "producer: job counts", "queue", "default")
			if tc.want == "" {
				require.Empty(t, buf.String())
				return
			}
			require.Contains(t, buf.String(), tc.want)
			require.Contains(t, buf.String(), "component=river")
			require.Contains(t, buf.String(), "g.queue=default")
		})
	}
}
