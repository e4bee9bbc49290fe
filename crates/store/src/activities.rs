//! Activities (calls, meetings, e-mails, tasks, LinkedIn touches) and notes:
//! the context around deals, people and organizations. Both are plain rows
//! without a trash: deleting one removes it for good, since nothing else
//! refers to them. Notes live in [`notes`].

mod notes;

pub use notes::NoteFilter;

use crate::deals::check_ref;
use crate::records;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::users::check_user;
use crate::webhooks::Emit;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::model::{Activity, ActivityKind, ActivityPatch, NewActivity};
use dealflow_core::time::Timestamp;
use dealflow_core::validate::{limits, optional_multiline, required_text};
use dealflow_core::{ActivityId, DealId, Invalid, OrganizationId, PersonId, UserId};
use sqlx::any::AnyRow;

/// Filters of `GET /api/v1/activities`.
/// (The one definition for the list API and the store.)
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityFilter {
    pub deal_id: Option<DealId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    pub owner_id: Option<UserId>,
    /// `true`: only done activities; `false`: only open ones.
    pub done: Option<bool>,
    /// Only activities due strictly before this time.
    pub due_before: Option<Timestamp>,
    /// Only activities due at or after this time.
    pub due_after: Option<Timestamp>,
    /// Only activities changed at or after this time.
    pub updated_since: Option<Timestamp>,
}

