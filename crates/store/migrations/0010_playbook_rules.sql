-- The gate's rules: who may override, pipelines that forbid skipping
-- stages, where a stage event came from, and skips with a reason.

-- Roles that may move a deal on with an override reason (a JSON array of
-- role names).
ALTER TABLE settings ADD COLUMN override_roles TEXT NOT NULL DEFAULT '["admin","manager"]';

-- 1: deals are created in the first stage and move forward one stage at
-- a time (an override excepted).
ALTER TABLE pipelines ADD COLUMN no_skipping_stages BIGINT NOT NULL DEFAULT 0;

-- How a stage event came to be: `live` (a deal worked now), `loaded`
-- (history loaded by an admin with a past time) or `imported` (a file).
ALTER TABLE stage_events ADD COLUMN origin TEXT NOT NULL DEFAULT 'live';

-- A tick that skipped a step carries the reason given (done = 1).
ALTER TABLE deal_step_ticks ADD COLUMN reason TEXT;
