//! Activity rows: found again only by external id (activities have no
//! natural key), linked to deals, people and organizations by reference.

use super::refs::Refs;
use super::{Outcome, RowFail, keys};
use crate::activities::{activity_from_row, create_activity_in, update_activity_in};
use crate::records;
use crate::{Actor, Tx};
use dealflow_core::import::{RefKind, RowValues, Target};
use dealflow_core::model::{ActivityPatch, NewActivity};
use dealflow_core::{DealId, OrganizationId, PersonId, UserId};

fn changed<T: PartialEq + Clone>(cur: &T, new: Option<T>) -> Option<T> {
    new.filter(|n| n != cur)
}

pub(crate) async fn apply(
    tx: &mut Tx,
    actor: &Actor,
    refs: &mut Refs<'_>,
    row: &RowValues,
) -> Result<Outcome, RowFail> {
    let owner = refs.resolve(tx, actor, row, "owner", RefKind::User).await?.map(UserId);
    let deal = refs.resolve(tx, actor, row, "deal", RefKind::Deal).await?.map(DealId);
    let person = refs.resolve(tx, actor, row, "person", RefKind::Person).await?.map(PersonId);
    let org = refs.resolve(tx, actor, row, "organization", RefKind::Organization).await?.map(OrganizationId);
    let found = match &row.external_id {
        Some(e) => keys::get(tx, Target::Activities, refs.source(), e).await?,
        None => None,
    };
    let (id, outcome) = match found {
        None => {
            let n = NewActivity {
                kind: row.kind("kind"),
                subject: row.text("subject").unwrap_or_default(),
                due_at: row.time("due_at"),
                done_at: row.time("done_at"),
                note: row.text("note"),
                deal_id: deal,
                person_id: person,
                organization_id: org,
                owner_id: owner,
                created_at: row.time("created_at"),
            };
            (create_activity_in(tx, actor, n).await?.id, Outcome::Created)
        }
        Some(id) => {
            let cur = records::load(&mut **tx, "activities", "activity", id, activity_from_row).await?;
            let p = ActivityPatch {
                version: cur.version,
                kind: changed(&cur.kind, row.kind("kind")),
                subject: changed(&cur.subject, row.text("subject")),
                due_at: changed(&cur.due_at, row.time("due_at").map(Some)),
                done_at: changed(&cur.done_at, row.time("done_at").map(Some)),
                note: changed(&cur.note, row.text("note").map(Some)),
                deal_id: changed(&cur.deal_id, deal.map(Some)),
                person_id: changed(&cur.person_id, person.map(Some)),
                organization_id: changed(&cur.organization_id, org.map(Some)),
                owner_id: changed(&cur.owner_id, owner.map(Some)),
            };
            let any = p.kind.is_some()
                || p.subject.is_some()
                || p.due_at.is_some()
                || p.done_at.is_some()
                || p.note.is_some()
                || p.deal_id.is_some()
                || p.person_id.is_some()
                || p.organization_id.is_some()
                || p.owner_id.is_some();
            if any {
                update_activity_in(tx, actor, cur.id, p).await?;
            }
            (cur.id, if any { Outcome::Updated } else { Outcome::Unchanged })
        }
    };
    if let Some(e) = &row.external_id {
        keys::put(tx, Target::Activities, refs.source(), e, id.0, actor.now).await?;
    }
    Ok(outcome)
}
