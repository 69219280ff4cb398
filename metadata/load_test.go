package metadata_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/metadata"
)

// writeDir puts files into a fresh directory and returns it.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return dir
}

func problemStrings(dir string, ps []metadata.Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, string(p.Severity)+" "+strings.TrimPrefix(p.String(), dir+string(filepath.Separator)))
	}
	return out
}

func TestLoadTestdata(t *testing.T) {
	t.Parallel()
	set, problems, err := metadata.Load("testdata/qem-bot", metadata.Options{Strict: true})
	require.NoError(t, err)
	require.Empty(t, problems)

	names := []string{}
	for _, p := range set.Products() {
		names = append(names, p.File+"="+p.Name)
	}
	require.Equal(t, []string{
		"publiccloud-16.0.yml=SLES-16.0-PublicCloud",
		"sl-micro-6.2.yml=SL-Micro-6.2",
		"sle-15-sp7.yml=SLES15SP7",
		"sles-16.0.yml=SLES-16.0",
		"sles-sap-16.0.yml=SLES-SAP-16.0",
	}, names)

	sles, ok := set.Product("SLES-16.0")
	require.True(t, ok)
	require.Equal(t, []string{"SLES"}, sles.ProductRepo)
	require.Equal(t, "16.0", sles.ProductVersion)
	require.Equal(t, map[string]string{"DISTRI": "sle", "VERSION": "16.0", "QA_HEAD_REPO": "", "BUILD_SLE": "16.0"}, sles.Settings,
		"a null setting is dropped, an empty string kept")
	require.Len(t, sles.Flavors, 3)

	online := sles.Flavors[0]
	require.Equal(t, "Online-Incidents", online.Name)
	require.Equal(t, []string{"x86_64", "aarch64", "ppc64le", "s390x"}, online.Archs, "merged from the anchor")
	require.Equal(t, []metadata.Issue{{
		Key: "OS_TEST_ISSUES", Raw: "SLFO:1.1.99#16.0", Line: 11,
		Channel: metadata.Channel{Product: "SLFO", Version: "1.1.99", ProductVersion: "16.0"},
	}}, online.Issues)
	require.Equal(t, metadata.NewPackageList("kernel-default", "kernel-source", "=kernel-64kb", "kernel-livepatch", "kernel-firmware"),
		online.ExcludedPackages, "!concat splices aliased lists and inline lists")
	require.Equal(t, map[string]string{"YAML_SCHEDULE": "schedule/qam/16/online_incidents.yaml"}, online.ParamsExpand)
	require.Nil(t, online.AggregateJob)

	minimal := sles.Flavors[1]
	require.True(t, minimal.VersionedBySubmission)
	require.False(t, minimal.Packages.Defined)

	kernel := sles.Flavors[2]
	require.Equal(t, 40, *kernel.OverridePriority)
	require.False(t, *kernel.AggregateJob)
	require.Equal(t, []string{"KGRAFT"}, kernel.AggregateCheckTrue)
	require.Equal(t, []string{"OS_TEST_ISSUES"}, kernel.AggregateCheckFalse)

	require.Equal(t, &metadata.Aggregate{
		Line: 22, Flavor: "Online-Updates", Archs: []string{"x86_64", "aarch64", "ppc64le", "s390x"}, Onetime: true,
		TestIssues: []metadata.Issue{{Key: "OS_TEST_ISSUES", Raw: "SLFO:1.1.99#16.0", Line: 27,
			Channel: metadata.Channel{Product: "SLFO", Version: "1.1.99", ProductVersion: "16.0"}}},
		ExcludedPackages: metadata.NewPackageList("=sles-release"),
	}, sles.Aggregate)

	require.Equal(t, []string{"skelcd-control-SLES", "sles-release"}, set.SingleArch())
	require.True(t, set.HasSingleArch([]string{"vim", "sles-release"}))
	require.False(t, set.HasSingleArch([]string{"sles-release-foo"}))
	require.Equal(t, metadata.NewPackageList("=gitea-test-package", "release-notes-"), set.CentralExcluded())

	pc, ok := set.Product("SLES-16.0-PublicCloud")
	require.True(t, ok)
	require.True(t, pc.EmbargoFiltered())
	require.False(t, sles.EmbargoFiltered())
}

