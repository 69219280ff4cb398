package gate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOlderJobOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build string
		older []OlderJob
		want  bool
	}{
		{"no older job", "20261125-2", nil, false},
		{"an older pass that included the PR", "20261125-2", []OlderJob{{ID: 10, Build: "20261125-1", Result: "passed", IncludesPull: true}}, true},
		{"softfailed counts as ok", "20261125-2", []OlderJob{{ID: 10, Build: "20261124-1", Result: "softfailed", IncludesPull: true}}, true},
		{"an older pass without the PR", "20261125-2", []OlderJob{{ID: 10, Build: "20261125-1", Result: "passed"}}, false},
		{"failures are passed over", "20261125-3", []OlderJob{
			{ID: 12, Build: "20261125-2", Result: "failed", IncludesPull: true},
			{ID: 11, Build: "20261124-1", Result: "incomplete", IncludesPull: true},
			{ID: 10, Build: "20261122-1", Result: "passed", IncludesPull: true},
		}, true},
		{"the newest ok job decides", "20261125-3", []OlderJob{
			{ID: 10, Build: "20261123-1", Result: "passed", IncludesPull: true},
			{ID: 11, Build: "20261124-1", Result: "passed", IncludesPull: false},
		}, false},
		{"six days back is still in", "20261125-1", []OlderJob{{ID: 10, Build: "20261119-4", Result: "passed", IncludesPull: true}}, true},
		{"seven days back is out", "20261125-1", []OlderJob{{ID: 10, Build: "20261118-1", Result: "passed", IncludesPull: true}}, false},
		{"an older job past the window ends the walk", "20261125-1", []OlderJob{
			{ID: 11, Build: "20261101-1", Result: "failed"},
			{ID: 10, Build: "20261124-1", Result: "passed", IncludesPull: true},
		}, false},
		{"not an aggregate build", ":git:12:openssl", []OlderJob{{ID: 10, Build: "20261124-1", Result: "passed", IncludesPull: true}}, false},
		{"an older build that is not a date", "20261125-1", []OlderJob{{ID: 10, Build: "latest", Result: "passed", IncludesPull: true}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, OlderJobOK(tt.build, tt.older))
		})
	}
}
