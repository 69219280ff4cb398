-- The security embargo of a PR's update (<embargo_date> of its _patchinfo):
-- while it holds, the PR is kept off embargo-filtered (public cloud) flavors.
ALTER TABLE pulls ADD COLUMN embargoed_until timestamptz;
