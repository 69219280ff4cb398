package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/fake/obsfake"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/fixture"
)

const testMetadata = "../../metadata/testdata/qem-bot"

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMetadata(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMetadataCheck(t *testing.T) {
	t.Parallel()
	warnDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(warnDir, "p.yml"),
		[]byte("product: P\nsettings: {DISTRI: sle, VERSION: '1'}\ntypo: 1\n"), 0o600))
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{name: "valid directory", args: []string{"check", testMetadata}, wantCode: 0,
			wantStderr: "5 product(s) loaded, 0 failed to load; 0 error(s), 0 warning(s)\n"},
		{name: "strict after the path", args: []string{"check", testMetadata, "--strict"}, wantCode: 0},
		{name: "leading metadata word", args: []string{"metadata", "check", testMetadata + "/sles-16.0.yml"}, wantCode: 0,
			wantStderr: "1 product(s) loaded"},
		{name: "broken files", args: []string{"check", "../../metadata/testdata/broken"}, wantCode: 1,
			wantStdout: []string{
				`../../metadata/testdata/broken/bad.yml:2: error: settings.VERSION is required, e.g. VERSION: "16.0"`,
				`../../metadata/testdata/broken/bad.yml:7: error: flavor Online-Incidents.archs must be a list, e.g. [x86_64]; got "x86_64"`,
				`../../metadata/testdata/broken/bad.yml:9: error: flavor Online-Incidents.issues.OS_TEST_ISSUES must be a channel, e.g. "SLFO:1.1.99#16.0"; got "SLFO" (want <product>:<version>[#<product version>])`,
				"../../metadata/testdata/broken/bad.yml:10: error: flavor Online-Incidents.params_expand must not set VERSION (the flavor is ignored)",
				`../../metadata/testdata/broken/bad.yml:12: warning: unknown key "tyop_key" in flavor Online-Incidents`,
				"../../metadata/testdata/broken/syntax.yml:3: error: invalid YAML: did not find expected ',' or ']'",
			},
			wantStderr: "../../metadata/testdata/broken: 0 product(s) loaded, 2 failed to load (bad.yml, syntax.yml); 5 error(s), 1 warning(s); qemgate refuses this set and keeps the last good one\n"},
		{name: "warnings only pass", args: []string{"check", warnDir}, wantCode: 0,
			wantStdout: []string{filepath.Join(warnDir, "p.yml") + `:3: warning: unknown key "typo" in the top level`},
			wantStderr: "1 product(s) loaded, 0 failed to load; 0 error(s), 1 warning(s)\n"},
		{name: "warnings fail in strict mode", args: []string{"check", "--strict", warnDir}, wantCode: 1,
			wantStdout: []string{filepath.Join(warnDir, "p.yml") + `:3: error: unknown key "typo" in the top level`}},
		{name: "missing path", args: []string{"check"}, wantCode: 2},
		{name: "two paths", args: []string{"check", "a", "b"}, wantCode: 2},
		{name: "bad flag", args: []string{"check", "--nope", testMetadata}, wantCode: 2},
		{name: "unreadable path", args: []string{"check", "/nonexistent/qemgate"}, wantCode: 1, wantStderr: "no such file"},
		{name: "no sub-command", args: nil, wantCode: 2, wantStderr: "usage:"},
		{name: "unknown sub-command", args: []string{"lint"}, wantCode: 2, wantStderr: `unknown sub-command "lint"`},
		{name: "help", args: []string{"help"}, wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout, stderr)
			if tt.wantStdout != nil {
				require.Equal(t, strings.Join(tt.wantStdout, "\n")+"\n", stdout)
			}
			require.Contains(t, stderr, tt.wantStderr)
		})
	}
}

func decodePlan(t *testing.T, stdout string) planOutput {
	t.Helper()
	var out planOutput
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
	return out
}

