-- What the gate knows and decided about each PR, beside what Gitea said.
ALTER TABLE pulls
    ADD COLUMN packages         text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN priority         integer     NOT NULL DEFAULT 550,
    ADD COLUMN emergency        boolean     NOT NULL DEFAULT false,
    -- ours to gate: a review is requested from our reviewer (or our latest
    -- review went stale or is at another SHA)
    ADD COLUMN gated            boolean     NOT NULL DEFAULT false,
    -- the head SHA the build service said it finished, and how it said so
    ADD COLUMN build_sha        text        NOT NULL DEFAULT '',
    ADD COLUMN build_signal     text        NOT NULL DEFAULT '',
    ADD COLUMN build_ready_at   timestamptz,
    ADD COLUMN verdict          text        NOT NULL DEFAULT '',
    ADD COLUMN verdict_sha      text        NOT NULL DEFAULT '',
    ADD COLUMN verdict_reason   text        NOT NULL DEFAULT '',
    ADD COLUMN verdict_detail   jsonb,
    ADD COLUMN verdict_at       timestamptz;

-- Aggregates bundle every eligible open PR of a product/arch into one build.
CREATE TABLE aggregates (
    id          bigserial PRIMARY KEY,
    product     text        NOT NULL,
    arch        text        NOT NULL,
    build       text        NOT NULL,
    repohash    text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product, arch, build)
);
CREATE INDEX aggregates_latest ON aggregates (product, arch, id DESC);

CREATE TABLE aggregate_members (
    aggregate_id bigint NOT NULL REFERENCES aggregates (id) ON DELETE CASCADE,
    repo         text   NOT NULL,
    number       bigint NOT NULL,
    sha          text   NOT NULL,
    PRIMARY KEY (aggregate_id, repo, number)
);
CREATE INDEX aggregate_members_pull ON aggregate_members (repo, number);

-- One POST /api/v1/isos: planned, then scheduled once, keyed by its business
-- key so that no run is ever posted twice.
CREATE TABLE test_runs (
    id                   bigserial PRIMARY KEY,
    repo                 text,
    number               bigint,
    aggregate_id         bigint REFERENCES aggregates (id) ON DELETE CASCADE,
    sha                  text        NOT NULL DEFAULT '',
    product              text        NOT NULL DEFAULT '',
    distri               text        NOT NULL,
    version              text        NOT NULL,
    flavor               text        NOT NULL,
    arch                 text        NOT NULL,
    build                text        NOT NULL,
    settings             jsonb       NOT NULL DEFAULT '{}',
    with_aggregate       boolean     NOT NULL DEFAULT false,
    priority             integer     NOT NULL DEFAULT 0,
    state                text        NOT NULL DEFAULT 'planned'
        CHECK (state IN ('planned', 'scheduled', 'failed', 'superseded', 'dry_run')),
    scheduled_product_id bigint,
    job_ids              bigint[]    NOT NULL DEFAULT '{}',
    error                text        NOT NULL DEFAULT '',
    attempts             integer     NOT NULL DEFAULT 0,
    planned_at           timestamptz NOT NULL DEFAULT now(),
    scheduled_at         timestamptz,
    superseded_at        timestamptz,
    CHECK ((number IS NOT NULL) <> (aggregate_id IS NOT NULL))
);
CREATE UNIQUE INDEX test_runs_pull_key ON test_runs (repo, number, sha, distri, version, flavor, arch)
    WHERE number IS NOT NULL;
CREATE UNIQUE INDEX test_runs_aggregate_key ON test_runs (aggregate_id, distri, version, flavor, arch)
    WHERE aggregate_id IS NOT NULL;
CREATE INDEX test_runs_build ON test_runs (build);

-- openQA jobs as openQA last told us.
CREATE TABLE openqa_jobs (
    id                bigint PRIMARY KEY,
    test_run_id       bigint REFERENCES test_runs (id) ON DELETE SET NULL,
    name              text        NOT NULL DEFAULT '',
    test              text        NOT NULL DEFAULT '',
    scenario          text        NOT NULL DEFAULT '',
    distri            text        NOT NULL DEFAULT '',
    version           text        NOT NULL DEFAULT '',
    flavor            text        NOT NULL DEFAULT '',
    arch              text        NOT NULL DEFAULT '',
    build             text        NOT NULL DEFAULT '',
    group_id          bigint      NOT NULL DEFAULT 0,
    group_name        text        NOT NULL DEFAULT '',
    parent_group_id   bigint      NOT NULL DEFAULT 0,
    parent_group_name text        NOT NULL DEFAULT '',
    state             text        NOT NULL DEFAULT '',
    result            text        NOT NULL DEFAULT '',
    clone_id          bigint,
    obsolete          boolean     NOT NULL DEFAULT false,
    t_finished        timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    changed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX openqa_jobs_run ON openqa_jobs (test_run_id);
CREATE INDEX openqa_jobs_build ON openqa_jobs (build);
CREATE INDEX openqa_jobs_unfinished ON openqa_jobs (synced_at) WHERE state NOT IN ('done', 'cancelled');

-- openQA job groups, for names, owners and the development-group rule.
CREATE TABLE openqa_job_groups (
    id          bigint PRIMARY KEY,
    name        text        NOT NULL DEFAULT '',
    description text        NOT NULL DEFAULT '',
    parent_id   bigint      NOT NULL DEFAULT 0,
    parent_name text        NOT NULL DEFAULT '',
    contact     text        NOT NULL DEFAULT '',
    fetched_at  timestamptz NOT NULL DEFAULT now()
);

-- "@review:acceptable_for" comments that cover a failed job for a PR.
CREATE TABLE job_acceptances (
    job_id     bigint      NOT NULL,
    repo       text        NOT NULL,
    number     bigint      NOT NULL,
    comment_id bigint      NOT NULL DEFAULT 0,
    rule       text        NOT NULL DEFAULT 'acceptable_for',
    reason     text        NOT NULL DEFAULT '',
    author     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, repo, number, rule)
);

-- What we posted to Gitea: the record that stops duplicate writes. One row
-- per PR, SHA, kind (status, approval, decline, summary, dismissal) and key
-- (the status context, or the reason-set key of a decline).
CREATE TABLE reports (
    id          bigserial PRIMARY KEY,
    repo        text        NOT NULL,
    number      bigint      NOT NULL,
    sha         text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('status', 'approval', 'decline', 'summary', 'dismissal')),
    key         text        NOT NULL DEFAULT '',
    state       text        NOT NULL DEFAULT '',
    description text        NOT NULL DEFAULT '',
    target_url  text        NOT NULL DEFAULT '',
    body        text        NOT NULL DEFAULT '',
    gitea_id    bigint,
    dry_run     boolean     NOT NULL DEFAULT false,
    posted_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (repo, number, sha, kind, key)
);
CREATE INDEX reports_pull ON reports (repo, number, posted_at DESC);
