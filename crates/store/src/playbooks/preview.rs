//! The preview of an e-mail step's template, for the step editor: the
//! placeholders checked as a save would check them, then filled in from a
//! real deal (the values its e-mail would carry now) or with samples.

use crate::{Store, StoreError, Tx, custom_fields};
use dealflow_core::custom_field::Entity;
use dealflow_core::playbook::Template;
use dealflow_core::playbook::template::{Values, check, render, sample};
use dealflow_core::validate::{required_multiline, required_text};
use dealflow_core::{DealId, Invalid};

impl Store {
    /// The template's subject and body filled in: from `deal` when given
    /// (422 on `deal_id` when it is not a live deal), with sample values
    /// otherwise. Unknown placeholders, like an empty or
    /// overlong text, are a 422 naming each, under
    /// `template.subject` or `template.body`, as when the step is saved.
    pub async fn preview_template(&self, t: &Template, deal: Option<DealId>) -> Result<Template, StoreError> {
        let mut tx = self.read().await?;
        let deal_fields = custom_fields::defs(&mut tx, Entity::Deal).await?;
        let mut errs = Invalid::new();
        errs.take(required_text("template.subject", &t.subject, 300));
        errs.take(required_multiline("template.body", &t.body, 20_000));
        errs.take(check("template.subject", &t.subject, &deal_fields));
        errs.take(check("template.body", &t.body, &deal_fields));
        errs.into_result()?;
        let Some(id) = deal else {
            return Ok(Template { subject: sample(&t.subject, &deal_fields), body: sample(&t.body, &deal_fields) });
        };
        let row = sqlx::query("SELECT * FROM deals WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                Invalid::one(
                    "deal_id",
                    format!(
                        "deal {id} does not exist (or is in the trash); preview without `deal_id` or name a live deal"
                    ),
                )
            })?;
        let deal = crate::deals::from_row(&row)?;
        let settings = crate::settings::load(&mut tx).await?;
        let meeting = super::checklist::next_meeting(&mut tx, deal.id).await?;
        let person = name(&mut tx, "people", deal.person_id.map(|x| x.0)).await?;
        let owner = name(&mut tx, "users", deal.owner_id.map(|x| x.0)).await?;
        let organization = name(&mut tx, "organizations", deal.organization_id.map(|x| x.0)).await?;
        let v = Values {
            deal: &deal,
            person_name: person.as_deref(),
            owner_name: owner.as_deref(),
            organization_name: organization.as_deref(),
            meeting,
            settings: &settings,
        };
        Ok(Template { subject: render(&t.subject, &v), body: render(&t.body, &v) })
    }
}

/// The `name` of a row of `table` (a fixed table name, never user text).
async fn name(tx: &mut Tx, table: &'static str, id: Option<i64>) -> Result<Option<String>, StoreError> {
    let Some(id) = id else { return Ok(None) };
    let sql = format!("SELECT name FROM {table} WHERE id = $1");
    let n: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?;
    Ok(n)
}
