package metadata_test

import (
	"fmt"

	"github.com/qemgate/qemgate/metadata"
)

// Load a metadata directory in the qem-bot format and look at one product.
func ExampleLoad() {
	set, problems, err := metadata.Load("testdata/qem-bot", metadata.Options{Strict: true})
	if err != nil {
		for _, p := range problems {
			fmt.Println(p)
		}
		return
	}
	sles, _ := set.Product("SLES-16.0")
	for _, f := range sles.Flavors {
		fmt.Println(f.Name, f.Archs, f.Issues[0].Key, "=", f.Issues[0].Raw)
	}
	fmt.Println("aggregate:", sles.Aggregate.Flavor, "onetime:", sles.Aggregate.Onetime)
	fmt.Println("central blocklist excludes release-notes-sles:", set.CentralExcluded().Excludes([]string{"release-notes-sles"}))
	// Output:
	// Online-Incidents [x86_64 aarch64 ppc64le s390x] OS_TEST_ISSUES = SLFO:1.1.99#16.0
	// Minimal-Incidents [x86_64] OS_TEST_ISSUES = SLFO:1.1.99#16.0
	// Online-Kernel-Incidents [x86_64 aarch64 ppc64le s390x] OS_TEST_ISSUES = SLFO:1.1.99#16.0
	// aggregate: Online-Updates onetime: true
	// central blocklist excludes release-notes-sles: true
}

// Package rules: a plain name is a prefix, "=name" is exact.
func ExamplePackageList() {
	rules := metadata.NewPackageList("kernel-", "=openssl")
	fmt.Println(rules.MatchesAny([]string{"kernel-default"}))
	fmt.Println(rules.MatchesAny([]string{"openssl-3"}))
	fmt.Println(rules.MatchesAny([]string{"kernel-livepatch-tools"}))
	// Output:
	// true
	// false
	// false
}

// A PR channel from the repository configuration matched against a metadata issue.
func ExampleChannel_MatchesIssue() {
	issue, _ := metadata.ParseIssueChannel("SLFO:1.1.99#16.0")
	pr, _ := metadata.ParsePullChannel("SUSE:SLFO:1.1.99:PullRequest:124:SLES:x86_64#16.0")
	fmt.Println(pr.MatchesIssue(issue, "x86_64"), pr.MatchesIssue(issue, "s390x"))
	// Output: true false
}

// The holder serves the last good set while a reload fails.
func ExampleHolder() {
	h := metadata.NewHolder("testdata/qem-bot", metadata.Options{}, nil)
	if err := h.Reload(); err != nil {
		fmt.Println("reload:", err)
	}
	fmt.Println(len(h.Current().Products()), h.LastError())
	// Output: 5 <nil>
}
