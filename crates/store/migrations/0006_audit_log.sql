-- The audit log: one row per change (or per import, or per sign-in
-- attempt), written in the same transaction as the change it describes.
-- Rows are only ever inserted, and deleted only by the retention pruning.
-- `user_id` and `record_id` carry no foreign key on purpose: an entry must
-- outlive what it names (a purged record, a failed login with no account).
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id BIGINT,
    credential TEXT NOT NULL,
    credential_id BIGINT,
    ip TEXT,
    action TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id BIGINT,
    changes TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_record ON audit_log (record_type, record_id, id);
