//! Keeping a deal's ledger current, inside the transaction of the fact
//! that moved it: read what the published model looks at, append what the
//! facts earn beyond what the ledger holds, then run the thresholds on the
//! new total and act on what fires (flag, lose, enrol, task, webhook), each
//! firing kept for the deal's timeline. Engagement facts of a person count
//! for each of that person's open deals.

use super::Published;
use crate::row::*;
use crate::{Actor, StoreError, Tx};
use dealflow_core::model::{ActivityKind, Deal, DealStatus, NewActivity};
use dealflow_core::playbook::gate::Records;
use dealflow_core::scoring::eval::{Facts, desired};
use dealflow_core::scoring::ledger::{Entry, Score, diff, score};
use dealflow_core::scoring::thresholds::{Armed, Firing, step};
use dealflow_core::scoring::{DisqualifyAction, Group};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, OrganizationId, PersonId};
use serde_json::json;

/// Points are stored in hundredths: exact sums on both engines.
pub(crate) fn to_cents(p: f64) -> i64 {
    (p * 100.0).round() as i64
}

pub(crate) fn from_cents(c: i64) -> f64 {
    c as f64 / 100.0
}

/// The ledger of a deal under one model version, oldest first.
pub(crate) async fn entries(tx: &mut Tx, deal: DealId, model: i64, version: i64) -> Result<Vec<Entry>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM score_entries WHERE deal_id = $1 AND model_id = $2 AND model_version = $3 ORDER BY recorded_at, id",
    )
    .bind(deal.0)
    .bind(model)
    .bind(version)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                rule_id: text(r, "rule_id")?,
                group: enum_(r, "grp", Group::parse)?,
                fact_key: text(r, "fact_key")?,
                fact: text(r, "fact")?,
                points: from_cents(i64_(r, "points")?),
                at: ts(r, "at")?,
                recorded_at: ts(r, "recorded_at")?,
            })
        })
        .collect::<R<_>>()
        .map_err(Into::into)
}

async fn append(tx: &mut Tx, deal: DealId, m: &Published, new: &[Entry]) -> Result<(), StoreError> {
    if new.is_empty() {
        return Ok(());
    }
    let mut sql = crate::sql::Sql::new(
        "INSERT INTO score_entries (id, deal_id, model_id, model_version, rule_id, grp, fact_key, fact, points, at,
          recorded_at) VALUES ",
    );
    for (i, e) in new.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(dealflow_core::ids::next_id()).push(", ").bind(deal.0).push(", ").bind(m.model_id).push(", ");
        sql.bind(m.version).push(", ").bind(e.rule_id.clone()).push(", ").bind(e.group.as_str()).push(", ");
        sql.bind(e.fact_key.clone()).push(", ").bind(e.fact.clone()).push(", ").bind(to_cents(e.points));
        sql.push(", ").bind(e.at.0).push(", ").bind(e.recorded_at.0).push(")");
    }
    sql.query().execute(&mut **tx).await?;
    Ok(())
}

/// Brings the ledger of an open deal up to date with its facts under the
/// published model of its pipeline, and runs the thresholds. Nothing
/// happens for a closed deal or a pipeline no model scores.
pub(crate) async fn refresh(tx: &mut Tx, actor: &Actor, deal: &Deal) -> Result<(), StoreError> {
    if deal.status != DealStatus::Open {
        return Ok(());
    }
    let Some(model) = super::published_for(tx, deal.pipeline_id).await? else { return Ok(()) };
    refresh_with(tx, actor, deal, &model).await
}

/// [`refresh`] with the model already read (with the deal's pipeline).
pub(crate) async fn refresh_open(tx: &mut Tx, actor: &Actor, deal: &Deal, model: &Published) -> Result<(), StoreError> {
    if deal.status != DealStatus::Open {
        return Ok(());
    }
    refresh_with(tx, actor, deal, model).await
}

