//! Automatic playbook e-mails (`send: auto`). Each one is sent by a
//! background job (kind [`EMAIL_JOB`]) scheduled inside the transaction
//! that gives the deal the step: when it enters the stage, when its meeting
//! is added or moved, or when "send now" is asked. The job's dedupe key
//! names the deal's step state and its entry into the stage, so scheduling
//! the same entry twice yields one job; the state row points at its job
//! (`deal_steps.job_id`), and a job that is no longer the row's does not
//! send. Leaving the stage cancels the pending jobs.
//!
//! The send itself is in three steps the job handler calls: [`Store::email_plan`]
//! reads what to send (or why not), the server sends it over SMTP, and
//! [`Store::email_sent`] records it (the step done, an `email` activity on
//! the deal and its person) in one transaction before the job is
//! acknowledged. A crash between the send and the record repeats the send
//! after the job's lease with the same Message-ID (see docs/running.md).

use super::checklist::{Names, anchor_meeting};
use crate::row::*;
use crate::{Actor, Job, NewJob, Store, StoreError, Tx, enqueue_in};
use dealflow_core::model::{ActivityKind, DealStatus, NewActivity};
use dealflow_core::playbook::template::{Values, render};
use dealflow_core::playbook::{SendMode, StepKind, StepStatus};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, Invalid, StepId};
use serde_json::json;

/// The job kind that sends one automatic e-mail step.
pub const EMAIL_JOB: &str = "playbook.email";

/// Why an automatic e-mail that fell due before its step existed is not
/// sent by itself; "send now" or a skip settles it.
pub(crate) const DUE_BEFORE_STEP: &str = "fell due before the step was added; send it now or skip it";

/// Why an automatic e-mail that fell due while its deal was deleted is not
/// sent by itself once the deal is restored.
pub(crate) const DUE_WHILE_DELETED: &str = "fell due while the deal was deleted; send it now or skip it";

/// The dedupe key of the send job of one state row for one entry.
fn key(deal_step: i64, entry: Timestamp) -> String {
    format!("{EMAIL_JOB}:{deal_step}:{}", entry.0)
}

/// Schedules the send job of an automatic e-mail step's state row for the
/// deal's entry at `entry`, due at `due` (a pending job of the same entry is
/// moved instead), and points the row at it.
pub(crate) async fn schedule(
    tx: &mut Tx,
    now: Timestamp,
    deal: DealId,
    deal_step: i64,
    entry: Timestamp,
    due: Timestamp,
) -> Result<i64, StoreError> {
    let k = key(deal_step, entry);
    let moved: Option<i64> = sqlx::query_scalar(
        "UPDATE jobs SET due_at = $1, updated_at = $2 WHERE dedupe_key = $3 AND status = 'pending' RETURNING id",
    )
    .bind(due.0)
    .bind(now.0)
    .bind(k.clone())
    .fetch_optional(&mut **tx)
    .await?;
    let id = match moved {
        Some(id) => id,
        None => {
            // An ended job of this entry (sent, failed, cancelled) gives
            // its key up, so the entry can be sent again.
            sqlx::query("UPDATE jobs SET dedupe_key = NULL WHERE dedupe_key = $1 AND status <> 'running'")
                .bind(k.clone())
                .execute(&mut **tx)
                .await?;
            let payload =
                json!({ "deal_id": deal.to_string(), "deal_step_id": deal_step.to_string(), "entry": entry.0 });
            let job = NewJob::new(EMAIL_JOB, payload, due).dedupe(k.clone()).deal(deal);
            match enqueue_in(tx, &job, now).await? {
                Some(id) => id,
                // A running job of the same entry holds the key: it is the one.
                None => {
                    sqlx::query_scalar::<_, i64>("SELECT id FROM jobs WHERE dedupe_key = $1")
                        .bind(k)
                        .fetch_one(&mut **tx)
                        .await?
                }
            }
        }
    };
    sqlx::query("UPDATE deal_steps SET job_id = $1 WHERE id = $2").bind(id).bind(deal_step).execute(&mut **tx).await?;
    Ok(id)
}

