package gate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/metadata"
)

// loadSet writes metadata files into a temp dir and loads them strictly.
func loadSet(t *testing.T, files map[string]string) *metadata.Set {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	set, problems, err := metadata.Load(dir, metadata.Options{Strict: true})
	require.NoError(t, err, "%v", problems)
	return set
}

const slesYAML = `product: SLES-16.0
product_repo: SLES
product_version: "16.0"
settings: {DISTRI: sle, VERSION: "16.0", BASE: base}
aggregate:
  FLAVOR: Online-Updates
  archs: [x86_64, aarch64]
  test_issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
  excluded_packages: [=sles-release]
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64, aarch64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`

func baseInput(set *metadata.Set) gate.PlanInput {
	return gate.PlanInput{
		Pull: gate.Pull{
			Repo: "products/SLFO", Number: 42, HeadSHA: "a0227b0e", Base: "main",
			HTMLURL: "https://src.test/products/SLFO/pulls/42", Packages: []string{"curl"}, Priority: 550,
		},
		Branch: gate.Branch{
			ProductVersion: "16.0", Archs: []string{"x86_64", "aarch64"}, Channels: []string{"SLFO:1.1.99#16.0"},
			StagingProject: "SUSE:SLFO:1.1.99:PullRequest:{number}",
			IncidentRepo:   "http://dl.test/ibs/{staging_project_path}/product/repo/{product_repo}-{product_version}-{arch}/",
		},
		Metadata:  set,
		PublicURL: "https://qemgate.test",
	}
}

type runKey struct{ Product, Flavor, Arch string }

func keys(runs []gate.TestRun) []runKey {
	out := []runKey{}
	for _, r := range runs {
		out = append(out, runKey{r.Product, r.Flavor, r.Arch})
	}
	return out
}

type skipKey struct {
	Flavor, Arch string
	Code         gate.SkipCode
}

func skipKeys(skips []gate.Skip) []skipKey {
	out := []skipKey{}
	for _, s := range skips {
		out = append(out, skipKey{s.Flavor, s.Arch, s.Code})
	}
	return out
}

