-- When the last evaluation of a PR began reading what it decided from.
-- The verdict safety net re-evaluates a PR whose stored jobs or
-- acceptances changed after that: news lost on its way to an evaluation.
ALTER TABLE pulls ADD COLUMN evaluated_at timestamptz;
