//! What the stage gate reads for a deal about to leave its stage: the live
//! steps of every stage of its pipeline with the deal's stored state of
//! each (whether the task a step made is done, and for an evidence step of
//! the current stage whether an activity of its kind was done since the
//! deal entered the stage) in one statement, and, only when the current
//! stage has campaign steps, the campaigns the deal's person is a member
//! of, which decide those steps, in a second. The steps of the other
//! stages, and what is left open in this one, let the move's checklist
//! effects skip their own reads and the writes that would change nothing.

use crate::row::*;
use crate::{StoreError, Tx};
use dealflow_core::model::ActivityKind;
use dealflow_core::playbook::gate::{Facts, StoredState};
use dealflow_core::playbook::{Step, StepKind, StepStatus};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, StageId};

/// The loaded facts, owned; [`GateData::facts`] lends them to the decision.
#[derive(Debug, Default)]
pub(crate) struct GateData {
    /// The current stage's steps, in order.
    pub steps: Vec<Step>,
    /// The steps of every stage of the pipeline, the current one included.
    pub pipeline_steps: Vec<Step>,
    pub states: Vec<StoredState>,
    pub evidence: Vec<ActivityKind>,
    /// What leaving the current stage has to close: whether any state is
    /// still open or waiting, and whether one of those has a task not done.
    pub open_states: bool,
    pub open_tasks: bool,
}

impl GateData {
    pub fn facts(&self) -> Facts<'_> {
        Facts { steps: &self.steps, states: &self.states, evidence: &self.evidence }
    }
}

/// Reads the checklist facts of `deal` in `stage`, entered at `since`.
pub(crate) async fn facts(tx: &mut Tx, deal: DealId, stage: StageId, since: Timestamp) -> Result<GateData, StoreError> {
    // The evidence of a step is one EXISTS on the activities index, so the
    // gate costs a single statement for any checklist without campaigns.
    let rows = sqlx::query(
        "SELECT s.*, ds.status AS ds_status, a.id AS ds_activity, a.done_at AS ds_activity_done,
           CASE WHEN s.kind = 'evidence' AND s.stage_id = $2 AND EXISTS (SELECT 1 FROM activities ev
             WHERE ev.deal_id = $1 AND ev.kind = s.activity_kind AND ev.done_at IS NOT NULL AND ev.done_at >= $3)
           THEN 1 ELSE 0 END AS evidence_met
         FROM playbook_steps s
         LEFT JOIN deal_steps ds ON ds.step_id = s.id AND ds.deal_id = $1
         LEFT JOIN activities a ON a.id = ds.activity_id
         WHERE s.deleted_at IS NULL AND s.stage_id IN
           (SELECT id FROM stages WHERE pipeline_id = (SELECT pipeline_id FROM stages WHERE id = $2))
         ORDER BY s.position, s.id",
    )
    .bind(deal.0)
    .bind(stage.0)
    .bind(since.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = GateData::default();
    for r in &rows {
        let step = super::step_from_row(r)?;
        if step.stage_id == stage {
            if let Some(status) = opt_enum(r, "ds_status", StepStatus::parse)? {
                let activity_done = opt_i64(r, "ds_activity_done")?.is_some();
                if matches!(status, StepStatus::Open | StepStatus::Waiting) {
                    out.open_states = true;
                    out.open_tasks |= opt_i64(r, "ds_activity")?.is_some() && !activity_done;
                }
                out.states.push(StoredState { step_id: step.id, status, activity_done });
            }
            if i64_(r, "evidence_met")? == 1 {
                out.evidence.extend(step.spec.activity_kind);
            }
            out.steps.push(step.clone());
        }
        out.pipeline_steps.push(step);
    }
    if out.steps.iter().any(|s| s.spec.kind == StepKind::Campaign) {
        let member_of = crate::campaigns::members::deal_person_campaigns(tx, deal).await?;
        crate::campaigns::members::overlay(&out.steps, &mut out.states, &member_of);
    }
    Ok(out)
}
