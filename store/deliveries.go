package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qemgate/qemgate/internal/text"
)

// Delivery is one stored webhook or callback.
type Delivery struct {
	ID         int64             `json:"id"`
	Source     string            `json:"source"`
	DeliveryID string            `json:"delivery_id"`
	Event      string            `json:"event"`
	EventType  string            `json:"event_type"`
	Action     string            `json:"action"`
	Repo       string            `json:"repo"`
	Number     *int64            `json:"number"`
	SHA        string            `json:"sha"`
	Sender     string            `json:"sender"`
	Headers    map[string]string `json:"headers"`
	Body       []byte            `json:"-"`
	ReceivedAt time.Time         `json:"received_at"`
	Outcome    string            `json:"outcome"`
	Reason     string            `json:"reason,omitempty"`
	JobIDs     []int64           `json:"job_ids"`
	ReplayOf   *int64            `json:"replay_of,omitempty"`
	// IDReused is set by InsertDelivery when the sender's id was stored
	// already with another body: the row is stored under ReusedID(id, body).
	IDReused bool `json:"-"`
}

// Delivery outcomes as stored.
const (
	OutcomeAccepted   = "accepted"
	OutcomeIgnored    = "ignored"
	OutcomeBadRequest = "bad_request"
)

// deliveryColumns read a delivery d with its work row w (LEFT JOIN
// delivery_work w ON w.delivery = d.id): its jobs are in w once dispatched.
const deliveryColumns = `d.id, d.source, d.delivery_id, d.event, d.event_type, d.action, d.repo, d.number, d.sha, d.sender,
	d.headers, d.body, d.received_at, d.outcome, d.reason, coalesce(w.job_ids, d.job_ids), d.replay_of`

// Work is what a stored delivery asks of the dispatcher, as delivery_work
// holds it: the fields of jobs.Intent (store cannot import jobs).
type Work struct {
	Delivery  int64
	Repo      string
	Number    int64
	SHA       string
	OpenQAJob int64
	Deep      bool
}

// InsertDelivery stores d unless the same delivery is already stored;
// inserted says which. A duplicate is the same source, id and body: an id
// stored already with another body is stored again under ReusedID, and
// d.DeliveryID and d.IDReused say so, so that no body is dropped unseen. On
// insert d.ID and d.ReceivedAt are set.
func InsertDelivery(ctx context.Context, db DBTX, d *Delivery) (inserted bool, err error) {
	return InsertDeliveryWork(ctx, db, d, nil)
}

