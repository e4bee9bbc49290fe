//! A fast, deterministic generator of large workspaces for benchmarks
//! (`dealflow bench metrics`). It writes rows straight into the store's
//! tables with multi-row `INSERT`s inside large transactions instead of
//! going through `create_deal` (far too slow for a million deals), but the
//! rows it writes are the ones the store itself would write: every deal row
//! equals the replay of its stage events (`dealflow_core::stage_move::replay`).
//!
//! Determinism: the same options give the same users, people, deals, events
//! and messages (ids, times, values). Only the default pipeline's stage ids
//! come from the store, which creates them when the database is opened.

use crate::projections::{DealKey, Rows, opt};
use crate::{Store, StoreError};
use dealflow_core::metrics::{DealEvent, DealFact, SplitMix64, StageInfo, project_deal};
use dealflow_core::model::DEFAULT_LOST_REASONS;
use dealflow_core::model::DealStatus;
use std::fmt::Write as _;

/// Milliseconds in a day.
const DAY: i64 = 86_400_000;

/// First ids of each generated table (far below `ids::next_id()`'s values).
pub const USER_ID0: i64 = 1_000;
pub const CAMPAIGN_ID0: i64 = 5_000;
pub const PERSON_ID0: i64 = 1_000_000_000;
pub const DEAL_ID0: i64 = 2_000_000_000;
pub const EVENT_ID0: i64 = 10_000_000_000;
pub const MESSAGE_ID0: i64 = 20_000_000_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub deals: usize,
    pub seed: u64,
    /// The generated history ends here (Unix ms); nothing is dated later.
    pub now: i64,
    /// Days of history before `now`.
    pub days: i64,
    pub users: usize,
    pub campaigns: usize,
}

impl GenOptions {
    /// `deals` deals over the three years before 2026-01-01 UTC.
    pub fn new(deals: usize) -> Self {
        GenOptions { deals, seed: 42, now: 1_767_225_600_000, days: 3 * 365, users: 25, campaigns: 12 }
    }
}

/// How many rows were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenReport {
    pub users: u64,
    pub people: u64,
    pub deals: u64,
    pub events: u64,
    pub messages: u64,
}

const SOURCES: &[&str] = &["outbound", "inbound", "referral", "self-serve", "partner"];
const CHANNELS: &[&str] = &["email", "linkedin", "call", "other"];
/// Rows per `INSERT` statement and rows per transaction.
const ROWS_PER_INSERT: usize = 500;
const ROWS_PER_TX: usize = 200_000;

struct Rng(SplitMix64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        self.0.next_f64() < p
    }
    /// An exponential duration with the given mean, at least one minute.
    fn exp_ms(&mut self, mean_days: f64) -> i64 {
        let u = 1.0 - self.0.next_f64();
        ((-u.ln() * mean_days * DAY as f64) as i64).max(60_000)
    }
}

/// Buffers rows of one table and writes them as multi-row INSERTs.
struct Table {
    head: &'static str,
    rows: Vec<String>,
}

impl Table {
    fn new(head: &'static str) -> Self {
        Table { head, rows: Vec::with_capacity(ROWS_PER_INSERT) }
    }
    fn push_row(&mut self, row: String) {
        self.rows.push(row);
    }
    fn full(&self) -> bool {
        self.rows.len() >= ROWS_PER_INSERT
    }
    fn sql(&mut self) -> Option<String> {
        if self.rows.is_empty() {
            return None;
        }
        let mut s = String::with_capacity(self.head.len() + self.rows.len() * 120);
        s.push_str(self.head);
        s.push_str(" VALUES ");
        s.push_str(&self.rows.join(","));
        self.rows.clear();
        Some(s)
    }
}

/// The writer: one connection, one open transaction at a time.
struct Writer {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    in_tx: usize,
}

impl Writer {
    async fn exec(&mut self, sql: String) -> Result<(), StoreError> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *self.conn).await?;
        Ok(())
    }
    /// Writes the buffered projection rows.
    async fn project(&mut self, rows: &mut Rows) -> Result<(), StoreError> {
        for sql in rows.take_sql() {
            crate::projections::run(&mut self.conn, &sql).await?;
        }
        Ok(())
    }
    async fn push(&mut self, t: &mut Table, row: String) -> Result<(), StoreError> {
        t.rows.push(row);
        if t.rows.len() >= ROWS_PER_INSERT {
            self.flush(t).await?;
        }
        Ok(())
    }
    async fn flush(&mut self, t: &mut Table) -> Result<(), StoreError> {
        if let Some(sql) = t.sql() {
            self.in_tx += ROWS_PER_INSERT;
            self.exec(sql).await?;
        }
        Ok(())
    }
    /// Commits and begins again once the transaction holds enough rows.
    async fn maybe_commit(&mut self) -> Result<(), StoreError> {
        if self.in_tx >= ROWS_PER_TX {
            self.exec("COMMIT; BEGIN".into()).await?;
            self.in_tx = 0;
        }
        Ok(())
    }
}

