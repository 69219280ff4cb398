package jobs

import (
	"context"
	"log/slog"
)

// RiverLogger is the logger River and River UI get: their own info lines
// (a producer's job counts every few seconds, each job's start and end,
// each UI request) are logged at debug, where they do not drown ours; their
// warnings and errors stay as they are. Our workers log what a job did.
func RiverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(demoted{l.Handler()})
}

// demoted logs every record below WARN at DEBUG.
type demoted struct{ h slog.Handler }

func demote(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (d demoted) Enabled(ctx context.Context, l slog.Level) bool {
	return d.h.Enabled(ctx, demote(l))
}

func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return d.h.Handle(ctx, r)
}

func (d demoted) WithAttrs(attrs []slog.Attr) slog.Handler { return demoted{d.h.WithAttrs(attrs)} }
func (d demoted) WithGroup(name string) slog.Handler       { return demoted{d.h.WithGroup(name)} }
