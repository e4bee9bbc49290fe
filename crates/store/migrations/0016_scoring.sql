-- Lead scoring. A model's draft is edited in place; each publish appends
-- a version, kept so that ledgers written under it stay explainable.
-- `pipeline_id` NULL: the model of every pipeline without its own.
CREATE TABLE scoring_models (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    pipeline_id BIGINT REFERENCES pipelines(id),
    draft TEXT NOT NULL,
    published_version BIGINT,
    rescore_total BIGINT NOT NULL DEFAULT 0,
    rescore_done BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    version BIGINT NOT NULL
);
CREATE TABLE scoring_model_versions (
    id BIGINT PRIMARY KEY,
    model_id BIGINT NOT NULL REFERENCES scoring_models(id),
    number BIGINT NOT NULL,
    body TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by BIGINT REFERENCES users(id),
    UNIQUE (model_id, number)
);
-- The ledger: appended, never edited. Points in hundredths.
CREATE TABLE score_entries (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    model_id BIGINT NOT NULL,
    model_version BIGINT NOT NULL,
    rule_id TEXT NOT NULL,
    grp TEXT NOT NULL,
    fact_key TEXT NOT NULL,
    fact TEXT NOT NULL,
    points BIGINT NOT NULL,
    at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX score_entries_deal ON score_entries(deal_id, model_id, model_version);
-- Per deal: the model version its ledger follows, the total when last
-- computed (hundredths; for lists and sorting), and the thresholds' state.
CREATE TABLE deal_scores (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL UNIQUE REFERENCES deals(id),
    model_id BIGINT NOT NULL,
    model_version BIGINT NOT NULL,
    total BIGINT NOT NULL,
    band TEXT,
    scored_at BIGINT NOT NULL,
    armed_disqualify BIGINT NOT NULL,
    armed_nurture BIGINT NOT NULL,
    disqualified BIGINT NOT NULL,
    disqualified_at BIGINT,
    cleared_at BIGINT,
    cleared_by BIGINT REFERENCES users(id),
    cleared_reason TEXT
);
CREATE INDEX deal_scores_total ON deal_scores(total);
-- Answers to qualifying questions: each answer a row, the latest current.
CREATE TABLE deal_answers (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    question_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    previous TEXT,
    user_id BIGINT REFERENCES users(id),
    at BIGINT NOT NULL
);
CREATE INDEX deal_answers_deal ON deal_answers(deal_id, question_id, at);
-- Thresholds that fired, and flags cleared by hand: the deal's timeline.
CREATE TABLE score_firings (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    kind TEXT NOT NULL,
    total BIGINT NOT NULL,
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    detail TEXT
);
CREATE INDEX score_firings_deal ON score_firings(deal_id, at);
