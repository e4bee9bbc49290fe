//! The daily sums (`metric_rollup`) of the projection rows, kept in step
//! with them: before a deal's or a person's rows are rewritten their sums
//! are subtracted, after it the new ones are added, and sums that fell to
//! zero are deleted, so the table always equals a rebuild from the rows.

use super::exec;
use crate::StoreError;
use sqlx::AnyConnection;

/// What each rollup `kind` counts, and what its keys mean.
pub(crate) mod kind {
    /// Deals closed that day: k1 won (0/1), k2 contract months (0: none),
    /// k3 currency; n deals, s1 Σ value, s2 Σ (closed_at − created_at).
    pub const CLOSED: i64 = 1;
    /// Deals closed that day: k1 reach count, k2 won; n deals.
    pub const CLOSED_REACH: i64 = 2;
    /// Deals created that day: k1 reach count; n deals.
    pub const CREATED: i64 = 3;
    /// Deals that first reached a meeting stage that day; n deals.
    pub const MEETING: i64 = 4;
    /// Deals that first reached a proposal stage that day; n deals.
    pub const PROPOSAL: i64 = 5;
    /// Stays that ended that day: k1 stage, k2 duration class; n stays.
    pub const STAY: i64 = 6;
    /// Messages sent that day: k1 campaign (0: none), k3 channel; n
    /// messages, s1 with a reply, s2 with a positive reply.
    pub const SENT: i64 = 7;
    /// Messages by the day of the same person's previous message: k1 the
    /// day the message itself was sent; n messages.
    pub const PAIR: i64 = 8;
    /// Deals that first reached a conversation stage that day; n deals.
    pub const CONVERSATION: i64 = 9;
}

/// Milliseconds in a UTC day, the rollups' unit.
pub(crate) const DAY: i64 = 86_400_000;

/// The UTC day of a time column, rounding down also before 1970.
fn day_of(col: &str) -> String {
    format!("(({col}) - ((({col}) % {DAY}) + {DAY}) % {DAY}) / {DAY}")
}

/// One rollup kind's source: (kind, table, the SELECT list of day,
/// pipeline_id, k1, k2, k3, the rows it counts, its two sums).
type RollPart = (i64, &'static str, String, &'static str, &'static str);

/// `INSERT … SELECT` statements adding `sign` × the rollup contributions
/// of the rows matching `filter`.
fn roll_sql(parts: &[RollPart], filter: &str, sign: i64) -> Vec<String> {
    parts
        .iter()
        .map(|(kind, table, keys, cond, sums)| {
            format!(
                "INSERT INTO metric_rollup (kind, day, pipeline_id, k1, k2, k3, n, s1, s2)
                 SELECT {kind}, {keys}, {sign} * COUNT(*), {sign} * {s1}, {sign} * {s2}
                 FROM {table} WHERE {cond} AND {filter}
                 GROUP BY 1, 2, 3, 4, 5, 6
                 ON CONFLICT (kind, day, pipeline_id, k1, k2, k3)
                 DO UPDATE SET n = metric_rollup.n + excluded.n, s1 = metric_rollup.s1 + excluded.s1,
                   s2 = metric_rollup.s2 + excluded.s2",
                s1 = sum_of(sums.split('|').next().unwrap_or("0")),
                s2 = sum_of(sums.split('|').nth(1).unwrap_or("0")),
            )
        })
        .collect()
}

fn sum_of(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

/// Adds `sign` × the rollups of the deal rows (and their stays) matching `filter`.
pub(super) async fn roll_deals(conn: &mut AnyConnection, filter: &str, sign: i64) -> Result<(), StoreError> {
    let parts: [RollPart; 7] = [
        (
            kind::CLOSED,
            "metric_deals",
            format!("{}, pipeline_id, won, COALESCE(contract_months, 0), currency", day_of("closed_at")),
            "closed_at IS NOT NULL",
            "value|closed_at - created_at",
        ),
        (
            kind::CLOSED_REACH,
            "metric_deals",
            format!("{}, pipeline_id, reach_count, won, ''", day_of("closed_at")),
            "closed_at IS NOT NULL",
            "0|0",
        ),
        (
            kind::CREATED,
            "metric_deals",
            format!("{}, pipeline_id, reach_count, 0, ''", day_of("created_at")),
            "1 = 1",
            "0|0",
        ),
        (
            kind::CONVERSATION,
            "metric_deals",
            format!("{}, pipeline_id, 0, 0, ''", day_of("conversation_at")),
            "conversation_at IS NOT NULL",
            "0|0",
        ),
        (
            kind::MEETING,
            "metric_deals",
            format!("{}, pipeline_id, 0, 0, ''", day_of("meeting_at")),
            "meeting_at IS NOT NULL",
            "0|0",
        ),
        (
            kind::PROPOSAL,
            "metric_deals",
            format!("{}, pipeline_id, 0, 0, ''", day_of("proposal_at")),
            "proposal_at IS NOT NULL",
            "0|0",
        ),
        (
            kind::STAY,
            "metric_stays",
            format!("{}, pipeline_id, stage_id, dur_bucket, ''", day_of("ended_at")),
            "1 = 1",
            "0|0",
        ),
    ];
    for sql in roll_sql(&parts, filter, sign) {
        exec(conn, sql).await?;
    }
    Ok(())
}

/// Adds `sign` × the rollups of the outreach rows matching `filter`.
pub(super) async fn roll_outreach(conn: &mut AnyConnection, filter: &str, sign: i64) -> Result<(), StoreError> {
    let parts: [RollPart; 2] = [
        (
            kind::SENT,
            "metric_outreach",
            format!("{}, 0, COALESCE(campaign_id, 0), 0, channel", day_of("sent_at")),
            "1 = 1",
            "replied|positive",
        ),
        (
            kind::PAIR,
            "metric_outreach",
            format!("{}, 0, {}, 0, ''", day_of("prev_sent_at"), day_of("sent_at")),
            "prev_sent_at IS NOT NULL",
            "0|0",
        ),
    ];
    for sql in roll_sql(&parts, filter, sign) {
        exec(conn, sql).await?;
    }
    Ok(())
}

/// Deletes the rollup rows a change brought back to zero, so the rollups
/// hold exactly what a rebuild would (through their partial index).
pub(super) async fn drop_zero_sums(conn: &mut AnyConnection) -> Result<(), StoreError> {
    exec(conn, "DELETE FROM metric_rollup WHERE n = 0".to_string()).await
}
