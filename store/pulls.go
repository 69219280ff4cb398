package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qemgate/qemgate/internal/nonnil"
	"github.com/qemgate/qemgate/internal/pullref"
)

// Pull is our copy of a pull request's state, as last read from Gitea.
type Pull struct {
	Repo               string     `json:"repo"`
	Number             int64      `json:"number"`
	State              string     `json:"state"`
	Merged             bool       `json:"merged"`
	Draft              bool       `json:"draft"`
	Title              string     `json:"title"`
	Author             string     `json:"author"`
	BaseBranch         string     `json:"base_branch"`
	HeadSHA            string     `json:"head_sha"`
	HTMLURL            string     `json:"html_url"`
	Labels             []string   `json:"labels"`
	RequestedReviewers []string   `json:"requested_reviewers"`
	RequestedTeams     []string   `json:"requested_teams"`
	GiteaUpdatedAt     *time.Time `json:"gitea_updated_at"`
	FirstSeenAt        time.Time  `json:"first_seen_at"`
	SyncedAt           time.Time  `json:"synced_at"`
	Packages           []string   `json:"packages"`
	Priority           int        `json:"priority"`
	Emergency          bool       `json:"emergency"`
	Gated              bool       `json:"gated"`
	BuildSHA           string     `json:"build_sha"`
	BuildSignal        string     `json:"build_signal"`
	BuildReadyAt       *time.Time `json:"build_ready_at"`
	Verdict            string     `json:"verdict"`
	VerdictSHA         string     `json:"verdict_sha"`
	VerdictReason      string     `json:"verdict_reason"`
	VerdictDetail      []byte     `json:"-"`
	VerdictAt          *time.Time `json:"verdict_at"`
	// EmbargoedUntil is the end of the update's security embargo (nil: none).
	EmbargoedUntil *time.Time `json:"embargoed_until,omitempty"`
	// OBSBuild is gate.Build as JSON, read from OBS at OBSSHA (nil: never).
	OBSBuild  []byte     `json:"-"`
	OBSSHA    string     `json:"obs_sha"`
	OBSReadAt *time.Time `json:"obs_read_at,omitempty"`
	// PrioritySource says where Priority and Emergency came from
	// (gate.PrioritySourceLabels or gate.PrioritySourceSMELT).
	PrioritySource string `json:"priority_source"`
}

// Ref names the PR the way every log line and error does: owner/repo#n@sha[:12].
func (p Pull) Ref() string { return pullref.Format(p.Repo, p.Number, p.HeadSHA) }

const pullColumns = `repo, number, state, merged, draft, title, author, base_branch, head_sha, html_url,
	labels, requested_reviewers, requested_teams, gitea_updated_at, first_seen_at, synced_at,
	packages, priority, emergency, gated, build_sha, build_signal, build_ready_at,
	verdict, verdict_sha, verdict_reason, verdict_detail, verdict_at, embargoed_until,
	obs_build, obs_sha, obs_read_at, priority_source`

// PullChange says what an upsert changed, so callers can react to a push.
type PullChange struct {
	New         bool
	PreviousSHA string // head before the upsert; "" when new
}

