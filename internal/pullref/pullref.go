// Package pullref spells a pull request the one way qemgate names it in
// every log line, error and text, so a reader can follow one PR through
// the logs (../shared/STYLE.md). It imports nothing of ours: store, forge,
// gate and jobs all use it.
package pullref

import "strconv"

// Format is owner/repo#number@sha[:12], or owner/repo#number when the SHA
// is not known (a PR read by number, a dashboard row).
func Format(repo string, number int64, sha string) string {
	s := repo + "#" + strconv.FormatInt(number, 10)
	if sha == "" {
		return s
	}
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return s + "@" + sha
}
