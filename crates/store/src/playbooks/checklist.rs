//! A deal's checklist as it moves. Entering a stage gives the deal a state
//! row per step of the stage; `task` steps and `draft` e-mail steps become
//! tasks of the deal's owner, due at the step's due time (an e-mail's task
//! carries the filled-in text). Re-entering reopens what was not done and
//! keeps what was, without making a second task. Leaving a stage closes
//! its open playbook tasks and marks their steps skipped. Automatic e-mail
//! steps get a send job when they have a due time (see [`super::mail`]);
//! leaving cancels it.

use super::gate::GateData;
use crate::row::*;
use crate::{Actor, StoreError, Tx};
use dealflow_core::model::{ActivityKind, Deal, DealStatus, NewActivity, Settings};
use dealflow_core::playbook::due::due_at;
use dealflow_core::playbook::template::{Values, render};
use dealflow_core::playbook::{DueAnchor, SendMode, Step, StepKind, StepStatus};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, StageId};

/// Why a step was closed when its deal left the stage; a re-entry reopens
/// exactly these.
pub(crate) const LEFT_STAGE: &str = "left the stage";

/// Why an automatic e-mail of a deal an import placed waits: imports send
/// nothing, and the deal's next entry into a stage does.
const PLACED: &str = "the deal was placed by an import; e-mails go out when it next enters a stage";

/// How a deal came to have a stage's checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entering {
    /// It entered the stage (created, moved, reopened).
    Moved,
    /// An import placed it there: no e-mail is sent.
    Placed,
    /// The step was added while the deal was in the stage: an e-mail whose
    /// due time has passed is not sent by itself.
    StepAdded,
    /// The deal was restored from the trash: likewise, an e-mail that fell
    /// due while it was deleted waits.
    Restored,
}

/// Applies the checklist effects of a deal write: leaving the stage it was
/// in (when it was open there) and entering the one it is in (when open).
/// `known` is what the gate read of the deal's pipeline, when it looked and
/// the deal stayed in that pipeline: a stage without steps then costs no
/// statement at all.
pub(crate) async fn after_write(
    tx: &mut Tx,
    actor: &Actor,
    before: Option<&Deal>,
    after: &Deal,
    known: Option<&GateData>,
) -> Result<(), StoreError> {
    write_effects(tx, actor, before, after, known, Entering::Moved).await
}

/// [`after_write`], entering the new stage as `how` says.
async fn write_effects(
    tx: &mut Tx,
    actor: &Actor,
    before: Option<&Deal>,
    after: &Deal,
    known: Option<&GateData>,
    how: Entering,
) -> Result<(), StoreError> {
    let was = before.filter(|b| b.status == DealStatus::Open).map(|b| b.stage_id);
    let is = (after.status == DealStatus::Open).then_some(after.stage_id);
    if was == is {
        return Ok(());
    }
    if let Some(s) = was.filter(|_| known.is_none_or(|k| !k.steps.is_empty())) {
        // Only a stage with automatic e-mails can have send jobs to cancel;
        // without the gate's read, look anyway.
        let mails = known.is_none_or(|k| {
            k.steps.iter().any(|x| x.spec.kind == StepKind::Email && x.spec.send == Some(SendMode::Auto))
        });
        let work = known.map_or(Leave::ALL, |k| Leave { mails, states: k.open_states, tasks: k.open_tasks });
        leave(tx, actor, after.id, s, work).await?;
    }
    if let Some(s) = is {
        let steps = match known {
            Some(k) => k.pipeline_steps.iter().filter(|x| x.stage_id == s).cloned().collect(),
            None => super::steps_in(tx, s).await?,
        };
        enter(tx, actor, after, s, steps, how).await?;
    }
    Ok(())
}

/// A step added to a stage applies to the open deals already in it.
pub(crate) async fn step_added(tx: &mut Tx, actor: &Actor, step: &Step) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT * FROM deals WHERE stage_id = $1 AND status = 'open' AND deleted_at IS NULL")
        .bind(step.stage_id.0)
        .fetch_all(&mut **tx)
        .await?;
    for r in &rows {
        let deal = crate::deals::from_row(r)?;
        enter(tx, actor, &deal, step.stage_id, vec![step.clone()], Entering::StepAdded).await?;
    }
    Ok(())
}