/// [`refresh`] with the model already read (the rescore reads it once).
pub(crate) async fn refresh_with(tx: &mut Tx, actor: &Actor, deal: &Deal, model: &Published) -> Result<(), StoreError> {
    let loaded = super::facts::load(tx, deal, &model.body, None).await?;
    let facts = Facts {
        records: Records { deal, person: loaded.person.as_ref(), organization: loaded.organization.as_ref() },
        answers: &loaded.answers,
        events: &loaded.events,
    };
    let want = desired(&model.body, &facts);
    let mut ledger = entries(tx, deal.id, model.model_id, model.version).await?;
    // Appended entries are recorded a millisecond after the last one at
    // the latest, so `as_of` reads them in the order they were written.
    let now = Timestamp(actor.now.0.max(ledger.last().map_or(0, |e| e.recorded_at.0)));
    let new = diff(&ledger, &want, now);
    append(tx, deal.id, model, &new).await?;
    ledger.extend(new);
    let s = score(&model.body, &ledger, now);
    settle(tx, actor, deal, model, &s).await
}

/// The stored state of a deal's score: the thresholds' arming and the flag.
struct State {
    armed: Armed,
    disqualified: bool,
}

async fn state(tx: &mut Tx, deal: DealId) -> Result<Option<State>, StoreError> {
    let row =
        sqlx::query("SELECT * FROM deal_scores WHERE deal_id = $1").bind(deal.0).fetch_optional(&mut **tx).await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(State {
        armed: Armed { disqualify: bool_(&r, "armed_disqualify")?, nurture: bool_(&r, "armed_nurture")? },
        disqualified: bool_(&r, "disqualified")?,
    }))
}

/// Stores the new total and runs the thresholds on it; what fires acts.
pub(crate) async fn settle(
    tx: &mut Tx,
    actor: &Actor,
    deal: &Deal,
    model: &Published,
    s: &Score,
) -> Result<(), StoreError> {
    let before = state(tx, deal.id).await?;
    let armed = before.as_ref().map(|b| b.armed).unwrap_or_default();
    let (next, fired) = step(&model.body.thresholds, armed, s.total);
    let disqualified = before.as_ref().is_some_and(|b| b.disqualified) || fired.contains(&Firing::Disqualify);
    let dq_at = fired.contains(&Firing::Disqualify).then_some(actor.now.0);
    // One statement for the first score and every later one: the deal's
    // row is unique, and a flag's time is kept once set.
    sqlx::query(
        "INSERT INTO deal_scores (id, deal_id, model_id, model_version, total, band, scored_at, armed_disqualify,
          armed_nurture, disqualified, disqualified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (deal_id) DO UPDATE SET model_id = excluded.model_id, model_version = excluded.model_version,
          total = excluded.total, band = excluded.band, scored_at = excluded.scored_at,
          armed_disqualify = excluded.armed_disqualify, armed_nurture = excluded.armed_nurture,
          disqualified = excluded.disqualified,
          disqualified_at = COALESCE(excluded.disqualified_at, deal_scores.disqualified_at)",
    )
    .bind(dealflow_core::ids::next_id())
    .bind(deal.id.0)
    .bind(model.model_id)
    .bind(model.version)
    .bind(to_cents(s.total))
    .bind(s.band.clone())
    .bind(actor.now.0)
    .bind(b(next.disqualify))
    .bind(b(next.nurture))
    .bind(b(disqualified))
    .bind(dq_at)
    .execute(&mut **tx)
    .await?;
    for f in fired {
        act(tx, actor, deal, model, s.total, f).await?;
    }
    Ok(())
}

