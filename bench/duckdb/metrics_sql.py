"""docs/metrics.md activity and stage metrics in DuckDB SQL, over fact tables:

  stages(pipeline, stage, pos, milestone)          pos: order within the pipeline
  deals(id, pipeline, value, currency, contract_months, owner, source,
        created_at, status, closed_at)             live deals only, times in Unix ms
  events(deal, seq, ts, kind, stage)               seq: order of the deal's log
                                                   kind: enter | won | lost | reopen
  outreach(person, campaign, channel, sent_at, replied_at, sentiment)

Written from docs/metrics.md (not translated from dealflow's Rust): reaching S is
entering S or a later stage, or a win; a stay starts by entering a stage or by
a reopen and ends with the next move, win or loss; open_deals replays the events
dated before `to`. Money: deals in another currency than the base one are left
out of money figures and counted as `unconverted` (no exchange rates here).
Parameters: $f, $t (the period [f, t) in Unix ms) and $base (currency code).
"""

DAY_MS = 86_400_000

# Each deal's events with the position of the entered stage in the deal's
# own pipeline (NULL for a stage of another pipeline, and for won/lost/reopen).
_EV = """
ev AS (
  SELECT e.deal, d.pipeline, e.seq, e.ts, e.kind, s.pos
  FROM events e JOIN deals d ON d.id = e.deal
  LEFT JOIN stages s ON e.kind = 'enter' AND s.stage = e.stage AND s.pipeline = d.pipeline
),
-- First moment each deal reached each stage of its pipeline: it entered that
-- stage or a later one, or it was won (a win reaches every stage).
rc AS (
  SELECT deal, pipeline, pos, min(ts) AS reached_at FROM (
    SELECT ev.deal, s.pipeline, s.pos, ev.ts
      FROM ev JOIN stages s ON s.pipeline = ev.pipeline AND s.pos <= ev.pos WHERE ev.kind = 'enter'
    UNION ALL
    SELECT ev.deal, s.pipeline, s.pos, ev.ts
      FROM ev JOIN stages s ON s.pipeline = ev.pipeline WHERE ev.kind = 'won'
  ) GROUP BY deal, pipeline, pos
)"""


def _pct(num, den):
    return f"CASE WHEN ({den}) = 0 THEN NULL ELSE ({num})::DOUBLE / ({den}) * 100 END"


IN_P = "BETWEEN $f AND $t - 1"

ACTIVITY = f"""
WITH {_EV},
o AS (
  SELECT count(*) AS sent, count(replied_at) AS replies,
         count(*) FILTER (WHERE replied_at IS NOT NULL AND sentiment = 'positive') AS positive,
         count(DISTINCT person) AS prospects
  FROM outreach WHERE sent_at {IN_P}
),
-- The first stage carrying each milestone in each pipeline.
ms AS (SELECT pipeline, milestone, min(pos) AS pos FROM stages WHERE milestone IS NOT NULL GROUP BY ALL),
m AS (
  SELECT count(*) FILTER (WHERE ms.milestone = 'meeting') AS meetings,
         count(*) FILTER (WHERE ms.milestone = 'proposal') AS proposals
  FROM rc JOIN ms ON ms.pipeline = rc.pipeline AND ms.pos = rc.pos
  WHERE rc.reached_at {IN_P}
),
dd AS (
  SELECT
    count(*) FILTER (WHERE status = 'won' AND closed_at {IN_P}) AS won,
    count(*) FILTER (WHERE status = 'lost' AND closed_at {IN_P}) AS lost,
    coalesce(sum(value) FILTER (WHERE status = 'won' AND closed_at {IN_P} AND currency = $base), 0) AS won_value,
    avg(value::DOUBLE) FILTER (WHERE status = 'won' AND closed_at {IN_P} AND currency = $base) AS avg_value,
    avg(value::DOUBLE / (greatest(coalesce(contract_months, 12), 12)::DOUBLE / 12))
      FILTER (WHERE status = 'won' AND closed_at {IN_P} AND currency = $base) AS acv,
    count(*) FILTER (WHERE status = 'won' AND closed_at {IN_P} AND currency <> $base) AS unconverted,
    avg((closed_at - created_at)::DOUBLE / {DAY_MS}) FILTER (WHERE status = 'won' AND closed_at {IN_P}) AS cycle,
    count(*) FILTER (WHERE created_at < $t AND (status = 'open' OR closed_at >= $f)) AS pipeline_deals
  FROM deals
),
-- Open at the instant `to`: the last event dated before it is not a win or a loss.
od AS (
  SELECT count(*) AS open_deals FROM (
    SELECT d.id, arg_max(e.kind, e.seq) AS last_kind
    FROM deals d LEFT JOIN events e ON e.deal = d.id AND e.ts < $t
    WHERE d.created_at < $t GROUP BY d.id
  ) WHERE last_kind IS NULL OR last_kind IN ('enter', 'reopen')
),
r AS (
  SELECT *, {_pct('won', 'won + lost')} AS win_rate FROM o, m, dd, od
)
SELECT
  sent AS outreach_sent,
  replies,
  {_pct('replies', 'sent')} AS response_rate,
  {_pct('positive', 'replies')} AS positive_reply_rate,
  prospects AS prospects_contacted,
  meetings AS meetings_booked,
  {_pct('meetings', 'prospects')} AS meeting_booking_rate,
  proposals AS proposals_sent,
  won AS deals_won,
  lost AS deals_lost,
  won_value,
  win_rate,
  pipeline_deals,
  {_pct('won', 'pipeline_deals')} AS close_rate,
  {_pct('won', 'prospects')} AS close_rate_vs_contacted,
  {_pct('won', 'meetings')} AS close_rate_vs_meetings,
  {_pct('won', 'proposals')} AS close_rate_vs_proposals,
  avg_value AS avg_deal_value,
  acv,
  cycle AS sales_cycle_days,
  open_deals,
  CASE WHEN avg_value IS NULL OR win_rate IS NULL OR cycle IS NULL OR cycle = 0 THEN NULL
       ELSE open_deals::DOUBLE * avg_value * (win_rate / 100) / cycle END AS sales_velocity,
  unconverted
FROM r
"""

