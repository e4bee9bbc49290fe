//! Organizations and people: create, read, update with a version check,
//! soft delete and restore, and filtered lists. Both carry a `custom` map
//! checked against their entity's custom field definitions, and an owner
//! that defaults to the acting user.

use crate::custom_fields;
use crate::deals::check_ref;
use crate::records;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page, like_pattern};
use crate::users::check_user;
use crate::webhooks::Emit;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::custom_field::Entity;
use dealflow_core::model::{NewOrganization, NewPerson, Organization, OrganizationPatch, Person, PersonPatch};
use dealflow_core::time::Timestamp;
use dealflow_core::validate::{email, int_range, limits, optional_text, required_text};
use dealflow_core::{Invalid, OrganizationId, PersonId, UserId};
use serde_json::Map;
use sqlx::any::AnyRow;

/// Filters of `GET /api/v1/organizations`.
/// (The one definition for the list API, the export and the store.)
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    pub owner_id: Option<UserId>,
    /// Only organizations changed at or after this time.
    pub updated_since: Option<Timestamp>,
    /// Text search in the name and domain (case-insensitive).
    pub q: Option<String>,
    /// `true` lists deleted organizations (the trash) instead.
    #[serde(default)]
    pub deleted: bool,
}

/// Filters of `GET /api/v1/people`.
/// (The one definition for the list API, the export and the store.)
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonFilter {
    pub owner_id: Option<UserId>,
    pub organization_id: Option<OrganizationId>,
    /// Only people changed at or after this time.
    pub updated_since: Option<Timestamp>,
    /// Text search in the name and primary e-mail (case-insensitive).
    pub q: Option<String>,
    /// `true` lists deleted people (the trash) instead.
    #[serde(default)]
    pub deleted: bool,
}

/// At most this many e-mails, and as many phones, per person.
const MAX_CONTACTS: usize = 20;
const PHONE_MAX: usize = 50;
const MAX_EMPLOYEES: i64 = 10_000_000;

pub(crate) fn org_from_row(r: &AnyRow) -> R<Organization> {
    Ok(Organization {
        id: OrganizationId(i64_(r, "id")?),
        name: text(r, "name")?,
        domain: opt_text(r, "domain")?,
        industry: opt_text(r, "industry")?,
        employees: opt_i64(r, "employees")?,
        country: opt_text(r, "country")?,
        owner_id: opt_i64(r, "owner_id")?.map(UserId),
        custom: json(r, "custom")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        deleted_at: opt_ts(r, "deleted_at")?,
        version: i64_(r, "version")?,
    })
}

pub(crate) fn person_from_row(r: &AnyRow) -> R<Person> {
    Ok(Person {
        id: PersonId(i64_(r, "id")?),
        name: text(r, "name")?,
        emails: json(r, "emails")?,
        phones: json(r, "phones")?,
        job_title: opt_text(r, "job_title")?,
        organization_id: opt_i64(r, "organization_id")?.map(OrganizationId),
        owner_id: opt_i64(r, "owner_id")?.map(UserId),
        source: opt_text(r, "source")?,
        do_not_email: bool_(r, "do_not_email")?,
        do_not_email_reason: opt_text(r, "do_not_email_reason")?,
        do_not_email_at: opt_ts(r, "do_not_email_at")?,
        custom: json(r, "custom")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        deleted_at: opt_ts(r, "deleted_at")?,
        version: i64_(r, "version")?,
    })
}

/// A web domain as stored: lower case, without scheme, `www.` or trailing
/// slash, so `https://www.Acme.com/` and `acme.com` find each other.
pub(crate) fn domain(s: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(t) = optional_text("domain", s, limits::NAME)? else {
        return Ok(None);
    };
    let t = t.to_lowercase();
    let t = t.strip_prefix("https://").or_else(|| t.strip_prefix("http://")).unwrap_or(&t);
    let t = t.strip_prefix("www.").unwrap_or(t).trim_end_matches('/');
    if t.is_empty() || t.contains(char::is_whitespace) {
        return Err(Invalid::one("domain", "is not a web domain; give it like `acme.com`"));
    }
    Ok(Some(t.to_string()))
}