// UpsertPull stores p as the current state of the PR. It reports whether the
// PR was new and what its head SHA was before.
func UpsertPull(ctx context.Context, db DBTX, p Pull) (PullChange, error) {
	var ch PullChange
	var prev *string
	err := db.QueryRow(ctx, `SELECT head_sha FROM pulls WHERE repo = $1 AND number = $2 FOR UPDATE`, p.Repo, p.Number).Scan(&prev)
	if err != nil && err != pgx.ErrNoRows {
		return ch, fmt.Errorf("read pull %s: %w", p.Ref(), err)
	}
	ch.New = prev == nil
	if prev != nil {
		ch.PreviousSHA = *prev
	}
	_, err = db.Exec(ctx, `
		INSERT INTO pulls (repo, number, state, merged, draft, title, author, base_branch, head_sha, html_url,
			labels, requested_reviewers, requested_teams, gitea_updated_at, synced_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now())
		ON CONFLICT (repo, number) DO UPDATE SET
			state = EXCLUDED.state, merged = EXCLUDED.merged, draft = EXCLUDED.draft, title = EXCLUDED.title,
			author = EXCLUDED.author, base_branch = EXCLUDED.base_branch, head_sha = EXCLUDED.head_sha,
			html_url = EXCLUDED.html_url, labels = EXCLUDED.labels,
			requested_reviewers = EXCLUDED.requested_reviewers, requested_teams = EXCLUDED.requested_teams,
			gitea_updated_at = EXCLUDED.gitea_updated_at, synced_at = now()
		-- a slower, older read must not overwrite a newer one
		WHERE pulls.gitea_updated_at IS NULL OR EXCLUDED.gitea_updated_at IS NULL
			OR EXCLUDED.gitea_updated_at >= pulls.gitea_updated_at`,
		p.Repo, p.Number, p.State, p.Merged, p.Draft, p.Title, p.Author, p.BaseBranch, p.HeadSHA, p.HTMLURL,
		nonnil.Slice(p.Labels), nonnil.Slice(p.RequestedReviewers), nonnil.Slice(p.RequestedTeams), p.GiteaUpdatedAt)
	if err != nil {
		return ch, fmt.Errorf("upsert pull %s: %w", p.Ref(), err)
	}
	return ch, nil
}

// GetPull returns one PR.
func GetPull(ctx context.Context, db DBTX, repo string, number int64) (*Pull, error) {
	rows, err := db.Query(ctx, `SELECT `+pullColumns+` FROM pulls WHERE repo = $1 AND number = $2`, repo, number)
	return collectOne(rows, err, pgx.RowToStructByPos[Pull], "read pull %s#%d", repo, number)
}

// OpenPullsWithHead returns the numbers of open PRs of repo whose head is sha.
func OpenPullsWithHead(ctx context.Context, db DBTX, repo, sha string) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT number FROM pulls WHERE repo = $1 AND state = 'open' AND head_sha = $2 ORDER BY number`, repo, sha)
	return collect(rows, err, pgx.RowTo[int64], "open pulls of %s at %.12s", repo, sha)
}

// Gating is what the gate derives about a PR beside Gitea's own fields.
type Gating struct {
	Packages  []string
	Priority  int
	Emergency bool
	Gated     bool
	// EmbargoedUntil is the end of the update's embargo (nil: none).
	EmbargoedUntil *time.Time
	// PrioritySource is where Priority and Emergency came from; "" means labels.
	PrioritySource string
}

// SetGating stores what was derived about a PR at its current head.
func SetGating(ctx context.Context, db DBTX, repo string, number int64, g Gating) error {
	_, err := db.Exec(ctx, `UPDATE pulls SET packages = $3, priority = $4, emergency = $5, gated = $6, embargoed_until = $7,
			priority_source = coalesce(nullif($8, ''), 'labels')
		WHERE repo = $1 AND number = $2`, repo, number, nonnil.Slice(g.Packages), g.Priority, g.Emergency, g.Gated, g.EmbargoedUntil, g.PrioritySource)
	if err != nil {
		return fmt.Errorf("store gating of %s#%d: %w", repo, number, err)
	}
	return nil
}

// SetBuildReady records that the build of sha is ready, if sha is still the
// PR's head. It reports whether it recorded anything new.
func SetBuildReady(ctx context.Context, db DBTX, repo string, number int64, sha, signal string) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE pulls SET build_sha = $3, build_signal = $4, build_ready_at = now()
		WHERE repo = $1 AND number = $2 AND head_sha = $3 AND build_sha <> $3`, repo, number, sha, signal)
	if err != nil {
		return false, fmt.Errorf("record build ready of %s: %w", pullref.Format(repo, number, sha), err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetOBSBuild stores what OBS showed about the PR's staging projects, read
// for sha, if sha is still the PR's head.
func SetOBSBuild(ctx context.Context, db DBTX, repo string, number int64, sha string, build []byte) error {
	_, err := db.Exec(ctx, `UPDATE pulls SET obs_build = $4, obs_sha = $3, obs_read_at = now()
		WHERE repo = $1 AND number = $2 AND head_sha = $3`, repo, number, sha, build)
	if err != nil {
		return fmt.Errorf("store OBS build of %s: %w", pullref.Format(repo, number, sha), err)
	}
	return nil
}
