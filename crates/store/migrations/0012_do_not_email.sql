-- A person who asked not to be e-mailed: automatic playbook e-mails to
-- them fail with that reason instead of going out (0 = may be e-mailed).
ALTER TABLE people ADD COLUMN do_not_email BIGINT NOT NULL DEFAULT 0;