/// Checks and lower-cases every address; a repeated address is kept once,
/// so the primary one stays first and lookups find a single entry.
fn emails(list: &[String]) -> Result<Vec<String>, Invalid> {
    let mut errs = Invalid::new();
    if list.len() > MAX_CONTACTS {
        errs.add("emails", format!("has too many entries: at most {MAX_CONTACTS}"));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        if let Some(e) = errs.take(email(&format!("emails[{i}]"), e))
            && !out.contains(&e)
        {
            out.push(e);
        }
    }
    errs.into_result().map(|()| out)
}

/// Phone numbers are kept as typed (trimmed): formats vary too much by
/// country to normalize safely.
fn phones(list: &[String]) -> Result<Vec<String>, Invalid> {
    let mut errs = Invalid::new();
    if list.len() > MAX_CONTACTS {
        errs.add("phones", format!("has too many entries: at most {MAX_CONTACTS}"));
    }
    let out = list
        .iter()
        .enumerate()
        .filter_map(|(i, p)| errs.take(required_text(&format!("phones[{i}]"), p, PHONE_MAX)))
        .collect();
    errs.into_result().map(|()| out)
}

/// JSON text of a list of strings, which always serializes.
fn list_text(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// The creation time a caller gave (history may be loaded) or now.
fn created_at(errs: &mut Invalid, given: Option<Timestamp>, actor: &Actor) -> Timestamp {
    match given {
        Some(t) => errs.take(t.check_not_future("created_at", actor.now)).unwrap_or(t),
        None => actor.now,
    }
}

/// The filters organizations and people share: trash or live, owner,
/// changed since, and a case-insensitive search in `search_cols`.
fn common_filters(
    sql: &mut Sql,
    deleted: bool,
    owner: Option<UserId>,
    since: Option<Timestamp>,
    q: Option<&str>,
    search_cols: [&str; 2],
) {
    sql.push(if deleted { "deleted_at IS NOT NULL" } else { "deleted_at IS NULL" });
    if let Some(v) = owner {
        sql.push(" AND owner_id = ").bind(v.0);
    }
    if let Some(v) = since {
        sql.push(" AND updated_at >= ").bind(v.0);
    }
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        let [a, b] = search_cols;
        sql.push(&format!(" AND (LOWER({a}) LIKE ")).bind(like_pattern(q)).push(" ESCAPE '\\'");
        sql.push(&format!(" OR LOWER({b}) LIKE ")).bind(like_pattern(q)).push(" ESCAPE '\\')");
    }
}

/// The body of [`Store::create_organization`], inside the caller's transaction.
pub(crate) async fn create_organization_in(
    tx: &mut Tx,
    actor: &Actor,
    n: NewOrganization,
) -> Result<Organization, StoreError> {
    let mut errs = Invalid::new();
    let name = errs.take(required_text("name", &n.name, limits::NAME));
    let domain = errs.take(domain(n.domain.as_deref())).flatten();
    let industry = errs.take(optional_text("industry", n.industry.as_deref(), limits::SHORT)).flatten();
    let country = errs.take(optional_text("country", n.country.as_deref(), limits::SHORT)).flatten();
    if let Some(e) = n.employees {
        errs.take(int_range("employees", e, 0, MAX_EMPLOYEES));
    }
    let created_at = created_at(&mut errs, n.created_at, actor);
    errs.into_result()?;

    let owner = n.owner_id.or(actor.user_id);
    if let Some(u) = owner {
        check_user(tx, "owner_id", u).await?;
    }
    let custom = custom_fields::apply(tx, Entity::Organization, &Map::new(), n.custom.as_ref(), true).await?;
    let id = OrganizationId::new();
    sqlx::query(
        "INSERT INTO organizations (id, name, domain, industry, employees, country, owner_id, custom, created_at,
          updated_at, deleted_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, 1)",
    )
    .bind(id.0)
    .bind(name.unwrap_or_default())
    .bind(domain)
    .bind(industry)
    .bind(n.employees)
    .bind(country)
    .bind(owner.map(|u| u.0))
    .bind(custom_fields::to_text(&custom))
    .bind(created_at.0)
    .bind(actor.now.0)
    .execute(&mut **tx)
    .await?;
    let org = records::live(&mut **tx, "organizations", "organization", id.0, org_from_row).await?;
    crate::scoring::sync::refresh_organization(tx, actor, id).await?;
    Ok(org)
}