/// Cancels the deal's pending e-mail jobs (it left the stage, or was
/// deleted); a job already running finds its step no longer waiting.
pub(crate) async fn cancel(tx: &mut Tx, now: Timestamp, deal: DealId) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', dedupe_key = NULL, done_at = $2, updated_at = $2
         WHERE deal_id = $1 AND kind = $3 AND status = 'pending'",
    )
    .bind(deal.0)
    .bind(now.0)
    .bind(EMAIL_JOB)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Cancels one pending job and lets its row wait (the meeting it was
/// counted from is gone).
async fn unschedule(tx: &mut Tx, now: Timestamp, deal_step: i64, job: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', dedupe_key = NULL, done_at = $2, updated_at = $2
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(job)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE deal_steps SET job_id = NULL, due_at = NULL WHERE id = $1")
        .bind(deal_step)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A meeting of the deal was added, moved, done or removed: the automatic
/// e-mails of its current stage counted from the meeting follow it (their
/// due time and their job), as long as they are not sent.
pub(crate) async fn meeting_changed(tx: &mut Tx, now: Timestamp, deal_id: DealId) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT ds.id AS ds_id, ds.job_id, s.* FROM deals d
         JOIN playbook_steps s ON s.stage_id = d.stage_id AND s.deleted_at IS NULL
         JOIN deal_steps ds ON ds.step_id = s.id AND ds.deal_id = d.id
         WHERE d.id = $1 AND d.status = 'open' AND d.deleted_at IS NULL AND s.kind = 'email' AND s.send = 'auto'
           AND s.due_anchor = 'meeting' AND ds.status IN ('waiting', 'failed')",
    )
    .bind(deal_id.0)
    .fetch_all(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let deal = crate::records::live(&mut **tx, "deals", "deal", deal_id.0, crate::deals::from_row).await?;
    let settings = crate::settings::load(tx).await?;
    let meeting = anchor_meeting(tx, &deal).await?;
    for r in &rows {
        let step = super::step_from_row(r)?;
        let ds = i64_(r, "ds_id")?;
        let job = opt_i64(r, "job_id")?;
        // A meeting marked done still anchors what comes after it (the
        // follow-up), not what was due before it.
        let due = match (meeting, &step.spec.due) {
            (Some((m, done)), Some(d)) if !done || after_the_meeting(d) => {
                dealflow_core::playbook::due::due_at(d, m, &settings)
            }
            _ => {
                if let Some(j) = job {
                    unschedule(tx, now, ds, j).await?;
                }
                continue;
            }
        };
        sqlx::query(
            "UPDATE deal_steps SET status = 'waiting', reason = NULL, due_at = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(due.0)
        .bind(now.0)
        .bind(ds)
        .execute(&mut **tx)
        .await?;
        schedule(tx, now, deal_id, ds, deal.stage_entered_at, due).await?;
    }
    Ok(())
}

/// Whether a due rule counted from a meeting falls at or after it.
fn after_the_meeting(d: &dealflow_core::playbook::Due) -> bool {
    d.offset_minutes.unwrap_or(0) >= 0 && d.offset_working_days.unwrap_or(0) >= 0
}

/// What a send job should do, as [`Store::email_plan`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum EmailPlan {
    /// Nothing: the e-mail is no longer wanted (sent, skipped, the deal left
    /// the stage, a newer job took over); the reason is the job's result.
    Nothing(String),
    /// It cannot be sent (no person, no address, "do not e-mail"): the
    /// step fails with this.
    Cannot(String),
    /// Send this.
    Send(Outgoing),
}

/// An e-mail to send, filled in at send time.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub deal_step_id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Stable for the step's state and its entry: a repeated send carries
    /// the same one, so mail systems can drop the duplicate.
    pub message_id: String,
}

/// The job's payload: which state row, for which entry.
fn payload(job: &Job) -> Option<(i64, i64)> {
    let p = &job.payload;
    let ds = p.get("deal_step_id")?.as_str()?.parse().ok()?;
    Some((ds, p.get("entry")?.as_i64()?))
}

