-- dealflow schema, version 4: metric projections (see src/projections/).
-- Derived rows, rewritten in the transaction of every write that changes
-- their inputs, so the metric queries scan a period's rows through an index
-- instead of replaying every deal. They carry no foreign keys: a deal's rows
-- are deleted and rewritten whole. `metric_projection` holds the version of
-- the rows' shape; a missing or older version rebuilds them at start-up.

CREATE TABLE metric_projection (
    version BIGINT NOT NULL
);

-- One row per live deal. `closed_at` only when won or lost; `life_bucket`
-- is the length class of [created_at, closed_at] (-1 while open, -2 when
-- closed before it was created, as back-dated imports can be);
-- `reach_count` how many leading stages of its pipeline it reached; the
-- `*_at` columns when it first reached the first stage with that milestone.
CREATE TABLE metric_deals (
    deal_id BIGINT PRIMARY KEY,
    pipeline_id BIGINT NOT NULL,
    owner_id BIGINT,
    source TEXT NOT NULL,
    currency TEXT NOT NULL,
    value BIGINT NOT NULL,
    contract_months BIGINT,
    won BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT,
    life_bucket BIGINT NOT NULL,
    reach_count BIGINT NOT NULL,
    conversation_at BIGINT,
    meeting_at BIGINT,
    proposal_at BIGINT
);
CREATE INDEX metric_deals_created ON metric_deals(created_at, pipeline_id, reach_count, closed_at, owner_id, source);
CREATE INDEX metric_deals_closed ON metric_deals(closed_at, won, pipeline_id, reach_count, currency, contract_months,
    value, created_at, owner_id, source);
CREATE INDEX metric_deals_conversation ON metric_deals(conversation_at, pipeline_id, owner_id, source);
CREATE INDEX metric_deals_meeting ON metric_deals(meeting_at, pipeline_id, owner_id, source);
CREATE INDEX metric_deals_proposal ON metric_deals(proposal_at, pipeline_id, owner_id, source);
CREATE INDEX metric_deals_life ON metric_deals(life_bucket, created_at, closed_at, pipeline_id, owner_id, source);

-- Ended stays of live deals in stages of their current pipeline.
CREATE TABLE metric_stays (
    deal_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    owner_id BIGINT,
    source TEXT NOT NULL,
    ended_at BIGINT NOT NULL,
    duration BIGINT NOT NULL,
    dur_bucket BIGINT NOT NULL
);
CREATE INDEX metric_stays_ended ON metric_stays(ended_at, stage_id, duration, pipeline_id, owner_id, source);
CREATE INDEX metric_stays_bucket ON metric_stays(stage_id, dur_bucket, ended_at, duration);
CREATE INDEX metric_stays_deal ON metric_stays(deal_id);

-- Open spans of live deals: open at t when opened_at < t <= closes_at
-- (closes_at NULL: still open, bucket -1).
CREATE TABLE metric_open_spans (
    deal_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    owner_id BIGINT,
    source TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    closes_at BIGINT,
    bucket BIGINT NOT NULL
);
CREATE INDEX metric_open_spans_bucket ON metric_open_spans(bucket, opened_at, closes_at, pipeline_id, owner_id, source);
CREATE INDEX metric_open_spans_deal ON metric_open_spans(deal_id);

-- Live outreach messages to live people, with the send time of the same
-- person's previous live message.
CREATE TABLE metric_outreach (
    message_id BIGINT PRIMARY KEY,
    person_id BIGINT NOT NULL,
    campaign_id BIGINT,
    channel TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    prev_sent_at BIGINT,
    replied BIGINT NOT NULL,
    positive BIGINT NOT NULL
);
CREATE INDEX metric_outreach_sent ON metric_outreach(sent_at, prev_sent_at, replied, positive, campaign_id, channel,
    person_id);
CREATE INDEX metric_outreach_person ON metric_outreach(person_id);
CREATE INDEX metric_outreach_prev ON metric_outreach(prev_sent_at, sent_at);

-- Daily sums of the rows above (UTC days: `day` = floor(ms / 86400000)),
-- rewritten with them: `kind` says what is counted and what k1, k2, k3
-- mean (see src/projections/). A question over whole days reads these
-- instead of the rows; its partial days at either end read the rows.
CREATE TABLE metric_rollup (
    kind BIGINT NOT NULL,
    day BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    k1 BIGINT NOT NULL,
    k2 BIGINT NOT NULL,
    k3 TEXT NOT NULL,
    n BIGINT NOT NULL,
    s1 BIGINT NOT NULL,
    s2 BIGINT NOT NULL,
    PRIMARY KEY (kind, day, pipeline_id, k1, k2, k3)
);
-- Sums that fell back to zero are deleted after each change; this finds them.
CREATE INDEX metric_rollup_zero ON metric_rollup(n) WHERE n = 0;