/// One generated stage event.
struct Ev {
    kind: &'static str,
    stage: i64,
    from: Option<i64>,
    reason: Option<usize>,
    at: i64,
}

/// Generates a workspace into `store`, which must be freshly created (the
/// default pipeline present, no deals). Writes users, campaigns, people,
/// deals with their stage events, and outreach messages with replies.
pub async fn generate(store: &Store, o: &GenOptions) -> Result<GenReport, StoreError> {
    let pipeline =
        store.pipelines().await?.into_iter().next().ok_or_else(|| StoreError::Config("no pipeline".into()))?;
    let mut stages: Vec<i64> = pipeline.stages.iter().map(|s| s.id.0).collect();
    stages.sort_by_key(|id| pipeline.stages.iter().find(|s| s.id.0 == *id).map(|s| s.position));
    let pid = pipeline.id.0;
    let n_stages = stages.len();
    // The metric projections are written alongside, from the same replay
    // the store uses for every other write.
    let stage_infos: Vec<StageInfo> = pipeline
        .stages
        .iter()
        .map(|s| StageInfo { id: s.id.0.to_string(), order: s.position, milestone: s.milestone, probability: None })
        .collect();
    let mut projected = Rows::default();
    let mut rng = Rng(SplitMix64::new(o.seed));
    let mut report = GenReport::default();
    let created = o.now - o.days * DAY;

    let conn = store.pool().acquire().await?;
    let mut w = Writer { conn, in_tx: 0 };
    if let Some(sql) = store.engine().bulk_load_start() {
        w.exec(sql.into()).await?;
    }
    w.exec("BEGIN".into()).await?;

    let mut users = Table::new(
        "INSERT INTO users (id, email, name, role, password_hash, active, locale, created_at, updated_at, version)",
    );
    for u in 0..o.users {
        let row = format!(
            "({}, 'rep{u}@bench.example', 'Rep {u}', 'rep', '!', 1, NULL, {created}, {created}, 1)",
            USER_ID0 + u as i64
        );
        w.push(&mut users, row).await?;
        report.users += 1;
    }
    w.flush(&mut users).await?;
    let mut campaigns = Table::new("INSERT INTO campaigns (id, name, channel, created_at, updated_at, version)");
    for c in 0..o.campaigns {
        let ch = CHANNELS[c % CHANNELS.len()];
        w.push(
            &mut campaigns,
            format!("({}, 'Campaign {c}', '{ch}', {created}, {created}, 1)", CAMPAIGN_ID0 + c as i64),
        )
        .await?;
    }
    w.flush(&mut campaigns).await?;

    let mut people = Table::new(
        "INSERT INTO people (id, name, emails, primary_email, phones, job_title, organization_id, owner_id, source, custom, created_at, updated_at, deleted_at, version)",
    );
    let mut deals = Table::new(
        "INSERT INTO deals (id, title, value, currency, contract_months, pipeline_id, stage_id, status, lost_reason, probability, expected_close_date, owner_id, person_id, organization_id, source, custom, created_at, updated_at, closed_at, stage_entered_at, deleted_at, version)",
    );
    let mut events = Table::new(
        "INSERT INTO stage_events (id, deal_id, kind, pipeline_id, stage_id, from_stage_id, lost_reason, at, user_id)",
    );
    let mut messages = Table::new(
        "INSERT INTO outreach_messages (id, person_id, campaign_id, channel, sent_at, replied_at, sentiment, created_at, updated_at, deleted_at, version)",
    );

    // One person per deal, plus a quarter more prospects who never got one.
    let n_people = o.deals + o.deals / 4;
    let span = o.days * DAY;
    let mut evs: Vec<Ev> = Vec::with_capacity(16);
    for i in 0..n_people {
        let person = PERSON_ID0 + i as i64;
        let has_deal = i < o.deals;
        // People (and their deals) are spread evenly over the history.
        let base = if has_deal {
            created + (i as i64 * span) / o.deals.max(1) as i64
        } else {
            created + rng.below(span as u64) as i64
        };
        let owner = USER_ID0 + rng.below(o.users as u64) as i64;
        let first_sent = (base - rng.exp_ms(12.0)).max(created);
        people.push_row(format!(
                "({person}, 'Person {i}', '[]', 'p{i}@bench.example', '[]', NULL, NULL, {owner}, NULL, '{{}}', {first_sent}, {first_sent}, NULL, 1)"
        ));
        report.people += 1;

        // Outreach: one or two messages; people with deals replied more often.
        let n_msgs = 1 + rng.below(2);
        let mut sent = first_sent;
        for m in 0..n_msgs {
            let campaign =
                if rng.chance(0.9) { Some(CAMPAIGN_ID0 + rng.below(o.campaigns as u64) as i64) } else { None };
            let channel = CHANNELS[rng.below(CHANNELS.len() as u64) as usize];
            let p_reply = if has_deal && m == n_msgs - 1 { 0.6 } else { 0.08 };
            let (replied, sentiment) = if rng.chance(p_reply) {
                let s = match rng.below(10) {
                    0..5 => "'positive'",
                    5..8 => "'neutral'",
                    _ => "'negative'",
                };
                (Some((sent + rng.exp_ms(2.0)).min(o.now - 1)), s)
            } else {
                (None, "NULL")
            };
            let id = MESSAGE_ID0 + report.messages as i64;
            messages.push_row(format!(
                "({id}, {person}, {}, '{channel}', {sent}, {}, {sentiment}, {sent}, {sent}, NULL, 1)",
                opt(campaign),
                opt(replied)
            ));
            report.messages += 1;
            sent = (sent + rng.exp_ms(4.0)).min(o.now - 1);
        }

        if has_deal {
            let deal = DEAL_ID0 + i as i64;
            let created_at = base;
            evs.clear();
            evs.push(Ev { kind: "enter", stage: stages[0], from: None, reason: None, at: created_at });
            let mut pos = 0usize;
            let mut t = created_at;
            let mut reopens = 0;
            // Walk the deal through the pipeline until it closes for good or
            // its next step would come after `now` (it stays open).
            loop {
                t += rng.exp_ms(9.0);
                if t >= o.now || evs.len() >= 14 {
                    break;
                }
                let r = rng.0.next_f64();
                let last = pos + 1 == n_stages;
                let (p_adv, p_win, p_back) = if last { (0.0, 0.40, 0.12) } else { (0.64, 0.03, 0.09) };
                if r < p_adv {
                    let to = if pos + 2 < n_stages && rng.chance(0.12) { pos + 2 } else { pos + 1 };
                    evs.push(Ev { kind: "enter", stage: stages[to], from: Some(stages[pos]), reason: None, at: t });
                    pos = to;
                    continue;
                }
                if r < p_adv + p_back && pos > 0 {
                    evs.push(Ev {
                        kind: "enter",
                        stage: stages[pos - 1],
                        from: Some(stages[pos]),
                        reason: None,
                        at: t,
                    });
                    pos -= 1;
                    continue;
                }
                let won = r < p_adv + p_back + p_win || (!last && rng.chance(0.08));
                let reason = (!won).then(|| rng.below(DEFAULT_LOST_REASONS.len() as u64) as usize);
                evs.push(Ev { kind: if won { "won" } else { "lost" }, stage: stages[pos], from: None, reason, at: t });
                // Some closed deals are reopened and carry on where they were.
                if reopens < 1 && rng.chance(0.15) {
                    t += rng.exp_ms(20.0);
                    if t >= o.now {
                        break;
                    }
                    evs.push(Ev { kind: "reopen", stage: stages[pos], from: None, reason: None, at: t });
                    reopens += 1;
                    continue;
                }
                break;
            }

            // The deal row is the replay of its events.
            let mut status = "open";
            let mut closed_at = None;
            let mut lost_reason = None;
            let mut stage = stages[0];
            let mut entered = created_at;
            for e in &evs {
                match e.kind {
                    "enter" => {
                        stage = e.stage;
                        entered = e.at;
                    }
                    "won" | "lost" => {
                        status = e.kind;
                        closed_at = Some(e.at);
                        lost_reason = e.reason;
                    }
                    _ => {
                        status = "open";
                        closed_at = None;
                        lost_reason = None;
                    }
                }
                let id = EVENT_ID0 + report.events as i64;
                let reason = e.reason.map_or_else(|| "NULL".to_string(), |r| format!("'{}'", DEFAULT_LOST_REASONS[r]));
                events.push_row(format!(
                    "({id}, {deal}, '{}', {pid}, {}, {}, {reason}, {}, {owner})",
                    e.kind,
                    e.stage,
                    opt(e.from),
                    e.at
                ));
                report.events += 1;
            }
            let updated = evs.last().map_or(created_at, |e| e.at);
            // Values from $1,000 to about $200,000, skewed to the small end.
            let value = (100_000.0 * (200.0f64).powf(rng.0.next_f64())) as i64;
            let months = match rng.below(10) {
                0..4 => "NULL",
                4..7 => "12",
                7..9 => "24",
                _ => "36",
            };
            let source = SOURCES[rng.below(SOURCES.len() as u64) as usize];
            let reason = lost_reason.map_or_else(|| "NULL".to_string(), |r| format!("'{}'", DEFAULT_LOST_REASONS[r]));
            let fact = DealFact {
                id: deal.to_string(),
                pipeline: pid.to_string(),
                value,
                currency: "USD".into(),
                contract_months: months.parse().ok(),
                probability: None,
                expected_close_at: None,
                owner: owner.to_string(),
                source: source.to_string(),
                created_at,
                status: DealStatus::parse(status).map_err(StoreError::Config)?,
                closed_at,
                events: evs
                    .iter()
                    .map(|e| match e.kind {
                        "enter" => DealEvent::enter(&e.stage.to_string(), e.at),
                        "won" => DealEvent::won(e.at),
                        "lost" => DealEvent::lost(e.at),
                        _ => DealEvent::reopen(e.at),
                    })
                    .collect(),
            };
            let key = DealKey { id: deal, pipeline: pid, owner: Some(owner), source };
            projected.push(&key, &fact, &project_deal(&fact, &stage_infos));
            let mut row = String::with_capacity(200);
            let _ = write!(
                row,
                "({deal}, 'Deal {i}', {value}, 'USD', {months}, {pid}, {stage}, '{status}', {reason}, NULL, NULL, {owner}, {person}, NULL, '{source}', '{{}}', {created_at}, {updated}, {}, {entered}, NULL, 1)",
                opt(closed_at)
            );
            deals.push_row(row);
            report.deals += 1;
        }
        if projected.len() >= ROWS_PER_INSERT * 4 {
            w.project(&mut projected).await?;
        }
        // Parents before children (foreign keys are checked at once).
        if people.full() || deals.full() || events.full() || messages.full() {
            w.flush(&mut people).await?;
            w.flush(&mut deals).await?;
            w.flush(&mut events).await?;
            w.flush(&mut messages).await?;
        }
        w.maybe_commit().await?;
    }
    w.flush(&mut people).await?;
    w.flush(&mut deals).await?;
    w.flush(&mut events).await?;
    w.flush(&mut messages).await?;
    w.project(&mut projected).await?;
    crate::projections::finish_rebuild(&mut w.conn).await?;
    w.exec("COMMIT".into()).await?;
    if let Some(sql) = store.engine().bulk_load_end() {
        w.exec(sql.into()).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dealflow_core::DealId;
    use dealflow_core::model::DealStatus;

    #[tokio::test]
    async fn generated_deals_equal_the_replay_of_their_events() {
        let db = crate::testing::test_database().await.unwrap();
        let store = db.open().await.unwrap();
        let report = generate(&store, &GenOptions::new(200)).await.unwrap();
        assert_eq!(report.deals, 200);
        assert!(report.events > 400, "{report:?}");

        let facts = store.metric_facts().await.unwrap();
        assert_eq!(facts.deals.len(), 200);
        assert_eq!(facts.outreach.len() as u64, report.messages);
        let mut statuses = Vec::new();
        for d in &facts.deals {
            let deal = store.deal(DealId(d.id.parse().unwrap())).await.unwrap();
            let events = store.deal_events(deal.id).await.unwrap();
            let pos = dealflow_core::stage_move::replay(&events).expect("a deal has events");
            assert_eq!(pos.pipeline_id, deal.pipeline_id, "deal {}", d.id);
            assert_eq!(pos.stage_id, deal.stage_id, "deal {}", d.id);
            assert_eq!(pos.status, deal.status, "deal {}", d.id);
            assert_eq!(pos.closed_at, deal.closed_at, "deal {}", d.id);
            assert_eq!(pos.lost_reason, deal.lost_reason, "deal {}", d.id);
            assert_eq!(pos.stage_entered_at, deal.stage_entered_at, "deal {}", d.id);
            assert_eq!(d.events.len(), events.len());
            statuses.push(deal.status);
        }
        assert!(statuses.contains(&DealStatus::Won) && statuses.contains(&DealStatus::Lost));

        // The same options give the same facts (stage ids aside).
        let db2 = crate::testing::test_database().await.unwrap();
        let store2 = db2.open().await.unwrap();
        assert_eq!(generate(&store2, &GenOptions::new(200)).await.unwrap(), report);
        let facts2 = store2.metric_facts().await.unwrap();
        let shape = |f: &dealflow_core::metrics::Facts| {
            f.deals
                .iter()
                .map(|d| (d.id.clone(), d.value, d.created_at, d.closed_at, d.events.len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(&facts), shape(&facts2));
        store.close().await;
        store2.close().await;
    }
}
