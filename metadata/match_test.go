package metadata_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/metadata"
)

func TestPackageRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules []string
		pkgs  []string
		want  bool
	}{
		{"prefix matches", []string{"kernel-"}, []string{"kernel-default"}, true},
		{"prefix matches itself", []string{"openssl"}, []string{"openssl"}, true},
		{"prefix does not match the middle", []string{"ssl"}, []string{"openssl-3"}, false},
		{"exact matches only the name", []string{"=openssl"}, []string{"openssl-3"}, false},
		{"exact matches", []string{"=openssl"}, []string{"vim", "openssl"}, true},
		{"livepatch tools never match a prefix", []string{"kernel-"}, []string{"kernel-livepatch-tools"}, false},
		{"livepatch tools never match exactly", []string{"=kernel-livepatch-tools"}, []string{"kernel-livepatch-tools"}, false},
		{"other livepatch packages match", []string{"kernel-livepatch"}, []string{"kernel-livepatch-tools", "kernel-livepatch-6_4-1"}, true},
		{"empty list matches nothing", nil, []string{"vim"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := metadata.NewPackageList(tt.rules...)
			require.Equal(t, tt.want, l.MatchesAny(tt.pkgs))
			require.Equal(t, tt.want, l.Allows(tt.pkgs), "a defined allowlist allows only matches")
			require.Equal(t, tt.want, l.Excludes(tt.pkgs))
		})
	}
}

func TestPackageListUndefined(t *testing.T) {
	t.Parallel()
	var l metadata.PackageList
	require.True(t, l.Allows([]string{"anything"}))
	require.False(t, l.Excludes([]string{"anything"}))
	pkg, rule, ok := metadata.NewPackageList("vi", "=vim").Match([]string{"emacs", "vim"})
	require.True(t, ok)
	require.Equal(t, "vim", pkg)
	require.Equal(t, "vi", rule.String())
	require.Equal(t, "=vim", metadata.ParsePackageRule("=vim").String())
}

func TestParseChannels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		pull    bool
		want    metadata.Channel
		wantErr bool
	}{
		{in: "SLFO:1.1.99#16.0", want: metadata.Channel{Product: "SLFO", Version: "1.1.99", ProductVersion: "16.0"}},
		{in: "SLFO:1.1.99:PullRequest:124:SLES#15.99", want: metadata.Channel{Product: "SLFO", Version: "1.1.99:PullRequest:124:SLES", ProductVersion: "15.99"}},
		{in: "SLES:15-SP7", want: metadata.Channel{Product: "SLES", Version: "15-SP7"}},
		{in: "SLFO", wantErr: true},
		{in: "SLFO:", wantErr: true},
		{in: "SLFO:#16.0", wantErr: true},
		{in: "SUSE:SLFO:1.1.99:PullRequest:124:SLES:x86_64#16.0", pull: true,
			want: metadata.Channel{Product: "SUSE:SLFO", Version: "1.1.99:PullRequest:124:SLES", Arch: "x86_64", ProductVersion: "16.0"}},
		{in: "SUSE:SLFO:1.1.99#16.0", pull: true, wantErr: true},
		{in: "SUSE:Updates:SLE-Module-Basesystem:15-SP5:aarch64", pull: true,
			want: metadata.Channel{Product: "SLE-Module-Basesystem", Version: "15-SP5", Arch: "aarch64"}},
		{in: "SUSE:Updates:SLE-Module-Basesystem:15-SP5", pull: true,
			want: metadata.Channel{Product: "SLE-Module-Basesystem", Version: "15-SP5", Arch: "x86_64"}},
		{in: "SUSE:Updates:X", pull: true, wantErr: true},
		{in: "SLFO:1.2#6.2", pull: true, want: metadata.Channel{Product: "SLFO", Version: "1.2", ProductVersion: "6.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			parse := metadata.ParseIssueChannel
			if tt.pull {
				parse = metadata.ParsePullChannel
			}
			got, err := parse(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestChannelMatchesIssue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		channel string
		issue   string
		arch    string
		want    bool
	}{
		{"slfo same product version", "SLFO:1.1.99#16.0", "SLFO:1.1.99#16.0", "x86_64", true},
		{"slfo product version decides alone", "SLFO:1.1.99#16.0", "SLFO:1.2#16.0", "x86_64", true},
		{"slfo other product version", "SLFO:1.2#6.2", "SLFO:1.1.99#16.0", "x86_64", false},
		{"slfo project prefix without product version", "SUSE:SLFO:1.1.99:PullRequest:124:SLES:x86_64#16.0", "SLFO:1.1.99", "x86_64", true},
		{"slfo project prefix mismatch", "SUSE:SLFO:1.2:PullRequest:7:SLES:x86_64#6.2", "SLFO:1.1.99", "x86_64", false},
		{"slfo channel of another arch", "SUSE:SLFO:1.1.99:PullRequest:124:SLES:aarch64#16.0", "SLFO:1.1.99#16.0", "x86_64", false},
		{"updates exact", "SUSE:Updates:SLES:15-SP7:x86_64", "SLES:15-SP7", "x86_64", true},
		{"updates other arch", "SUSE:Updates:SLES:15-SP7:s390x", "SLES:15-SP7", "x86_64", false},
		{"updates other version", "SUSE:Updates:SLES:15-SP6:x86_64", "SLES:15-SP7", "x86_64", false},
		{"updates issue never matches slfo channel", "SLFO:1.1.99#16.0", "SLES:16.0", "x86_64", false},
		{"slfo issue never matches updates channel", "SUSE:Updates:SLES:16.0:x86_64", "SLFO:1.1.99", "x86_64", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := metadata.ParsePullChannel(tt.channel)
			require.NoError(t, err)
			i, err := metadata.ParseIssueChannel(tt.issue)
			require.NoError(t, err)
			require.Equal(t, tt.want, c.MatchesIssue(i, tt.arch))
			got := metadata.MatchChannels(i, []metadata.Channel{c}, tt.arch)
			require.Equal(t, tt.want, len(got) == 1)
		})
	}
}

func TestChannelString(t *testing.T) {
	t.Parallel()
	c, err := metadata.ParsePullChannel("SUSE:SLFO:1.1.99:PullRequest:124:SLES:x86_64#16.0")
	require.NoError(t, err)
	require.Equal(t, "SUSE:SLFO:1.1.99:PullRequest:124:SLES:x86_64#16.0", c.String())
	require.Equal(t, metadata.ChannelSLFO, c.Type())
	require.Equal(t, metadata.ChannelOpenSUSE, metadata.TypeOfProduct("openSUSE-SLE"))
	require.Equal(t, metadata.ChannelUpdates, metadata.TypeOfProduct("SLES"))
}
