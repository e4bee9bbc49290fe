//! The JSON API under `/api/v1`. Each resource module owns its routes; they
//! are merged here, so the URL map reads in one screen.

pub mod activities;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod connections;
pub mod custom_fields;
pub mod deals;
pub mod email_events;
pub mod exports;
pub mod forms;
pub mod goals;
pub mod jobs;
pub mod lost_reasons;
pub mod mail;
pub mod metrics;
pub mod notes;
pub mod organizations;
pub mod outreach;
pub mod people;
pub mod pipeline_audits;
pub mod pipelines;
pub mod scoring;
pub mod settings;
pub mod steps;
pub mod users;
pub mod webhooks;

use crate::AppState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(auth::router())
        .merge(settings::router())
        .merge(users::router())
        .merge(pipelines::router())
        .merge(lost_reasons::router())
        .merge(steps::router())
        .merge(custom_fields::router())
        .merge(deals::router())
        .merge(organizations::router())
        .merge(people::router())
        .merge(activities::router())
        .merge(notes::router())
        .merge(campaigns::router())
        .merge(outreach::router())
        .merge(metrics::router())
        .merge(exports::router())
        .merge(goals::router())
        .merge(audit::router())
        .merge(jobs::router())
        .merge(mail::router())
        .merge(webhooks::router())
        .merge(forms::router())
        .merge(connections::router())
        .merge(email_events::router())
        .merge(scoring::router())
        .merge(pipeline_audits::router());
    OpenApiRouter::new().nest("/api/v1", v1).merge(crate::intake::router()).merge(crate::ingest::router())
}

/// Paging parameters shared by every list, read from the query string
/// beside the list's filter: `limit`, the page size, 1–500 (default 50),
/// and `cursor`, the `next_cursor` of the previous page. (Described here
/// rather than on the fields so the lists' OpenAPI parameters stay as they
/// were.)
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(pattern = r"^([0-9]{1,18})?$")]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<dealflow_store::Page, crate::error::ApiError> {
        let before = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            // Exactly the documented pattern (1 to 18 digits, which always
            // fit an i64), so the document and the server agree on signs.
            Some(c) => Some(
                c.parse::<i64>().ok().filter(|_| c.len() <= 18 && c.bytes().all(|b| b.is_ascii_digit())).ok_or_else(
                    || {
                        crate::error::ApiError::BadRequest(format!(
                            "`{c}` is not a cursor; pass the next_cursor of a previous page"
                        ))
                    },
                )?,
            ),
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=dealflow_store::Page::MAX).contains(&limit) {
            return Err(dealflow_core::Invalid::one("limit", "must be between 1 and 500").into());
        }
        Ok(dealflow_store::Page { limit, before })
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> From<dealflow_store::ListPage<T>> for Page<T> {
    fn from(p: dealflow_store::ListPage<T>) -> Self {
        Self { items: p.items, next_cursor: p.next_cursor }
    }
}

/// Body of a version-checked action without other fields (e.g. restore).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Empty {}