/// What a firing does, recorded with the score that caused it.
async fn act(
    tx: &mut Tx,
    actor: &Actor,
    deal: &Deal,
    model: &Published,
    total: f64,
    f: Firing,
) -> Result<(), StoreError> {
    let t = &model.body.thresholds;
    let mut detail = json!({"model_id": model.model_id.to_string(), "model_version": model.version});
    match f {
        Firing::Disqualify => {
            detail["level"] = json!(t.disqualify_below);
            if t.disqualify_action == Some(DisqualifyAction::Lose) {
                // Losing is a deal change with its own projections and
                // webhooks: it runs right after this commit, as a job.
                super::rescore::schedule_lose(tx, deal.id, actor.now).await?;
                detail["action"] = json!("lose");
            } else {
                detail["action"] = json!("flag");
            }
        }
        Firing::Nurture => {
            detail["level"] = json!(t.nurture_at);
            let system = Actor { user_id: None, now: actor.now, origin: actor.origin };
            if let (Some(c), Some(p)) = (t.nurture_campaign_id, deal.person_id) {
                match crate::campaigns::members::enrol_in(tx, &system, c, p, None).await {
                    Ok((_, joined)) => detail["enrolled"] = json!({"campaign_id": c.to_string(), "joined": joined}),
                    // A person in the trash or a campaign gone: the firing
                    // is still recorded, saying what could not be done.
                    Err(StoreError::Invalid(e)) => detail["enrol_error"] = json!(e.to_string()),
                    Err(e) => return Err(e),
                }
            }
            if t.nurture_task == Some(true) {
                let n = NewActivity {
                    kind: Some(ActivityKind::Task),
                    subject: format!("Nurture: score reached {total}"),
                    due_at: Some(actor.now),
                    deal_id: Some(deal.id),
                    person_id: deal.person_id,
                    owner_id: deal.owner_id,
                    ..Default::default()
                };
                let a = crate::activities::create_activity_in(tx, &system, n).await?;
                detail["task_id"] = json!(a.id.to_string());
            }
        }
    }
    sqlx::query("INSERT INTO score_firings (id, deal_id, kind, total, at, user_id, detail) VALUES ($1, $2, $3, $4, $5, NULL, $6)")
        .bind(dealflow_core::ids::next_id())
        .bind(deal.id.0)
        .bind(f.as_str())
        .bind(to_cents(total))
        .bind(actor.now.0)
        .bind(detail.to_string())
        .execute(&mut **tx)
        .await?;
    let data = json!({"deal_id": deal.id.to_string(), "threshold": f.as_str(), "score": total, "detail": detail});
    crate::webhooks::emit(
        tx,
        actor.now,
        vec![crate::webhooks::Emit { kind: "score.threshold_crossed", data, previous: None }],
    )
    .await?;
    Ok(())
}

/// Refreshes every open deal of a person (an engagement fact of theirs),
/// as the system at `now`.
pub(crate) async fn refresh_person(tx: &mut Tx, now: Timestamp, person: PersonId) -> Result<(), StoreError> {
    refresh_where(tx, &Actor { now, ..Actor::system() }, "person_id", person.0).await
}

/// After an activity was made, changed or removed: its deal's score, or
/// (an activity of no deal) its person's deals'.
pub(crate) async fn activity_changed(
    tx: &mut Tx,
    actor: &Actor,
    a: &dealflow_core::model::Activity,
) -> Result<(), StoreError> {
    match (a.deal_id, a.person_id) {
        (Some(d), _) => refresh_deal(tx, actor, d).await,
        (None, Some(p)) => refresh_where(tx, actor, "person_id", p.0).await,
        (None, None) => Ok(()),
    }
}

/// Refreshes every open deal of an organization (a fit field changed).
pub(crate) async fn refresh_organization(tx: &mut Tx, actor: &Actor, org: OrganizationId) -> Result<(), StoreError> {
    refresh_where(tx, actor, "organization_id", org.0).await
}

/// Refreshes one deal by id (an answer, an activity of the deal).
pub(crate) async fn refresh_deal(tx: &mut Tx, actor: &Actor, deal: DealId) -> Result<(), StoreError> {
    refresh_where(tx, actor, "id", deal.0).await
}

async fn refresh_where(tx: &mut Tx, actor: &Actor, col: &str, id: i64) -> Result<(), StoreError> {
    // Most workspaces have no model: one cheap read says so.
    let any: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM scoring_models WHERE deleted_at IS NULL AND published_version IS NOT NULL LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    if any.is_none() {
        return Ok(());
    }
    let sql = format!("SELECT * FROM deals WHERE {col} = $1 AND status = 'open' AND deleted_at IS NULL");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&mut **tx).await?;
    for r in &rows {
        let deal = crate::deals::from_row(r)?;
        refresh(tx, actor, &deal).await?;
    }
    Ok(())
}

/// What the `min_score` gate reads for a deal moving in `pipeline`: its
/// score now and the minimums, when the published model sets any.
pub(crate) async fn gate(
    tx: &mut Tx,
    deal: DealId,
    model: &Published,
) -> Result<Option<(f64, std::collections::BTreeMap<dealflow_core::StageId, f64>)>, StoreError> {
    if model.body.thresholds.min_score.is_empty() {
        return Ok(None);
    }
    let ledger = entries(tx, deal, model.model_id, model.version).await?;
    let total = score(&model.body, &ledger, Timestamp::now()).total;
    Ok(Some((total, model.body.thresholds.min_score.clone())))
}
