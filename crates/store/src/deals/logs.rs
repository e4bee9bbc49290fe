//! A deal's stage log and field history a page at a time, oldest first, so
//! the API never answers with an unbounded list however often a deal was
//! moved or edited. Pages are cut by keyset on `(at, id)`, the order the
//! logs are read in, which stays stable while new entries are appended.

use super::{change_from_row, event_from_row};
use crate::row::R;
use crate::sql::ListPage;
use crate::{Store, StoreError};
use dealflow_core::DealId;
use dealflow_core::model::{FieldChange, StageEvent};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::fmt;
use std::str::FromStr;

/// Where the next page of a log starts: after the entry at `at` with `id`.
/// Written as `{at}.{id}` in `next_cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursor {
    pub at: i64,
    pub id: i64,
}

impl fmt::Display for LogCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.at, self.id)
    }
}

impl FromStr for LogCursor {
    type Err = ();

    /// Exactly `{at}.{id}` with 1–18 digits each (always within an i64),
    /// the pattern the API documents: no signs, no spaces.
    fn from_str(s: &str) -> Result<Self, ()> {
        let (at, id) = s.split_once('.').ok_or(())?;
        let part = |p: &str| -> Result<i64, ()> {
            if (1..=18).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().map_err(|_| ())
            } else {
                Err(())
            }
        };
        Ok(LogCursor { at: part(at)?, id: part(id)? })
    }
}

impl Store {
    /// One page of the deal's stage log, oldest first.
    pub async fn deal_events_page(
        &self,
        deal: DealId,
        after: Option<LogCursor>,
        limit: i64,
    ) -> Result<ListPage<StageEvent>, StoreError> {
        self.log_page("stage_events", deal, after, limit, event_from_row).await
    }

    /// One page of the deal's field history, oldest first.
    pub async fn deal_history_page(
        &self,
        deal: DealId,
        after: Option<LogCursor>,
        limit: i64,
    ) -> Result<ListPage<FieldChange>, StoreError> {
        self.log_page("field_history", deal, after, limit, change_from_row).await
    }

    /// `table` is one of the two literals above, never user input.
    async fn log_page<T>(
        &self,
        table: &str,
        deal: DealId,
        after: Option<LogCursor>,
        limit: i64,
        map: fn(&AnyRow) -> R<T>,
    ) -> Result<ListPage<T>, StoreError> {
        let limit = limit.clamp(1, crate::Page::MAX);
        let after = after.unwrap_or(LogCursor { at: i64::MIN, id: i64::MIN });
        let sql = format!(
            "SELECT * FROM {table} WHERE deal_id = $1 AND (at > $2 OR (at = $2 AND id > $3)) ORDER BY at, id LIMIT $4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(deal.0)
            .bind(after.at)
            .bind(after.id)
            .bind(limit + 1)
            .fetch_all(self.pool())
            .await?;
        let more = rows.len() as i64 > limit;
        let mut items = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last = None;
        for r in rows.iter().take(limit as usize) {
            last = Some(LogCursor { at: r.try_get("at")?, id: r.try_get("id")? });
            items.push(map(r)?);
        }
        Ok(ListPage { items, next_cursor: if more { last.map(|c| c.to_string()) } else { None } })
    }
}
