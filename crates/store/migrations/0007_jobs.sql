-- Background jobs: work to do later, stored so that it survives restarts and
-- is shared by every `serve` process on the database. A runner claims a due
-- job by marking it running with a lease (until when it is ours, and who
-- took it); a crashed runner's job becomes claimable again when the lease
-- ends. `attempts` counts claims, so a job that keeps killing its runner
-- still ends up failed.
CREATE TABLE jobs (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    lease_until BIGINT,
    leased_by TEXT,
    last_error TEXT,
    result TEXT,
    dedupe_key TEXT,
    deal_id BIGINT REFERENCES deals(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    done_at BIGINT
);
-- Scheduling the same thing twice yields one job (NULL keys never collide).
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs(dedupe_key);
-- The runner's two questions: pending jobs in due order (id breaks ties
-- without a sort), running jobs by the end of their lease.
CREATE INDEX jobs_status_due ON jobs(status, due_at, id);
CREATE INDEX jobs_status_lease ON jobs(status, lease_until);
CREATE INDEX jobs_deal ON jobs(deal_id);
