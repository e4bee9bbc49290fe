//! What playbook compliance (`core::metrics::compliance`) is computed from:
//! the stage logs, up to the period's end, of the live deals under the
//! slice that had a stage event in the period; every stage's place; the
//! required steps; those deals' step due and done times; and, when a
//! required evidence step has a due time, their done activities. Four or
//! five reads, each bounded by the deals that moved in the period.

use crate::row::*;
use crate::sql::Sql;
use crate::{Store, StoreError};
use dealflow_core::metrics::compliance::{
    ComplianceInputs, DoneActivity, LogEvent, RequiredStep, StagePlace, StepTimes,
};
use dealflow_core::metrics::{Period, Slice};
use dealflow_core::model::{ActivityKind, EventKind};
use dealflow_core::{DealId, PipelineId, StageId, StepId, UserId};

/// Appends the deals with a stage event in `p` under the slice's deal
/// dimensions (pipeline, owner, source), as a subquery's text and binds.
fn moved(sql: &mut Sql, slice: &Slice, p: Period) {
    sql.push("SELECT d.id FROM deals d WHERE d.deleted_at IS NULL AND d.id IN (SELECT deal_id FROM stage_events WHERE at >= ")
        .bind(p.from)
        .push(" AND at < ")
        .bind(p.to)
        .push(")");
    if let Some(x) = slice.pipeline {
        sql.push(" AND d.pipeline_id = ").bind(x.0);
    }
    if let Some(x) = slice.owner {
        sql.push(" AND d.owner_id = ").bind(x.0);
    }
    if let Some(x) = &slice.source {
        sql.push(" AND d.source = ").bind(x.as_str());
    }
}

impl Store {
    /// The compliance inputs of `p` under `slice` (the campaign and channel
    /// slices do not apply: they filter outreach, not deals).
    #[tracing::instrument(skip_all, fields(from = p.from, to = p.to))]
    pub async fn compliance_inputs(&self, slice: &Slice, p: Period) -> Result<ComplianceInputs, StoreError> {
        if let Some(v) = &slice.source {
            dealflow_core::validate::plain_chars("source", v, false)?;
        }
        let mut out = ComplianceInputs::default();
        let mut q = Sql::new(
            "SELECT e.deal_id, d.owner_id, e.kind, e.stage_id, e.from_stage_id, e.at, e.override_reason, e.origin
             FROM stage_events e JOIN deals d ON d.id = e.deal_id WHERE e.deal_id IN (",
        );
        moved(&mut q, slice, p);
        q.push(") AND e.at < ").bind(p.to).push(" ORDER BY e.deal_id, e.at, e.id");
        for r in &q.query().fetch_all(self.pool()).await? {
            out.events.push(LogEvent {
                deal: DealId(i64_(r, "deal_id")?),
                owner: opt_i64(r, "owner_id")?.map(UserId),
                kind: enum_(r, "kind", EventKind::parse)?,
                stage: StageId(i64_(r, "stage_id")?),
                from_stage: opt_i64(r, "from_stage_id")?.map(StageId),
                at: i64_(r, "at")?,
                overridden: opt_text(r, "override_reason")?.is_some(),
                worked: text(r, "origin")? == "live",
            });
        }
        if out.events.is_empty() {
            return Ok(out);
        }
        for r in &sqlx::query("SELECT id, pipeline_id, position FROM stages").fetch_all(self.pool()).await? {
            out.stages.push(StagePlace {
                id: StageId(i64_(r, "id")?),
                pipeline: PipelineId(i64_(r, "pipeline_id")?),
                position: i64_(r, "position")?,
            });
        }
        let steps = sqlx::query(
            "SELECT id, stage_id, kind, activity_kind, created_at, deleted_at FROM playbook_steps WHERE required = 1",
        )
        .fetch_all(self.pool())
        .await?;
        for r in &steps {
            let evidence = match text(r, "kind")?.as_str() {
                "evidence" => opt_enum(r, "activity_kind", ActivityKind::parse)?,
                _ => None,
            };
            out.steps.push(RequiredStep {
                id: StepId(i64_(r, "id")?),
                stage: StageId(i64_(r, "stage_id")?),
                evidence,
                created_at: i64_(r, "created_at")?,
                deleted_at: opt_i64(r, "deleted_at")?,
            });
        }
        if out.steps.is_empty() {
            return Ok(out);
        }
        let mut q = Sql::new(
            "SELECT deal_id, step_id, due_at, done_at FROM deal_steps WHERE due_at IS NOT NULL AND deal_id IN (",
        );
        moved(&mut q, slice, p);
        q.push(")");
        for r in &q.query().fetch_all(self.pool()).await? {
            out.times.push(StepTimes {
                deal: DealId(i64_(r, "deal_id")?),
                step: StepId(i64_(r, "step_id")?),
                due_at: opt_i64(r, "due_at")?,
                done_at: opt_i64(r, "done_at")?,
            });
        }
        if out.steps.iter().any(|s| s.evidence.is_some()) && !out.times.is_empty() {
            let mut q =
                Sql::new("SELECT deal_id, kind, done_at FROM activities WHERE done_at IS NOT NULL AND done_at < ");
            q.bind(p.to).push(" AND deal_id IN (");
            moved(&mut q, slice, p);
            q.push(")");
            for r in &q.query().fetch_all(self.pool()).await? {
                if let Ok(kind) = ActivityKind::parse(&text(r, "kind")?) {
                    out.activities.push(DoneActivity {
                        deal: DealId(i64_(r, "deal_id")?),
                        kind,
                        done_at: i64_(r, "done_at")?,
                    });
                }
            }
        }
        Ok(out)
    }
}