/// A step whose behaviour changed (its kind, send mode or due rule), as
/// when an admin switches a draft e-mail to `auto` once SMTP works: each
/// open deal of its stage whose state of it is not settled starts it again
/// as the step now reads, the way a step added to the stage applies (an
/// e-mail due before the change waits for "send now"). The old task is
/// closed and the old send job cancelled; done and skipped states stay.
pub(crate) async fn step_changed(tx: &mut Tx, actor: &Actor, before: &Step, after: &Step) -> Result<(), StoreError> {
    let (b, a) = (&before.spec, &after.spec);
    if b.kind == a.kind && b.send == a.send && b.due == a.due {
        return Ok(());
    }
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT ds.id, ds.job_id, ds.activity_id FROM deal_steps ds JOIN deals d ON d.id = ds.deal_id
         WHERE ds.step_id = $1 AND ds.status IN ('open', 'waiting', 'failed')
           AND d.stage_id = $2 AND d.status = 'open' AND d.deleted_at IS NULL",
    )
    .bind(after.id.0)
    .bind(after.stage_id.0)
    .fetch_all(&mut **tx)
    .await?;
    for (ds, job, activity) in rows {
        if let Some(j) = job {
            sqlx::query(
                "UPDATE jobs SET status = 'cancelled', dedupe_key = NULL, done_at = $2, updated_at = $2
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(j)
            .bind(actor.now.0)
            .execute(&mut **tx)
            .await?;
        }
        if let Some(t) = activity {
            sqlx::query(
                "UPDATE activities SET done_at = $2, updated_at = $2, version = version + 1
                 WHERE id = $1 AND done_at IS NULL",
            )
            .bind(t)
            .bind(actor.now.0)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query("DELETE FROM deal_steps WHERE id = $1").bind(ds).execute(&mut **tx).await?;
    }
    step_added(tx, actor, after).await
}

/// A deal was deleted or restored: deleting it leaves its stage (pending
/// e-mails cancelled, open playbook tasks closed, steps skipped as left);
/// restoring it enters the stage again, reopening what was not done, with
/// e-mails that fell due meanwhile waiting for "send now".
pub(crate) async fn deleted_or_restored(
    tx: &mut Tx,
    actor: &Actor,
    deal: &Deal,
    deleted: bool,
) -> Result<(), StoreError> {
    if deal.status != DealStatus::Open {
        return Ok(());
    }
    if deleted {
        return leave(tx, actor, deal.id, deal.stage_id, Leave::ALL).await;
    }
    let steps = super::steps_in(tx, deal.stage_id).await?;
    enter(tx, actor, deal, deal.stage_id, steps, Entering::Restored).await
}

/// What [`leave`] has to do; without the gate's read, everything.
#[derive(Debug, Clone, Copy)]
struct Leave {
    /// Cancel pending send jobs (the stage has automatic e-mails).
    mails: bool,
    /// Close the states still open or waiting.
    states: bool,
    /// Close the tasks of those states that are not done.
    tasks: bool,
}

impl Leave {
    const ALL: Leave = Leave { mails: true, states: true, tasks: true };
}

/// Closes the open steps of `stage` for a deal that left it: a task done
/// meanwhile counts as done, the rest are skipped and their tasks closed.
async fn leave(tx: &mut Tx, actor: &Actor, deal: DealId, stage: StageId, work: Leave) -> Result<(), StoreError> {
    if work.mails {
        super::mail::cancel(tx, actor.now, deal).await?;
    }
    let in_stage = "SELECT id FROM playbook_steps WHERE stage_id = $2";
    if work.states {
        // One statement for both outcomes: decided on the task before the
        // next statement closes it.
        let settle = format!(
            "UPDATE deal_steps SET updated_at = $3,
               status = CASE WHEN {task_done} THEN 'done' ELSE 'skipped' END,
               done_at = CASE WHEN {task_done}
                 THEN (SELECT a.done_at FROM activities a WHERE a.id = deal_steps.activity_id) END,
               reason = CASE WHEN {task_done} THEN NULL ELSE $4 END
             WHERE deal_id = $1 AND status IN ('open', 'waiting') AND step_id IN ({in_stage})",
            // Correlated on the task's id: an `IN (SELECT … WHERE done_at IS
            // NOT NULL)` would read every done activity of the workspace.
            task_done = "deal_steps.status = 'open' AND EXISTS (SELECT 1 FROM activities a \
                WHERE a.id = deal_steps.activity_id AND a.done_at IS NOT NULL)",
        );
        sqlx::query(sqlx::AssertSqlSafe(settle))
            .bind(deal.0)
            .bind(stage.0)
            .bind(actor.now.0)
            .bind(LEFT_STAGE)
            .execute(&mut **tx)
            .await?;
    }
    if work.tasks {
        // The states just closed by leaving are the ones skipped for that
        // reason; a task of one that is still open is closed with it.
        let close = format!(
            "UPDATE activities SET done_at = $3, updated_at = $3, version = version + 1
             WHERE done_at IS NULL AND id IN (SELECT activity_id FROM deal_steps
               WHERE deal_id = $1 AND status = 'skipped' AND reason = $4 AND step_id IN ({in_stage}))"
        );
        sqlx::query(sqlx::AssertSqlSafe(close))
            .bind(deal.0)
            .bind(stage.0)
            .bind(actor.now.0)
            .bind(LEFT_STAGE)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The checklist effects of placing a deal where a file says (imports):
/// the stage it left is closed as on any move, and the stage it is placed
/// in (when open) gives its tasks as if the deal entered it now, so no task
/// falls due in the past, and no automatic e-mail is scheduled (the deal's
/// next entry into a stage sends them). The stages it passed on the way
/// give nothing.
pub(crate) async fn after_placing(
    tx: &mut Tx,
    actor: &Actor,
    before: Option<&Deal>,
    after: &Deal,
) -> Result<(), StoreError> {
    let mut placed = after.clone();
    placed.stage_entered_at = actor.now;
    write_effects(tx, actor, before, &placed, None, Entering::Placed).await
}

/// How many required steps of the stages a placed deal went past are not
/// done: the live required steps of its pipeline's stages before the one
/// it is in (that one too when it is won) without a done or skipped state
/// (a step closed because the deal left its stage does not count as done).
pub(crate) async fn open_steps_passed(tx: &mut Tx, deal: &Deal) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM playbook_steps s JOIN stages st ON st.id = s.stage_id
         WHERE s.deleted_at IS NULL AND s.required = 1 AND st.pipeline_id = $1
           AND (st.position < (SELECT position FROM stages WHERE id = $2)
             OR (st.id = $2 AND $3 = 1))
           AND NOT EXISTS (SELECT 1 FROM deal_steps ds WHERE ds.deal_id = $4 AND ds.step_id = s.id
             AND (ds.status = 'done' OR (ds.status = 'skipped' AND COALESCE(ds.reason, '') <> $5)))",
    )
    .bind(deal.pipeline_id.0)
    .bind(deal.stage_id.0)
    .bind(b(deal.status == DealStatus::Won))
    .bind(deal.id.0)
    .bind(LEFT_STAGE)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

/// A stored state row, as [`enter`] needs it.
struct Row {
    id: i64,
    activity_id: Option<i64>,
    /// Done, or skipped by a person with a reason (not closed because the
    /// deal left the stage): a re-entry keeps it as it is.
    kept: bool,
}

/// Gives a deal that entered `stage` its checklist: new rows and tasks for
/// steps it never had, reopened rows and tasks for steps not done.
async fn enter(
    tx: &mut Tx,
    actor: &Actor,
    deal: &Deal,
    stage: StageId,
    steps: Vec<Step>,
    how: Entering,
) -> Result<(), StoreError> {
    if steps.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT ds.id, ds.step_id, ds.status, ds.activity_id, ds.reason FROM deal_steps ds
         JOIN playbook_steps s ON s.id = ds.step_id WHERE ds.deal_id = $1 AND s.stage_id = $2",
    )
    .bind(deal.id.0)
    .bind(stage.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut stored = std::collections::HashMap::new();
    for r in &rows {
        let status = enum_(r, "status", StepStatus::parse)?;
        let left = opt_text(r, "reason")?.is_none_or(|x| x == LEFT_STAGE);
        let kept = status == StepStatus::Done || (status == StepStatus::Skipped && !left);
        let row = Row { id: i64_(r, "id")?, activity_id: opt_i64(r, "activity_id")?, kept };
        stored.insert(i64_(r, "step_id")?, row);
    }
    let settings = crate::settings::load(tx).await?;
    let meeting = if steps.iter().any(|s| s.spec.due.as_ref().is_some_and(|d| d.anchor == DueAnchor::Meeting)) {
        next_meeting(tx, deal.id).await?
    } else {
        None
    };
    let mut names = None;
    for step in &steps {
        let due = step.spec.due.as_ref().and_then(|d| match d.anchor {
            DueAnchor::StageEntered => Some(due_at(d, deal.stage_entered_at, &settings)),
            DueAnchor::Meeting => meeting.map(|m| due_at(d, m, &settings)),
        });
        match stored.get(&step.id.0) {
            Some(r) if r.kept => {}
            Some(r) => {
                if names.is_none() && step.spec.kind == StepKind::Email && r.activity_id.is_none() {
                    names = Some(Names::load(tx, deal).await?);
                }
                let ctx = Fill { deal, settings: &settings, meeting, names: names.as_ref() };
                reopen(tx, actor, r, step, due, &ctx).await?;
                auto_email(tx, actor, deal, r.id, step, due, how).await?;
            }
            None => {
                if names.is_none() && step.spec.kind == StepKind::Email {
                    names = Some(Names::load(tx, deal).await?);
                }
                let ctx = Fill { deal, settings: &settings, meeting, names: names.as_ref() };
                let id = start(tx, actor, deal, step, due, &ctx).await?;
                auto_email(tx, actor, deal, id, step, due, how).await?;
            }
        }
    }
    Ok(())
}

/// The deal's earliest open meeting with a time.
pub(crate) async fn next_meeting(tx: &mut Tx, deal: DealId) -> Result<Option<Timestamp>, StoreError> {
    let t: Option<i64> =
        sqlx::query_scalar("SELECT MIN(due_at) FROM activities WHERE deal_id = $1 AND kind = $2 AND done_at IS NULL")
            .bind(deal.0)
            .bind(ActivityKind::Meeting.as_str())
            .fetch_one(&mut **tx)
            .await?;
    Ok(t.map(Timestamp))
}

/// The meeting the e-mails counted from a meeting go by once the deal is
/// in its stage: its next open meeting, or else (`true`) the latest one
/// marked done since it entered the stage, so that marking the call done
/// keeps the follow-up after it (and its `{{meeting.date}}`).
pub(crate) async fn anchor_meeting(tx: &mut Tx, deal: &Deal) -> Result<Option<(Timestamp, bool)>, StoreError> {
    if let Some(m) = next_meeting(tx, deal.id).await? {
        return Ok(Some((m, false)));
    }
    let t: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(due_at) FROM activities
         WHERE deal_id = $1 AND kind = $2 AND done_at IS NOT NULL AND done_at >= $3",
    )
    .bind(deal.id.0)
    .bind(ActivityKind::Meeting.as_str())
    .bind(deal.stage_entered_at.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(t.map(|t| (Timestamp(t), true)))
}

/// Schedules the send job of an automatic e-mail step just started or
/// reopened, when it has a due time; one that waits for a meeting is
/// scheduled when the meeting is added.
async fn auto_email(
    tx: &mut Tx,
    actor: &Actor,
    deal: &Deal,
    deal_step: i64,
    step: &Step,
    due: Option<Timestamp>,
    how: Entering,
) -> Result<(), StoreError> {
    if first_status(step) != StepStatus::Waiting {
        return Ok(());
    }
    let reason = match (how, due) {
        (Entering::Placed, _) => Some(PLACED),
        (Entering::StepAdded, Some(d)) if d < actor.now => Some(super::mail::DUE_BEFORE_STEP),
        (Entering::Restored, Some(d)) if d < actor.now => Some(super::mail::DUE_WHILE_DELETED),
        _ => None,
    };
    if let Some(reason) = reason {
        sqlx::query("UPDATE deal_steps SET reason = $1 WHERE id = $2")
            .bind(reason)
            .bind(deal_step)
            .execute(&mut **tx)
            .await?;
    } else if let Some(due) = due {
        super::mail::schedule(tx, actor.now, deal.id, deal_step, deal.stage_entered_at, due).await?;
    }
    Ok(())
}

/// Reopens a step not done on a re-entry, with its task as the step now
/// reads: the old task reopened, a task made when the step became one while
/// the deal was away, none kept when it no longer is one.
async fn reopen(
    tx: &mut Tx,
    actor: &Actor,
    r: &Row,
    step: &Step,
    due: Option<Timestamp>,
    fill: &Fill<'_>,
) -> Result<(), StoreError> {
    let status = first_status(step);
    let wants_task = task_of(step, fill).is_some();
    let activity = match (wants_task, r.activity_id) {
        (true, Some(a)) => {
            sqlx::query(
                "UPDATE activities SET done_at = NULL, due_at = $1, updated_at = $2, version = version + 1 WHERE id = $3",
            )
            .bind(due.map(|t| t.0))
            .bind(actor.now.0)
            .bind(a)
            .execute(&mut **tx)
            .await?;
            Some(a)
        }
        (true, None) => make_task(tx, actor, fill.deal, step, due, fill).await?,
        (false, _) => None,
    };
    sqlx::query(
        "UPDATE deal_steps SET status = $1, reason = NULL, due_at = $2, done_at = NULL, done_by = NULL,
          activity_id = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(due.map(|t| t.0))
    .bind(activity)
    .bind(actor.now.0)
    .bind(r.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The status a step starts in: an automatic e-mail waits for its send job;
/// everything else is open.
fn first_status(step: &Step) -> StepStatus {
    if step.spec.kind == StepKind::Email && step.spec.send == Some(SendMode::Auto) {
        StepStatus::Waiting
    } else {
        StepStatus::Open
    }
}

/// The names a template may use, read once per entry.
pub(crate) struct Names {
    pub person: Option<String>,
    pub owner: Option<String>,
    pub organization: Option<String>,
}

impl Names {
    pub(crate) async fn load(tx: &mut Tx, deal: &Deal) -> Result<Self, StoreError> {
        async fn name(tx: &mut Tx, table: &str, id: Option<i64>) -> Result<Option<String>, StoreError> {
            let Some(id) = id else { return Ok(None) };
            let sql = format!("SELECT name FROM {table} WHERE id = $1");
            Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?)
        }
        Ok(Names {
            person: name(tx, "people", deal.person_id.map(|x| x.0)).await?,
            owner: name(tx, "users", deal.owner_id.map(|x| x.0)).await?,
            organization: name(tx, "organizations", deal.organization_id.map(|x| x.0)).await?,
        })
    }
}

/// What an e-mail step's text is filled from.
struct Fill<'a> {
    deal: &'a Deal,
    settings: &'a Settings,
    meeting: Option<Timestamp>,
    names: Option<&'a Names>,
}

/// The subject and text of the task a step makes, if it makes one: a task
/// step's own, a draft e-mail's filled-in template.
fn task_of(step: &Step, fill: &Fill<'_>) -> Option<(String, Option<String>)> {
    match (step.spec.kind, step.spec.send, &step.spec.template) {
        (StepKind::Task, _, _) => Some((step.spec.title.clone(), step.spec.description.clone())),
        (StepKind::Email, Some(SendMode::Draft) | None, Some(t)) => {
            let v = Values {
                deal: fill.deal,
                person_name: fill.names.and_then(|n| n.person.as_deref()),
                owner_name: fill.names.and_then(|n| n.owner.as_deref()),
                organization_name: fill.names.and_then(|n| n.organization.as_deref()),
                meeting: fill.meeting,
                settings: fill.settings,
            };
            let subject: String = render(&t.subject, &v).chars().take(dealflow_core::validate::limits::NAME).collect();
            let body: String = render(&t.body, &v).chars().take(dealflow_core::validate::limits::LONG).collect();
            Some((subject, Some(body)))
        }
        _ => None,
    }
}

/// Makes the task a step asks for (see [`task_of`]); its id.
async fn make_task(
    tx: &mut Tx,
    actor: &Actor,
    deal: &Deal,
    step: &Step,
    due: Option<Timestamp>,
    fill: &Fill<'_>,
) -> Result<Option<i64>, StoreError> {
    let Some((subject, note)) = task_of(step, fill) else { return Ok(None) };
    let n = NewActivity {
        kind: Some(ActivityKind::Task),
        subject: if subject.trim().is_empty() { step.spec.title.clone() } else { subject },
        due_at: due,
        note,
        deal_id: Some(deal.id),
        person_id: deal.person_id,
        organization_id: deal.organization_id,
        owner_id: deal.owner_id,
        ..Default::default()
    };
    Ok(Some(crate::activities::create_activity_in(tx, actor, n).await?.id.0))
}

/// Starts a step the deal never had: its task (for task and draft e-mail
/// steps) and its state row, whose id it returns.
async fn start(
    tx: &mut Tx,
    actor: &Actor,
    deal: &Deal,
    step: &Step,
    due: Option<Timestamp>,
    fill: &Fill<'_>,
) -> Result<i64, StoreError> {
    let activity = make_task(tx, actor, deal, step, due, fill).await?;
    let id = dealflow_core::ids::next_id();
    sqlx::query(
        "INSERT INTO deal_steps (id, deal_id, step_id, status, due_at, done_at, done_by, activity_id, reason, updated_at)
         VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, NULL, $7)",
    )
    .bind(id)
    .bind(deal.id.0)
    .bind(step.id.0)
    .bind(first_status(step).as_str())
    .bind(due.map(|t| t.0))
    .bind(activity)
    .bind(actor.now.0)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}
