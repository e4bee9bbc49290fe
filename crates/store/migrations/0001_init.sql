-- dealflow schema, version 1. Portable between SQLite and PostgreSQL:
-- BIGINT ids assigned by the application, times as BIGINT Unix milliseconds,
-- booleans as BIGINT 0/1, JSON as TEXT. Never edit once released; add a new
-- numbered file instead.

CREATE TABLE settings (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    base_currency TEXT NOT NULL,
    exchange_rates TEXT NOT NULL,
    working_days TEXT NOT NULL,
    require_lost_reason BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL,
    locale TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE sessions (
    id BIGINT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE pipelines (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    archived BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE stages (
    id BIGINT PRIMARY KEY,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    probability BIGINT,
    rotting_days BIGINT,
    milestone TEXT,
    archived BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX stages_pipeline ON stages(pipeline_id, position);

CREATE TABLE lost_reasons (
    id BIGINT PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    position BIGINT NOT NULL,
    archived BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE custom_fields (
    id BIGINT PRIMARY KEY,
    entity TEXT NOT NULL,
    field_key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL,
    required BIGINT NOT NULL,
    position BIGINT NOT NULL,
    archived BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (entity, field_key)
);

CREATE TABLE organizations (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    domain TEXT,
    industry TEXT,
    employees BIGINT,
    country TEXT,
    owner_id BIGINT REFERENCES users(id),
    custom TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX organizations_updated ON organizations(updated_at);
CREATE INDEX organizations_domain ON organizations(domain);

CREATE TABLE people (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    emails TEXT NOT NULL,
    primary_email TEXT,
    phones TEXT NOT NULL,
    job_title TEXT,
    organization_id BIGINT REFERENCES organizations(id),
    owner_id BIGINT REFERENCES users(id),
    source TEXT,
    custom TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX people_org ON people(organization_id);
CREATE INDEX people_email ON people(primary_email);
CREATE INDEX people_updated ON people(updated_at);

CREATE TABLE deals (
    id BIGINT PRIMARY KEY,
    title TEXT NOT NULL,
    value BIGINT NOT NULL,
    currency TEXT NOT NULL,
    contract_months BIGINT,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    stage_id BIGINT NOT NULL REFERENCES stages(id),
    status TEXT NOT NULL,
    lost_reason TEXT,
    probability BIGINT,
    expected_close_date TEXT,
    owner_id BIGINT REFERENCES users(id),
    person_id BIGINT REFERENCES people(id),
    organization_id BIGINT REFERENCES organizations(id),
    source TEXT,
    custom TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT,
    stage_entered_at BIGINT NOT NULL,
    deleted_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX deals_stage ON deals(pipeline_id, stage_id, status);
CREATE INDEX deals_owner ON deals(owner_id);
CREATE INDEX deals_person ON deals(person_id);
CREATE INDEX deals_org ON deals(organization_id);
CREATE INDEX deals_updated ON deals(updated_at);
CREATE INDEX deals_closed ON deals(closed_at);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE stage_events (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    kind TEXT NOT NULL,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    stage_id BIGINT NOT NULL REFERENCES stages(id),
    from_stage_id BIGINT REFERENCES stages(id),
    lost_reason TEXT,
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id)
);
CREATE INDEX stage_events_deal ON stage_events(deal_id, at);
CREATE INDEX stage_events_at ON stage_events(at);

-- Append-only: one row per change of a tracked deal field.
CREATE TABLE field_history (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    field TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id)
);
CREATE INDEX field_history_deal ON field_history(deal_id, at);

CREATE TABLE activities (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    due_at BIGINT,
    done_at BIGINT,
    note TEXT,
    deal_id BIGINT REFERENCES deals(id),
    person_id BIGINT REFERENCES people(id),
    organization_id BIGINT REFERENCES organizations(id),
    owner_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX activities_deal ON activities(deal_id);
CREATE INDEX activities_person ON activities(person_id);
CREATE INDEX activities_due ON activities(done_at, due_at);

CREATE TABLE notes (
    id BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    deal_id BIGINT REFERENCES deals(id),
    person_id BIGINT REFERENCES people(id),
    organization_id BIGINT REFERENCES organizations(id),
    author_id BIGINT REFERENCES users(id),
    pinned BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX notes_deal ON notes(deal_id);
CREATE INDEX notes_person ON notes(person_id);
CREATE INDEX notes_org ON notes(organization_id);

CREATE TABLE campaigns (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE outreach_messages (
    id BIGINT PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people(id),
    campaign_id BIGINT REFERENCES campaigns(id),
    channel TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    replied_at BIGINT,
    sentiment TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX outreach_person ON outreach_messages(person_id);
CREATE INDEX outreach_sent ON outreach_messages(sent_at);
