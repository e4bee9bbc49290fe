-- dealflow schema, version 20: the forecast at "now" reads the open deals
-- and their current stage entry from indexes alone. A partial index holds
-- just the open live deals with every column the forecast reads, in id
-- order, so it is read in sequence instead of by one lookup per deal into
-- the wide deal rows; the entry index gains the entry's columns.
CREATE INDEX deals_open_forecast ON deals(id, pipeline_id, value, currency, contract_months, probability,
    expected_close_date, owner_id, source, created_at, status, closed_at)
    WHERE status = 'open' AND deleted_at IS NULL;
DROP INDEX metric_forecast_entries_deal;
CREATE INDEX metric_forecast_entries_deal ON metric_forecast_entries(deal_id, won_at, stage_id, entered_at);
