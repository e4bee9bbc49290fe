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

use crate::projections::{Rows, opt};
use crate::{Store, StoreError};
use dealflow_core::metrics::{SplitMix64, StageInfo};
use dealflow_core::model::DEFAULT_LOST_REASONS;

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

mod deal;

use deal::{DealSeed, Ev, push_deal, walk};

/// The generated rows not yet written, parents before children.
struct Tables {
    people: Table,
    deals: Table,
    events: Table,
    messages: Table,
    projected: Rows,
}

impl Tables {
    fn new() -> Self {
        Tables {
            people: Table::new(
                "INSERT INTO people (id, name, emails, primary_email, phones, job_title, organization_id, owner_id, source, custom, created_at, updated_at, deleted_at, version)",
            ),
            deals: Table::new(
                "INSERT INTO deals (id, title, value, currency, contract_months, pipeline_id, stage_id, status, lost_reason, probability, expected_close_date, owner_id, person_id, organization_id, source, custom, created_at, updated_at, closed_at, stage_entered_at, deleted_at, version)",
            ),
            events: Table::new(
                "INSERT INTO stage_events (id, deal_id, kind, pipeline_id, stage_id, from_stage_id, lost_reason, at, user_id)",
            ),
            messages: Table::new(
                "INSERT INTO outreach_messages (id, person_id, campaign_id, channel, sent_at, replied_at, sentiment, created_at, updated_at, deleted_at, version)",
            ),
            projected: Rows::default(),
        }
    }

    /// Writes what is buffered: everything with `all`, else only full tables.
    async fn flush(&mut self, w: &mut Writer, all: bool) -> Result<(), StoreError> {
        if all || self.projected.len() >= ROWS_PER_INSERT * 4 {
            w.project(&mut self.projected).await?;
        }
        // Parents before children (foreign keys are checked at once).
        if all || self.people.full() || self.deals.full() || self.events.full() || self.messages.full() {
            w.flush(&mut self.people).await?;
            w.flush(&mut self.deals).await?;
            w.flush(&mut self.events).await?;
            w.flush(&mut self.messages).await?;
        }
        Ok(())
    }
}

/// Generates a workspace into `store`, which must be freshly created (the
/// default pipeline present, no deals). Writes users, campaigns, people,
/// deals with their stage events, and outreach messages with replies.
pub async fn generate(store: &Store, o: &GenOptions) -> Result<GenReport, StoreError> {
    let pipeline =
        store.pipelines().await?.into_iter().next().ok_or_else(|| StoreError::Config("no pipeline".into()))?;
    let mut stages: Vec<i64> = pipeline.stages.iter().map(|s| s.id.0).collect();
    stages.sort_by_key(|id| pipeline.stages.iter().find(|s| s.id.0 == *id).map(|s| s.position));
    // The metric projections are written alongside, from the same replay
    // the store uses for every other write.
    let stage_infos: Vec<StageInfo> = pipeline
        .stages
        .iter()
        .map(|s| StageInfo { id: s.id, order: s.position, milestone: s.milestone, probability: None })
        .collect();
    let mut rng = Rng(SplitMix64::new(o.seed));
    let mut report = GenReport::default();
    let created = o.now - o.days * DAY;

    let conn = store.pool().acquire().await?;
    let mut w = Writer { conn, in_tx: 0 };
    if let Some(sql) = store.engine().bulk_load_start() {
        w.exec(sql.into()).await?;
    }
    w.exec("BEGIN".into()).await?;
    write_directory(&mut w, o, created, &mut report).await?;

    let mut t = Tables::new();
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
        t.people.push_row(format!(
            "({person}, 'Person {i}', '[]', 'p{i}@bench.example', '[]', NULL, NULL, {owner}, NULL, '{{}}', {first_sent}, {first_sent}, NULL, 1)"
        ));
        report.people += 1;
        push_messages(&mut rng, o, (person, first_sent, has_deal), &mut t.messages, &mut report);
        if has_deal {
            walk(&mut rng, &stages, base, o.now, &mut evs);
            let seed =
                DealSeed { i, deal: DEAL_ID0 + i as i64, person, owner, pipeline: pipeline.id.0, created_at: base };
            push_deal(&mut rng, &seed, &evs, &stage_infos, &mut t, &mut report)?;
        }
        t.flush(&mut w, false).await?;
        w.maybe_commit().await?;
    }
    t.flush(&mut w, true).await?;
    crate::projections::finish_rebuild(&mut w.conn).await?;
    w.exec("COMMIT".into()).await?;
    if let Some(sql) = store.engine().bulk_load_end() {
        w.exec(sql.into()).await?;
    }
    Ok(report)
}