impl Store {
    /// Reads what the send job `job` should do now.
    pub async fn email_plan(&self, job: &Job) -> Result<EmailPlan, StoreError> {
        let Some((ds, entry)) = payload(job) else {
            return Ok(EmailPlan::Nothing("the job's payload names no step state".into()));
        };
        let mut tx = self.read().await?;
        let row = sqlx::query(
            "SELECT ds.status AS ds_status, ds.job_id, ds.deal_id AS ds_deal, s.* FROM deal_steps ds
             JOIN playbook_steps s ON s.id = ds.step_id WHERE ds.id = $1",
        )
        .bind(ds)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(EmailPlan::Nothing("the step's state is gone".into())) };
        if opt_i64(&row, "job_id")? != Some(job.id) {
            return Ok(EmailPlan::Nothing("another job sends this step now".into()));
        }
        let status = enum_(&row, "ds_status", StepStatus::parse)?;
        if !matches!(status, StepStatus::Waiting | StepStatus::Failed) {
            return Ok(EmailPlan::Nothing(format!("the step is {status}")));
        }
        let step = super::step_from_row(&row)?;
        if opt_i64(&row, "deleted_at")?.is_some() {
            return Ok(EmailPlan::Nothing("the step was removed".into()));
        }
        let (StepKind::Email, Some(SendMode::Auto), Some(t)) = (step.spec.kind, step.spec.send, &step.spec.template)
        else {
            return Ok(EmailPlan::Nothing("the step no longer sends an e-mail by itself".into()));
        };
        let deal_id = DealId(i64_(&row, "ds_deal")?);
        let deal = match crate::records::live(&mut *tx, "deals", "deal", deal_id.0, crate::deals::from_row).await {
            Ok(d) => d,
            Err(StoreError::NotFound { .. }) => return Ok(EmailPlan::Nothing("the deal is deleted".into())),
            Err(e) => return Err(e),
        };
        if deal.status != DealStatus::Open || deal.stage_id != step.stage_id || deal.stage_entered_at.0 != entry {
            return Ok(EmailPlan::Nothing("the deal left the stage".into()));
        }
        let Some(person_id) = deal.person_id else {
            return Ok(EmailPlan::Cannot("the deal has no person to write to".into()));
        };
        let person = sqlx::query("SELECT * FROM people WHERE id = $1 AND deleted_at IS NULL")
            .bind(person_id.0)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| crate::parties::person_from_row(&r))
            .transpose()?;
        let Some(person) = person else {
            return Ok(EmailPlan::Cannot("the deal's person is deleted".into()));
        };
        if person.do_not_email {
            let why = match person.do_not_email_reason.as_deref() {
                Some(r) => format!("{} is marked do not e-mail ({r})", person.name),
                None => format!("{} asked not to be e-mailed (do not e-mail)", person.name),
            };
            return Ok(EmailPlan::Cannot(why));
        }
        let Some(to) = person.emails.first().cloned() else {
            return Ok(EmailPlan::Cannot(format!("{} has no e-mail address", person.name)));
        };
        let settings = crate::settings::load(&mut tx).await?;
        let names = Names::load(&mut tx, &deal).await?;
        let meeting = anchor_meeting(&mut tx, &deal).await?.map(|m| m.0);
        let v = Values {
            deal: &deal,
            person_name: names.person.as_deref(),
            owner_name: names.owner.as_deref(),
            organization_name: names.organization.as_deref(),
            meeting,
            settings: &settings,
        };
        let domain =
            settings.mail.mail_from.as_deref().and_then(|f| f.rsplit_once('@')).map_or("dealflow.invalid", |x| x.1);
        Ok(EmailPlan::Send(Outgoing {
            deal_step_id: ds,
            to,
            // A subject is one line, whatever the template's values hold.
            subject: render(&t.subject, &v).replace(['\r', '\n'], " "),
            body: render(&t.body, &v),
            message_id: format!("<playbook.{ds}.{entry}@{domain}>"),
        }))
    }

    /// Records that the job's e-mail cannot be sent: the step fails with
    /// `reason` (while the job is still the step's and it is not done).
    pub async fn email_failed(&self, job: &Job, reason: &str) -> Result<(), StoreError> {
        let Some((ds, _)) = payload(job) else { return Ok(()) };
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE deal_steps SET status = 'failed', reason = $1, updated_at = $2
             WHERE id = $3 AND job_id = $4 AND status IN ('waiting', 'failed')",
        )
        .bind(crate::jobs::clip_error(reason))
        .bind(Timestamp::now().0)
        .bind(ds)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a sent e-mail in one transaction: an `email` activity on the
    /// deal and its person (done now, with the subject and the text), and
    /// the step done when it still waited for this job. The activity is
    /// written either way, since the e-mail did go out.
    pub async fn email_sent(&self, job: &Job, out: &Outgoing) -> Result<(), StoreError> {
        let actor = Actor::system();
        let mut tx = self.write().await?;
        let row: Option<(i64, i64)> = sqlx::query_as("SELECT deal_id, step_id FROM deal_steps WHERE id = $1")
            .bind(out.deal_step_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((deal_id, step_id)) = row else { return Ok(()) };
        let deal = crate::records::load(&mut *tx, "deals", "deal", deal_id, crate::deals::from_row).await?;
        let n = NewActivity {
            kind: Some(ActivityKind::Email),
            subject: if out.subject.trim().is_empty() { "(no subject)".into() } else { out.subject.clone() },
            done_at: Some(actor.now),
            note: Some(out.body.clone()),
            deal_id: Some(deal.id),
            person_id: deal.person_id,
            organization_id: deal.organization_id,
            owner_id: deal.owner_id,
            ..Default::default()
        };
        let n = NewActivity {
            subject: n.subject.chars().take(dealflow_core::validate::limits::NAME).collect(),
            note: n.note.map(|b| b.chars().take(dealflow_core::validate::limits::LONG).collect()),
            ..n
        };
        let activity = crate::activities::create_activity_in(&mut tx, &actor, n).await?;
        // Kept on the activity so that a reply to it finds it.
        sqlx::query("UPDATE activities SET message_id = $1 WHERE id = $2")
            .bind(crate::connect::normalize_message_id(&out.message_id))
            .bind(activity.id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE deal_steps SET status = 'done', done_at = $1, done_by = NULL, reason = NULL, updated_at = $1
             WHERE id = $2 AND job_id = $3 AND status IN ('waiting', 'failed')",
        )
        .bind(actor.now.0)
        .bind(out.deal_step_id)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
        let detail = json!({"step_id": StepId(step_id), "to": out.to, "message_id": out.message_id,
                            "activity_id": activity.id});
        crate::audit::append(
            &mut tx,
            &actor,
            crate::audit::Entry::new("deal", "email_sent", Some(deal_id)).detail(detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// "Send now": an automatic e-mail step of the deal's current stage
    /// that waits (never scheduled, due before the step existed, or failed)
    /// gets a send job due now.
    #[tracing::instrument(skip_all, fields(deal = %id, step = %step))]
    pub async fn send_step_now(&self, actor: &Actor, id: DealId, step: StepId) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let deal = crate::records::live(&mut *tx, "deals", "deal", id.0, crate::deals::from_row).await?;
        let s = super::step_in(&mut tx, step).await?;
        if s.stage_id != deal.stage_id || deal.status != DealStatus::Open {
            return Err(
                Invalid::one("step_id", format!("step {step} is not a step of the deal's current stage")).into()
            );
        }
        if s.spec.kind != StepKind::Email || s.spec.send != Some(SendMode::Auto) {
            return Err(Invalid::one(
                "step_id",
                "only an automatic e-mail step (`send: auto`) is sent by dealflow; tick other steps done instead",
            )
            .into());
        }
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT id, status FROM deal_steps WHERE deal_id = $1 AND step_id = $2")
                .bind(id.0)
                .bind(step.0)
                .fetch_optional(&mut *tx)
                .await?;
        let ds = match row {
            Some((ds, status)) if status == "waiting" || status == "failed" => ds,
            Some((_, status)) => {
                return Err(StoreError::InUse(format!(
                    "the step is {status}; only a waiting or failed e-mail is sent"
                )));
            }
            None => {
                let ds = dealflow_core::ids::next_id();
                sqlx::query(
                    "INSERT INTO deal_steps (id, deal_id, step_id, status, due_at, done_at, done_by, activity_id,
                      reason, updated_at) VALUES ($1, $2, $3, 'waiting', NULL, NULL, NULL, NULL, NULL, $4)",
                )
                .bind(ds)
                .bind(id.0)
                .bind(step.0)
                .bind(actor.now.0)
                .execute(&mut *tx)
                .await?;
                ds
            }
        };
        sqlx::query("UPDATE deal_steps SET status = 'waiting', reason = NULL, updated_at = $1 WHERE id = $2")
            .bind(actor.now.0)
            .bind(ds)
            .execute(&mut *tx)
            .await?;
        let job = schedule(&mut tx, actor.now, id, ds, deal.stage_entered_at, actor.now).await?;
        let detail = json!({"step_id": step, "job_id": job.to_string()});
        crate::audit::append(
            &mut tx,
            actor,
            crate::audit::Entry::new("deal", "email_send_now", Some(id.0)).detail(detail),
        )
        .await?;
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(job)
    }
}