func TestMetadataPlanFlags(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "plan", "--metadata", testMetadata,
		"--repo", "products/SLFO", "--number", "124", "--sha", "2c8a2689d0b5", "--base", "main",
		"--packages", "openssl-3,libopenssl3", "--labels", "qa", "--product-version", "16.0",
		"--archs", "x86_64", "--channels", "SLFO:1.1.99#16.0",
		"--staging-project", "SUSE:SLFO:1.1.99:PullRequest:{number}",
		"--incident-repo", "http://dl.test/ibs/{staging_project_path}/product/repo/{product_repo}-{product_version}-{arch}/",
		"--public-url", "https://qemgate.test")
	require.Equal(t, 0, code, stderr)
	require.True(t, strings.HasPrefix(stdout, "{\n  \"pull\": {"), "indented JSON")
	out := decodePlan(t, stdout)
	require.Equal(t, gate.Pull{Repo: "products/SLFO", Number: 124, HeadSHA: "2c8a2689d0b5", Base: "main",
		Packages: []string{"openssl-3", "libopenssl3"}, Labels: []string{"qa"}, Priority: 550}, out.Pull)
	var got []string
	for _, r := range out.Runs {
		got = append(got, r.Product+"/"+r.Flavor+"/"+r.Arch)
	}
	require.Equal(t, []string{
		"SLES-16.0-PublicCloud/Azure-BYOS-Incidents/x86_64",
		"SLES-16.0/Minimal-Incidents/x86_64",
		"SLES-16.0/Online-Incidents/x86_64",
	}, got)
	online := out.Runs[2]
	require.Equal(t, ":git:124:openssl-3", online.Build)
	require.Equal(t, "http://dl.test/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/124/product/repo/SLES-16.0-x86_64/", online.Settings["INCIDENT_REPO"])
	require.Equal(t, "https://qemgate.test/pulls/products/SLFO/124", online.Settings["__DASHBOARD_URL"])
	require.NotEmpty(t, out.Skips)
}

func TestMetadataPlanPullJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	webhook := filepath.Join(dir, "webhook.json")
	require.NoError(t, os.WriteFile(webhook, fixture.Read(t, "gitea/pull_request_opened.json"), 0o600))
	pullOnly := filepath.Join(dir, "pull.json")
	require.NoError(t, os.WriteFile(pullOnly, []byte(`{"repo":"products/SLFO","number":7,"head_sha":"abc","packages":["curl"],"emergency":true}`), 0o600))
	whole := filepath.Join(dir, "input.json")
	require.NoError(t, os.WriteFile(whole, []byte(`{"pull":{"repo":"products/SLFO","number":8,"packages":["curl"],"priority":700},
		"branch":{"channels":["SLFO:1.1.99#16.0"],"archs":["aarch64"]}}`), 0o600))
	giteaAPI := filepath.Join(dir, "api.json")
	require.NoError(t, os.WriteFile(giteaAPI, []byte(`{"number":9,"html_url":"https://src.test/products/SLFO/pulls/9",
		"head":{"sha":"def"},"base":{"ref":"main","repo":{"full_name":"products/SLFO"}},"labels":[{"name":"staging/In Progress"}]}`), 0o600))

	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out planOutput)
	}{
		{
			name: "webhook payload plus flags",
			args: []string{"--pull-json", webhook, "--packages", "curl", "--channels", "SLFO:1.1.99#16.0", "--archs", "x86_64"},
			check: func(t *testing.T, out planOutput) {
				require.Equal(t, "products/SLFO", out.Pull.Repo)
				require.Equal(t, int64(1), out.Pull.Number)
				require.Equal(t, "a0227b0e1e357af10078d68bf12a51e4fcf1fe49", out.Pull.HeadSHA)
				require.Equal(t, "main", out.Pull.Base)
				require.Equal(t, "https://gitea.example.test/products/SLFO/pulls/1", out.Pull.HTMLURL)
				require.NotEmpty(t, out.Runs)
				require.Equal(t, "a0227b0e1e357af10078d68bf12a51e4fcf1fe49", out.Runs[0].Settings["GITEA_SHA"])
			},
		},
		{
			name: "gate.Pull JSON, flags override",
			args: []string{"--pull-json", pullOnly, "--number", "70", "--channels", "SLFO:1.1.99#16.0"},
			check: func(t *testing.T, out planOutput) {
				require.Equal(t, int64(70), out.Pull.Number)
				require.True(t, out.Pull.Emergency)
				require.Equal(t, 550, out.Pull.Priority)
				require.NotEmpty(t, out.Runs)
				require.Equal(t, 3, out.Runs[0].Priority, "emergency: 50 - 20 - 550/20")
			},
		},
		{
			name: "whole plan input",
			args: []string{"--pull-json", whole},
			check: func(t *testing.T, out planOutput) {
				require.Equal(t, 700, out.Pull.Priority)
				for _, r := range out.Runs {
					require.Equal(t, "aarch64", r.Arch)
				}
				require.NotEmpty(t, out.Runs)
			},
		},
		{
			name: "gitea API pull without packages plans nothing",
			args: []string{"--pull-json", giteaAPI},
			check: func(t *testing.T, out planOutput) {
				require.Equal(t, []string{"staging/In Progress"}, out.Pull.Labels)
				require.Empty(t, out.Runs)
				require.Equal(t, gate.SkipNoPackages, out.Skips[0].Code)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, append([]string{"plan", "--metadata", testMetadata}, tt.args...)...)
			require.Equal(t, 0, code, stderr)
			tt.check(t, decodePlan(t, stdout))
		})
	}
}

func TestMetadataPlanErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(badJSON, []byte(`[1,2]`), 0o600))
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"no metadata flag", []string{"plan", "--repo", "a/b", "--number", "1"}, 2, "--metadata is required"},
		{"no PR", []string{"plan", "--metadata", testMetadata}, 2, "needs --repo and --number"},
		{"positional argument", []string{"plan", "--metadata", testMetadata, "extra"}, 2, "no positional arguments"},
		{"missing json", []string{"plan", "--metadata", testMetadata, "--pull-json", filepath.Join(dir, "none.json")}, 2, "read --pull-json"},
		{"bad json", []string{"plan", "--metadata", testMetadata, "--pull-json", badJSON}, 2, "parse"},
		{"broken metadata", []string{"plan", "--metadata", "../../metadata/testdata/broken", "--repo", "a/b", "--number", "1", "--packages", "x"}, 1, "invalid metadata"},
		{"bad flag", []string{"plan", "--bogus"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout, stderr)
			require.Contains(t, stderr, tt.wantStderr)
			require.Empty(t, stdout)
		})
	}
}

func TestMetadataCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	require.Equal(t, 1, runMetadata(ctx, []string{"check", testMetadata}, func(string) string { return "" }, &out, &errOut))
	require.Contains(t, errOut.String(), "context canceled")
}

// With --obs-project the plan takes the archs, channels and version from
// the project's build results, as serve does, and shows the build state.
func TestMetadataPlanFromOBS(t *testing.T) {
	t.Parallel()
	fake := obsfake.New(obsfake.Options{})
	t.Cleanup(fake.Close)
	const project = "SUSE:SLFO:1.1.99:PullRequest:124:SLES"
	fake.SetProject(project, obsfake.Project{SCMSync: "https://src.example.test/products/SLFO#16.0", SCMInfo: "2c8a2689d0b5",
		Flavors: []string{"sles_x86_64", "sles_aarch64"},
		Results: []obsfake.Result{
			{Repository: "product", Arch: "x86_64", State: "published", Packages: []obsfake.Package{{Name: "000productcompose:sles_x86_64", Code: "succeeded"}}},
			{Repository: "product", Arch: "aarch64", State: "published", Packages: []obsfake.Package{{Name: "000productcompose:sles_aarch64", Code: "failed"}}},
			{Repository: "product", Arch: "s390x", State: "published"},
		}})
	code, stdout, stderr := runCmd(t, "plan", "--metadata", testMetadata,
		"--repo", "products/SLFO", "--number", "124", "--sha", "2c8a2689d0b5", "--base", "main",
		"--packages", "openssl-3", "--obs-project", project, "--obs-url", fake.URL())
	require.Equal(t, 0, code, stderr)
	out := decodePlan(t, stdout)
	require.NotNil(t, out.OBS)
	require.Equal(t, []string{"aarch64", "x86_64"}, out.Branch.Archs, "s390x is not a _multibuild flavor of SLES")
	require.Equal(t, []string{project + ":aarch64#16.0", project + ":x86_64#16.0"}, out.Branch.Channels)
	require.Equal(t, "16.0", out.Branch.ProductVersion)
	require.Equal(t, gate.BuildFailed, out.OBS.Status.State)
	require.Equal(t, []string{"build of SLES aarch64 failed: 000productcompose:sles_aarch64 (failed)"}, out.OBS.Status.Reasons)

	code, _, stderr = runCmd(t, "plan", "--metadata", testMetadata, "--repo", "products/SLFO", "--number", "124",
		"--packages", "openssl-3", "--obs-project", project)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--obs-project needs --obs-url or a --config with obs.url")
}

