-- dealflow schema, version 2: what CSV imports created, so importing the
-- same file again updates those records instead of duplicating them.
-- Keyed by the target entity (deals, people, organizations, activities),
-- the mapping's source name and the row's id in that source. The `id`
-- column lets `dealflow copy` page through it like every other table.

CREATE TABLE import_keys (
    id BIGINT PRIMARY KEY,
    entity TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (entity, source, external_id)
);
CREATE INDEX import_keys_record ON import_keys(entity, record_id);
