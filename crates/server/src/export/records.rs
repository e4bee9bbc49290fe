//! Record lists as export tables: deals, people and organizations, read and
//! sent a page at a time, with owner, person and organization names and the custom
//! fields as extra columns.

use super::{Cell, TableWriter, Target};
use crate::error::ApiError;
use dealflow_core::custom_field::{CustomField, Entity};
use dealflow_core::{OrganizationId, PersonId};
use dealflow_store::{DealFilter, OrganizationFilter, Page, PersonFilter, Store};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Page size used when reading lists for an export.
const BATCH: i64 = Page::MAX;

/// The entity's custom fields in display order, and their headers.
async fn custom_columns(store: &Store, entity: Entity) -> Result<Vec<CustomField>, ApiError> {
    let mut fields = store.custom_fields(Some(entity)).await?;
    fields.sort_by_key(|f| (f.position, f.id.0));
    Ok(fields)
}

fn with_custom(fixed: &[&str], custom: &[CustomField]) -> Vec<String> {
    fixed.iter().map(|s| s.to_string()).chain(custom.iter().map(|f| f.label.clone())).collect()
}

fn push_custom(row: &mut Vec<Cell>, custom: &[CustomField], values: &Map<String, Value>) {
    row.extend(custom.iter().map(|f| Cell::json(values.get(&f.key))));
}

/// Names of users by id (for owner columns).
async fn user_names(store: &Store) -> Result<HashMap<i64, String>, ApiError> {
    Ok(store.users().await?.into_iter().map(|u| (u.id.0, u.name)).collect())
}

fn name_of(names: &HashMap<i64, String>, id: Option<i64>) -> Cell {
    id.map_or(Cell::Empty, |i| Cell::Text(names.get(&i).cloned().unwrap_or_else(|| i.to_string())))
}

/// The names of the people and organizations one page of records points
/// to, read in one query each; a deleted one shows its id.
#[derive(Default)]
struct PartyNames {
    people: HashMap<PersonId, String>,
    orgs: HashMap<OrganizationId, String>,
}

impl PartyNames {
    async fn load(
        store: &Store,
        people: impl Iterator<Item = Option<PersonId>>,
        orgs: impl Iterator<Item = Option<OrganizationId>>,
    ) -> Result<Self, ApiError> {
        let people: Vec<PersonId> = people.flatten().collect();
        let orgs: Vec<OrganizationId> = orgs.flatten().collect();
        Ok(Self { people: store.person_names(&people).await?, orgs: store.organization_names(&orgs).await? })
    }

    fn person(&self, id: Option<PersonId>) -> Cell {
        id.map_or(Cell::Empty, |i| Cell::Text(self.people.get(&i).cloned().unwrap_or_else(|| i.to_string())))
    }

    fn org(&self, id: Option<OrganizationId>) -> Cell {
        id.map_or(Cell::Empty, |i| Cell::Text(self.orgs.get(&i).cloned().unwrap_or_else(|| i.to_string())))
    }
}

