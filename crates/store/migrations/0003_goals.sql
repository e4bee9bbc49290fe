-- dealflow schema, version 3: goals. A goal is a target for one metric of
-- METRICS.md (its JSON key, e.g. `won_value`) over a period of calendar
-- days [period_from, period_to) in the workspace time zone, for the team
-- (owner_id NULL) or one deal owner, optionally for one pipeline. The target
-- is in minor units of the base currency for money metrics, a count
-- otherwise. Its progress is computed on read, never stored.

CREATE TABLE goals (
    id BIGINT PRIMARY KEY,
    metric TEXT NOT NULL,
    target BIGINT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    pipeline_id BIGINT REFERENCES pipelines(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX goals_period ON goals(period_from, period_to);
