//! What one submission of an intake form does, in one transaction: the
//! person found by e-mail (case does not matter) or created, their
//! organization found by the e-mail's domain or created (never for free-mail
//! domains, where `company` names it instead), and a deal placed where the
//! form says, unless the person already has an open deal in that pipeline.
//! A paid sign-up (the billing system's post, with the form's secret)
//! records the deal as won. Placing skips the playbook gate (the admin's
//! configuration decides where deals start), and the deal gets the
//! checklist of the stage it starts in.

use super::{Form, OwnerMode, from_row};
use crate::deals::Gate;
use crate::parties::person_from_row;
use crate::webhooks::{Emit, emit};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::currency::Currency;
use dealflow_core::model::{DealPatch, DealStatus, NewDeal, NewOrganization, NewPerson, Person, PersonPatch};
use dealflow_core::validate::{email, optional_multiline, optional_text};
use dealflow_core::{DealId, Invalid, OrganizationId, PersonId, SubmissionId, UserId};
use std::collections::BTreeMap;

/// Domains of free e-mail services: an address there says nothing about
/// the company, so no organization is made from it.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "foxmail.com",
];

dealflow_core::text_enum!(
    /// What a submission did.
    SubmittedOutcome {
        /// A new deal was placed.
        Created = "created",
        /// The person already had an open deal in the pipeline; none was added.
        Existing = "existing",
        /// A paid sign-up: the deal is won.
        Paid = "paid",
    }
);

/// A paid sign-up's amount, in minor units.
#[derive(Debug, Clone)]
pub struct Paid {
    pub value: i64,
    pub currency: Option<Currency>,
}

/// What a submission did, and what to show.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub outcome: SubmittedOutcome,
    pub person_id: PersonId,
    pub organization_id: Option<OrganizationId>,
    pub deal_id: DealId,
    pub success_message: Option<String>,
    pub redirect_url: Option<String>,
}

/// The values of a submission, checked.
struct Values {
    name: String,
    email: String,
    phone: Option<String>,
    company: Option<String>,
    job_title: Option<String>,
}

fn values(form: &Form, v: &BTreeMap<String, String>) -> Result<Values, Invalid> {
    let mut errs = Invalid::new();
    let asks = |f: &str| form.fields.iter().any(|x| x == f);
    let get = |f: &str| if asks(f) { v.get(f).map(String::as_str) } else { None };
    let mail = match get("email") {
        Some(e) => errs.take(email("email", e)),
        None => {
            errs.add("email", "is required: the form matches a sign-up to its person by e-mail address");
            None
        }
    };
    let name = get("name").and_then(|n| errs.take(optional_text("name", Some(n), 200)).flatten());
    let phone = get("phone").and_then(|p| errs.take(optional_text("phone", Some(p), 50)).flatten());
    let company = get("company").and_then(|c| errs.take(optional_text("company", Some(c), 200)).flatten());
    let job_title = get("job_title").and_then(|j| errs.take(optional_text("job_title", Some(j), 200)).flatten());
    if let Some(m) = get("message") {
        errs.take(optional_multiline("message", Some(m), 5_000));
    }
    errs.into_result()?;
    let email = mail.unwrap_or_default();
    // Without a name, the address's local part stands in.
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
    Ok(Values { name, email, phone, company, job_title })
}

/// The organization of a sign-up: by the address's domain, or by the
/// company name given with a free-mail address; made when missing.
async fn organization(
    tx: &mut Tx,
    actor: &Actor,
    v: &Values,
    owner: Option<UserId>,
) -> Result<Option<OrganizationId>, StoreError> {
    let domain = v.email.rsplit('@').next().unwrap_or_default().to_string();
    let free = FREE_MAIL_DOMAINS.contains(&domain.as_str());
    let found: Option<i64> = if !free {
        sqlx::query_scalar(
            "SELECT id FROM organizations WHERE LOWER(domain) = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1",
        )
        .bind(domain.clone())
        .fetch_optional(&mut **tx)
        .await?
    } else if let Some(c) = &v.company {
        sqlx::query_scalar(
            "SELECT id FROM organizations WHERE LOWER(name) = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1",
        )
        .bind(c.to_lowercase())
        .fetch_optional(&mut **tx)
        .await?
    } else {
        return Ok(None);
    };
    if let Some(id) = found {
        return Ok(Some(OrganizationId(id)));
    }
    let n = NewOrganization {
        name: v.company.clone().unwrap_or_else(|| domain.clone()),
        domain: (!free).then_some(domain),
        owner_id: owner,
        ..Default::default()
    };
    let org = crate::parties::create_organization_in(tx, actor, n).await?;
    crate::audit::created(tx, actor, "organization", org.id.0, &org).await?;
    Ok(Some(org.id))
}

