-- A debounced job whose key got news while both of its lanes were running:
-- the running job sees the mark when it ends and runs once more, so no
-- event is lost to uniqueness.
CREATE TABLE rerun_marks (
    kind      text        NOT NULL,
    key       text        NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, key)
);
