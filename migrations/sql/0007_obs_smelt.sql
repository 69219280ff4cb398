-- What OBS showed about a PR's staging projects (gate.Build as JSON), read
-- at obs_sha; NULL when OBS is not configured or was never read. The gate
-- decides from it at every evaluation, so a change of
-- obs.allow_build_failures applies without a new read.
ALTER TABLE pulls ADD COLUMN obs_build jsonb;
ALTER TABLE pulls ADD COLUMN obs_sha text NOT NULL DEFAULT '';
ALTER TABLE pulls ADD COLUMN obs_read_at timestamptz;
-- Where priority and emergency came from: 'labels' or 'smelt'.
ALTER TABLE pulls ADD COLUMN priority_source text NOT NULL DEFAULT 'labels';
