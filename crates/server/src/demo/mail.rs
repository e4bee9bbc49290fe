//! The demo's automatic e-mail: a welcome e-mail step on the self-serve
//! pipeline's "Activated" stage, added after the deals are in place, so
//! the deals already there show an e-mail that fell due before the step
//! existed ("send now" or "skip"), and one of them a failed e-mail: its
//! person asked not to be e-mailed, and the send job, run here as the job
//! runner would, fails the step with that reason. The demo has no mail
//! server, so nothing is sent.

use dealflow_core::model::{DealStatus, PersonPatch, Pipeline};
use dealflow_core::playbook::StepSpec;
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, DealFilter, EMAIL_JOB, Page, Store};
use serde_json::json;

/// The stage of the self-serve pipeline that carries the automatic e-mail.
const STAGE: &str = "Activated";

pub async fn seed_failed_email(store: &Store, admin: &Actor, pipelines: &[Pipeline]) -> anyhow::Result<()> {
    let Some(stage) = pipelines.iter().flat_map(|p| p.stages.iter()).find(|s| s.name == STAGE) else {
        return Ok(());
    };
    let spec: StepSpec = serde_json::from_value(json!({
        "title": "Welcome e-mail",
        "description": "Sent by itself when a trial is activated.",
        "kind": "email",
        "required": false,
        "send": "auto",
        "template": {
            "subject": "Welcome aboard, {{person.first_name}}",
            "body": "Hello {{person.first_name}},\n\nyour workspace is active. \
                     Reply to this e-mail with any question.\n\n{{owner.name}}"
        },
        "due": {"anchor": "stage_entered", "offset_minutes": 0}
    }))?;
    let step = store.create_step(admin, stage.id, spec).await?;
    let filter = DealFilter { stage_id: Some(stage.id), status: Some(DealStatus::Open), ..Default::default() };
    let deals = store.list_deals(&filter, Page { limit: 50, before: None }).await?;
    let Some((deal, person)) = deals.items.iter().find_map(|d| d.person_id.map(|p| (d, p))) else {
        return Ok(());
    };
    let p = store.person(person).await?;
    let patch = PersonPatch { version: p.version, do_not_email: Some(true), ..Default::default() };
    store.update_person(admin, person, patch).await?;
    let job = store.send_step_now(admin, deal.id, step.id).await?;
    for claimed in store.claim_jobs("demo-seed", Timestamp::now(), 60_000, 10).await? {
        if claimed.kind != EMAIL_JOB || claimed.id != job {
            continue;
        }
        let result = crate::jobs::run_email_job(store.clone(), claimed.clone())
            .await
            .map_err(|e| anyhow::anyhow!("the demo's e-mail job: {e}"))?;
        store.complete_job(&claimed, &result, Timestamp::now()).await?;
    }
    Ok(())
}
