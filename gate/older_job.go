package gate

import (
	"sort"
	"strings"
	"time"

	"github.com/qemgate/qemgate/openqa"
)

// OlderJob is an earlier job of the same scenario as a failed aggregate
// job: its aggregate build (YYYYMMDD-N), its result, and whether that
// aggregate included the PR being judged.
type OlderJob struct {
	ID           int64  `json:"id"`
	Build        string `json:"build"`
	Result       string `json:"result"`
	IncludesPull bool   `json:"includes_pull"`
}

// OlderJobWindow is how far back an older job may be, counted in days of
// the build date: qem-bot's six days.
const OlderJobWindow = 6

// OlderJobOK is qem-bot's "older eligible job was ok" rule, for aggregate
// jobs only: walking back from the newest older job of the same scenario,
// builds more than OlderJobWindow days older than build end the search;
// failures are passed over; the first ok job decides — the failure is
// ignored when that aggregate included the PR (it passed with the PR in it,
// so the PR is not what broke it) and not otherwise.
func OlderJobOK(build string, older []OlderJob) bool {
	day, ok := buildDay(build)
	if !ok {
		return false
	}
	oldest := day.AddDate(0, 0, -OlderJobWindow)
	sorted := append([]OlderJob(nil), older...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID > sorted[j].ID })
	for _, o := range sorted {
		d, ok := buildDay(o.Build)
		if !ok || d.Before(oldest) {
			return false
		}
		if !openqa.IsOK(o.Result) {
			continue
		}
		return o.IncludesPull
	}
	return false
}

// buildDay parses the date of an aggregate build "YYYYMMDD-N".
func buildDay(build string) (time.Time, bool) {
	date, _, _ := strings.Cut(build, "-")
	d, err := time.Parse("20060102", date)
	return d, err == nil
}