STAGES = f"""
WITH {_EV},
conv AS (
  SELECT rc.pipeline, rc.pos, count(*) AS closed_reached, count(*) FILTER (WHERE d.status = 'won') AS won_reached
  FROM rc JOIN deals d ON d.id = rc.deal
  WHERE d.status <> 'open' AND d.closed_at {IN_P} GROUP BY ALL
),
cohort AS (SELECT pipeline, count(*) AS n FROM deals WHERE created_at {IN_P} GROUP BY ALL),
creach AS (
  SELECT rc.pipeline, rc.pos, count(*) AS reached
  FROM rc JOIN deals d ON d.id = rc.deal WHERE d.created_at {IN_P} GROUP BY ALL
),
-- Stays: each enter (of a stage of the deal's pipeline) or reopen starts one in
-- the current stage; the next event ends it if it is a move, a win or a loss.
ord AS (
  SELECT pipeline, ts, kind,
    lead(kind) OVER (PARTITION BY deal ORDER BY seq) AS next_kind,
    lead(ts) OVER (PARTITION BY deal ORDER BY seq) AS next_at,
    last_value(CASE WHEN kind = 'enter' THEN coalesce(pos, -1) END IGNORE NULLS)
      OVER (PARTITION BY deal ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cur
  FROM ev
),
tis AS (
  SELECT pipeline, cur AS pos,
    quantile_cont((next_at - ts)::DOUBLE / {DAY_MS}, 0.5) AS med,
    quantile_cont((next_at - ts)::DOUBLE / {DAY_MS}, 0.9) AS p90
  FROM ord
  WHERE cur >= 0 AND kind IN ('enter', 'reopen') AND next_kind IN ('enter', 'won', 'lost') AND next_at {IN_P}
  GROUP BY ALL
)
SELECT s.stage,
  {_pct('coalesce(c.won_reached, 0)', 'coalesce(c.closed_reached, 0)')} AS stage_conversion,
  {_pct('coalesce(cr.reached, 0)', 'coalesce(co.n, 0)')} AS stage_reach,
  t.med AS time_in_stage_days_median,
  t.p90 AS time_in_stage_days_p90,
  coalesce(c.closed_reached, 0) AS closed_reached,
  coalesce(c.won_reached, 0) AS won_reached
FROM stages s
LEFT JOIN conv c ON c.pipeline = s.pipeline AND c.pos = s.pos
LEFT JOIN cohort co ON co.pipeline = s.pipeline
LEFT JOIN creach cr ON cr.pipeline = s.pipeline AND cr.pos = s.pos
LEFT JOIN tis t ON t.pipeline = s.pipeline AND t.pos = s.pos
ORDER BY s.pipeline, s.pos
"""


def compute(con, f, t, base="USD"):
    """Activity metrics (a dict with docs/metrics.md's keys) and stage figures
    (stage id -> dict) of the period [f, t)."""
    params = {"f": f, "t": t, "base": base}
    cur = con.execute(ACTIVITY, params)
    cols = [c[0] for c in cur.description]
    activity = dict(zip(cols, cur.fetchone()))
    cur = con.execute(STAGES, {"f": f, "t": t})
    cols = [c[0] for c in cur.description]
    stages = {}
    for row in cur.fetchall():
        r = dict(zip(cols, row))
        stages[str(r.pop("stage"))] = r
    return activity, stages


SCHEMA = {
    "stages": "pipeline {id}, stage {id}, pos BIGINT, milestone VARCHAR",
    "deals": "id {id}, pipeline {id}, value BIGINT, currency VARCHAR, contract_months BIGINT, owner {id}, "
    "source VARCHAR, created_at BIGINT, status VARCHAR, closed_at BIGINT",
    "events": "deal {id}, seq BIGINT, ts BIGINT, kind VARCHAR, stage {id}",
    "outreach": "person {id}, campaign {id}, channel VARCHAR, sent_at BIGINT, replied_at BIGINT, sentiment VARCHAR",
}


def create_tables(con, id_type):
    for name, cols in SCHEMA.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} ({cols.format(id=id_type)})")
