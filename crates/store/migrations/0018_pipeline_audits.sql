-- The weekly pipeline audit: a snapshot of a pipeline's open deals with
-- their facts, the decisions taken on them, and the summary kept at
-- sign-off.

-- The weekly schedule (off while `audit_weekday` is NULL): ISO weekday
-- 1 (Monday) to 7, and `HH:MM` in the workspace's time zone. A scheduled
-- audit records its slot (`scheduled_for`), unique per pipeline, so a
-- restart makes a missed slot once and never twice. Days without contact
-- that raise the `no_contact_14d` flag.
ALTER TABLE pipelines ADD COLUMN audit_weekday BIGINT;
ALTER TABLE pipelines ADD COLUMN audit_time TEXT;
ALTER TABLE pipelines ADD COLUMN audit_no_contact_days BIGINT NOT NULL DEFAULT 14;
-- When the schedule was last set: slots before it are never made.
ALTER TABLE pipelines ADD COLUMN audit_schedule_from BIGINT;

CREATE TABLE pipeline_audits (
    id BIGINT PRIMARY KEY,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    owner_id BIGINT REFERENCES users(id),
    status TEXT NOT NULL,
    -- The scheduled slot this audit was made for; NULL when made by hand.
    scheduled_for BIGINT,
    previous_id BIGINT REFERENCES pipeline_audits(id),
    created_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    signed_off_at BIGINT,
    signed_off_by BIGINT REFERENCES users(id),
    -- JSON of the summary, written at sign-off.
    summary TEXT,
    -- JSON of the hygiene counts, written when the audit is taken.
    hygiene TEXT,
    version BIGINT NOT NULL,
    UNIQUE (pipeline_id, scheduled_for)
);
CREATE INDEX pipeline_audits_pipeline ON pipeline_audits(pipeline_id, created_at);

CREATE TABLE pipeline_audit_items (
    id BIGINT PRIMARY KEY,
    audit_id BIGINT NOT NULL REFERENCES pipeline_audits(id),
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    position BIGINT NOT NULL,
    -- JSON of the item's facts as they stood when the audit was taken.
    facts TEXT NOT NULL,
    decision TEXT,
    -- JSON of the decision's body.
    decision_body TEXT,
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    -- The activity a `keep` decision created.
    activity_id BIGINT REFERENCES activities(id),
    UNIQUE (audit_id, deal_id)
);
CREATE INDEX pipeline_audit_items_deal ON pipeline_audit_items(deal_id);

-- The address people open dealflow at, for links in e-mails (the audit's
-- morning brief to each owner).
ALTER TABLE settings ADD COLUMN public_url TEXT;
