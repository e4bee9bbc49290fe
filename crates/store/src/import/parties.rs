//! Organization and person rows. An organization is found again by its
//! external id, else its domain, else its name; a person by external id,
//! else e-mail. Found records get only the fields that differ; empty cells
//! never clear a stored value.

use super::refs::Refs;
use super::{Outcome, RowFail, keys};
use crate::parties::{
    create_organization_in, create_person_in, domain, org_from_row, person_from_row, update_organization_in,
    update_person_in,
};
use crate::{Actor, StoreError, Tx};
use dealflow_core::import::{RefKind, RowValues, Target};
use dealflow_core::model::{NewOrganization, NewPerson, OrganizationPatch, PersonPatch};
use dealflow_core::{OrganizationId, UserId};
use serde_json::{Map, Value};

fn changed<T: PartialEq + Clone>(cur: &T, new: Option<T>) -> Option<T> {
    new.filter(|n| n != cur)
}

fn custom_changes(row: &RowValues, cur: &Map<String, Value>) -> Option<Map<String, Value>> {
    let m: Map<String, Value> = row.custom().into_iter().filter(|(k, v)| cur.get(k) != Some(v)).collect();
    (!m.is_empty()).then_some(m)
}

/// The id an earlier import, or a natural key, finds for this row.
async fn existing(
    tx: &mut Tx,
    refs: &Refs<'_>,
    target: Target,
    row: &RowValues,
    natural: &[(&'static str, Option<String>)],
) -> Result<Option<i64>, StoreError> {
    if let Some(e) = &row.external_id
        && let Some(id) = keys::get(tx, target, refs.source(), e).await?
    {
        return Ok(Some(id));
    }
    for (sql, key) in natural {
        if let Some(k) = key {
            let id: Option<i64> = sqlx::query_scalar(*sql).bind(k.clone()).fetch_optional(&mut **tx).await?;
            if id.is_some() {
                return Ok(id);
            }
        }
    }
    Ok(None)
}

fn deleted(row: &RowValues, e: StoreError) -> RowFail {
    match e {
        StoreError::NotFound { what, id } => RowFail::Row(
            row.error("record", format!("{what} {id} made by an earlier import is deleted; restore it to update it")),
        ),
        other => RowFail::Store(other),
    }
}

pub(crate) async fn apply_organization(
    tx: &mut Tx,
    actor: &Actor,
    refs: &mut Refs<'_>,
    row: &RowValues,
) -> Result<Outcome, RowFail> {
    let owner = refs.resolve(tx, actor, row, "owner", RefKind::User).await?.map(UserId);
    let dom = domain(row.text("domain").as_deref()).ok().flatten();
    let name = row.text("name").map(|n| n.to_lowercase());
    let natural = [
        ("SELECT id FROM organizations WHERE domain = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1", dom),
        ("SELECT id FROM organizations WHERE LOWER(name) = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1", name),
    ];
    let found = existing(tx, refs, Target::Organizations, row, &natural).await?;
    let (id, outcome) = match found {
        None => {
            let n = NewOrganization {
                name: row.text("name").unwrap_or_default(),
                domain: row.text("domain"),
                industry: row.text("industry"),
                employees: row.int("employees"),
                country: row.text("country"),
                owner_id: owner,
                custom: Some(row.custom()),
                created_at: row.time("created_at"),
            };
            (create_organization_in(tx, actor, n).await?.id, Outcome::Created)
        }
        Some(id) => {
            let cur = crate::records::live(&mut **tx, "organizations", "organization", id, org_from_row)
                .await
                .map_err(|e| deleted(row, e))?;
            let p = OrganizationPatch {
                version: cur.version,
                name: changed(&cur.name, row.text("name")),
                domain: changed(&cur.domain, domain(row.text("domain").as_deref()).ok().flatten().map(Some)),
                industry: changed(&cur.industry, row.text("industry").map(Some)),
                employees: changed(&cur.employees, row.int("employees").map(Some)),
                country: changed(&cur.country, row.text("country").map(Some)),
                owner_id: changed(&cur.owner_id, owner.map(Some)),
                custom: custom_changes(row, &cur.custom),
            };
            let any = p.name.is_some()
                || p.domain.is_some()
                || p.industry.is_some()
                || p.employees.is_some()
                || p.country.is_some()
                || p.owner_id.is_some()
                || p.custom.is_some();
            if any {
                update_organization_in(tx, actor, cur.id, p).await?;
            }
            (cur.id, if any { Outcome::Updated } else { Outcome::Unchanged })
        }
    };
    if let Some(e) = &row.external_id {
        keys::put(tx, Target::Organizations, refs.source(), e, id.0, actor.now).await?;
    }
    Ok(outcome)
}

/// The stored list with the file's entries first, keeping stored extras.
fn merged(cur: &[String], new: Option<Vec<String>>, lower: bool) -> Option<Vec<String>> {
    let new: Vec<String> = new?.into_iter().map(|s| if lower { s.to_lowercase() } else { s }).collect();
    if new.iter().enumerate().all(|(i, n)| cur.get(i) == Some(n)) {
        return None;
    }
    let mut out = new.clone();
    out.extend(cur.iter().filter(|c| !new.contains(c)).cloned());
    Some(out)
}

pub(crate) async fn apply_person(
    tx: &mut Tx,
    actor: &Actor,
    refs: &mut Refs<'_>,
    row: &RowValues,
) -> Result<Outcome, RowFail> {
    let owner = refs.resolve(tx, actor, row, "owner", RefKind::User).await?.map(UserId);
    let org = refs.resolve(tx, actor, row, "organization", RefKind::Organization).await?.map(OrganizationId);
    let email = row.list("email").and_then(|l| l.first().map(|e| e.trim().to_lowercase()));
    let natural =
        [("SELECT id FROM people WHERE primary_email = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1", email)];
    let found = existing(tx, refs, Target::People, row, &natural).await?;
    let (id, outcome) = match found {
        None => {
            let n = NewPerson {
                name: row.text("name").unwrap_or_default(),
                emails: row.list("email").unwrap_or_default(),
                phones: row.list("phone").unwrap_or_default(),
                job_title: row.text("job_title"),
                organization_id: org,
                owner_id: owner,
                source: row.text("source"),
                do_not_email: false,
                custom: Some(row.custom()),
                created_at: row.time("created_at"),
            };
            (create_person_in(tx, actor, n).await?.id, Outcome::Created)
        }
        Some(id) => {
            let cur = crate::records::live(&mut **tx, "people", "person", id, person_from_row)
                .await
                .map_err(|e| deleted(row, e))?;
            let p = PersonPatch {
                version: cur.version,
                name: changed(&cur.name, row.text("name")),
                emails: merged(&cur.emails, row.list("email"), true),
                phones: merged(&cur.phones, row.list("phone"), false),
                job_title: changed(&cur.job_title, row.text("job_title").map(Some)),
                organization_id: changed(&cur.organization_id, org.map(Some)),
                owner_id: changed(&cur.owner_id, owner.map(Some)),
                source: changed(&cur.source, row.text("source").map(Some)),
                do_not_email: None,
                custom: custom_changes(row, &cur.custom),
            };
            let any = p.name.is_some()
                || p.emails.is_some()
                || p.phones.is_some()
                || p.job_title.is_some()
                || p.organization_id.is_some()
                || p.owner_id.is_some()
                || p.source.is_some()
                || p.custom.is_some();
            if any {
                update_person_in(tx, actor, cur.id, p).await?;
            }
            (cur.id, if any { Outcome::Updated } else { Outcome::Unchanged })
        }
    };
    if let Some(e) = &row.external_id {
        keys::put(tx, Target::People, refs.source(), e, id.0, actor.now).await?;
    }
    Ok(outcome)
}
