-- E-mail that sends itself: the workspace's mail server and days off, and
-- the send job of each automatic playbook e-mail.

-- The SMTP settings. The password is stored as given, because it must be
-- sent to the mail server; the API writes it and never returns it.
ALTER TABLE settings ADD COLUMN smtp_host TEXT;
ALTER TABLE settings ADD COLUMN smtp_port BIGINT;
ALTER TABLE settings ADD COLUMN smtp_security TEXT NOT NULL DEFAULT 'starttls';
ALTER TABLE settings ADD COLUMN smtp_username TEXT;
ALTER TABLE settings ADD COLUMN smtp_password TEXT;
ALTER TABLE settings ADD COLUMN mail_from TEXT;
-- The workspace's days off: a JSON array of ISO dates, ascending.
ALTER TABLE settings ADD COLUMN holidays TEXT NOT NULL DEFAULT '[]';

-- The job that sends an automatic e-mail step for this deal's current
-- entry into the stage (NULL while none is scheduled). No foreign key: the
-- step's state outlives the job row.
ALTER TABLE deal_steps ADD COLUMN job_id BIGINT;
CREATE INDEX deal_steps_job ON deal_steps(job_id);
