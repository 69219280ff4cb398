package gate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	slesProject  = "SUSE:SLFO:1.1.99:PullRequest:124:SLES"
	microProject = "SUSE:SLFO:1.1.99:PullRequest:124:SL-Micro"
	headSHA      = "4c1e4d0e5b2f3a1d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d"
)

var rules = OBSRules{Repository: "product", Archs: []string{"x86_64", "aarch64", "ppc64le", "s390x"}}

func TestStagingProjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		comments []string
		template string
		want     []string
	}{
		{"links in the staging bot's comments, deduplicated",
			[]string{
				"Staging projects:\n* https://build.suse.de/project/show/" + slesProject + "\n* [micro](https://build.suse.de/project/show/" + microProject + ")",
				"Build successful. See https://build.suse.de/project/show/" + slesProject + ".",
			}, "SUSE:SLFO:1.1.99:PullRequest:{number}", []string{microProject, slesProject}},
		{"no link: the template", []string{"Build started"}, "SUSE:SLFO:1.1.99:PullRequest:{number}", []string{"SUSE:SLFO:1.1.99:PullRequest:124"}},
		{"neither", nil, "", nil},
		{"query and fragment are not part of the name",
			[]string{"https://build.suse.de/project/show/SUSE:SLFO:Main:PullRequest:7?tab=results#x"}, "", []string{"SUSE:SLFO:Main:PullRequest:7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, StagingProjects(tt.comments, tt.template, 124))
		})
	}
}

func TestRelevantArchsAndVersions(t *testing.T) {
	t.Parallel()
	flavors := []string{"sles_x86_64", "sles_aarch64", "sle_micro_s390x", "sles_riscv64", "sles_x86_64_offline"}
	require.Equal(t, []string{"aarch64", "x86_64"}, RelevantArchs("SLES", flavors, rules.Archs))
	require.Equal(t, []string{"s390x"}, RelevantArchs("SL-Micro", flavors, rules.Archs))
	require.Nil(t, RelevantArchs("", flavors, rules.Archs), "the PR's own project: every arch")
	require.Nil(t, RelevantArchs("SLES", nil, rules.Archs), "no _multibuild read: every arch")
	require.Empty(t, RelevantArchs("SLES-SAP", flavors, rules.Archs))

	require.Equal(t, "16.0", VersionFromSCMSync("https://src.suse.de/products/SLFO#16.0"))
	require.Equal(t, "15.99", VersionFromSCMSync("https://src.suse.de/products/SLES#15.99 "))
	require.Empty(t, VersionFromSCMSync("https://src.suse.de/products/SLFO#main"))
	require.Empty(t, VersionFromSCMSync("https://src.suse.de/pool/openssl#16.0"))

	names := []string{"repodata", "SLES-SAP-16.0-x86_64.iso", "SLES-16.1-x86_64-Build2.3-Media1.iso"}
	require.Equal(t, "16.1", VersionFromListing("SLES", names))
	require.Empty(t, VersionFromListing("SL-Micro", names))
}

// published is a result of the product repository with the given packages.
func published(arch string, pkgs ...OBSPackage) OBSResult {
	return OBSResult{Repository: "product", Arch: arch, Code: "published", State: "published",
		SCMSync: "https://src.suse.de/products/SLFO#16.0", SCMInfo: headSHA, Packages: pkgs}
}

var (
	ok       = OBSPackage{Name: "000productcompose:sles_x86_64", Code: "succeeded"}
	excluded = OBSPackage{Name: "000productcompose:sles_s390x", Code: "excluded"}
	broken   = OBSPackage{Name: "openssl-3", Code: "failed"}
)

