-- dealflow schema, version 19: what the forecast at "now" reads instead of
-- replaying every deal (see src/projections/ and src/forecast_inputs.rs).
-- Derived rows like the other metric projections: a deal's rows are
-- deleted and rewritten whole in the transaction of every write that
-- changes it. `won_at` set: a stage the deal had entered (last at
-- `entered_at`) before its standing win; `won_at` NULL: the stage an open
-- deal sits in, entered at `entered_at`. The projection version rises, so
-- existing workspaces fill the table once at start-up.
CREATE TABLE metric_forecast_entries (
    deal_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    won_at BIGINT
);
CREATE INDEX metric_forecast_entries_won ON metric_forecast_entries(won_at, deal_id, stage_id, entered_at);
CREATE INDEX metric_forecast_entries_deal ON metric_forecast_entries(deal_id, won_at);

-- "Was any field changed after T?" answered from an index, so a forecast
-- at a moment after every change knows it may skip the field history.
CREATE INDEX field_history_at ON field_history(at);