/// The body of [`Store::update_organization`], inside the caller's transaction.
pub(crate) async fn update_organization_in(
    tx: &mut Tx,
    actor: &Actor,
    id: OrganizationId,
    p: OrganizationPatch,
) -> Result<Organization, StoreError> {
    let mut errs = Invalid::new();
    let name = p.name.as_deref().and_then(|t| errs.take(required_text("name", t, limits::NAME)));
    let domain = p.domain.as_ref().and_then(|d| errs.take(domain(d.as_deref())));
    let industry = p.industry.as_ref().and_then(|s| errs.take(optional_text("industry", s.as_deref(), limits::SHORT)));
    let country = p.country.as_ref().and_then(|s| errs.take(optional_text("country", s.as_deref(), limits::SHORT)));
    if let Some(Some(e)) = p.employees {
        errs.take(int_range("employees", e, 0, MAX_EMPLOYEES));
    }
    errs.into_result()?;

    let cur = records::live(&mut **tx, "organizations", "organization", id.0, org_from_row).await?;
    crate::records::check_version(cur.version, p.version)?;
    // A field absent from the patch keeps its stored value.
    let mut next = Organization {
        name: name.unwrap_or_else(|| cur.name.clone()),
        domain: domain.unwrap_or_else(|| cur.domain.clone()),
        industry: industry.unwrap_or_else(|| cur.industry.clone()),
        employees: p.employees.unwrap_or(cur.employees),
        country: country.unwrap_or_else(|| cur.country.clone()),
        owner_id: p.owner_id.unwrap_or(cur.owner_id),
        ..cur.clone()
    };
    // An unchanged owner stays valid even if since deactivated.
    if let Some(u) = next.owner_id.filter(|o| Some(*o) != cur.owner_id) {
        check_user(tx, "owner_id", u).await?;
    }
    if p.custom.is_some() {
        next.custom = custom_fields::apply(tx, Entity::Organization, &cur.custom, p.custom.as_ref(), false).await?;
    }
    let n = sqlx::query(
        "UPDATE organizations SET name = $1, domain = $2, industry = $3, employees = $4, country = $5, owner_id = $6,
          custom = $7, updated_at = $8, version = version + 1
         WHERE id = $9 AND version = $10",
    )
    .bind(next.name)
    .bind(next.domain)
    .bind(next.industry)
    .bind(next.employees)
    .bind(next.country)
    .bind(next.owner_id.map(|u| u.0))
    .bind(custom_fields::to_text(&next.custom))
    .bind(actor.now.0)
    .bind(id.0)
    .bind(p.version)
    .execute(&mut **tx)
    .await?;
    if n.rows_affected() == 0 {
        return Err(records::stale(tx, "organizations", id.0).await);
    }
    let org = records::live(&mut **tx, "organizations", "organization", id.0, org_from_row).await?;
    Ok(org)
}

/// The reason a person set "do not e-mail" by hand gets.
const BY_HAND: &str = "set by hand";

/// The body of [`Store::create_person`], inside the caller's transaction.
pub(crate) async fn create_person_in(tx: &mut Tx, actor: &Actor, n: NewPerson) -> Result<Person, StoreError> {
    let mut errs = Invalid::new();
    let name = errs.take(required_text("name", &n.name, limits::NAME));
    let emails = errs.take(emails(&n.emails)).unwrap_or_default();
    let phones = errs.take(phones(&n.phones)).unwrap_or_default();
    let job_title = errs.take(optional_text("job_title", n.job_title.as_deref(), limits::SHORT)).flatten();
    let source = errs.take(optional_text("source", n.source.as_deref(), limits::SHORT)).flatten();
    let created_at = created_at(&mut errs, n.created_at, actor);
    errs.into_result()?;

    let owner = n.owner_id.or(actor.user_id);
    if let Some(u) = owner {
        check_user(tx, "owner_id", u).await?;
    }
    if let Some(o) = n.organization_id {
        check_ref(tx, "organizations", "organization_id", "organization", o.0).await?;
    }
    let custom = custom_fields::apply(tx, Entity::Person, &Map::new(), n.custom.as_ref(), true).await?;
    let id = PersonId::new();
    sqlx::query(
        "INSERT INTO people (id, name, emails, primary_email, phones, job_title, organization_id, owner_id, source,
          custom, created_at, updated_at, deleted_at, version, do_not_email, do_not_email_reason, do_not_email_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, 1, $13, $14, $15)",
    )
    .bind(id.0)
    .bind(name.unwrap_or_default())
    .bind(list_text(&emails))
    .bind(emails.first().cloned())
    .bind(list_text(&phones))
    .bind(job_title)
    .bind(n.organization_id.map(|o| o.0))
    .bind(owner.map(|u| u.0))
    .bind(source)
    .bind(custom_fields::to_text(&custom))
    .bind(created_at.0)
    .bind(actor.now.0)
    .bind(b(n.do_not_email))
    .bind(n.do_not_email.then_some(BY_HAND))
    .bind(n.do_not_email.then_some(actor.now.0))
    .execute(&mut **tx)
    .await?;
    crate::connect::rematch_person(tx, id.0, emails.first().map(String::as_str), actor.now).await?;
    let person = records::live(&mut **tx, "people", "person", id.0, person_from_row).await?;
    // rematch_person has refreshed the deals when events were waiting;
    // a field of the person may move their deals' fit too.
    crate::scoring::sync::refresh_person(tx, actor.now, id).await?;
    Ok(person)
}