/// The users and campaigns every deal and message refers to.
async fn write_directory(
    w: &mut Writer,
    o: &GenOptions,
    created: i64,
    report: &mut GenReport,
) -> Result<(), StoreError> {
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
    w.flush(&mut campaigns).await
}

/// One or two messages to a person; people with deals replied more often.
fn push_messages(
    rng: &mut Rng,
    o: &GenOptions,
    (person, first_sent, has_deal): (i64, i64, bool),
    messages: &mut Table,
    report: &mut GenReport,
) {
    let n_msgs = 1 + rng.below(2);
    let mut sent = first_sent;
    for m in 0..n_msgs {
        let campaign = if rng.chance(0.9) { Some(CAMPAIGN_ID0 + rng.below(o.campaigns as u64) as i64) } else { None };
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
}

/// Sets up to `n` closed deals (the newest) open again, for benchmarks
/// that need many open deals: the generator leaves few open. Their stage
/// history stays as it was; the metric projections are not refreshed.
pub async fn reopen(store: &Store, n: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE deals SET status = 'open', lost_reason = NULL, closed_at = NULL
         WHERE id IN (SELECT id FROM deals WHERE status <> 'open' ORDER BY id DESC LIMIT $1)",
    )
    .bind(n)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected())
}

/// Leaves exactly `n` open deals in `pipeline` (the newest; closed ones are
/// set open again when there are fewer), for benchmarks that need a given
/// number of open deals in a large workspace. Projections are not
/// refreshed: only for measuring reads that do not use them for these deals.
pub async fn keep_open(store: &Store, pipeline: dealflow_core::PipelineId, n: i64) -> Result<i64, StoreError> {
    sqlx::query(
        "UPDATE deals SET status = 'lost', closed_at = stage_entered_at
         WHERE pipeline_id = $1 AND status = 'open' AND id NOT IN
           (SELECT id FROM deals WHERE pipeline_id = $1 AND status = 'open' ORDER BY id DESC LIMIT $2)",
    )
    .bind(pipeline.0)
    .bind(n)
    .execute(store.pool())
    .await?;
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deals WHERE pipeline_id = $1 AND status = 'open'")
        .bind(pipeline.0)
        .fetch_one(store.pool())
        .await?;
    sqlx::query(
        "UPDATE deals SET status = 'open', lost_reason = NULL, closed_at = NULL
         WHERE id IN (SELECT id FROM deals WHERE pipeline_id = $1 AND status <> 'open' ORDER BY id DESC LIMIT $2)",
    )
    .bind(pipeline.0)
    .bind((n - open).max(0))
    .execute(store.pool())
    .await?;
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM deals WHERE pipeline_id = $1 AND status = 'open'")
        .bind(pipeline.0)
        .fetch_one(store.pool())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
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
            let deal = store.deal(d.id).await.unwrap();
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
            f.deals.iter().map(|d| (d.id, d.value, d.created_at, d.closed_at, d.events.len())).collect::<Vec<_>>()
        };
        assert_eq!(shape(&facts), shape(&facts2));
        store.close().await;
        store2.close().await;
    }
}
