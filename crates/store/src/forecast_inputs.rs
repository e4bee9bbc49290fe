//! What the forecast at "now" reads instead of replaying every deal
//! ([`Store::forecast_inputs`]): the open deals with their current fields
//! and the stage they sit in, and the deals won in the year before, each
//! with the stages it had entered before its win — all from the metric
//! projections (`metric_deals`, `metric_forecast_entries`), so the cost
//! follows the open deals and the year's wins, not the workspace's
//! history. The stage figures of that year come from the projections too
//! (`Store::stage_inputs`).

use crate::facts::{DEAL_FACT_COLUMNS, deal_fact};
use crate::row::*;
use crate::{Store, StoreError, minor_rates};
use dealflow_core::ids::StageId;
use dealflow_core::metrics::{ForecastInputs, Ms, Period};

impl Store {
    /// The forecast's inputs at `as_of`, or `None` when a stage event, a
    /// deal's creation or a field change is dated after `as_of`: the
    /// projections hold the whole history, so only a moment after every
    /// recorded fact can be answered from them (earlier moments replay).
    #[tracing::instrument(skip_all)]
    pub async fn forecast_inputs(&self, as_of: Ms) -> Result<Option<ForecastInputs>, StoreError> {
        // Each maximum is read from an index.
        for sql in [
            "SELECT MAX(at) FROM stage_events",
            "SELECT MAX(created_at) FROM metric_deals",
            "SELECT MAX(at) FROM field_history",
        ] {
            let latest: Option<i64> = sqlx::query_scalar(sql).fetch_one(self.pool()).await?;
            if latest.is_some_and(|t| t > as_of) {
                return Ok(None);
            }
        }
        let settings = self.settings().await?;
        let window = Period::year_before(as_of);
        let (pipelines, open, wins, win_entries) = tokio::try_join!(
            self.metric_pipelines(),
            self.open_deals_in_stages(settings.time_zone),
            self.wins_in(window),
            self.win_entries_in(window),
        )?;
        let rates = minor_rates(&settings.base_currency, &settings.exchange_rates);
        Ok(Some(ForecastInputs { pipelines, open, wins, win_entries, rates }))
    }

    /// Every open live deal in id order, with the stage it sits in and when
    /// it last entered it (none when its last entry was into a stage of
    /// another pipeline).
    async fn open_deals_in_stages(
        &self,
        tz: dealflow_core::time::TimeZone,
    ) -> Result<Vec<(dealflow_core::metrics::DealFact, Option<(StageId, Ms)>)>, StoreError> {
        let columns: String = DEAL_FACT_COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ");
        // The WHERE matches the partial index `deals_open_forecast` (migration
        // 0020), which covers the columns: read in id order, no row lookups.
        let sql = format!(
            "SELECT {columns}, e.stage_id AS entry_stage, e.entered_at AS entry_at
             FROM deals d LEFT JOIN metric_forecast_entries e ON e.deal_id = d.id AND e.won_at IS NULL
             WHERE d.status = 'open' AND d.deleted_at IS NULL ORDER BY d.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let stage = opt_i64(r, "entry_stage")?.map(StageId);
                let entered = opt_i64(r, "entry_at")?;
                Ok((deal_fact(r, tz)?, stage.zip(entered)))
            })
            .collect::<R<Vec<_>>>()
            .map_err(StoreError::from)
    }

    /// `(created_at, closed_at)` of the live deals won in `p` (read from the
    /// covering index `metric_deals_closed`).
    async fn wins_in(&self, p: Period) -> Result<Vec<(Ms, Ms)>, StoreError> {
        let rows = sqlx::query(
            "SELECT created_at, closed_at FROM metric_deals WHERE closed_at >= $1 AND closed_at < $2 AND won = 1",
        )
        .bind(p.from)
        .bind(p.to)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((i64_(r, "created_at")?, i64_(r, "closed_at")?))).collect::<R<_>>().map_err(Into::into)
    }

    /// `(stage, last entered, won)` of the wins in `p`.
    async fn win_entries_in(&self, p: Period) -> Result<Vec<(StageId, Ms, Ms)>, StoreError> {
        let rows = sqlx::query(
            "SELECT stage_id, entered_at, won_at FROM metric_forecast_entries WHERE won_at >= $1 AND won_at < $2",
        )
        .bind(p.from)
        .bind(p.to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((StageId(i64_(r, "stage_id")?), i64_(r, "entered_at")?, i64_(r, "won_at")?)))
            .collect::<R<_>>()
            .map_err(Into::into)
    }
}