/// The person with this address, updated with what they left blank; or a
/// new one. `true` when new.
async fn person(
    tx: &mut Tx,
    actor: &Actor,
    v: &Values,
    org: Option<OrganizationId>,
    owner: Option<UserId>,
) -> Result<(Person, bool), StoreError> {
    let row = sqlx::query("SELECT * FROM people WHERE primary_email = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1")
        .bind(v.email.clone())
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(row) = row {
        let cur = person_from_row(&row)?;
        let patch = PersonPatch {
            version: cur.version,
            organization_id: cur.organization_id.is_none().then_some(org).filter(Option::is_some),
            job_title: cur.job_title.is_none().then(|| v.job_title.clone()).filter(Option::is_some),
            ..Default::default()
        };
        if patch.organization_id.is_none() && patch.job_title.is_none() {
            return Ok((cur, false));
        }
        let after = crate::parties::update_person_in(tx, actor, cur.id, patch).await?;
        crate::audit::updated(tx, actor, "person", cur.id.0, &cur, &after).await?;
        return Ok((after, false));
    }
    let n = NewPerson {
        name: v.name.clone(),
        emails: vec![v.email.clone()],
        phones: v.phone.iter().cloned().collect(),
        job_title: v.job_title.clone(),
        organization_id: org,
        owner_id: owner,
        ..Default::default()
    };
    let p = crate::parties::create_person_in(tx, actor, n).await?;
    crate::audit::created(tx, actor, "person", p.id.0, &p).await?;
    Ok((p, true))
}

/// The owner of the next deal: the fixed one, or the next active user in
/// turn (the cursor moves in the same transaction).
async fn owner(tx: &mut Tx, form: &Form) -> Result<Option<UserId>, StoreError> {
    if form.owner_mode == OwnerMode::Fixed {
        return Ok(form.owner_id);
    }
    let users: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE active = 1 ORDER BY name, id").fetch_all(&mut **tx).await?;
    let next: i64 =
        sqlx::query_scalar("SELECT next_owner FROM forms WHERE id = $1").bind(form.id.0).fetch_one(&mut **tx).await?;
    sqlx::query("UPDATE forms SET next_owner = next_owner + 1 WHERE id = $1")
        .bind(form.id.0)
        .execute(&mut **tx)
        .await?;
    Ok((!users.is_empty()).then(|| UserId(users[next.rem_euclid(users.len() as i64) as usize])))
}