func TestLoadBrokenTestdata(t *testing.T) {
	t.Parallel()
	set, problems, err := metadata.Load("testdata/broken", metadata.Options{})
	require.ErrorIs(t, err, metadata.ErrInvalid)
	require.NotNil(t, set)
	require.Empty(t, set.Products())
	require.Equal(t, []string{
		"error testdata/broken/bad.yml:2: settings.VERSION is required, e.g. VERSION: \"16.0\"",
		"error testdata/broken/bad.yml:7: flavor Online-Incidents.archs must be a list, e.g. [x86_64]; got \"x86_64\"",
		`error testdata/broken/bad.yml:9: flavor Online-Incidents.issues.OS_TEST_ISSUES must be a channel, e.g. "SLFO:1.1.99#16.0"; got "SLFO" (want <product>:<version>[#<product version>])`,
		"error testdata/broken/bad.yml:10: flavor Online-Incidents.params_expand must not set VERSION (the flavor is ignored)",
		`warning testdata/broken/bad.yml:12: unknown key "tyop_key" in flavor Online-Incidents`,
		"error testdata/broken/syntax.yml:3: invalid YAML: did not find expected ',' or ']'",
	}, problemStrings("", problems))
}

func TestLoadFormat(t *testing.T) {
	t.Parallel()
	const head = "product: P\nsettings: {DISTRI: sle, VERSION: \"16.0\"}\n"
	tests := []struct {
		name     string
		files    map[string]string
		strict   bool
		wantErr  bool
		problems []string
		check    func(t *testing.T, set *metadata.Set)
	}{
		{
			name:  "minimal product",
			files: map[string]string{"p.yml": head},
			check: func(t *testing.T, set *metadata.Set) {
				p, ok := set.Product("P")
				require.True(t, ok)
				require.Equal(t, "p.yml", p.File)
				require.Empty(t, p.Flavors)
				require.Nil(t, p.Aggregate)
			},
		},
		{
			name:     "unknown keys warn",
			files:    map[string]string{"p.yml": head + "typo: 1\nincidents:\n  FLAVOR:\n    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n      packges: [a]\n  EXTRA: 1\n"},
			problems: []string{"warning p.yml:3: unknown key \"typo\" in the top level", "warning p.yml:9: unknown key \"packges\" in flavor F", "warning p.yml:10: unknown key \"EXTRA\" in incidents"},
			check: func(t *testing.T, set *metadata.Set) {
				p, _ := set.Product("P")
				require.Len(t, p.Flavors, 1, "the flavor still loads")
			},
		},
		{
			name:     "unknown keys fail in strict mode",
			files:    map[string]string{"p.yml": head + "typo: 1\n"},
			strict:   true,
			wantErr:  true,
			problems: []string{"error p.yml:3: unknown key \"typo\" in the top level"},
		},
		{
			name:  "dot keys hold anchors",
			files: map[string]string{"p.yml": ".pk: &pk [a, b]\n" + head + "aggregate:\n  FLAVOR: U\n  archs: [x86_64]\n  test_issues: {OS_TEST_ISSUES: 'SLES:16'}\n  packages: *pk\n"},
			check: func(t *testing.T, set *metadata.Set) {
				p, _ := set.Product("P")
				require.Equal(t, metadata.NewPackageList("a", "b"), p.Aggregate.Packages)
			},
		},
		{
			name:  "concat appends scalars and splices nested concat",
			files: map[string]string{"p.yml": ".a: &a [x]\n.b: &b !concat [*a, y]\n" + head + "aggregate:\n  FLAVOR: U\n  archs: !concat [*b, [z], w]\n  test_issues: {OS_TEST_ISSUES: 'SLES:16'}\n"},
			check: func(t *testing.T, set *metadata.Set) {
				p, _ := set.Product("P")
				require.Equal(t, []string{"x", "y", "z", "w"}, p.Aggregate.Archs)
			},
		},
		{
			name:     "concat needs a sequence",
			files:    map[string]string{"p.yml": head + "product_repo: !concat {a: b}\n"},
			wantErr:  true,
			problems: []string{"error p.yml:3: !concat expects a sequence"},
		},
		{
			name:     "unknown tag",
			files:    map[string]string{"p.yml": head + "product_version: !env PV\n"},
			wantErr:  true,
			problems: []string{"error p.yml:3: unknown tag !env (only !concat is supported)"},
		},
		{
			name:     "missing settings",
			files:    map[string]string{"p.yml": "product: P\n"},
			wantErr:  true,
			problems: []string{"error p.yml:1: product \"P\" has no settings, e.g. settings: {DISTRI: sle, VERSION: \"16.0\"}"},
		},
		{
			name:     "settings must be scalars",
			files:    map[string]string{"p.yml": "product: P\nsettings:\n  DISTRI: sle\n  VERSION: '1'\n  LIST: [a]\n"},
			wantErr:  true,
			problems: []string{"error p.yml:5: settings.LIST must be a single value, e.g. LIST: \"1\"; got a list"},
		},
		{
			name:     "duplicate keys",
			files:    map[string]string{"p.yml": head + "product_version: '1'\nproduct_version: '2'\n"},
			wantErr:  true,
			problems: []string{"error p.yml:4: duplicate key \"product_version\" in the top level"},
		},
		{
			name:     "file without product is ignored with a warning",
			files:    map[string]string{"notes.yaml": "foo: bar\n"},
			problems: []string{"warning notes.yaml:1: no product and no settings: not product metadata, ignored"},
		},
		{
			name:  "trigger_config only file is fine",
			files: map[string]string{"t.yml": "trigger_config: {a: {distri: sle}}\n"},
		},
		{
			name:     "empty file",
			files:    map[string]string{"e.yml": "# nothing\n"},
			problems: []string{"warning e.yml:1: file is empty"},
		},
		{
			name:     "flavor requires archs and issues",
			files:    map[string]string{"p.yml": head + "incidents:\n  FLAVOR:\n    F:\n      packages: [a]\n"},
			wantErr:  true,
			problems: []string{"error p.yml:5: flavor F.archs is required, e.g. archs: [x86_64]", "error p.yml:5: flavor F.issues is required, e.g. issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}"},
		},
		{
			name:     "archs must be a list",
			files:    map[string]string{"p.yml": head + "incidents:\n  FLAVOR:\n    F:\n      archs: x86_64\n      issues: {OS_TEST_ISSUES: 'SLES:16'}\n"},
			wantErr:  true,
			problems: []string{"error p.yml:6: flavor F.archs must be a list, e.g. [x86_64]; got \"x86_64\""},
		},
		{
			name:     "bad issue channel",
			files:    map[string]string{"p.yml": head + "incidents:\n  FLAVOR:\n    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: SLFO}\n"},
			wantErr:  true,
			problems: []string{"error p.yml:7: flavor F.issues.OS_TEST_ISSUES must be a channel, e.g. \"SLFO:1.1.99#16.0\"; got \"SLFO\" (want <product>:<version>[#<product version>])"},
		},
		{
			name:     "params_expand must not set DISTRI or VERSION",
			files:    map[string]string{"p.yml": head + "incidents:\n  FLAVOR:\n    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: 'SLES:16'}\n      params_expand: {DISTRI: x}\n"},
			wantErr:  true,
			problems: []string{"error p.yml:8: flavor F.params_expand must not set DISTRI (the flavor is ignored)"},
			check: func(t *testing.T, set *metadata.Set) {
				p, _ := set.Product("P")
				require.Empty(t, p.Flavors)
			},
		},
		{
			name:     "typed values",
			files:    map[string]string{"p.yml": head + "incidents:\n  FLAVOR:\n    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: 'SLES:16'}\n      override_priority: high\n      aggregate_job: maybe\n"},
			wantErr:  true,
			problems: []string{"error p.yml:8: flavor F.override_priority must be an integer, e.g. 500; got \"high\"", "error p.yml:9: flavor F.aggregate_job must be true or false; got \"maybe\""},
		},
		{
			name:     "required issue not among issues",
			files:    map[string]string{"p.yml": head + "incidents:\n  FLAVOR:\n    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: 'SLES:16'}\n      required_issues: [SAP_TEST_ISSUES]\n"},
			problems: []string{"warning p.yml:8: flavor F.required_issues: SAP_TEST_ISSUES is not one of its issues, so it never matches"},
		},
		{
			name:     "aggregate requires FLAVOR archs test_issues",
			files:    map[string]string{"p.yml": head + "aggregate:\n  onetime: true\n"},
			wantErr:  true,
			problems: []string{"error p.yml:3: aggregate.FLAVOR is required, e.g. FLAVOR: Online-Incidents", "error p.yml:3: aggregate.archs is required, e.g. archs: [x86_64, aarch64]", "error p.yml:3: aggregate.test_issues is required, e.g. test_issues: {OS_TEST_ISSUES: \"SLFO:1.1.99#16.0\"}"},
		},
		{
			name:     "aggregate test_issues keys",
			files:    map[string]string{"p.yml": head + "aggregate:\n  FLAVOR: U\n  archs: [x86_64]\n  test_issues: {OS_ISSUES: 'SLES:16'}\n"},
			problems: []string{"warning p.yml:6: aggregate.test_issues.OS_ISSUES should end in _TEST_ISSUES, e.g. OS_TEST_ISSUES (it names the _TEST_REPOS key too)"},
		},
		{
			name:     "duplicate product names",
			files:    map[string]string{"a.yml": head, "b.yml": head},
			problems: []string{"warning b.yml:1: product \"P\" is also defined in a.yml"},
		},
		{
			name:  "singlearch and config as yaml",
			files: map[string]string{"singlearch.yaml": "- b\n- a\n", "config.yaml": "excluded_packages: [x]\nOTHER: y\n"},
			check: func(t *testing.T, set *metadata.Set) {
				require.Equal(t, []string{"a", "b"}, set.SingleArch())
				require.Equal(t, metadata.NewPackageList("x"), set.CentralExcluded())
			},
		},
		{
			name:  "empty packages list is a defined allowlist",
			files: map[string]string{"p.yml": head + "incidents:\n  FLAVOR:\n    F:\n      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: 'SLES:16'}\n      packages: []\n"},
			check: func(t *testing.T, set *metadata.Set) {
				p, _ := set.Product("P")
				require.True(t, p.Flavors[0].Packages.Defined)
				require.False(t, p.Flavors[0].Packages.Allows([]string{"a"}))
			},
		},
		{
			name:  "merge key list, explicit keys win",
			files: map[string]string{"p.yml": ".a: &a {archs: [s390x], issues: {OS_TEST_ISSUES: 'SLES:16'}}\n.b: &b {archs: [ppc64le], override_priority: 7}\n" + head + "incidents:\n  FLAVOR:\n    F:\n      <<: [*a, *b]\n      issues: {OS_TEST_ISSUES: 'SLES:17'}\n"},
			check: func(t *testing.T, set *metadata.Set) {
				p, _ := set.Product("P")
				f := p.Flavors[0]
				require.Equal(t, []string{"s390x"}, f.Archs)
				require.Equal(t, 7, *f.OverridePriority)
				require.Equal(t, "SLES:17", f.Issues[0].Raw)
			},
		},
		{
			name:     "two documents",
			files:    map[string]string{"p.yml": head + "---\n" + head},
			wantErr:  true,
			problems: []string{"error p.yml:3: more than one YAML document"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeDir(t, tt.files)
			set, problems, err := metadata.Load(dir, metadata.Options{Strict: tt.strict})
			if tt.wantErr {
				require.ErrorIs(t, err, metadata.ErrInvalid)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.problems, nilIfEmpty(problemStrings(dir, problems)))
			if tt.check != nil {
				tt.check(t, set)
			}
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestLoadSingleFile(t *testing.T) {
	t.Parallel()
	set, problems, err := metadata.Load("testdata/qem-bot/sl-micro-6.2.yml", metadata.Options{Strict: true})
	require.NoError(t, err)
	require.Empty(t, problems)
	require.Len(t, set.Products(), 1)
	require.Equal(t, "SL-Micro-6.2", set.Products()[0].Name)
}

func TestLoadMissingDir(t *testing.T) {
	t.Parallel()
	_, _, err := metadata.Load(filepath.Join(t.TempDir(), "nope"), metadata.Options{})
	require.Error(t, err)
	require.NotErrorIs(t, err, metadata.ErrInvalid)
}
