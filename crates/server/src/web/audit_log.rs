//! The audit-log page under settings (admins only): the newest entries
//! first, filters by user, record and day, paging by cursor, and a link to
//! the CSV export with the same filters. It reads through the store like
//! the API does; there is nothing to change on it (the log is append-only).

use super::{PageUser, T, html, page_error, urlencode};
use crate::AppState;
use crate::error::ApiError;
use crate::export::local_time;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::model::{Role, User};
use dealflow_core::time::{Date, Timestamp};
use dealflow_core::{Invalid, RecordId, UserId};
use dealflow_store::{AuditEntry, AuditFilter, Page};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/audit-log", get(page))
}

/// The page's query: the form's fields as typed (empty ones are unset).
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    user_id: Option<String>,
    record_type: Option<String>,
    record_id: Option<String>,
    /// First day shown (YYYY-MM-DD, workspace time zone).
    from: Option<String>,
    /// Last day shown, inclusive.
    to: Option<String>,
    cursor: Option<String>,
}

/// One entry as the table shows it.
pub struct Row {
    pub at: String,
    pub who: String,
    pub via: String,
    pub action: String,
    pub record: String,
    pub changes: Vec<String>,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "pages/audit_log.html")]
struct AuditPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    users: Vec<User>,
    q: Shown,
    rows: Vec<Row>,
    next: Option<String>,
    export: String,
}

/// The filters as the form shows them again.
#[derive(Default)]
struct Shown {
    user_id: String,
    record_type: String,
    record_id: String,
    from: String,
    to: String,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub async fn page(State(st): State<AppState>, u: PageUser, Query(q): Query<AuditQuery>) -> Response {
    if u.user.role != Role::Admin {
        return page_error(ApiError::Forbidden(u.t.t("set.forbidden").to_string()));
    }
    render(&st, &u, &q).await.unwrap_or_else(page_error)
}

/// The store filter and its query string (API parameters) from the form's fields;
/// a malformed field is a 422 naming it.
fn filter(q: &AuditQuery, tz: dealflow_core::time::TimeZone) -> Result<(AuditFilter, String), ApiError> {
    let mut errs = Invalid::new();
    let mut f = AuditFilter::default();
    let mut qs = String::new();
    if let Some(v) = set(&q.user_id) {
        match v.parse::<i64>() {
            Ok(id) => f.user_id = Some(UserId(id)),
            Err(_) => errs.add("user_id", "pick a user from the list"),
        }
    }
    if let Some(v) = set(&q.record_type) {
        f.record_type = Some(v.to_string());
    }
    if let Some(v) = set(&q.record_id) {
        match v.parse::<i64>() {
            Ok(id) => f.record_id = Some(RecordId(id)),
            Err(_) => errs.add("record_id", "an id is a decimal number, as shown in the record's address"),
        }
    }
    let day = |field: &str, v: &str, errs: &mut Invalid, next: bool| match Date::parse(v) {
        Ok(d) => {
            let d = if next { d.0.succ_opt().unwrap_or(d.0) } else { d.0 };
            Some(Timestamp(tz.midnight(d)))
        }
        Err(e) => {
            errs.add(field, e);
            None
        }
    };
    f.from = set(&q.from).and_then(|v| day("from", v, &mut errs, false));
    f.to = set(&q.to).and_then(|v| day("to", v, &mut errs, true));
    errs.into_result()?;
    for (k, v) in [
        ("user_id", f.user_id.map(|x| x.to_string())),
        ("record_type", f.record_type.clone()),
        ("record_id", f.record_id.map(|x| x.to_string())),
        ("from", f.from.map(|t| t.to_rfc3339())),
        ("to", f.to.map(|t| t.to_rfc3339())),
    ] {
        if let Some(v) = v {
            qs.push_str(&format!("{}{k}={}", if qs.is_empty() { "" } else { "&" }, urlencode(&v)));
        }
    }
    Ok((f, qs))
}

async fn render(st: &AppState, u: &PageUser, q: &AuditQuery) -> Result<Response, ApiError> {
    let t = u.t;
    let settings = st.store.settings().await?;
    let (f, qs) = filter(q, settings.time_zone)?;
    let before = match set(&q.cursor) {
        Some(c) => Some(c.parse::<i64>().map_err(|_| Invalid::one("cursor", "use the page's own next link"))?),
        None => None,
    };
    let list = st.store.audit_log(&f, Page { limit: 50, before }).await?;
    let users = st.store.users().await?;
    let tz = settings.time_zone.tz();
    let rows = list.items.iter().map(|e| row(e, &users, tz, t)).collect();
    let sep = if qs.is_empty() { "" } else { "&" };
    let next = list.next_cursor.map(|c| format!("/settings/audit-log?{qs}{sep}cursor={c}"));
    let shown = Shown {
        user_id: set(&q.user_id).unwrap_or_default().to_string(),
        record_type: set(&q.record_type).unwrap_or_default().to_string(),
        record_id: set(&q.record_id).unwrap_or_default().to_string(),
        from: set(&q.from).unwrap_or_default().to_string(),
        to: set(&q.to).unwrap_or_default().to_string(),
    };
    Ok(html(&AuditPage {
        t,
        nav: "settings",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        users,
        q: shown,
        rows,
        next,
        export: format!("/api/v1/audit-log/export?format=csv{sep}{qs}"),
    }))
}

fn row(e: &AuditEntry, users: &[User], tz: chrono_tz::Tz, t: T) -> Row {
    let who = match e.user_id {
        Some(id) => users.iter().find(|x| x.id == id).map_or_else(|| id.to_string(), |x| x.name.clone()),
        None => t.t("audit.nobody").to_string(),
    };
    let mut via = e.credential.as_str().to_string();
    if let Some(ip) = &e.ip {
        via.push_str(&format!(" · {ip}"));
    }
    let changes = e.changes.iter().map(|c| format!("{}: {} → {}", c.field, c.before, c.after)).collect::<Vec<String>>();
    Row {
        at: local_time(e.at, tz),
        who,
        via,
        action: e.action.clone(),
        record: match e.record_id {
            Some(id) => format!("{} {id}", e.record_type),
            None => e.record_type.clone(),
        },
        changes,
        detail: e.detail.as_ref().map(|d| d.to_string()).unwrap_or_default(),
    }
}
