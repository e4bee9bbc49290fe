-- dealflow schema, version 21: the board at a hundred thousand open deals.
-- A column's page walks its open live deals newest first and stops after
-- a page (it used to sort the whole column, and work out every card's last
-- contact, before taking the first forty). The column totals read the
-- open deals' stage, currency, value, probability and owner from an index
-- alone instead of one lookup per deal into the wide deal rows (SQLite
-- counts an index as covering only when it also holds the columns of its
-- own WHERE, hence status and deleted_at).
CREATE INDEX deals_board_cards ON deals(stage_id, id) WHERE status = 'open' AND deleted_at IS NULL;
CREATE INDEX deals_board_totals ON deals(pipeline_id, stage_id, currency, value, probability, owner_id, status, deleted_at)
    WHERE status = 'open' AND deleted_at IS NULL;
