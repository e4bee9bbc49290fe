-- Intake forms: a public endpoint (`POST /f/{key}`) that turns a sign-up
-- into a person, their organization and a deal placed where the admin
-- chose. `secret` lets a billing system record a paid sign-up as won.
-- `next_owner` is the round-robin cursor.
CREATE TABLE forms (
    id BIGINT PRIMARY KEY,
    form_key TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    name TEXT NOT NULL,
    fields TEXT NOT NULL,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    stage_id BIGINT REFERENCES stages(id),
    owner_mode TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    next_owner BIGINT NOT NULL,
    source TEXT,
    success_message TEXT,
    redirect_url TEXT,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
-- What each accepted submission did (spam is not stored at all).
CREATE TABLE form_submissions (
    id BIGINT PRIMARY KEY,
    form_id BIGINT NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    email TEXT NOT NULL,
    person_id BIGINT REFERENCES people(id),
    organization_id BIGINT REFERENCES organizations(id),
    deal_id BIGINT REFERENCES deals(id),
    ip TEXT
);
CREATE INDEX form_submissions_form ON form_submissions(form_id, id);
CREATE INDEX form_submissions_deal ON form_submissions(deal_id);
-- The form a deal came in through. No foreign key: a deleted form's deals
-- keep the mark, like the audit log keeps the ids it names.
ALTER TABLE deals ADD COLUMN form_id BIGINT;
