-- Outgoing webhooks (Standard Webhooks). A subscription says where to
-- post and which events; its secret signs every delivery, and after a
-- rotation the previous secret signs too until `previous_until`.
CREATE TABLE webhook_subscriptions (
    id BIGINT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    active BIGINT NOT NULL,
    description TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    disabled_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
-- One row per event sent out: the body is fixed when the change commits,
-- so every attempt and every subscriber gets the same bytes and the same
-- `webhook-id` (msg_<id>).
CREATE TABLE webhook_messages (
    id BIGINT PRIMARY KEY,
    type TEXT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL
);
-- The delivery log: one row per attempt to post a message to a subscriber.
CREATE TABLE webhook_attempts (
    id BIGINT PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES webhook_messages(id),
    attempt BIGINT NOT NULL,
    manual BIGINT NOT NULL,
    at BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    status BIGINT,
    latency_ms BIGINT NOT NULL,
    response TEXT
);
CREATE INDEX webhook_attempts_subscription ON webhook_attempts(subscription_id, id);
-- Admins may allow subscription URLs on loopback and private networks
-- (off by default: a server-side request forgery guard).
ALTER TABLE settings ADD COLUMN webhooks_allow_private BIGINT NOT NULL DEFAULT 0;
-- How far the sweep for `step.overdue` events has looked: steps that fell
-- due after this time and are still open are announced by the next sweep.
ALTER TABLE settings ADD COLUMN steps_overdue_until BIGINT;
