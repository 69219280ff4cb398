package gate_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/metadata"
)

// Plan a SLES 16.0 PR against the qem-bot style metadata in
// metadata/testdata: the runs it would post to openQA and why others are skipped.
func ExamplePlan() {
	set, _, err := metadata.Load("../metadata/testdata/qem-bot", metadata.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	runs, skips := gate.Plan(gate.PlanInput{
		Pull: gate.Pull{
			Repo: "products/SLFO", Number: 124, HeadSHA: "2c8a2689d0b5d0b9b4b6d7b0f6e2a1c3d4e5f607", Base: "main",
			HTMLURL:  "https://src.example.test/products/SLFO/pulls/124",
			Packages: []string{"openssl-3-devel", "openssl-3"}, Priority: gate.DefaultPullPriority,
		},
		Branch: gate.Branch{
			ProductVersion: "16.0",
			Archs:          []string{"x86_64", "aarch64"},
			Channels:       []string{"SLFO:1.1.99#16.0"},
			StagingProject: "SUSE:SLFO:1.1.99:PullRequest:{number}",
			IncidentRepo:   "http://download.example.test/ibs/{staging_project_path}/product/repo/{product_repo}-{product_version}-{arch}/",
		},
		Metadata:  set,
		PublicURL: "https://qemgate.example.test",
	})
	for _, r := range runs {
		fmt.Println(r.Product, r.Flavor, r.Arch, r.Version, r.Build, r.Priority, r.WithAggregate)
	}
	for _, s := range skips {
		fmt.Printf("skip %s %s %s: %s\n", s.Product, s.Flavor, s.Arch, s.Code)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(runs[3].Settings)
	// Output:
	// SLES-16.0-PublicCloud Azure-BYOS-Incidents x86_64 16.0 :git:124:openssl-3 33 false
	// SLES-16.0 Minimal-Incidents x86_64 16.0:git-124 :git:124:openssl-3 33 true
	// SLES-16.0 Online-Incidents aarch64 16.0 :git:124:openssl-3 33 true
	// SLES-16.0 Online-Incidents x86_64 16.0 :git:124:openssl-3 33 true
	// skip SL-Micro-6.2  : product_version
	// skip SLES15SP7  : no_channel_match
	// skip SLES-16.0 Online-Incidents ppc64le: arch_not_built
	// skip SLES-16.0 Online-Incidents s390x: arch_not_built
	// skip SLES-16.0 Online-Kernel-Incidents : packages_not_listed
	// skip SLES-SAP-16.0 SAP-Incidents : packages_not_listed
	// {
	//   "ARCH": "x86_64",
	//   "BUILD": ":git:124:openssl-3",
	//   "BUILD_SLE": "16.0",
	//   "DISTRI": "sle",
	//   "FLAVOR": "Online-Incidents",
	//   "GITEA_PR_URL": "https://src.example.test/products/SLFO/pulls/124",
	//   "GITEA_REPO": "products/SLFO",
	//   "GITEA_SHA": "2c8a2689d0b5d0b9b4b6d7b0f6e2a1c3d4e5f607",
	//   "INCIDENT_ID": "124",
	//   "INCIDENT_REPO": "http://download.example.test/ibs/SUSE:/SLFO:/1.1.99:/PullRequest:/124/product/repo/SLES-16.0-x86_64/",
	//   "OS_TEST_ISSUES": "124",
	//   "QA_HEAD_REPO": "",
	//   "SUBMISSION_ID": "git:124",
	//   "VERSION": "16.0",
	//   "YAML_SCHEDULE": "schedule/qam/16/online_incidents.yaml",
	//   "_OBSOLETE": "1",
	//   "_ONLY_OBSOLETE_SAME_BUILD": "1",
	//   "_PRIORITY": "33",
	//   "_TRIGGER_JOB_DONE_HOOK": "1",
	//   "__DASHBOARD_URL": "https://qemgate.example.test/pulls/products/SLFO/124",
	//   "__SOURCE_CHANGE_URL": "https://src.example.test/products/SLFO/pulls/124"
	// }
}
