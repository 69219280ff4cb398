package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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
}

// Ref names the PR the way every log line and error does: owner/repo#n@sha[:12].
func (p Pull) Ref() string {
	sha := p.HeadSHA
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return fmt.Sprintf("%s#%d@%s", p.Repo, p.Number, sha)
}

const pullColumns = `repo, number, state, merged, draft, title, author, base_branch, head_sha, html_url,
	labels, requested_reviewers, requested_teams, gitea_updated_at, first_seen_at, synced_at`

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
			gitea_updated_at = EXCLUDED.gitea_updated_at, synced_at = now()`,
		p.Repo, p.Number, p.State, p.Merged, p.Draft, p.Title, p.Author, p.BaseBranch, p.HeadSHA, p.HTMLURL,
		nonNil(p.Labels), nonNil(p.RequestedReviewers), nonNil(p.RequestedTeams), p.GiteaUpdatedAt)
	if err != nil {
		return ch, fmt.Errorf("upsert pull %s: %w", p.Ref(), err)
	}
	return ch, nil
}

// GetPull returns one PR.
func GetPull(ctx context.Context, db DBTX, repo string, number int64) (*Pull, error) {
	rows, err := db.Query(ctx, `SELECT `+pullColumns+` FROM pulls WHERE repo = $1 AND number = $2`, repo, number)
	if err != nil {
		return nil, err
	}
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Pull])
	if err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// OpenPullsWithHead returns the numbers of open PRs of repo whose head is sha.
func OpenPullsWithHead(ctx context.Context, db DBTX, repo, sha string) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT number FROM pulls WHERE repo = $1 AND state = 'open' AND head_sha = $2 ORDER BY number`, repo, sha)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