// TestMetadataCheckMessages checks that each kind of mistake is shown with
// its file and line, the bad value and the shape expected, in one style:
// "file:line: severity: <path> must be <shape>, e.g. <example>; got <value>".
func TestMetadataCheckMessages(t *testing.T) {
	t.Parallel()
	const head = "product: P\nsettings: {DISTRI: sle, VERSION: '1'}\n"
	const flavor = head + "incidents:\n  FLAVOR:\n    F:\n"
	tests := []struct {
		name, yaml, want, summary string
	}{
		{"archs a single value", flavor + "      archs: x86_64\n      issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n",
			`p.yml:6: error: flavor F.archs must be a list, e.g. [x86_64]; got "x86_64"`, "1 product(s) loaded, 0 failed to load; 1 error(s)"},
		{"archs a mapping", flavor + "      archs: {x86_64: true}\n      issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n",
			`p.yml:6: error: flavor F.archs must be a list, e.g. [x86_64, aarch64]; got a mapping`, "1 error(s)"},
		{"an arch that is a list", flavor + "      archs: [[x86_64]]\n      issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n",
			`p.yml:6: error: flavor F.archs entries must be single values, e.g. [x86_64, aarch64]; got a list`, "1 error(s)"},
		{"issues a list", flavor + "      archs: [x86_64]\n      issues: [OS_TEST_ISSUES]\n",
			`p.yml:7: error: flavor F.issues must be a mapping, e.g. {OS_TEST_ISSUES: "SLFO:1.1.99#16.0"}; got a list`, "1 error(s)"},
		{"a channel without version", flavor + "      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: SLFO}\n",
			`p.yml:7: error: flavor F.issues.OS_TEST_ISSUES must be a channel, e.g. "SLFO:1.1.99#16.0"; got "SLFO" (want <product>:<version>[#<product version>])`, "1 error(s)"},
		{"archs missing", flavor + "      issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n",
			`p.yml:5: error: flavor F.archs is required, e.g. archs: [x86_64]`, "1 error(s)"},
		{"priority a word", flavor + "      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n      override_priority: high\n",
			`p.yml:8: error: flavor F.override_priority must be an integer, e.g. 500; got "high"`, "1 error(s)"},
		{"a yes/no that is neither", flavor + "      archs: [x86_64]\n      issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n      aggregate_job: maybe\n",
			`p.yml:8: error: flavor F.aggregate_job must be true or false; got "maybe"`, "1 error(s)"},
		{"settings a list", "product: P\nsettings: [DISTRI]\n",
			`p.yml:2: error: settings must be a mapping, e.g. {DISTRI: sle, VERSION: "16.0"}; got a list`, "0 product(s) loaded, 1 failed to load (p.yml)"},
		{"VERSION missing", "product: P\nsettings: {DISTRI: sle}\n",
			`p.yml:2: error: settings.VERSION is required, e.g. VERSION: "16.0"`, "0 product(s) loaded, 1 failed to load (p.yml)"},
		{"product name a mapping", "product: {name: P}\nsettings: {DISTRI: sle, VERSION: '1'}\n",
			`p.yml:1: error: product must be a single value, e.g. SLES-16.0; got a mapping`, "1 failed to load (p.yml)"},
		{"a setting that is a list", "product: P\nsettings: {DISTRI: sle, VERSION: '1', HDD: [a]}\n",
			`p.yml:2: error: settings.HDD must be a single value, e.g. HDD: "1"; got a list`, "1 product(s) loaded, 0 failed to load; 1 error(s)"},
		{"aggregate without archs", head + "aggregate:\n  FLAVOR: Online-Increments\n  test_issues: {OS_TEST_ISSUES: 'SLFO:1.1.99#16.0'}\n",
			`p.yml:3: error: aggregate.archs is required, e.g. archs: [x86_64, aarch64]`, "1 product(s) loaded, 0 failed to load; 1 error(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "p.yml"), []byte(tt.yaml), 0o600))
			code, stdout, stderr := runCmd(t, "check", dir)
			require.Equal(t, 1, code, stderr)
			require.Equal(t, filepath.Join(dir, tt.want)+"\n", stdout)
			require.Contains(t, stderr, tt.summary)
			require.Contains(t, stderr, "qemgate refuses this set")
		})
	}
}

// TestMetadataPlanWarnings checks that plan warns about every input it runs
// without, as it does for --channels, and stays quiet when all are given.
func TestMetadataPlanWarnings(t *testing.T) {
	t.Parallel()
	base := []string{"plan", "--metadata", testMetadata, "--repo", "products/SLFO", "--number", "124", "--base", "main",
		"--product-version", "16.0", "--archs", "x86_64"}
	full := map[string]string{
		"--sha":           "2c8a2689d0b5",
		"--packages":      "openssl-3",
		"--channels":      "SLFO:1.1.99#16.0",
		"--incident-repo": "http://dl.test/ibs/{staging_project_path}/",
	}
	warnings := map[string]string{
		"--sha":           "metadata plan: warning: no head SHA given (--sha), the runs have no GITEA_SHA, so openQA is not told which commit it tests",
		"--packages":      "metadata plan: warning: no packages given (--packages), nothing can be planned",
		"--channels":      "metadata plan: warning: no channels given (--channels), no issue can match",
		"--incident-repo": "metadata plan: warning: no incident repository given (--incident-repo), the runs have no INCIDENT_REPO and would test the released packages",
	}
	for _, missing := range []string{"", "--sha", "--packages", "--channels", "--incident-repo"} {
		t.Run("without "+missing, func(t *testing.T) {
			t.Parallel()
			args := slices.Clone(base)
			for flag, v := range full {
				if flag != missing {
					args = append(args, flag, v)
				}
			}
			code, _, stderr := runCmd(t, args...)
			require.Equal(t, 0, code, stderr)
			for flag, w := range warnings {
				if flag == missing {
					require.Contains(t, stderr, w+"\n")
				} else {
					require.NotContains(t, stderr, w)
				}
			}
			if missing == "" {
				require.Empty(t, stderr)
			}
		})
	}
}