func TestBuildFromOBS(t *testing.T) {
	t.Parallel()
	b := BuildFromOBS([]OBSProject{
		{Name: slesProject, Flavors: []string{"sles_x86_64", "sles_aarch64"}, Results: []OBSResult{
			published("x86_64", ok, excluded),
			published("aarch64", broken),
			published("s390x", ok), // not a flavor: ignored
			published("local", ok),
			{Repository: "standard", Arch: "x86_64", State: "building"}, // another repository: ignored
		}},
		{Name: microProject, Unavailable: "HTTP 404"},
	}, rules)
	require.Equal(t, []string{microProject, slesProject}, b.Projects)
	require.Equal(t, []string{microProject}, b.Unavailable)
	require.Equal(t, []string{slesProject + ":aarch64#16.0", slesProject + ":local", slesProject + ":x86_64#16.0"}, b.Channels)
	require.Equal(t, []string{"aarch64", "x86_64"}, b.Archs)
	require.Equal(t, "16.0", b.ProductVersion)
	require.Len(t, b.Results, 3)
	require.Equal(t, []string{"openssl-3 (failed)"}, b.Results[0].Failed)
	require.Equal(t, "SLES aarch64", b.Results[0].Name())

	t.Run("a concrete product without a version makes no channel", func(t *testing.T) {
		t.Parallel()
		r := published("x86_64", ok)
		r.SCMSync = ""
		b := BuildFromOBS([]OBSProject{{Name: slesProject, Results: []OBSResult{r}}}, rules)
		require.Empty(t, b.Channels)
		b = BuildFromOBS([]OBSProject{{Name: slesProject, Results: []OBSResult{r}, ListingVersion: "16.0"}}, rules)
		require.Equal(t, []string{slesProject + ":x86_64#16.0"}, b.Channels, "the listing's version")
		require.True(t, NeedsListingVersion(OBSProject{Name: slesProject, Results: []OBSResult{r}}, rules))
		require.False(t, NeedsListingVersion(OBSProject{Name: slesProject, Results: []OBSResult{published("x86_64")}}, rules))
	})
	t.Run("products that do not count still make channels", func(t *testing.T) {
		t.Parallel()
		b := BuildFromOBS([]OBSProject{{Name: microProject, Results: []OBSResult{published("x86_64", broken)}}},
			OBSRules{Repository: "product", Products: []string{"SLES"}, Archs: rules.Archs})
		require.Equal(t, []string{microProject + ":x86_64#16.0"}, b.Channels)
		require.Empty(t, b.Archs)
		require.False(t, b.Results[0].Counts)
	})
}

func TestBuildStatusOf(t *testing.T) {
	t.Parallel()
	project := func(rs ...OBSResult) Build {
		return BuildFromOBS([]OBSProject{{Name: slesProject, Results: rs}}, rules)
	}
	unpublished := published("x86_64", ok)
	unpublished.State, unpublished.Code = "building", "building"
	older := published("x86_64", ok)
	older.SCMInfo = "0123456789abcdef"
	tests := []struct {
		name    string
		build   Build
		allow   bool
		state   string
		reasons []string
	}{
		{"published and succeeded", project(published("x86_64", ok, excluded), published("aarch64", ok)), false, BuildReady, nil},
		{"one arch unpublished", project(published("aarch64", ok), unpublished), false, BuildUnpublished,
			[]string{"build of SLES x86_64 not published yet (building)"}},
		{"one arch failed", project(published("x86_64", ok), published("aarch64", broken, ok)), false, BuildFailed,
			[]string{"build of SLES aarch64 failed: openssl-3 (failed)"}},
		{"failed wins over unpublished", project(unpublished, published("aarch64", broken)), false, BuildFailed,
			[]string{"build of SLES aarch64 failed: openssl-3 (failed)"}},
		{"failures allowed", project(published("x86_64", ok), published("aarch64", broken)), true, BuildReady, nil},
		{"nothing succeeded", project(published("x86_64", excluded)), false, BuildUnavailable,
			[]string{"no package of " + slesProject + " has been built and published yet"}},
		{"the build of an older push", project(older), false, BuildOtherSHA,
			[]string{"OBS shows the build of 0123456789ab for SLES x86_64, not of 4c1e4d0e5b2f"}},
		{"unreadable project", BuildFromOBS([]OBSProject{{Name: slesProject, Unavailable: "HTTP 500"}}, rules), false, BuildUnavailable,
			[]string{"build results of " + slesProject + " cannot be read"}},
		{"no project", BuildFromOBS(nil, rules), false, BuildUnavailable, []string{"no staging project is known for the PR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := BuildStatusOf(tt.build, headSHA, tt.allow)
			require.Equal(t, tt.state, st.State)
			require.Equal(t, tt.reasons, st.Reasons)
		})
	}
}

