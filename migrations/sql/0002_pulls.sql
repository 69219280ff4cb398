-- The last state of each pull request as Gitea told it when we re-read it.
CREATE TABLE pulls (
    repo                text        NOT NULL,
    number              bigint      NOT NULL,
    state               text        NOT NULL CHECK (state IN ('open', 'closed')),
    merged              boolean     NOT NULL DEFAULT false,
    draft               boolean     NOT NULL DEFAULT false,
    title               text        NOT NULL DEFAULT '',
    author              text        NOT NULL DEFAULT '',
    base_branch         text        NOT NULL DEFAULT '',
    head_sha            text        NOT NULL DEFAULT '',
    html_url            text        NOT NULL DEFAULT '',
    labels              text[]      NOT NULL DEFAULT '{}',
    requested_reviewers text[]      NOT NULL DEFAULT '{}',
    requested_teams     text[]      NOT NULL DEFAULT '{}',
    gitea_updated_at    timestamptz,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    synced_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo, number)
);

CREATE INDEX pulls_open_head ON pulls (repo, head_sha) WHERE state = 'open';
