//! Demo deals with their stage history, activities and notes.

use super::names::*;
use super::{DAY, DEALS, HISTORY_DAYS, Parties, past, pick};
use dealflow_core::UserId;
use dealflow_core::model::*;
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, Store};
use rand::Rng;
use rand::rngs::StdRng;

/// Lost reasons as the default workspace lists them.
const REASONS: &[&str] = &["No budget", "Chose a competitor", "No decision / went silent", "Not a fit", "Timing"];

pub async fn seed_deals(
    store: &Store,
    rng: &mut StdRng,
    now: Timestamp,
    reps: &[UserId],
    pipelines: &[Pipeline],
    parties: &Parties,
) -> anyhow::Result<()> {
    // The first open deal left in "Demo booked" keeps its checklist
    // untouched, so whatever the date, one playbook task is overdue there.
    let mut untouched = false;
    for i in 0..DEALS {
        // One deal in five comes through the self-serve pipeline.
        let pipeline = if i % 5 == 4 { &pipelines[1] } else { &pipelines[0] };
        let stages = &pipeline.stages;
        let (person, org_idx) = *pick(rng, &parties.people);
        let org = &parties.orgs[org_idx];
        let owner = *pick(rng, reps);
        let actor = Actor { user_id: Some(owner), ..Actor::system() };
        let created = past(rng, now, 1, HISTORY_DAYS);
        let source = if pipeline.id == pipelines[1].id {
            "self-serve"
        } else {
            ["outbound", "outbound", "inbound", "referral"][rng.random_range(0..4)]
        };
        let value = if pipeline.id == pipelines[1].id {
            rng.random_range(50..400) * 1_000
        } else {
            rng.random_range(20..600) * 10_000
        };
        let mut deal = store
            .create_deal(
                &actor,
                NewDeal {
                    title: format!("{} – {}", org.name, pick(rng, PRODUCTS)),
                    value,
                    currency: None,
                    contract_months: [None, Some(12), Some(24), Some(36)][rng.random_range(0..4)],
                    pipeline_id: Some(pipeline.id),
                    owner_id: Some(owner),
                    person_id: Some(person),
                    organization_id: Some(org.id),
                    source: Some(source.into()),
                    created_at: Some(created),
                    ..Default::default()
                },
            )
            .await?;
        // Walk the deal forward; each step takes a few days.
        let mut t = created.0;
        let mut idx = 0usize;
        let age_days = (now.0 - created.0) / DAY;
        // About a third of the deals stall: no event after a while, so they
        // stay open (and may rot) like real neglected deals.
        let horizon = if rng.random_bool(0.35) { created.0 + rng.random_range(3..40) * DAY } else { now.0 };
        loop {
            t += rng.random_range(DAY / 2..12 * DAY);
            if t >= now.0.min(horizon) {
                break;
            }
            let roll: f64 = rng.random();
            let closing_age = age_days > 20;
            if closing_age && roll < 0.05 + 0.05 * idx as f64 {
                // Won more often from later stages.
                let won = rng.random_bool(0.15 + 0.12 * idx as f64);
                if won {
                    work_checklist(store, &actor, &deal, usize::MAX).await?;
                }
                let patch = if won {
                    DealPatch {
                        version: deal.version,
                        status: Some(DealStatus::Won),
                        at: Some(Timestamp(t)),
                        ..Default::default()
                    }
                } else {
                    DealPatch {
                        version: deal.version,
                        status: Some(DealStatus::Lost),
                        lost_reason: Some(pick(rng, REASONS).to_string()),
                        at: Some(Timestamp(t)),
                        ..Default::default()
                    }
                };
                deal = store.update_deal(&actor, deal.id, patch).await?;
                // A few closed deals are reopened later and go on.
                if rng.random_bool(0.03) && t + 3 * DAY < now.0 {
                    t += 3 * DAY;
                    deal = store
                        .update_deal(
                            &actor,
                            deal.id,
                            DealPatch {
                                version: deal.version,
                                status: Some(DealStatus::Open),
                                at: Some(Timestamp(t)),
                                ..Default::default()
                            },
                        )
                        .await?;
                    continue;
                }
                break;
            }
            let next = if idx > 0 && roll > 0.95 { idx - 1 } else { (idx + 1).min(stages.len() - 1) };
            if next == idx || roll > 0.85 && roll <= 0.95 {
                continue;
            }
            if next > idx {
                work_checklist(store, &actor, &deal, usize::MAX).await?;
            }
            idx = next;
            deal = store
                .update_deal(
                    &actor,
                    deal.id,
                    DealPatch {
                        version: deal.version,
                        stage_id: Some(stages[idx].id),
                        at: Some(Timestamp(t)),
                        ..Default::default()
                    },
                )
                .await?;
        }
        if deal.status == DealStatus::Open {
            // Open deals stand at every point of their checklists.
            let first_booked = !untouched && pipeline.id == pipelines[0].id && idx == 2;
            untouched |= first_booked;
            let upto = if first_booked { 0 } else { rng.random_range(0..=5) };
            work_checklist(store, &actor, &deal, upto).await?;
        }
        seed_context(store, rng, now, &actor, &deal).await?;
    }
    Ok(())
}