func TestBranchFromBuildAndSignal(t *testing.T) {
	t.Parallel()
	static := Branch{ProductVersion: "16.0", Archs: []string{"x86_64"}, Channels: []string{"SLFO:1.1.99#16.0"},
		StagingProject: "SUSE:SLFO:1.1.99:PullRequest:{number}", IncidentRepo: "http://dl/{staging_project_path}"}
	require.Equal(t, static, BranchFromBuild(static, nil), "without OBS the static branch")
	b := BuildFromOBS([]OBSProject{{Name: slesProject, Results: []OBSResult{published("x86_64", ok), published("aarch64", ok)}}}, rules)
	got := BranchFromBuild(static, &b)
	require.Equal(t, []string{"aarch64", "x86_64"}, got.Archs)
	require.Equal(t, []string{slesProject + ":aarch64#16.0", slesProject + ":x86_64#16.0"}, got.Channels)
	require.Equal(t, slesProject, got.StagingProject)
	require.Equal(t, static.IncidentRepo, got.IncidentRepo)

	ready, failed := &BuildStatus{State: BuildReady}, &BuildStatus{State: BuildFailed}
	require.Equal(t, "review", BuildReadySignal("review", true, nil))
	require.Equal(t, "", BuildReadySignal("review", true, failed))
	require.Equal(t, "review; obs: published", BuildReadySignal("review", true, ready))
	require.Equal(t, "", BuildReadySignal("", true, ready), "the configured signal is still awaited")
	require.Equal(t, "obs: published", BuildReadySignal("", false, ready))
}

func TestBuildInTheVerdict(t *testing.T) {
	t.Parallel()
	failed := &BuildStatus{State: BuildFailed, Reasons: []string{"build of SLES aarch64 failed: openssl-3 (failed)"}}
	v := WaitingVerdict(Waiting{HeadSHA: headSHA, Build: failed})
	require.Equal(t, VerdictFailed, v.State)
	state, desc := StatusFor(v)
	require.Equal(t, StatusFailure, state)
	require.Equal(t, "build of SLES aarch64 failed: openssl-3 (failed)", desc)
	pull := Pull{Repo: "products/SLFO", Number: 124, HeadSHA: headSHA}
	require.Contains(t, DeclineBody(pull, v, ApprovalModeReview, "", ""), "its build failed, nothing was tested")

	v = WaitingVerdict(Waiting{HeadSHA: headSHA, Build: &BuildStatus{State: BuildUnpublished, Reasons: []string{"build of SLES x86_64 not published yet (building)"}}})
	state, desc = StatusFor(v)
	require.Equal(t, StatusPending, state)
	require.Equal(t, "build of SLES x86_64 not published yet (building)", desc)

	v = WaitingVerdict(Waiting{HeadSHA: headSHA, BuildReady: true, Build: &BuildStatus{State: BuildReady}})
	require.Equal(t, "waiting for test runs of 4c1e4d0e5b2f to be planned", v.Reasons[0].Message, "a ready build is what it was")

	// A build that fails after its runs were scheduled blocks them too.
	v = VerdictFor(VerdictInput{Pull: pull, Build: failed,
		Runs: []RunInput{{Key: "k", Scheduled: true, JobIDs: []int64{1}}},
		Jobs: []JobInput{{ID: 1, RunKey: "k", Scenario: "s", State: "done", Result: "passed"}}})
	require.Equal(t, VerdictFailed, v.State)
	require.Equal(t, ReasonBuildFailed, v.Reasons[0].Code)
}

func TestPullPriority(t *testing.T) {
	t.Parallel()
	p, e, src := PullPriority(550, false, nil)
	require.Equal(t, []any{550, false, PrioritySourceLabels}, []any{p, e, src})
	n := 700
	p, e, src = PullPriority(550, false, &SMELTPriority{Priority: &n, Emergency: true})
	require.Equal(t, []any{700, true, PrioritySourceSMELT}, []any{p, e, src})
	p, e, src = PullPriority(600, true, &SMELTPriority{})
	require.Equal(t, []any{600, true, PrioritySourceSMELT}, []any{p, e, src}, "no SMELT priority keeps the labels'; an emergency label counts")
}
