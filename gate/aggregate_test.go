package gate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/metadata"
)

func aggProduct(onetime bool) *metadata.Product {
	return &metadata.Product{
		Name: "SLES-16.0", ProductRepo: []string{"SLES"}, ProductVersion: "16.0",
		Settings:  map[string]string{"DISTRI": "sle", "VERSION": "16.0"},
		Aggregate: &metadata.Aggregate{Flavor: "Online-Updates", Archs: []string{"x86_64"}, Onetime: onetime},
	}
}

func member(number int64, sha string, priority int, keys ...string) AggregateMember {
	return AggregateMember{
		Repo: "products/SLFO", Number: number, HeadSHA: sha, Priority: priority,
		Keys: keys,
		Branch: Branch{ProductVersion: "16.0", StagingProject: "SUSE:SLFO:1.1.99:PullRequest:{number}",
			IncidentRepo: "http://dl.test/{staging_project_path}/product/repo/{product_repo}-{product_version}-{arch}/"},
	}
}

func TestPlanAggregate(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	members := []AggregateMember{member(12, "bbb", 550, "OS_TEST_ISSUES"), member(3, "aaa", 700, "OS_TEST_ISSUES")}
	hash := AggregateRepohash(members)
	tests := []struct {
		name    string
		onetime bool
		members []AggregateMember
		latest  *LatestAggregate
		now     time.Time
		outcome string
		build   string
	}{
		{name: "no PR", members: nil, now: day, outcome: AggregateEmpty},
		{name: "the very first aggregate", members: members, now: day, outcome: AggregateCreated, build: "20260301-1"},
		{name: "nothing changed", members: members, latest: &LatestAggregate{Build: "20260301-1", Repohash: hash}, now: day, outcome: AggregateUnchanged},
		{name: "nothing changed, days later", members: members, latest: &LatestAggregate{Build: "20260220-4", Repohash: hash}, now: day, outcome: AggregateUnchanged},
		{name: "second of the day", members: members, latest: &LatestAggregate{Build: "20260301-1", Repohash: "x"}, now: day, outcome: AggregateCreated, build: "20260301-2"},
		{name: "tenth of the day", members: members, latest: &LatestAggregate{Build: "20260301-9", Repohash: "x"}, now: day, outcome: AggregateCreated, build: "20260301-10"},
		{name: "a new day starts at 1", members: members, latest: &LatestAggregate{Build: "20260301-3", Repohash: "x"}, now: day.Add(time.Minute), outcome: AggregateCreated, build: "20260302-1"},
		{name: "the day is UTC", members: members, latest: &LatestAggregate{Build: "20260301-1", Repohash: "x"}, now: day.In(time.FixedZone("UTC+5", 5*3600)), outcome: AggregateCreated, build: "20260301-2"},
		{name: "onetime: first of the day", onetime: true, members: members, latest: &LatestAggregate{Build: "20260228-2", Repohash: "x"}, now: day, outcome: AggregateCreated, build: "20260301-1"},
		{name: "onetime: not twice a day", onetime: true, members: members, latest: &LatestAggregate{Build: "20260301-1", Repohash: "x"}, now: day, outcome: AggregateOnetime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := PlanAggregate(aggProduct(tc.onetime), "x86_64", tc.members, tc.latest, tc.now, "https://qemgate.test/")
			require.Equal(t, tc.outcome, p.Outcome)
			if tc.outcome != AggregateCreated {
				require.Nil(t, p.Settings)
				return
			}
			require.Equal(t, tc.build, p.Build)
			require.Equal(t, tc.build, p.Settings["BUILD"])
			require.Equal(t, hash, p.Settings["REPOHASH"])
		})
	}
}

func TestAggregateRepohash(t *testing.T) {
	t.Parallel()
	a := []AggregateMember{member(1, "aaa", 0), member(2, "bbb", 0)}
	require.Len(t, AggregateRepohash(a), 32)
	require.Equal(t, AggregateRepohash(a), AggregateRepohash([]AggregateMember{a[1], a[0]}), "order does not matter")
	require.Equal(t, AggregateRepohash(a), AggregateRepohash([]AggregateMember{member(1, "AAA", 0), a[1]}), "nor SHA case")
	require.NotEqual(t, AggregateRepohash(a), AggregateRepohash([]AggregateMember{member(1, "ccc", 0), a[1]}), "a push changes it")
	require.NotEqual(t, AggregateRepohash(a), AggregateRepohash(a[:1]), "a PR leaving changes it")
	other := member(1, "aaa", 0)
	other.Repo = "products/Other"
	require.NotEqual(t, AggregateRepohash(a), AggregateRepohash([]AggregateMember{other, a[1]}), "numbers of two repositories differ")
}

func TestAggregateSettings(t *testing.T) {
	t.Parallel()
	prod := aggProduct(false)
	prod.Settings["SOME_PRODUCT_KEY"] = "kept"
	web := member(20, "ccc", 0, "OS_TEST_ISSUES", "WEB_TEST_ISSUES")
	web.Branch.TestRepo = "http://dl.test/test/{number}/"
	s, priority := aggregateSettings(prod, "aarch64", []AggregateMember{
		member(12, "bbb", 550, "OS_TEST_ISSUES"), member(3, "aaa", 700, "OS_TEST_ISSUES"), web,
	}, "20260301-1", "hash", "https://qemgate.test/")
	require.Equal(t, map[string]string{
		"DISTRI": "sle", "VERSION": "16.0", "SOME_PRODUCT_KEY": "kept",
		"FLAVOR": "Online-Updates", "ARCH": "aarch64", "BUILD": "20260301-1", "REPOHASH": "hash",
		"_DEPRIORITIZEBUILD": "1",
		"OS_TEST_ISSUES":     "3,12,20",
		"OS_TEST_REPOS": "http://dl.test/SUSE:/SLFO:/1.1.99:/PullRequest:/12/product/repo/SLES-16.0-aarch64/," +
			"http://dl.test/SUSE:/SLFO:/1.1.99:/PullRequest:/3/product/repo/SLES-16.0-aarch64/," +
			"http://dl.test/test/20/",
		"WEB_TEST_ISSUES":        "20",
		"WEB_TEST_REPOS":         "http://dl.test/test/20/",
		"TEST_ISSUES[]":          "3,12,20",
		"_PRIORITY":              "15",
		"_TRIGGER_JOB_DONE_HOOK": "1",
		"__DASHBOARD_URL":        "https://qemgate.test/aggregates",
	}, s)
	require.Equal(t, 15, priority, "50 - 700/20, from the most urgent member")
	require.Equal(t, "sle", prod.Settings["DISTRI"])
	require.NotContains(t, prod.Settings, "BUILD", "the product's settings are not modified")

	s, priority = aggregateSettings(aggProduct(false), "x86_64", []AggregateMember{member(1, "a", 0, "OS_TEST_ISSUES")}, "b", "h", "")
	require.NotContains(t, s, "_PRIORITY", "no member with a priority")
	require.Zero(t, priority)
	require.NotContains(t, s, "__DASHBOARD_URL")
}