/// Ticks done up to `upto` open steps of the deal's current checklist
/// that a person ticks (tasks, e-mails sent by hand, campaign
/// enrolments), as the rep would before moving the deal on; the gate
/// refuses a forward move until every required one is done.
async fn work_checklist(store: &Store, actor: &Actor, deal: &Deal, upto: usize) -> anyhow::Result<()> {
    use dealflow_core::playbook::{StepKind, StepStatus};
    let items = store.deal_checklist(deal.id).await?;
    let open = items.iter().filter(|i| {
        matches!(i.status, StepStatus::Open | StepStatus::Waiting)
            && matches!(i.kind, StepKind::Task | StepKind::Email | StepKind::Campaign)
    });
    for item in open.take(upto) {
        store.tick_step(actor, deal.id, item.step_id, true).await?;
    }
    Ok(())
}

/// Done activities in the past, a next activity for most open deals
/// (overdue, today or later; some get none), and a note on some.
async fn seed_context(
    store: &Store,
    rng: &mut StdRng,
    now: Timestamp,
    actor: &Actor,
    deal: &Deal,
) -> anyhow::Result<()> {
    let span = (now.0 - deal.created_at.0).max(DAY);
    for _ in 0..rng.random_range(0..4) {
        let done = Timestamp(deal.created_at.0 + rng.random_range(0..span));
        let kind = [ActivityKind::Call, ActivityKind::Email, ActivityKind::Meeting, ActivityKind::Linkedin]
            [rng.random_range(0..4)];
        store
            .create_activity(
                actor,
                NewActivity {
                    kind: Some(kind),
                    subject: pick(rng, CALL_SUBJECTS).to_string(),
                    due_at: Some(done),
                    done_at: Some(done),
                    deal_id: Some(deal.id),
                    person_id: deal.person_id,
                    owner_id: deal.owner_id,
                    created_at: Some(Timestamp(done.0.min(now.0))),
                    ..Default::default()
                },
            )
            .await?;
    }
    if deal.status == DealStatus::Open && rng.random_bool(0.8) {
        let due = match rng.random_range(0..10) {
            0..=2 => now.0 - rng.random_range(1..10) * DAY,
            3..=4 => now.0 + rng.random_range(0..4) * 3_600_000,
            _ => now.0 + rng.random_range(1..21) * DAY,
        };
        let kind = [ActivityKind::Call, ActivityKind::Task, ActivityKind::Meeting][rng.random_range(0..3)];
        store
            .create_activity(
                actor,
                NewActivity {
                    kind: Some(kind),
                    subject: pick(rng, TASK_SUBJECTS).to_string(),
                    due_at: Some(Timestamp(due)),
                    deal_id: Some(deal.id),
                    person_id: deal.person_id,
                    owner_id: deal.owner_id,
                    created_at: Some(Timestamp(now.0.min(deal.created_at.0 + span / 2))),
                    ..Default::default()
                },
            )
            .await?;
    }
    if rng.random_bool(0.3) {
        store
            .create_note(
                actor,
                NewNote {
                    body: pick(rng, NOTES).to_string(),
                    deal_id: Some(deal.id),
                    pinned: rng.random_bool(0.2),
                    created_at: Some(Timestamp(deal.created_at.0 + rng.random_range(0..span))),
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(())
}