/// Every deal matching `f`, newest first.
pub async fn deals(store: &Store, f: &DealFilter, target: Target) -> Result<TableWriter, ApiError> {
    let custom = custom_columns(store, Entity::Deal).await?;
    let headers = with_custom(
        &[
            "id",
            "title",
            "value",
            "currency",
            "contract_months",
            "pipeline",
            "stage",
            "status",
            "lost_reason",
            "probability",
            "expected_close_date",
            "owner",
            "person",
            "organization",
            "source",
            "created_at",
            "updated_at",
            "closed_at",
            "stage_entered_at",
        ],
        &custom,
    );
    let mut out = target.open(&headers)?;
    let mut pipelines = HashMap::new();
    let mut stages = HashMap::new();
    for p in store.pipelines().await? {
        for s in &p.stages {
            stages.insert(s.id.0, s.name.clone());
        }
        pipelines.insert(p.id.0, p.name);
    }
    let users = user_names(store).await?;
    let mut before = None;
    loop {
        let page = store.list_deals(f, Page { limit: BATCH, before }).await?;
        let parties = PartyNames::load(
            store,
            page.items.iter().map(|d| d.person_id),
            page.items.iter().map(|d| d.organization_id),
        )
        .await?;
        for d in &page.items {
            let mut row = vec![
                Cell::Text(d.id.to_string()),
                Cell::Text(d.title.clone()),
                Cell::Money { minor: d.value, digits: d.currency.minor_digits() },
                Cell::text(d.currency.as_str()),
                Cell::opt_int(d.contract_months),
                name_of(&pipelines, Some(d.pipeline_id.0)),
                name_of(&stages, Some(d.stage_id.0)),
                Cell::text(d.status.as_str()),
                Cell::opt_text(d.lost_reason.clone()),
                Cell::opt_int(d.probability),
                Cell::opt_text(d.expected_close_date.map(|x| x.to_iso())),
                name_of(&users, d.owner_id.map(|u| u.0)),
                parties.person(d.person_id),
                parties.org(d.organization_id),
                Cell::opt_text(d.source.clone()),
                Cell::Time(d.created_at),
                Cell::Time(d.updated_at),
                Cell::opt_time(d.closed_at),
                Cell::Time(d.stage_entered_at),
            ];
            push_custom(&mut row, &custom, &d.custom);
            out.row(&row)?;
        }
        out.flush().await?;
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// Every person matching `f`, newest first.
pub async fn people(store: &Store, f: &PersonFilter, target: Target) -> Result<TableWriter, ApiError> {
    let custom = custom_columns(store, Entity::Person).await?;
    let headers = with_custom(
        &[
            "id",
            "name",
            "email",
            "other_emails",
            "phones",
            "job_title",
            "organization",
            "owner",
            "source",
            "do_not_email",
            "created_at",
            "updated_at",
        ],
        &custom,
    );
    let mut out = target.open(&headers)?;
    let users = user_names(store).await?;
    let mut before = None;
    loop {
        let page = store.list_people(f, Page { limit: BATCH, before }).await?;
        let parties = PartyNames::load(store, std::iter::empty(), page.items.iter().map(|p| p.organization_id)).await?;
        for p in &page.items {
            let mut row = vec![
                Cell::Text(p.id.to_string()),
                Cell::Text(p.name.clone()),
                Cell::opt_text(p.emails.first().cloned()),
                Cell::Text(p.emails.iter().skip(1).cloned().collect::<Vec<_>>().join("; ")),
                Cell::Text(p.phones.join("; ")),
                Cell::opt_text(p.job_title.clone()),
                parties.org(p.organization_id),
                name_of(&users, p.owner_id.map(|u| u.0)),
                Cell::opt_text(p.source.clone()),
                Cell::opt_text(p.do_not_email.then_some("yes")),
                Cell::Time(p.created_at),
                Cell::Time(p.updated_at),
            ];
            push_custom(&mut row, &custom, &p.custom);
            out.row(&row)?;
        }
        out.flush().await?;
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// Every organization matching `f`, newest first.
pub async fn organizations(store: &Store, f: &OrganizationFilter, target: Target) -> Result<TableWriter, ApiError> {
    let custom = custom_columns(store, Entity::Organization).await?;
    let headers = with_custom(
        &["id", "name", "domain", "industry", "employees", "country", "owner", "created_at", "updated_at"],
        &custom,
    );
    let mut out = target.open(&headers)?;
    let users = user_names(store).await?;
    let mut before = None;
    loop {
        let page = store.list_organizations(f, Page { limit: BATCH, before }).await?;
        for o in &page.items {
            let mut row = vec![
                Cell::Text(o.id.to_string()),
                Cell::Text(o.name.clone()),
                Cell::opt_text(o.domain.clone()),
                Cell::opt_text(o.industry.clone()),
                Cell::opt_int(o.employees),
                Cell::opt_text(o.country.clone()),
                name_of(&users, o.owner_id.map(|u| u.0)),
                Cell::Time(o.created_at),
                Cell::Time(o.updated_at),
            ];
            push_custom(&mut row, &custom, &o.custom);
            out.row(&row)?;
        }
        out.flush().await?;
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    Ok(out)
}