impl Store {
    /// The active form with this key and its secret; `NotFound` otherwise.
    pub async fn form_by_key(&self, key: &str) -> Result<(Form, String), StoreError> {
        let row = sqlx::query("SELECT * FROM forms WHERE form_key = $1 AND active = 1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("form", key))?;
        Ok((from_row(&row)?, crate::row::text(&row, "secret")?))
    }

    /// Records one submission of `form` (see the module docs). `paid` only
    /// when the caller proved the form's secret.
    #[tracing::instrument(skip_all, fields(form = %form.id))]
    pub async fn submit_form(
        &self,
        actor: &Actor,
        form: &Form,
        fields: &BTreeMap<String, String>,
        paid: Option<Paid>,
    ) -> Result<Submitted, StoreError> {
        let v = values(form, fields)?;
        let mut tx = self.write().await?;
        let owner = owner(&mut tx, form).await?;
        let org = organization(&mut tx, actor, &v, owner).await?;
        let (person, new_person) = person(&mut tx, actor, &v, org, owner).await?;
        let org = person.organization_id.or(org);
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM deals WHERE person_id = $1 AND pipeline_id = $2 AND status = 'open' AND deleted_at IS NULL
             ORDER BY id LIMIT 1",
        )
        .bind(person.id.0)
        .bind(form.pipeline_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let mut events = Vec::new();
        if new_person {
            events.push(Emit::new("person.created", &person));
        }
        let (outcome, deal) = match (open, paid) {
            (Some(id), None) => (SubmittedOutcome::Existing, DealId(id)),
            (Some(id), Some(p)) => {
                let cur = crate::records::live(&mut *tx, "deals", "deal", id, crate::deals::from_row).await?;
                let patch = DealPatch {
                    version: cur.version,
                    status: Some(DealStatus::Won),
                    value: Some(p.value),
                    currency: p.currency.clone(),
                    ..Default::default()
                };
                let out = crate::deals::update_deal_gated(&mut tx, actor, cur.id, patch, Gate::Place).await?;
                crate::projections::refresh_written(&mut tx, &out).await?;
                crate::audit::updated(&mut tx, actor, "deal", id, &cur, &out.deal).await?;
                events.push(Emit::new("deal.won", &out.deal));
                (SubmittedOutcome::Paid, DealId(id))
            }
            (None, paid) => {
                let title = match &v.company {
                    Some(c) => format!("{c} — {}", form.name),
                    None => format!("{} — {}", v.name, form.name),
                };
                let n = NewDeal {
                    title: title.chars().take(200).collect(),
                    value: paid.as_ref().map_or(0, |p| p.value),
                    currency: paid.as_ref().and_then(|p| p.currency.clone()),
                    pipeline_id: Some(form.pipeline_id),
                    stage_id: form.stage_id,
                    status: paid.as_ref().map(|_| DealStatus::Won),
                    owner_id: owner,
                    person_id: Some(person.id),
                    organization_id: org,
                    source: form.source.clone(),
                    ..Default::default()
                };
                let mut out = crate::deals::create_deal_gated(&mut tx, actor, n, Gate::Place).await?;
                sqlx::query("UPDATE deals SET form_id = $1 WHERE id = $2")
                    .bind(form.id.0)
                    .bind(out.deal.id.0)
                    .execute(&mut *tx)
                    .await?;
                out.deal.form_id = Some(form.id);
                crate::projections::refresh_written(&mut tx, &out).await?;
                crate::playbooks::checklist::after_placing(&mut tx, actor, None, &out.deal).await?;
                crate::audit::created(&mut tx, actor, "deal", out.deal.id.0, &out.deal).await?;
                events.push(Emit::new("deal.created", &out.deal));
                if paid.is_some() {
                    events.push(Emit::new("deal.won", &out.deal));
                }
                let outcome = if paid.is_some() { SubmittedOutcome::Paid } else { SubmittedOutcome::Created };
                (outcome, out.deal.id)
            }
        };
        let id = SubmissionId::new();
        sqlx::query(
            "INSERT INTO form_submissions (id, form_id, at, outcome, email, person_id, organization_id, deal_id, ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.0)
        .bind(form.id.0)
        .bind(actor.now.0)
        .bind(outcome.as_str())
        .bind(v.email.clone())
        .bind(person.id.0)
        .bind(org.map(|o| o.0))
        .bind(deal.0)
        .bind(actor.origin.ip.map(|ip| ip.to_string()))
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({"form_id": form.id.to_string(), "outcome": outcome.as_str(),
            "deal_id": deal.to_string(), "person_id": person.id.to_string()});
        crate::audit::append(
            &mut tx,
            actor,
            crate::audit::Entry::new("form", "submit", Some(form.id.0)).detail(detail),
        )
        .await?;
        let wake = emit(&mut tx, actor.now, events).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(Submitted {
            outcome,
            person_id: person.id,
            organization_id: org,
            deal_id: deal,
            success_message: form.success_message.clone(),
            redirect_url: form.redirect_url.clone(),
        })
    }
}