/// The body of [`Store::update_person`], inside the caller's transaction.
pub(crate) async fn update_person_in(
    tx: &mut Tx,
    actor: &Actor,
    id: PersonId,
    p: PersonPatch,
) -> Result<Person, StoreError> {
    let mut errs = Invalid::new();
    let name = p.name.as_deref().and_then(|t| errs.take(required_text("name", t, limits::NAME)));
    let emails = p.emails.as_deref().and_then(|l| errs.take(emails(l)));
    let phones = p.phones.as_deref().and_then(|l| errs.take(phones(l)));
    let job_title =
        p.job_title.as_ref().and_then(|s| errs.take(optional_text("job_title", s.as_deref(), limits::SHORT)));
    let source = p.source.as_ref().and_then(|s| errs.take(optional_text("source", s.as_deref(), limits::SHORT)));
    errs.into_result()?;

    let cur = records::live(&mut **tx, "people", "person", id.0, person_from_row).await?;
    crate::records::check_version(cur.version, p.version)?;
    // A field absent from the patch keeps its stored value.
    let mut next = Person {
        name: name.unwrap_or_else(|| cur.name.clone()),
        emails: emails.unwrap_or_else(|| cur.emails.clone()),
        phones: phones.unwrap_or_else(|| cur.phones.clone()),
        job_title: job_title.unwrap_or_else(|| cur.job_title.clone()),
        source: source.unwrap_or_else(|| cur.source.clone()),
        organization_id: p.organization_id.unwrap_or(cur.organization_id),
        owner_id: p.owner_id.unwrap_or(cur.owner_id),
        do_not_email: p.do_not_email.unwrap_or(cur.do_not_email),
        ..cur.clone()
    };
    // The reason and time follow the flag: kept while it stays set, "by
    // hand" when a person sets it, cleared with it.
    match (cur.do_not_email, next.do_not_email) {
        (false, true) => (next.do_not_email_reason, next.do_not_email_at) = (Some(BY_HAND.into()), Some(actor.now)),
        (_, false) => (next.do_not_email_reason, next.do_not_email_at) = (None, None),
        (true, true) => {}
    }
    // Unchanged references stay valid even if their target was since
    // deleted or deactivated; only new ones are checked.
    if let Some(u) = next.owner_id.filter(|o| Some(*o) != cur.owner_id) {
        check_user(tx, "owner_id", u).await?;
    }
    if let Some(o) = next.organization_id.filter(|o| Some(*o) != cur.organization_id) {
        check_ref(tx, "organizations", "organization_id", "organization", o.0).await?;
    }
    if p.custom.is_some() {
        next.custom = custom_fields::apply(tx, Entity::Person, &cur.custom, p.custom.as_ref(), false).await?;
    }
    let n = sqlx::query(
        "UPDATE people SET name = $1, emails = $2, primary_email = $3, phones = $4, job_title = $5, organization_id = $6,
          owner_id = $7, source = $8, custom = $9, updated_at = $10, version = version + 1, do_not_email = $13,
          do_not_email_reason = $14, do_not_email_at = $15
         WHERE id = $11 AND version = $12",
    )
    .bind(next.name)
    .bind(list_text(&next.emails))
    .bind(next.emails.first().cloned())
    .bind(list_text(&next.phones))
    .bind(next.job_title)
    .bind(next.organization_id.map(|o| o.0))
    .bind(next.owner_id.map(|u| u.0))
    .bind(next.source)
    .bind(custom_fields::to_text(&next.custom))
    .bind(actor.now.0)
    .bind(id.0)
    .bind(p.version)
    .bind(b(next.do_not_email))
    .bind(next.do_not_email_reason)
    .bind(next.do_not_email_at.map(|t| t.0))
    .execute(&mut **tx)
    .await?;
    if n.rows_affected() == 0 {
        return Err(records::stale(tx, "people", id.0).await);
    }
    if next.emails.first() != cur.emails.first() {
        crate::connect::rematch_person(tx, id.0, next.emails.first().map(String::as_str), actor.now).await?;
    }
    let person = records::live(&mut **tx, "people", "person", id.0, person_from_row).await?;
    Ok(person)
}

