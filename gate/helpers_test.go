package gate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/gate"
)

func TestSortPackages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"shorter first", []string{"openssl-3", "openssl"}, []string{"openssl", "openssl-3"}},
		{"sub-packages last", []string{"libfoo1-devel", "libfoo1-debuginfo", "foo-x86_64", "foobarbaz"}, []string{"foobarbaz", "foo-x86_64", "libfoo1-devel", "libfoo1-debuginfo"}},
		{"livepatch sub-packages last", []string{"kernel-default-livepatch-devel", "kernel-default"}, []string{"kernel-default", "kernel-default-livepatch-devel"}},
		{"ties by name, unique, trimmed", []string{"vim", " gcc ", "vim", ""}, []string{"gcc", "vim"}},
		{"empty", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, gate.SortPackages(tt.in))
		})
	}
}

func TestIsLivepatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkgs []string
		want bool
	}{
		{[]string{"kernel-livepatch-SLE16_Update_3"}, true},
		{[]string{"kgraft-patch-4_12_14-122_37-default"}, true},
		{[]string{"kernel-livepatch-x", "kernel-default"}, false},
		{[]string{"kernel-source", "kernel-livepatch-x"}, false},
		{[]string{"openssl"}, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, gate.IsLivepatch(tt.pkgs), "%v", tt.pkgs)
	}
}

func TestPackagesFromPatchinfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		xml     string
		want    []string
		wantErr bool
	}{
		{
			name: "obs patchinfo",
			xml: `<patchinfo incident="38190">
  <issue tracker="bnc" id="1234567">VUL-0: CVE-2026-0001: openssl: foo</issue>
  <packager>maint-coord</packager>
  <category>security</category>
  <rating>important</rating>
  <summary>Security update for openssl-3</summary>
  <description>This update fixes ...</description>
  <package>openssl-3</package>
  <package>libopenssl3</package>
  <package> openssl-3 </package>
</patchinfo>`,
			want: []string{"libopenssl3", "openssl-3"},
		},
		{name: "no packages", xml: `<patchinfo><category>recommended</category></patchinfo>`, want: []string{}},
		{name: "wrong root", xml: `<project name="x"/>`, wantErr: true},
		{name: "broken xml", xml: `<patchinfo><package>x</patchinfo>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := gate.PackagesFromPatchinfo([]byte(tt.xml))
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestPackagesFromPaths(t *testing.T) {
	t.Parallel()
	got := gate.PackagesFromPaths([]string{
		"openssl-3/openssl-3.spec", "openssl-3/openssl-3.changes", "vim", "./curl/curl.spec",
		"_patchinfo", ".gitmodules", "README.md", "_config", "LICENSE", "docs.yaml", "python311/sub/dir/x",
	})
	require.Equal(t, []string{"curl", "openssl-3", "python311", "vim"}, got)
	require.Empty(t, gate.PackagesFromPaths(nil))
}

func TestPriorityFromLabels(t *testing.T) {
	t.Parallel()
	mapping := map[string]int{"priority/high": 700, "priority/low": 300, "priority/critical": 900}
	tests := []struct {
		name          string
		labels        []string
		def           int
		wantPriority  int
		wantEmergency bool
	}{
		{"default", nil, 0, 550, false},
		{"custom default", []string{"other"}, 400, 400, false},
		{"mapped", []string{"priority/low"}, 0, 300, false},
		{"highest wins", []string{"priority/low", "priority/critical", "priority/high"}, 0, 900, false},
		{"case-insensitive", []string{"Priority/High"}, 0, 700, false},
		{"emergency", []string{"Emergency"}, 0, 550, true},
		{"emergency and priority", []string{"emergency", "priority/high"}, 0, 700, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, e := gate.PriorityFromLabels(tt.labels, mapping, []string{"emergency"}, tt.def)
			require.Equal(t, tt.wantPriority, p)
			require.Equal(t, tt.wantEmergency, e)
		})
	}
}

func TestJobPriority(t *testing.T) {
	t.Parallel()
	forty := 40
	tests := []struct {
		name      string
		flavor    string
		override  *int
		priority  int
		emergency bool
		want      int
	}{
		{"qem-bot example: SMELT 500 on a normal flavor", "Server-DVD-Incidents", nil, 500, false, 35},
		{"default PR priority", "Online-Incidents", nil, 550, false, 33},
		{"minimal flavor", "Server-DVD-Minimal", nil, 0, false, 55},
		{"emergency", "Online-Incidents", nil, 0, true, 30},
		{"emergency with priority", "Online-Incidents", nil, 700, true, -5},
		{"override wins", "Online-Incidents", &forty, 900, true, 40},
		{"negative priority floors like python", "Online-Incidents", nil, -1, false, 61},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, gate.JobPriority(tt.flavor, tt.override, tt.priority, tt.emergency))
		})
	}
}

func TestAggregatePriority(t *testing.T) {
	t.Parallel()
	p, ok := gate.AggregatePriority(700)
	require.True(t, ok)
	require.Equal(t, 15, p)
	_, ok = gate.AggregatePriority(0)
	require.False(t, ok)
}

func TestRepoURL(t *testing.T) {
	t.Parallel()
	got := gate.RepoURL("http://dl/ibs/{staging_project_path}/product/repo/{product_repo}-{product_version}-{arch}/?pr={number}&p={staging_project}&x={other}",
		gate.RepoVars{Number: 7, ProductVersion: "16.0", Arch: "s390x", ProductRepo: "SLES-SAP", StagingProject: "SUSE:SLFO:1.1.99:PullRequest:{number}"})
	require.Equal(t, "http://dl/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/7/product/repo/SLES-SAP-16.0-s390x/?pr=7&p=SUSE:SLFO:1.1.99:PullRequest:7&x={other}", got)
}

func TestPullRef(t *testing.T) {
	t.Parallel()
	require.Equal(t, "products/SLFO#1@2c8a2689d0b5", gate.Pull{Repo: "products/SLFO", Number: 1, HeadSHA: "2c8a2689d0b5d0b9"}.Ref())
	require.Equal(t, "https://q.test/pulls/products/SLFO/1", gate.DashboardURL("https://q.test/", "products/SLFO", 1))
}

func TestParsePatchinfoEmbargo(t *testing.T) {
	t.Parallel()
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return &v
	}
	tests := []struct {
		name string
		date string
		want *time.Time
	}{
		{"no embargo", "", nil},
		{"a day lasts to its end", "2026-12-24", at("2026-12-25T00:00:00Z")},
		{"date and time, UTC", "2026-12-24 13:30", at("2026-12-24T13:30:00Z")},
		{"with seconds", "2026-12-24 13:30:15", at("2026-12-24T13:30:15Z")},
		{"RFC 3339 with a zone", "2026-12-24T13:30:00+02:00", at("2026-12-24T11:30:00Z")},
		{"unreadable holds until told otherwise", "next tuesday", &gate.EmbargoForever},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := `<patchinfo incident="7"><package>openssl-3</package><package>openssl-3</package>`
			if tt.date != "" {
				raw += "<embargo_date>" + tt.date + "</embargo_date>"
			}
			raw += `<category>security</category></patchinfo>`
			pi, err := gate.ParsePatchinfo([]byte(raw))
			require.NoError(t, err)
			require.Equal(t, []string{"openssl-3"}, pi.Packages)
			if tt.want == nil {
				require.Nil(t, pi.EmbargoUntil)
				return
			}
			require.NotNil(t, pi.EmbargoUntil)
			require.True(t, tt.want.Equal(*pi.EmbargoUntil), "%s != %s", pi.EmbargoUntil, tt.want)
		})
	}
	until := time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)
	require.True(t, gate.Embargoed(&until, until.Add(-time.Second)))
	require.False(t, gate.Embargoed(&until, until), "lifted at its end")
	require.False(t, gate.Embargoed(nil, until))
}
