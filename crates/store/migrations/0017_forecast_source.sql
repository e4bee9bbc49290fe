-- Where the forecast takes an open deal's win probability from when the
-- deal has no probability of its own: `stage` (the stage's configured
-- probability, else its conversion over the last 365 days) or `model`
-- (the learned win probability, falling back to `stage` while the
-- pipeline has too little history).
ALTER TABLE pipelines ADD COLUMN forecast_source TEXT NOT NULL DEFAULT 'stage';