impl Store {
    #[tracing::instrument(skip_all)]
    pub async fn create_organization(&self, actor: &Actor, n: NewOrganization) -> Result<Organization, StoreError> {
        let mut tx = self.write().await?;
        let out = create_organization_in(&mut tx, actor, n).await?;
        crate::audit::created(&mut tx, actor, "organization", out.id.0, &out).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A live (not deleted) organization.
    pub async fn organization(&self, id: OrganizationId) -> Result<Organization, StoreError> {
        records::live(self.pool(), "organizations", "organization", id.0, org_from_row).await
    }

    /// Applies a PATCH; `version` must be the stored one.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_organization(
        &self,
        actor: &Actor,
        id: OrganizationId,
        p: OrganizationPatch,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.write().await?;
        let before = records::live(&mut *tx, "organizations", "organization", id.0, org_from_row).await?;
        let out = update_organization_in(&mut tx, actor, id, p).await?;
        crate::audit::updated(&mut tx, actor, "organization", id.0, &before, &out).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Moves an organization to the trash; its people and deals keep the link.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_organization(&self, actor: &Actor, id: OrganizationId) -> Result<(), StoreError> {
        self.set_deleted(actor, "organizations", "organization", id.0, true).await
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn restore_organization(&self, actor: &Actor, id: OrganizationId) -> Result<Organization, StoreError> {
        self.set_deleted(actor, "organizations", "organization", id.0, false).await?;
        self.organization(id).await
    }

    pub async fn list_organizations(
        &self,
        f: &OrganizationFilter,
        page: Page,
    ) -> Result<ListPage<Organization>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM organizations WHERE ");
        common_filters(&mut sql, f.deleted, f.owner_id, f.updated_since, f.q.as_deref(), ["name", "domain"]);
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, org_from_row).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_person(&self, actor: &Actor, n: NewPerson) -> Result<Person, StoreError> {
        let mut tx = self.write().await?;
        let out = create_person_in(&mut tx, actor, n).await?;
        crate::audit::created(&mut tx, actor, "person", out.id.0, &out).await?;
        let wake = crate::webhooks::emit(&mut tx, actor.now, vec![Emit::new("person.created", &out)]).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(out)
    }

    /// A live (not deleted) person.
    pub async fn person(&self, id: PersonId) -> Result<Person, StoreError> {
        records::live(self.pool(), "people", "person", id.0, person_from_row).await
    }

    /// Applies a PATCH; `version` must be the stored one. `emails` and
    /// `phones` replace the whole list.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_person(&self, actor: &Actor, id: PersonId, p: PersonPatch) -> Result<Person, StoreError> {
        let mut tx = self.write().await?;
        let before = records::live(&mut *tx, "people", "person", id.0, person_from_row).await?;
        let out = update_person_in(&mut tx, actor, id, p).await?;
        crate::audit::updated(&mut tx, actor, "person", id.0, &before, &out).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Moves a person to the trash; their deals keep the link.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_person(&self, actor: &Actor, id: PersonId) -> Result<(), StoreError> {
        self.set_deleted(actor, "people", "person", id.0, true).await
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn restore_person(&self, actor: &Actor, id: PersonId) -> Result<Person, StoreError> {
        self.set_deleted(actor, "people", "person", id.0, false).await?;
        self.person(id).await
    }

    pub async fn list_people(&self, f: &PersonFilter, page: Page) -> Result<ListPage<Person>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM people WHERE ");
        common_filters(&mut sql, f.deleted, f.owner_id, f.updated_since, f.q.as_deref(), ["name", "primary_email"]);
        if let Some(v) = f.organization_id {
            sql.push(" AND organization_id = ").bind(v.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, person_from_row).await
    }
}