// InsertDeliveryWork is InsertDelivery that, when work is not nil, stores
// the work row in the same statement: one round trip, and in autocommit one
// commit, for a delivery and the promise of its jobs. work.Delivery is
// ignored.
func InsertDeliveryWork(ctx context.Context, db DBTX, d *Delivery, work *Work) (inserted bool, err error) {
	inserted, err = insertDelivery(ctx, db, d, work)
	if inserted || err != nil {
		return inserted, err
	}
	var same bool
	err = db.QueryRow(ctx, `SELECT sha256(body) = sha256($3::bytea) FROM deliveries WHERE source = $1 AND delivery_id = $2`,
		d.Source, d.DeliveryID, d.Body).Scan(&same)
	if err != nil {
		return false, fmt.Errorf("compare delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	if same {
		return false, nil
	}
	d.DeliveryID, d.IDReused = ReusedID(d.DeliveryID, d.Body), true
	return insertDelivery(ctx, db, d, work)
}

// ReusedID is the id under which a delivery is stored whose sender's id was
// stored already with another body: the id and a hash of the body.
func ReusedID(id string, body []byte) string {
	sum := sha256.Sum256(body)
	return id + "#" + hex.EncodeToString(sum[:8])
}

func insertDelivery(ctx context.Context, db DBTX, d *Delivery, work *Work) (inserted bool, err error) {
	headers, err := encodeHeaders(d.Headers)
	if err != nil {
		return false, fmt.Errorf("encode headers of delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	args := []any{d.Source, d.DeliveryID, d.Event, d.EventType, d.Action, d.Repo, d.Number, d.SHA, d.Sender,
		headers, d.Body, d.Outcome, d.Reason, d.ReplayOf}
	q := insertDeliverySQL
	if work != nil {
		q = insertDeliveryWorkSQL
		args = append(args, work.Repo, work.Number, work.SHA, work.OpenQAJob, work.Deep)
	}
	err = db.QueryRow(ctx, q, args...).Scan(&d.ID, &d.ReceivedAt)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	return true, nil
}

const insertDeliverySQL = `
	INSERT INTO deliveries (source, delivery_id, event, event_type, action, repo, number, sha, sender,
		headers, body, outcome, reason, replay_of)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (source, delivery_id) DO NOTHING
	RETURNING id, received_at`

// insertDeliveryWorkSQL stores the work row only when the delivery row was
// inserted: a duplicate asks for nothing.
const insertDeliveryWorkSQL = `
	WITH d AS (` + insertDeliverySQL + `
	), w AS (
		INSERT INTO delivery_work (delivery, repo, number, sha, openqa_job, deep)
		SELECT id, $15, $16, $17, $18, $19 FROM d
	)
	SELECT id, received_at FROM d`

// Stored is what InsertDeliveriesWork did with one delivery: its id and
// time when it was inserted, zero when it was not.
type Stored struct {
	ID         int64
	ReceivedAt time.Time
}

// Inserted says whether the delivery was stored.
func (s Stored) Inserted() bool { return s.ID != 0 }

// InsertDeliveriesWork stores many deliveries, each with its work when
// works[i] is not nil, in one statement: one round trip and, in
// autocommit, one commit for all of them. stored[i] says whether and as
// what ds[i] was stored. A delivery whose (source, id) is already stored,
// or repeats one earlier in ds, is not stored here: InsertDeliveryWork
// tells a duplicate from an id the sender reused. ds is only read.
func InsertDeliveriesWork(ctx context.Context, db DBTX, ds []*Delivery, works []*Work) (stored []Stored, err error) {
	n := len(ds)
	stored = make([]Stored, n)
	if n == 0 {
		return stored, nil
	}
	var c deliveryArrays
	type key struct{ source, id string }
	index := make(map[key]int, n)
	for i, d := range ds {
		k := key{d.Source, d.DeliveryID}
		if _, seen := index[k]; seen {
			continue
		}
		index[k] = i
		if err := c.add(d, works[i]); err != nil {
			return nil, err
		}
	}
	rows, err := db.Query(ctx, insertDeliveriesWorkSQL, c.source, c.deliveryID, c.event, c.eventType, c.action, c.repo, c.number,
		c.sha, c.sender, c.headers, c.body, c.outcome, c.reason, c.replayOf,
		c.hasWork, c.workRepo, c.workNumber, c.workSHA, c.workOpenQAJob, c.workDeep)
	if err != nil {
		return nil, fmt.Errorf("insert %d deliveries, the first %s/%s: %w", n, ds[0].Source, ds[0].DeliveryID, err)
	}
	defer rows.Close()
	var (
		id int64
		at time.Time
		k  key
	)
	for rows.Next() {
		if err := rows.Scan(&id, &at, &k.source, &k.id); err != nil {
			return nil, fmt.Errorf("insert %d deliveries: %w", n, err)
		}
		i, ok := index[k]
		if !ok {
			return nil, fmt.Errorf("insert %d deliveries: stored %s/%s, which was not asked for", n, k.source, k.id)
		}
		stored[i] = Stored{ID: id, ReceivedAt: at}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert %d deliveries, the first %s/%s: %w", n, ds[0].Source, ds[0].DeliveryID, err)
	}
	return stored, nil
}

// deliveryArrays are deliveries and their work as one array per column,
// the parameters of insertDeliveriesWorkSQL.
type deliveryArrays struct {
	source, deliveryID, event, eventType, action, repo, sha, sender []string
	number, replayOf                                                []*int64
	headers, outcome, reason                                        []string
	body                                                            [][]byte
	hasWork, workDeep                                               []bool
	workRepo, workSHA                                               []string
	workNumber, workOpenQAJob                                       []int64
}

func (c *deliveryArrays) add(d *Delivery, w *Work) error {
	h, err := encodeHeaders(d.Headers)
	if err != nil {
		return fmt.Errorf("encode headers of delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	c.source = append(c.source, d.Source)
	c.deliveryID = append(c.deliveryID, d.DeliveryID)
	c.event = append(c.event, d.Event)
	c.eventType = append(c.eventType, d.EventType)
	c.action = append(c.action, d.Action)
	c.repo = append(c.repo, d.Repo)
	c.number = append(c.number, d.Number)
	c.sha = append(c.sha, d.SHA)
	c.sender = append(c.sender, d.Sender)
	c.headers = append(c.headers, string(h))
	c.body = append(c.body, d.Body)
	c.outcome = append(c.outcome, d.Outcome)
	c.reason = append(c.reason, d.Reason)
	c.replayOf = append(c.replayOf, d.ReplayOf)
	c.hasWork = append(c.hasWork, w != nil)
	if w == nil {
		w = &Work{}
	}
	c.workRepo = append(c.workRepo, w.Repo)
	c.workNumber = append(c.workNumber, w.Number)
	c.workSHA = append(c.workSHA, w.SHA)
	c.workOpenQAJob = append(c.workOpenQAJob, w.OpenQAJob)
	c.workDeep = append(c.workDeep, w.Deep)
	return nil
}

// insertDeliveriesWorkSQL is insertDeliveryWorkSQL for many rows, given as
// one array per column: one statement for any number of deliveries.
const insertDeliveriesWorkSQL = `
	WITH u AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
			$8::text[], $9::text[], $10::text[], $11::bytea[], $12::text[], $13::text[], $14::bigint[],
			$15::boolean[], $16::text[], $17::bigint[], $18::text[], $19::bigint[], $20::boolean[])
		AS u(source, delivery_id, event, event_type, action, repo, number, sha, sender, headers, body, outcome, reason, replay_of,
			has_work, w_repo, w_number, w_sha, w_openqa_job, w_deep)
	), d AS (
		INSERT INTO deliveries (source, delivery_id, event, event_type, action, repo, number, sha, sender,
			headers, body, outcome, reason, replay_of)
		SELECT source, delivery_id, event, event_type, action, repo, number, sha, sender,
			headers::jsonb, body, outcome, reason, replay_of FROM u
		ON CONFLICT (source, delivery_id) DO NOTHING
		RETURNING id, received_at, source, delivery_id
	), w AS (
		INSERT INTO delivery_work (delivery, repo, number, sha, openqa_job, deep)
		SELECT d.id, u.w_repo, u.w_number, u.w_sha, u.w_openqa_job, u.w_deep
		FROM d JOIN u USING (source, delivery_id) WHERE u.has_work
	)
	SELECT id, received_at, source, delivery_id FROM d`

// encodeHeaders writes headers as a JSON object, {} for none.
func encodeHeaders(h map[string]string) ([]byte, error) {
	if len(h) == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(h)
}

// SetDeliveryJobs records the River jobs a delivery enqueued, when they
// were enqueued in the delivery's own transaction (an operator's replay or
// resync, jobs.Ingest.AcceptNow); the webhook and bus path records them in
// delivery_work (ClaimWork, FinishWork).
func SetDeliveryJobs(ctx context.Context, db DBTX, id int64, jobIDs []int64) error {
	if _, err := db.Exec(ctx, `UPDATE deliveries SET job_ids = $2 WHERE id = $1`, id, jobIDs); err != nil {
		return fmt.Errorf("record jobs of delivery %d: %w", id, err)
	}
	return nil
}

// GetDelivery returns one delivery with its body.
func GetDelivery(ctx context.Context, db DBTX, id int64) (*Delivery, error) {
	rows, err := db.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries d LEFT JOIN delivery_work w ON w.delivery = d.id WHERE d.id = $1`, id)
	return collectOne(rows, err, scanDelivery, "read delivery %d", id)
}

// DeliveryFilter narrows ListDeliveries. Zero values do not filter. Repo
// and Number together also find the openQA deliveries about the PR's jobs.
type DeliveryFilter struct {
	Source  string
	Outcome string
	Event   string // matches event or event_type
	Repo    string
	Number  int64
	Before  int64 // keyset pagination: only ids below this
	Limit   int
}

// ListDeliveries returns deliveries newest first, without bodies.
func ListDeliveries(ctx context.Context, db DBTX, f DeliveryFilter) ([]Delivery, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Source != "" {
		add("source = $%d", f.Source)
	}
	if f.Outcome != "" {
		add("outcome = $%d", f.Outcome)
	}
	if f.Event != "" {
		args = append(args, f.Event)
		where = append(where, fmt.Sprintf("(event = $%d OR event_type = $%[1]d)", len(args)))
	}
	switch {
	case f.Repo != "" && f.Number != 0:
		// openQA deliveries carry no PR: they are the PR's when their job
		// (named in the delivery id) is of one of its runs or of an
		// aggregate that includes it (migration 0009).
		args = append(args, f.Repo, f.Number)
		where = append(where, fmt.Sprintf(`((lower(repo) = lower($%[1]d) AND number = $%[2]d)
			OR (source IN ('openqa', 'openqa-amqp') AND delivery_openqa_job(delivery_id) IN (
				SELECT j.id FROM openqa_jobs j JOIN test_runs r ON r.id = j.test_run_id
				WHERE (lower(r.repo) = lower($%[1]d) AND r.number = $%[2]d)
					OR r.aggregate_id IN (SELECT aggregate_id FROM aggregate_members
						WHERE lower(repo) = lower($%[1]d) AND number = $%[2]d))))`, len(args)-1, len(args)))
	case f.Repo != "":
		add("lower(repo) = lower($%d)", f.Repo)
	case f.Number != 0:
		add("number = $%d", f.Number)
	}
	if f.Before != 0 {
		add("id < $%d", f.Before)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT id, source, delivery_id, event, event_type, action, repo, number, sha, sender,
		headers, ''::bytea AS body, received_at, outcome, reason, job_ids, replay_of FROM deliveries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	q = `SELECT ` + deliveryColumns + ` FROM (` + q + `) d LEFT JOIN delivery_work w ON w.delivery = d.id ORDER BY d.id DESC`
	rows, err := db.Query(ctx, q, args...)
	return collect(rows, err, scanDelivery, "list deliveries")
}

// DeleteDeliveriesBefore deletes at most limit deliveries received before t,
// with their dispatched work rows, and returns how many it deleted, so
// retention can run in small batches. It looks at the oldest limit ids only
// (ids and received_at grow together), so that a pass with nothing to do
// reads a few index pages, not the table.
func DeleteDeliveriesBefore(ctx context.Context, db DBTX, t time.Time, limit int) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `WITH gone AS (
			DELETE FROM deliveries WHERE id IN (
				SELECT id FROM (SELECT id, received_at FROM deliveries ORDER BY id LIMIT $2) oldest WHERE received_at < $1)
			RETURNING id
		), work AS (
			DELETE FROM delivery_work WHERE delivery IN (SELECT id FROM gone) AND job_ids IS NOT NULL
		)
		SELECT count(*) FROM gone`, t, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("delete deliveries received before %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

func scanDelivery(row pgx.CollectableRow) (Delivery, error) {
	var d Delivery
	var headers []byte
	err := row.Scan(&d.ID, &d.Source, &d.DeliveryID, &d.Event, &d.EventType, &d.Action, &d.Repo, &d.Number,
		&d.SHA, &d.Sender, &headers, &d.Body, &d.ReceivedAt, &d.Outcome, &d.Reason, &d.JobIDs, &d.ReplayOf)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(headers, &d.Headers); err != nil {
		return d, fmt.Errorf("delivery %d headers: %w", d.ID, err)
	}
	if d.JobIDs == nil {
		d.JobIDs = []int64{}
	}
	return d, nil
}

// Limits of the text a delivery row holds. The unique index refuses entries
// above about 2.7 kB; real ids are UUIDs and real names a few dozen bytes.
const (
	MaxDeliveryIDLen = 200
	MaxFieldLen      = 255
)

// MakeStorable rewrites every text field of d into text PostgreSQL can store
// and returns what was wrong with the fields that name the delivery, each
// problem naming its field. A NUL, another control character or invalid
// UTF-8 is escaped as \xNN and a value beyond its limit is cut, so that the
// row can still be stored for an operator to look at; reason and headers are
// escaped silently, as they are ours or not read.
func (d *Delivery) MakeStorable() (problems []string) {
	check := func(name string, v *string, limit int) {
		clean := EscapeText(*v)
		switch {
		case clean != *v:
			problems = append(problems, fmt.Sprintf("%s: contains a NUL, a control character or invalid UTF-8", name))
		case len(clean) > limit:
			problems = append(problems, fmt.Sprintf("%s: longer than %d bytes", name, limit))
		}
		*v = text.Bytes(clean, limit)
	}
	check("delivery id", &d.DeliveryID, MaxDeliveryIDLen)
	check("event", &d.Event, MaxFieldLen)
	check("event type", &d.EventType, MaxFieldLen)
	check("action", &d.Action, MaxFieldLen)
	check("repository", &d.Repo, MaxFieldLen)
	check("sha", &d.SHA, MaxFieldLen)
	check("sender", &d.Sender, MaxFieldLen)
	d.Reason = EscapeText(d.Reason)
	if len(d.Headers) > 0 {
		h := make(map[string]string, len(d.Headers))
		for k, v := range d.Headers {
			h[EscapeText(k)] = EscapeText(v)
		}
		d.Headers = h
	}
	return problems
}

// EscapeText returns s with NUL and the other control characters but tab,
// and every byte that is not UTF-8, written as \xNN: text that PostgreSQL
// stores and a terminal shows as it is.
func EscapeText(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r < 0x20 && r != '\t') || r == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1, (r < 0x20 && r != '\t') || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			b.WriteString(s[i : i+size])
		}
		i += max(size, 1)
	}
	return b.String()
}

// ShownText is s escaped and cut as MakeStorable does it, for logs and answers.
func ShownText(s string, limit int) string { return text.Bytes(EscapeText(s), limit) }

// IsUnstorable reports an error PostgreSQL gives for data it cannot take
// (class 22, data exception: a NUL, bad encoding, a value out of range; class
// 54, program limit exceeded: an index entry too large), as opposed to a
// database that is unavailable. Such input gets a 400, never a "try again".
func IsUnstorable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "54"))
}