pub(crate) fn activity_from_row(r: &AnyRow) -> R<Activity> {
    Ok(Activity {
        id: ActivityId(i64_(r, "id")?),
        kind: enum_(r, "kind", ActivityKind::parse)?,
        subject: text(r, "subject")?,
        due_at: opt_ts(r, "due_at")?,
        done_at: opt_ts(r, "done_at")?,
        note: opt_text(r, "note")?,
        deal_id: opt_i64(r, "deal_id")?.map(DealId),
        person_id: opt_i64(r, "person_id")?.map(PersonId),
        organization_id: opt_i64(r, "organization_id")?.map(OrganizationId),
        owner_id: opt_i64(r, "owner_id")?.map(UserId),
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// Checks the deal, person and organization an activity or note links to.
/// Callers pass only the links that are new, so an existing link to a
/// record deleted since does not block unrelated edits.
async fn check_links(
    tx: &mut Tx,
    deal: Option<DealId>,
    person: Option<PersonId>,
    org: Option<OrganizationId>,
) -> Result<(), StoreError> {
    if let Some(d) = deal {
        check_ref(tx, "deals", "deal_id", "deal", d.0).await?;
    }
    if let Some(p) = person {
        check_ref(tx, "people", "person_id", "person", p.0).await?;
    }
    if let Some(o) = org {
        check_ref(tx, "organizations", "organization_id", "organization", o.0).await?;
    }
    Ok(())
}

/// The body of [`Store::create_activity`], inside the caller's transaction.
pub(crate) async fn create_activity_in(tx: &mut Tx, actor: &Actor, n: NewActivity) -> Result<Activity, StoreError> {
    let mut errs = Invalid::new();
    let subject = errs.take(required_text("subject", &n.subject, limits::NAME));
    let note = errs.take(optional_multiline("note", n.note.as_deref(), limits::LONG)).flatten();
    let created_at = match n.created_at {
        Some(t) => errs.take(t.check_not_future("created_at", actor.now)).unwrap_or(t),
        None => actor.now,
    };
    // A planned activity has a due time; only a done one has a done time,
    // and it cannot have been done later than now.
    if let Some(d) = n.done_at {
        errs.take(d.check_not_future("done_at", actor.now));
    }
    errs.into_result()?;
    let owner = n.owner_id.or(actor.user_id);

    if let Some(u) = owner {
        check_user(tx, "owner_id", u).await?;
    }
    check_links(tx, n.deal_id, n.person_id, n.organization_id).await?;
    let id = ActivityId::new();
    sqlx::query(
        "INSERT INTO activities (id, kind, subject, due_at, done_at, note, deal_id, person_id, organization_id,
          owner_id, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)",
    )
    .bind(id.0)
    .bind(n.kind.unwrap_or(ActivityKind::Task).as_str().to_string())
    .bind(subject.unwrap_or_default())
    .bind(n.due_at.map(|t| t.0))
    .bind(n.done_at.map(|t| t.0))
    .bind(note)
    .bind(n.deal_id.map(|x| x.0))
    .bind(n.person_id.map(|x| x.0))
    .bind(n.organization_id.map(|x| x.0))
    .bind(owner.map(|u| u.0))
    .bind(created_at.0)
    .bind(actor.now.0)
    .execute(&mut **tx)
    .await?;
    let a = records::load(&mut **tx, "activities", "activity", id.0, activity_from_row).await?;
    meetings_changed(tx, actor, None, Some(&a)).await?;
    Ok(a)
}

/// A meeting of a deal was added, changed or removed (`before` and `after`
/// are the activity around the write): playbook e-mails counted from the
/// deal's next meeting follow it.
async fn meetings_changed(
    tx: &mut Tx,
    actor: &Actor,
    before: Option<&Activity>,
    after: Option<&Activity>,
) -> Result<(), StoreError> {
    let meeting = |a: Option<&Activity>| a.filter(|a| a.kind == ActivityKind::Meeting).and_then(|a| a.deal_id);
    let (was, is) = (meeting(before), meeting(after));
    let moved = match (before, after) {
        (Some(b), Some(a)) => b.due_at != a.due_at || b.done_at != a.done_at || was != is,
        _ => true,
    };
    if !moved {
        return Ok(());
    }
    if let Some(d) = was {
        crate::playbooks::mail::meeting_changed(tx, actor.now, d).await?;
    }
    if let Some(d) = is.filter(|d| Some(*d) != was) {
        crate::playbooks::mail::meeting_changed(tx, actor.now, d).await?;
    }
    Ok(())
}

/// The body of [`Store::update_activity`], inside the caller's transaction.
pub(crate) async fn update_activity_in(
    tx: &mut Tx,
    actor: &Actor,
    id: ActivityId,
    p: ActivityPatch,
) -> Result<Activity, StoreError> {
    let mut errs = Invalid::new();
    let subject = p.subject.as_deref().and_then(|s| errs.take(required_text("subject", s, limits::NAME)));
    let note = match &p.note {
        Some(n) => errs.take(optional_multiline("note", n.as_deref(), limits::LONG)),
        None => None,
    };
    if let Some(Some(d)) = p.done_at {
        errs.take(d.check_not_future("done_at", actor.now));
    }
    errs.into_result()?;

    let cur = records::load(&mut **tx, "activities", "activity", id.0, activity_from_row).await?;
    crate::records::check_version(cur.version, p.version)?;
    let mut next = cur.clone();
    if let Some(k) = p.kind {
        next.kind = k;
    }
    if let Some(s) = subject {
        next.subject = s;
    }
    if let Some(n) = note {
        next.note = n;
    }
    if let Some(d) = p.due_at {
        next.due_at = d;
    }
    if let Some(d) = p.done_at {
        next.done_at = d;
    }
    if let Some(d) = p.deal_id {
        next.deal_id = d;
    }
    if let Some(x) = p.person_id {
        next.person_id = x;
    }
    if let Some(o) = p.organization_id {
        next.organization_id = o;
    }
    if let Some(o) = p.owner_id {
        next.owner_id = o;
    }
    if let Some(u) = next.owner_id.filter(|o| Some(*o) != cur.owner_id) {
        check_user(tx, "owner_id", u).await?;
    }
    check_links(
        tx,
        next.deal_id.filter(|x| Some(*x) != cur.deal_id),
        next.person_id.filter(|x| Some(*x) != cur.person_id),
        next.organization_id.filter(|x| Some(*x) != cur.organization_id),
    )
    .await?;
    let n = sqlx::query(
        "UPDATE activities SET kind = $1, subject = $2, due_at = $3, done_at = $4, note = $5, deal_id = $6,
          person_id = $7, organization_id = $8, owner_id = $9, updated_at = $10, version = version + 1
         WHERE id = $11 AND version = $12",
    )
    .bind(next.kind.as_str().to_string())
    .bind(next.subject)
    .bind(next.due_at.map(|t| t.0))
    .bind(next.done_at.map(|t| t.0))
    .bind(next.note)
    .bind(next.deal_id.map(|x| x.0))
    .bind(next.person_id.map(|x| x.0))
    .bind(next.organization_id.map(|x| x.0))
    .bind(next.owner_id.map(|u| u.0))
    .bind(actor.now.0)
    .bind(id.0)
    .bind(p.version)
    .execute(&mut **tx)
    .await?;
    if n.rows_affected() == 0 {
        return Err(records::stale(tx, "activities", id.0).await);
    }
    let a = records::load(&mut **tx, "activities", "activity", id.0, activity_from_row).await?;
    meetings_changed(tx, actor, Some(&cur), Some(&a)).await?;
    Ok(a)
}

/// A new activity with its score sync, audit-log entry and webhook event,
/// inside the caller's transaction; the flag says whether to wake the
/// webhook sender after commit.
pub(crate) async fn create_activity_tx(
    tx: &mut Tx,
    actor: &Actor,
    n: NewActivity,
) -> Result<(Activity, bool), StoreError> {
    let out = create_activity_in(tx, actor, n).await?;
    crate::scoring::sync::activity_changed(tx, actor, &out).await?;
    crate::audit::created(tx, actor, "activity", out.id.0, &out).await?;
    let wake = crate::webhooks::emit(tx, actor.now, vec![Emit::new("activity.created", &out)]).await?;
    Ok((out, wake))
}

impl Store {
    #[tracing::instrument(skip_all)]
    pub async fn create_activity(&self, actor: &Actor, n: NewActivity) -> Result<Activity, StoreError> {
        let mut tx = self.write().await?;
        let (out, wake) = create_activity_tx(&mut tx, actor, n).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(out)
    }

    pub async fn activity(&self, id: ActivityId) -> Result<Activity, StoreError> {
        crate::records::load(self.pool(), "activities", "activity", id.0, activity_from_row).await
    }

    /// Applies a PATCH; completing is setting `done_at`, rescheduling is
    /// setting `due_at`. `version` must be current.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_activity(
        &self,
        actor: &Actor,
        id: ActivityId,
        p: ActivityPatch,
    ) -> Result<Activity, StoreError> {
        let mut tx = self.write().await?;
        let before = records::load(&mut *tx, "activities", "activity", id.0, activity_from_row).await?;
        let out = update_activity_in(&mut tx, actor, id, p).await?;
        crate::scoring::sync::activity_changed(&mut tx, actor, &out).await?;
        if before.deal_id != out.deal_id || before.person_id != out.person_id {
            crate::scoring::sync::activity_changed(&mut tx, actor, &before).await?;
        }
        crate::audit::updated(&mut tx, actor, "activity", id.0, &before, &out).await?;
        let done = before.done_at.is_none() && out.done_at.is_some();
        let events = if done { vec![Emit::new("activity.done", &out)] } else { Vec::new() };
        let wake = crate::webhooks::emit(&mut tx, actor.now, events).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(out)
    }

    /// Removes an activity for good.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_activity(&self, actor: &Actor, id: ActivityId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let before = records::load(&mut *tx, "activities", "activity", id.0, activity_from_row).await?;
        records::remove(&mut tx, "activities", "activity", id.0).await?;
        meetings_changed(&mut tx, actor, Some(&before), None).await?;
        crate::scoring::sync::activity_changed(&mut tx, actor, &before).await?;
        crate::audit::deleted(&mut tx, actor, "activity", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Activities, newest first.
    pub async fn list_activities(&self, f: &ActivityFilter, page: Page) -> Result<ListPage<Activity>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM activities WHERE 1 = 1");
        if let Some(v) = f.deal_id {
            sql.push(" AND deal_id = ").bind(v.0);
        }
        if let Some(v) = f.person_id {
            sql.push(" AND person_id = ").bind(v.0);
        }
        if let Some(v) = f.organization_id {
            sql.push(" AND organization_id = ").bind(v.0);
        }
        if let Some(v) = f.owner_id {
            sql.push(" AND owner_id = ").bind(v.0);
        }
        match f.done {
            Some(true) => sql.push(" AND done_at IS NOT NULL"),
            Some(false) => sql.push(" AND done_at IS NULL"),
            None => &mut sql,
        };
        if let Some(v) = f.due_before {
            sql.push(" AND due_at < ").bind(v.0);
        }
        if let Some(v) = f.due_after {
            sql.push(" AND due_at >= ").bind(v.0);
        }
        if let Some(v) = f.updated_since {
            sql.push(" AND updated_at >= ").bind(v.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, activity_from_row).await
    }
}
