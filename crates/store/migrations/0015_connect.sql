-- Connections to e-mail providers: each has its own ingest URL and the
-- material its provider's requests are verified with. The counters are
-- the connection's status (what arrived, what was refused).
CREATE TABLE connections (
    id BIGINT PRIMARY KEY,
    provider TEXT NOT NULL,
    name TEXT NOT NULL,
    public_key TEXT,
    signing_key TEXT,
    username TEXT,
    password TEXT,
    secret TEXT,
    campaign_id BIGINT REFERENCES campaigns(id),
    events_received BIGINT NOT NULL DEFAULT 0,
    last_event_at BIGINT,
    failures BIGINT NOT NULL DEFAULT 0,
    last_failure_at BIGINT,
    last_failure TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
-- One event per provider event: the unique key makes a redelivered event
-- a no-op. `person_id` is NULL while the event waits to be matched (the
-- unmatched queue). No foreign key on connection_id: a deleted
-- connection's events stay on the people they concern.
CREATE TABLE email_events (
    id BIGINT PRIMARY KEY,
    connection_id BIGINT NOT NULL,
    provider TEXT NOT NULL,
    event_key TEXT NOT NULL,
    type TEXT NOT NULL,
    at BIGINT NOT NULL,
    email TEXT,
    person_id BIGINT REFERENCES people(id),
    message_id TEXT,
    campaign TEXT,
    url TEXT,
    machine_open BIGINT NOT NULL,
    outreach_id BIGINT,
    raw TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (provider, event_key)
);
CREATE INDEX email_events_person ON email_events(person_id, at);
CREATE INDEX email_events_email ON email_events(email, person_id);
-- Mailgun tokens already used: a signed request is good once.
CREATE TABLE ingest_tokens (
    id BIGINT PRIMARY KEY,
    connection_id BIGINT NOT NULL,
    token TEXT NOT NULL,
    at BIGINT NOT NULL,
    UNIQUE (connection_id, token)
);
-- The provider's Message-ID of an outreach message (normalized: no angle
-- brackets, lower case), so a `sent` event makes one message only and a
-- reply finds the message it answers.
ALTER TABLE outreach_messages ADD COLUMN message_id TEXT;
CREATE UNIQUE INDEX outreach_message_id ON outreach_messages(message_id);
-- The Message-ID of a playbook e-mail, for replies to it.
ALTER TABLE activities ADD COLUMN message_id TEXT;
CREATE INDEX activities_message_id ON activities(message_id);
-- Why and since when a person is "do not e-mail".
ALTER TABLE people ADD COLUMN do_not_email_reason TEXT;
ALTER TABLE people ADD COLUMN do_not_email_at BIGINT;
CREATE INDEX people_email_lower ON people(lower(primary_email));
-- Inbound replies: the text (quoted history kept out of the preview), the
-- message it answers if found, the sentiment a rep gives it.
CREATE TABLE email_replies (
    id BIGINT PRIMARY KEY,
    connection_id BIGINT NOT NULL,
    reply_key TEXT NOT NULL UNIQUE,
    from_email TEXT NOT NULL,
    person_id BIGINT REFERENCES people(id),
    outreach_id BIGINT REFERENCES outreach_messages(id),
    activity_id BIGINT REFERENCES activities(id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    preview TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    sentiment TEXT
);
CREATE INDEX email_replies_person ON email_replies(person_id, received_at);
