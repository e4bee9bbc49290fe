//! The demo's weekly audits on the sales pipeline: a schedule (Mondays at
//! 09:00), last week's audit with a few decisions and signed off, and this
//! week's open audit, which compares against it, so the list has history,
//! the meeting mode has flags, changes and a checked next action.

use dealflow_core::model::{Pipeline, PipelinePatch};
use dealflow_core::pipeline_audit::{Decision, DecisionKind, NextActionInput};
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, Store};

const WEEK: i64 = 7 * 86_400_000;

/// Seeds the schedule and two audits as of `now`; `manager` decides.
pub async fn seed(
    store: &Store,
    sys: &Actor,
    manager: dealflow_core::UserId,
    sales: &Pipeline,
    now: Timestamp,
) -> anyhow::Result<()> {
    let patch = PipelinePatch {
        version: store.pipeline(sales.id).await?.version,
        name: None,
        position: None,
        archived: None,
        no_skipping_stages: None,
        forecast_source: None,
        audit_weekday: Some(Some(1)),
        audit_time: Some(Some("09:00".into())),
        audit_no_contact_days: None,
    };
    store.update_pipeline(sys, sales.id, patch).await?;

    let last_week = Actor { user_id: Some(manager), now: Timestamp(now.0 - WEEK), ..*sys };
    let before = store.create_audit(&last_week, sales.id, None).await?;
    let items: Vec<_> = before.items.iter().flatten().map(|i| i.facts.deal_id).collect();
    // Keep the first few with a next action (some will be done by now,
    // some not), and leave the rest undecided.
    for (n, deal) in items.iter().take(4).enumerate() {
        let d = Decision {
            kind: DecisionKind::Keep,
            note: Some("Still a fit; push for the next meeting".into()),
            lost_reason: None,
            stage_id: None,
            override_reason: None,
            owner_id: None,
            expected_close_date: None,
            next_action: Some(NextActionInput {
                subject: format!("Follow up after the audit ({})", n + 1),
                due_at: Some(Timestamp(last_week.now.0 + 2 * 86_400_000)),
            }),
        };
        store.decide_audit_item(&last_week, before.id, *deal, d).await?;
    }
    store.sign_off_audit(&last_week, before.id).await?;
    let this_week = Actor { user_id: Some(manager), now, ..*sys };
    store.create_audit(&this_week, sales.id, None).await?;
    Ok(())
}
