-- Notes keep who last edited them and when, and are deleted softly: a
-- deleted note is hidden from lists and timelines but stays in the table,
-- with who deleted it, so a removal can be traced and undone by hand.
ALTER TABLE notes ADD COLUMN edited_at BIGINT;
ALTER TABLE notes ADD COLUMN edited_by BIGINT REFERENCES users(id);
ALTER TABLE notes ADD COLUMN deleted_at BIGINT;
ALTER TABLE notes ADD COLUMN deleted_by BIGINT REFERENCES users(id);