func TestPlanRules(t *testing.T) {
	t.Parallel()
	online := func(extra string) map[string]string {
		return map[string]string{"sles.yml": slesYAML + extra}
	}
	tests := []struct {
		name      string
		files     map[string]string
		edit      func(in *gate.PlanInput)
		wantRuns  []runKey
		wantSkips []skipKey
	}{
		{
			name:     "plain PR runs on every built arch",
			files:    online(""),
			wantRuns: []runKey{{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"}},
		},
		{
			name:      "no packages",
			files:     online(""),
			edit:      func(in *gate.PlanInput) { in.Pull.Packages = []string{" "} },
			wantSkips: []skipKey{{"", "", gate.SkipNoPackages}},
		},
		{
			name:      "central blocklist",
			files:     map[string]string{"sles.yml": slesYAML, "config.yml": "excluded_packages: [curl]\n"},
			wantSkips: []skipKey{{"", "", gate.SkipCentralExcluded}},
		},
		{
			name:      "invalid branch channel is reported, valid ones still used",
			files:     online(""),
			edit:      func(in *gate.PlanInput) { in.Branch.Channels = append(in.Branch.Channels, "garbage") },
			wantRuns:  []runKey{{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"}},
			wantSkips: []skipKey{{"", "", gate.SkipInvalidChannel}},
		},
		{
			name:      "product version of another branch",
			files:     online(""),
			edit:      func(in *gate.PlanInput) { in.Branch.ProductVersion = "16.1" },
			wantSkips: []skipKey{{"", "", gate.SkipProductVersion}},
		},
		{
			name:      "no channel matches: one product-level skip",
			files:     online(""),
			edit:      func(in *gate.PlanInput) { in.Branch.Channels = []string{"SLFO:1.2#6.2"} },
			wantSkips: []skipKey{{"", "", gate.SkipNoChannelMatch}},
		},
		{
			name:      "arch the branch does not build",
			files:     online(""),
			edit:      func(in *gate.PlanInput) { in.Branch.Archs = []string{"x86_64"} },
			wantRuns:  []runKey{{"SLES-16.0", "Online-Incidents", "x86_64"}},
			wantSkips: []skipKey{{"Online-Incidents", "aarch64", gate.SkipArchNotBuilt}},
		},
		{
			name:  "arch-specific channel matches only its arch",
			files: online(""),
			edit: func(in *gate.PlanInput) {
				in.Branch.Channels = []string{"SUSE:SLFO:1.1.99:PullRequest:42:SLES:aarch64#16.0"}
			},
			wantRuns:  []runKey{{"SLES-16.0", "Online-Incidents", "aarch64"}},
			wantSkips: []skipKey{{"Online-Incidents", "x86_64", gate.SkipNoChannelMatch}},
		},
		{
			name: "packages allowlist by prefix",
			files: online(`    Curl-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
      packages: [cur]
    Exact-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
      packages: [=cur]
`),
			wantRuns: []runKey{
				{"SLES-16.0", "Curl-Incidents", "x86_64"},
				{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"},
			},
			wantSkips: []skipKey{{"Exact-Incidents", "", gate.SkipPackagesNotListed}},
		},
		{
			name: "excluded packages",
			files: online(`    NoCurl-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
      excluded_packages: [=curl]
`),
			wantRuns:  []runKey{{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"}},
			wantSkips: []skipKey{{"NoCurl-Incidents", "", gate.SkipPackageExcluded}},
		},
		{
			name: "embargoed PR stays off public-cloud flavors",
			files: online(`    Azure-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`),
			edit:      func(in *gate.PlanInput) { in.Pull.Embargoed = true },
			wantRuns:  []runKey{{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"}},
			wantSkips: []skipKey{{"Azure-Incidents", "", gate.SkipEmbargoed}},
		},
		{
			name: "embargoed PR stays off products with PUBLIC settings",
			files: map[string]string{"pc.yml": `product: PC
settings: {DISTRI: sle, VERSION: "16.0", PUBLIC_CLOUD_PROVIDER: EC2}
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`},
			edit:      func(in *gate.PlanInput) { in.Pull.Embargoed = true },
			wantSkips: []skipKey{{"Online-Incidents", "", gate.SkipEmbargoed}},
		},
		{
			name: "required issues",
			files: online(`    SAP-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0", SAP_TEST_ISSUES: "SLFO:1.1.99#16.1"}
      required_issues: [SAP_TEST_ISSUES]
`),
			wantRuns:  []runKey{{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"}},
			wantSkips: []skipKey{{"SAP-Incidents", "x86_64", gate.SkipRequiredIssues}},
		},
		{
			name: "kernel flavor needs a product repository issue",
			files: online(`    Kernel-Incidents:
      archs: [x86_64]
      issues: {WE_TEST_ISSUES: "SLFO:1.1.99#16.0"}
    Kernel-Incidents-Azure:
      archs: [x86_64]
      issues: {WE_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`),
			edit: func(in *gate.PlanInput) { in.Pull.Packages = []string{"kernel-default"} },
			wantRuns: []runKey{
				{"SLES-16.0", "Kernel-Incidents-Azure", "x86_64"},
				{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"},
			},
			wantSkips: []skipKey{{"Kernel-Incidents", "x86_64", gate.SkipKernelRepo}},
		},
		{
			name: "kernel rule spares livepatches",
			files: map[string]string{"k.yml": `product: K
settings: {DISTRI: sle, VERSION: "16.0"}
incidents:
  FLAVOR:
    Kernel-Incidents:
      archs: [x86_64]
      issues: {WE_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`},
			edit:     func(in *gate.PlanInput) { in.Pull.Packages = []string{"kernel-livepatch-SLE16_Update_1"} },
			wantRuns: []runKey{{"K", "Kernel-Incidents", "x86_64"}},
		},
		{
			name: "identical openQA products are planned once",
			files: map[string]string{"a.yml": slesYAML, "b.yml": `product: OTHER
settings: {DISTRI: sle, VERSION: "16.0"}
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`},
			wantRuns:  []runKey{{"SLES-16.0", "Online-Incidents", "aarch64"}, {"SLES-16.0", "Online-Incidents", "x86_64"}},
			wantSkips: []skipKey{{"Online-Incidents", "x86_64", gate.SkipDuplicate}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := baseInput(loadSet(t, tt.files))
			if tt.edit != nil {
				tt.edit(&in)
			}
			runs, skips := gate.Plan(in)
			want := tt.wantRuns
			if want == nil {
				want = []runKey{}
			}
			require.Equal(t, want, keys(runs))
			wantSkips := tt.wantSkips
			if wantSkips == nil {
				wantSkips = []skipKey{}
			}
			require.Equal(t, wantSkips, skipKeys(skips))
			for _, s := range skips {
				require.NotEmpty(t, s.Reason)
			}
		})
	}
}

func TestPlanNoMetadata(t *testing.T) {
	t.Parallel()
	runs, skips := gate.Plan(gate.PlanInput{Pull: gate.Pull{Packages: []string{"x"}}})
	require.Empty(t, runs)
	require.Equal(t, []gate.Skip{{Code: gate.SkipNoMetadata, Reason: "no metadata loaded"}}, skips)
}

func TestPlanSettings(t *testing.T) {
	t.Parallel()
	set := loadSet(t, map[string]string{"sles.yml": slesYAML})
	in := baseInput(set)
	in.Pull.Packages = []string{"libcurl4-devel", "libcurl4", "curl"}
	runs, _ := gate.Plan(in)
	require.Len(t, runs, 2)
	r := runs[1]
	require.Equal(t, gate.TestRun{
		Product: "SLES-16.0", File: "sles.yml",
		Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Build: ":git:42:curl",
		WithAggregate: true, Priority: 33,
		Settings: map[string]string{
			"DISTRI": "sle", "VERSION": "16.0", "FLAVOR": "Online-Incidents", "ARCH": "x86_64", "BASE": "base",
			"BUILD": ":git:42:curl", "INCIDENT_ID": "42", "SUBMISSION_ID": "git:42", "OS_TEST_ISSUES": "42",
			"_OBSOLETE": "1", "_ONLY_OBSOLETE_SAME_BUILD": "1", "_PRIORITY": "33", "_TRIGGER_JOB_DONE_HOOK": "1",
			"INCIDENT_REPO":       "http://dl.test/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/42/product/repo/SLES-16.0-x86_64/",
			"__SOURCE_CHANGE_URL": "https://src.test/products/SLFO/pulls/42",
			"__DASHBOARD_URL":     "https://qemgate.test/pulls/products/SLFO/42",
			"GITEA_SHA":           "a0227b0e", "GITEA_PR_URL": "https://src.test/products/SLFO/pulls/42", "GITEA_REPO": "products/SLFO",
		},
	}, r)
}

func TestPlanSettingRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		flavor string
		files  map[string]string
		edit   func(in *gate.PlanInput)
		check  func(t *testing.T, r gate.TestRun)
	}{
		{
			name:   "every matched issue key carries the PR number",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\", BASE_TEST_ISSUES: \"SLFO:1.1\", SAP_TEST_ISSUES: \"SLFO:1.2#6.2\"}\n",
			check: func(t *testing.T, r gate.TestRun) {
				require.Equal(t, "42", r.Settings["OS_TEST_ISSUES"])
				require.Equal(t, "42", r.Settings["BASE_TEST_ISSUES"], "no product version: OBS project prefix 1.1 matches 1.1.99")
				require.NotContains(t, r.Settings, "SAP_TEST_ISSUES")
			},
		},
		{
			name:   "versioned_by_submission",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      versioned_by_submission: true\n",
			check: func(t *testing.T, r gate.TestRun) {
				require.Equal(t, "16.0:git-42", r.Version)
				require.Equal(t, "16.0:git-42", r.Settings["VERSION"])
			},
		},
		{
			name:   "override_priority",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      override_priority: 20\n",
			edit:   func(in *gate.PlanInput) { in.Pull.Emergency = true },
			check: func(t *testing.T, r gate.TestRun) {
				require.Equal(t, 20, r.Priority)
				require.Equal(t, "20", r.Settings["_PRIORITY"])
			},
		},
		{
			name:   "emergency priority",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n",
			edit:   func(in *gate.PlanInput) { in.Pull.Emergency, in.Pull.Priority = true, 700 },
			check:  func(t *testing.T, r gate.TestRun) { require.Equal(t, -5, r.Priority) },
		},
		{
			name:   "params_expand overrides run keys but not the links",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      params_expand: {BASE: expanded, _PRIORITY: \"15\", INCIDENT_REPO: http://x/, __SOURCE_CHANGE_URL: nope}\n",
			check: func(t *testing.T, r gate.TestRun) {
				require.Equal(t, "expanded", r.Settings["BASE"])
				require.Equal(t, 15, r.Priority)
				require.Equal(t, "http://x/", r.Settings["INCIDENT_REPO"])
				require.Equal(t, "https://src.test/products/SLFO/pulls/42", r.Settings["__SOURCE_CHANGE_URL"])
			},
		},
		{
			name:   "livepatch sets KGRAFT and skips aggregates",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n",
			edit:   func(in *gate.PlanInput) { in.Pull.Packages = []string{"kernel-livepatch-SLE16_Update_2"} },
			check: func(t *testing.T, r gate.TestRun) {
				require.Equal(t, "1", r.Settings["KGRAFT"])
				require.False(t, r.WithAggregate)
			},
		},
		{
			name: "one INCIDENT_REPO per product_repo, sorted",
			files: map[string]string{"sap.yml": `product: SAP
product_repo: [SLES-SAP, SLES]
settings: {DISTRI: sle, VERSION: "16.0"}
incidents:
  FLAVOR:
    F:
      archs: [x86_64]
      issues: {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`},
			check: func(t *testing.T, r gate.TestRun) {
				require.Equal(t, "http://dl.test/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/42/product/repo/SLES-16.0-x86_64/,"+
					"http://dl.test/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/42/product/repo/SLES-SAP-16.0-x86_64/", r.Settings["INCIDENT_REPO"])
				require.False(t, r.WithAggregate, "no aggregate section")
			},
		},
		{
			name:   "no templates and links: keys are left out",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n",
			edit: func(in *gate.PlanInput) {
				in.Branch.IncidentRepo, in.PublicURL, in.Pull.HTMLURL = "", "", ""
			},
			check: func(t *testing.T, r gate.TestRun) {
				for _, k := range []string{"INCIDENT_REPO", "__DASHBOARD_URL", "__SOURCE_CHANGE_URL", "GITEA_PR_URL"} {
					require.NotContains(t, r.Settings, k)
				}
			},
		},
		{
			name:   "singlearch packages never need aggregates",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n",
			files:  map[string]string{"singlearch.yml": "- curl\n"},
			check:  func(t *testing.T, r gate.TestRun) { require.False(t, r.WithAggregate) },
		},
		{
			name:   "aggregate excluded packages: no aggregate results expected",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n",
			edit:   func(in *gate.PlanInput) { in.Pull.Packages = []string{"sles-release"} },
			check:  func(t *testing.T, r gate.TestRun) { require.False(t, r.WithAggregate) },
		},
		{
			name:   "aggregate_job false",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      aggregate_job: false\n",
			check:  func(t *testing.T, r gate.TestRun) { require.False(t, r.WithAggregate) },
		},
		{
			name:   "aggregate_check_true key posted: not needed",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      aggregate_job: false\n      aggregate_check_true: [OS_TEST_ISSUES]\n      aggregate_check_false: [OS_TEST_ISSUES]\n",
			check:  func(t *testing.T, r gate.TestRun) { require.False(t, r.WithAggregate) },
		},
		{
			name:   "aggregate_check_false key missing: not needed",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      aggregate_job: false\n      aggregate_check_true: [KGRAFT]\n      aggregate_check_false: [LTSS_TEST_ISSUES]\n",
			check:  func(t *testing.T, r gate.TestRun) { require.False(t, r.WithAggregate) },
		},
		{
			name:   "both checks pass: needed",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      aggregate_job: false\n      aggregate_check_true: [KGRAFT]\n      aggregate_check_false: [OS_TEST_ISSUES]\n",
			check:  func(t *testing.T, r gate.TestRun) { require.True(t, r.WithAggregate) },
		},
		{
			name:   "only one check list: not needed",
			flavor: "    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n      aggregate_job: false\n      aggregate_check_false: [OS_TEST_ISSUES]\n",
			check:  func(t *testing.T, r gate.TestRun) { require.False(t, r.WithAggregate) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			if tt.flavor != "" {
				files["sles.yml"] = "product: SLES-16.0\nproduct_repo: SLES\nsettings: {DISTRI: sle, VERSION: \"16.0\", BASE: base}\n" +
					"aggregate:\n  FLAVOR: Online-Updates\n  archs: [x86_64]\n  test_issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}\n  excluded_packages: [=sles-release]\n" +
					"incidents:\n  FLAVOR:\n" + tt.flavor
			}
			for k, v := range tt.files {
				files[k] = v
			}
			in := baseInput(loadSet(t, files))
			if tt.edit != nil {
				tt.edit(&in)
			}
			runs, skips := gate.Plan(in)
			require.Len(t, runs, 1, "skips: %+v", skips)
			tt.check(t, runs[0])
		})
	}
}

func TestPlanForbiddenParamsExpand(t *testing.T) {
	t.Parallel()
	// Load refuses such a flavor; Plan still guards sets built in memory.
	issue, err := metadata.ParseIssueChannel("SLFO:1.1.99#16.0")
	require.NoError(t, err)
	set := metadata.NewSet([]*metadata.Product{{
		File: "m.yml", Name: "M", Settings: map[string]string{"DISTRI": "sle", "VERSION": "16.0"},
		Flavors: []metadata.Flavor{{
			Name: "F", Archs: []string{"x86_64"}, Issues: []metadata.Issue{{Key: "OS_TEST_ISSUES", Channel: issue}},
			ParamsExpand: map[string]string{"VERSION": "17"},
		}},
	}}, nil, metadata.PackageList{})
	runs, skips := gate.Plan(baseInput(set))
	require.Empty(t, runs)
	require.Equal(t, []skipKey{{"F", "", gate.SkipParamsExpand}}, skipKeys(skips))
}

func TestPlanIsDeterministic(t *testing.T) {
	t.Parallel()
	set, _, err := metadata.Load("../metadata/testdata/qem-bot", metadata.Options{})
	require.NoError(t, err)
	in := baseInput(set)
	in.Branch.Archs = nil
	in.Pull.Packages = []string{"sapconf", "saptune", "kernel-default"}
	first, firstSkips := gate.Plan(in)
	require.NotEmpty(t, first)
	for range 5 {
		runs, skips := gate.Plan(in)
		require.Equal(t, first, runs)
		require.Equal(t, firstSkips, skips)
	}
}

func TestAggregateIssues(t *testing.T) {
	t.Parallel()
	set := loadSet(t, map[string]string{"sles.yml": slesYAML, "arch.yml": `product: ONEARCH
settings: {DISTRI: sle, VERSION: "16.0", TEST_ISSUES_ARCH: x86_64}
aggregate:
  FLAVOR: U
  archs: [x86_64, aarch64]
  test_issues: {OS_TEST_ISSUES: "SUSE:Updates:SLES:16.0", BASE_TEST_ISSUES: "SLFO:1.1.99#16.0"}
`})
	in := baseInput(set)
	sles, _ := set.Product("SLES-16.0")
	require.Equal(t, map[string][]string{"x86_64": {"OS_TEST_ISSUES"}, "aarch64": {"OS_TEST_ISSUES"}}, gate.AggregateIssues(sles, in))

	in.Branch.Channels = []string{"SUSE:SLFO:1.1.99:PullRequest:42:SLES:x86_64#16.0"}
	one, _ := set.Product("ONEARCH")
	require.Equal(t, map[string][]string{"x86_64": {"BASE_TEST_ISSUES"}, "aarch64": {"BASE_TEST_ISSUES"}}, gate.AggregateIssues(one, in),
		"TEST_ISSUES_ARCH picks the channels' arch for every aggregate arch")

	in.Pull.Packages = []string{"sles-release"}
	require.Empty(t, gate.AggregateIssues(sles, in))
	in.Pull.Packages = []string{"kernel-livepatch-x"}
	require.Empty(t, gate.AggregateIssues(sles, in))
}
