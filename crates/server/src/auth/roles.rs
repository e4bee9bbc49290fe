//! The role matrix: one row per API operation (method and OpenAPI path
//! template), saying for admins, managers and reps whether they may call it
//! at all ([`Access::Yes`], [`Access::No`]) or only on their own records
//! ([`Access::Own`]).
//!
//! The table is the one statement of who may do what. The role guard
//! (`role_guard.rs`) refuses [`Access::No`] before a handler runs, and
//! refuses an operation without a row (fail closed); handlers whose rule is
//! [`Access::Own`] receive the caller's [`Grant`] and check ownership on the
//! record they load. The OpenAPI document gets a 403 response on every
//! operation some role is refused, and `docs/security.md` carries the table
//! as rendered by [`markdown_table`] (a test compares them).

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dealflow_core::model::Role;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// What a role may do on one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Always, on any record.
    Yes,
    /// Never: refused with 403 before the handler runs.
    No,
    /// Only on the caller's own records (the row's `own` says which); the
    /// handler checks, as it needs the record.
    Own,
}

use Access::{No, Own, Yes};

/// One operation of the API and what each role may do with it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    /// The path template as in `/api/openapi.json`, e.g. `/api/v1/deals/{id}`.
    pub path: &'static str,
    /// Admin, manager, rep.
    pub access: [Access; 3],
    /// What "own" means here; empty when no role is limited to its own.
    pub own: &'static str,
}

impl Rule {
    /// What `role` may do with this operation.
    pub fn access(&self, role: Role) -> Access {
        self.access[match role {
            Role::Admin => 0,
            Role::Manager => 1,
            Role::Rep => 2,
        }]
    }

    /// The roles whose access is one of `which`, in words ("managers and
    /// reps", "everyone", "nobody").
    pub fn roles_with(&self, which: &[Access]) -> String {
        let names: Vec<_> = ["admins", "managers", "reps"]
            .into_iter()
            .zip(self.access)
            .filter(|(_, a)| which.contains(a))
            .map(|(n, _)| n)
            .collect();
        match names.as_slice() {
            [] => "nobody".into(),
            [one] => one.to_string(),
            [a, b] => format!("{a} and {b}"),
            _ => "everyone".into(),
        }
    }

    /// Who may call the operation (on any record or on their own), in words.
    pub fn who(&self) -> String {
        self.roles_with(&[Yes, Own])
    }

    /// What the 403 response of the operation means, for the OpenAPI document.
    pub fn forbidden_text(&self) -> String {
        let mut text = Vec::new();
        if self.access.contains(&No) {
            text.push(format!("Refused to {}: this is for {}.", self.roles_with(&[No]), self.who()));
        }
        if self.access.contains(&Own) {
            let own = self.roles_with(&[Own]);
            let mut own = own.chars();
            let own = own.next().map(|c| c.to_uppercase().chain(own).collect::<String>()).unwrap_or_default();
            text.push(format!(
                "{own} may do this only on their own records ({}); {} on any.",
                self.own,
                self.roles_with(&[Yes])
            ));
        }
        text.join(" ")
    }

    /// The refusal sent to `role`, naming the role and who may.
    pub fn refusal(&self, role: Role) -> String {
        format!(
            "a {} may not call {} {}: it is for {}; ask an admin of your workspace",
            role.as_str(),
            self.method,
            self.path,
            self.who()
        )
    }
}

const ALL: [Access; 3] = [Yes, Yes, Yes];
const STAFF: [Access; 3] = [Yes, Yes, No];
const ADMINS: [Access; 3] = [Yes, No, No];
/// Admins on any record, managers and reps on their own.
const OWN: [Access; 3] = [Yes, Own, Own];
/// Admins and managers on any record, reps on their own.
const OWN_REP: [Access; 3] = [Yes, Yes, Own];

const fn r(method: &'static str, path: &'static str, access: [Access; 3]) -> Rule {
    Rule { method, path, access, own: "" }
}

const fn own(method: &'static str, path: &'static str, access: [Access; 3], own: &'static str) -> Rule {
    Rule { method, path, access, own }
}

/// Operations anyone may call without signing in.
pub const PUBLIC: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/f/{key}"),
    ("POST", "/ingest/{connection_id}"),
    ("POST", "/ingest/{connection_id}/inbound"),
];

/// The role matrix. Reps read everything and work the pipeline (deals,
/// people, organizations, activities, notes, outreach, their own goals);
/// managers also run the team (every goal, campaigns, exports of records);
/// admins also configure the workspace (settings, users, other people's
/// tokens, pipelines and stages, lost reasons, custom fields).
pub const TABLE: &[Rule] = &[
    r("POST", "/api/v1/auth/logout", ALL),
    r("GET", "/api/v1/auth/me", ALL),
    r("GET", "/api/v1/settings", ALL),
    r("PATCH", "/api/v1/settings", ADMINS),
    r("POST", "/api/v1/settings/test-email", ADMINS),
    r("GET", "/api/v1/users", ALL),
    r("POST", "/api/v1/users", ADMINS),
    r("GET", "/api/v1/users/{id}", ALL),
    own("PATCH", "/api/v1/users/{id}", OWN, "their own name, password and locale (not role or activation)"),
    r("POST", "/api/v1/users/{id}/reassign", ADMINS),
    own("GET", "/api/v1/tokens", OWN, "lists only their own tokens"),
    own("POST", "/api/v1/tokens", OWN, "tokens for themselves"),
    own("POST", "/api/v1/tokens/{id}/revoke", OWN, "their own tokens"),
    r("GET", "/api/v1/pipelines", ALL),
    r("POST", "/api/v1/pipelines", ADMINS),
    r("GET", "/api/v1/pipelines/{id}", ALL),
    r("PATCH", "/api/v1/pipelines/{id}", ADMINS),
    r("POST", "/api/v1/pipelines/{id}/stages", ADMINS),
    r("GET", "/api/v1/stages/{id}", ALL),
    r("PATCH", "/api/v1/stages/{id}", ADMINS),
    r("DELETE", "/api/v1/stages/{id}", ADMINS),
    r("GET", "/api/v1/stages/{id}/steps", ALL),
    r("POST", "/api/v1/stages/{id}/steps", ADMINS),
    r("PATCH", "/api/v1/steps/{id}", ADMINS),
    r("DELETE", "/api/v1/steps/{id}", ADMINS),
    r("POST", "/api/v1/steps/preview", ADMINS),
    r("GET", "/api/v1/lost-reasons", ALL),
    r("POST", "/api/v1/lost-reasons", ADMINS),
    r("GET", "/api/v1/lost-reasons/{id}", ALL),
    r("PATCH", "/api/v1/lost-reasons/{id}", ADMINS),
    r("DELETE", "/api/v1/lost-reasons/{id}", ADMINS),
    r("GET", "/api/v1/custom-fields", ALL),
    r("POST", "/api/v1/custom-fields", ADMINS),
    r("GET", "/api/v1/custom-fields/{id}", ALL),
    r("PATCH", "/api/v1/custom-fields/{id}", ADMINS),
    r("DELETE", "/api/v1/custom-fields/{id}", ADMINS),
    r("GET", "/api/v1/deals", ALL),
    r("POST", "/api/v1/deals", ALL),
    r("GET", "/api/v1/deals/{id}", ALL),
    r("PATCH", "/api/v1/deals/{id}", ALL),
    r("DELETE", "/api/v1/deals/{id}", ALL),
    r("POST", "/api/v1/deals/{id}/restore", ALL),
    r("GET", "/api/v1/deals/{id}/events", ALL),
    r("GET", "/api/v1/deals/{id}/history", ALL),
    r("GET", "/api/v1/deals/{id}/steps", ALL),
    r("POST", "/api/v1/deals/{id}/steps/{step_id}/done", ALL),
    r("POST", "/api/v1/deals/{id}/steps/{step_id}/undone", ALL),
    r("POST", "/api/v1/deals/{id}/steps/{step_id}/send", ALL),
    r("POST", "/api/v1/deals/{id}/steps/{step_id}/skip", STAFF),
    r("GET", "/api/v1/deals/{id}/moves", ALL),
    r("GET", "/api/v1/overrides", ALL),
    r("GET", "/api/v1/organizations", ALL),
    r("POST", "/api/v1/organizations", ALL),
    r("GET", "/api/v1/organizations/{id}", ALL),
    r("PATCH", "/api/v1/organizations/{id}", ALL),
    r("DELETE", "/api/v1/organizations/{id}", ALL),
    r("POST", "/api/v1/organizations/{id}/restore", ALL),
    r("GET", "/api/v1/people", ALL),
    r("POST", "/api/v1/people", ALL),
    r("GET", "/api/v1/people/{id}", ALL),
    r("PATCH", "/api/v1/people/{id}", ALL),
    r("DELETE", "/api/v1/people/{id}", ALL),
    r("POST", "/api/v1/people/{id}/restore", ALL),
    r("GET", "/api/v1/activities", ALL),
    r("POST", "/api/v1/activities", ALL),
    r("GET", "/api/v1/activities/{id}", ALL),
    r("PATCH", "/api/v1/activities/{id}", ALL),
    r("DELETE", "/api/v1/activities/{id}", ALL),
    r("GET", "/api/v1/notes", ALL),
    r("POST", "/api/v1/notes", ALL),
    r("GET", "/api/v1/notes/{id}", ALL),
    own("PATCH", "/api/v1/notes/{id}", OWN, "notes they wrote"),
    own("DELETE", "/api/v1/notes/{id}", OWN, "notes they wrote"),
    r("GET", "/api/v1/campaigns", ALL),
    r("POST", "/api/v1/campaigns", STAFF),
    r("GET", "/api/v1/campaigns/{id}", ALL),
    r("PATCH", "/api/v1/campaigns/{id}", STAFF),
    r("DELETE", "/api/v1/campaigns/{id}", STAFF),
    r("GET", "/api/v1/campaigns/{id}/members", ALL),
    r("POST", "/api/v1/campaigns/{id}/members", STAFF),
    r("DELETE", "/api/v1/campaigns/{id}/members/{person_id}", STAFF),
    r("GET", "/api/v1/outreach", ALL),
    r("POST", "/api/v1/outreach", ALL),
    r("GET", "/api/v1/outreach/{id}", ALL),
    r("PATCH", "/api/v1/outreach/{id}", ALL),
    r("DELETE", "/api/v1/outreach/{id}", ALL),
    r("POST", "/api/v1/outreach/{id}/restore", ALL),
    r("GET", "/api/v1/goals", ALL),
    own("POST", "/api/v1/goals", OWN_REP, "goals they own (not team goals, not others')"),
    r("GET", "/api/v1/goals/{id}", ALL),
    own("PATCH", "/api/v1/goals/{id}", OWN_REP, "goals they own, and they cannot give them away"),
    own("DELETE", "/api/v1/goals/{id}", OWN_REP, "goals they own"),
    r("GET", "/api/v1/metrics", ALL),
    r("GET", "/api/v1/metrics/stages", ALL),
    r("GET", "/api/v1/forecast", ALL),
    r("GET", "/api/v1/planner", ALL),
    r("GET", "/api/v1/metrics/export", ALL),
    r("GET", "/api/v1/audit-log", ADMINS),
    r("GET", "/api/v1/audit-log/export", ADMINS),
    r("GET", "/api/v1/metrics/stages/export", ALL),
    r("GET", "/api/v1/deals/export", STAFF),
    r("GET", "/api/v1/people/export", STAFF),
    r("GET", "/api/v1/organizations/export", STAFF),
    r("GET", "/api/v1/jobs", STAFF),
    r("POST", "/api/v1/jobs/{id}/retry", ADMINS),
    r("GET", "/api/v1/scoring/models", ALL),
    r("POST", "/api/v1/scoring/models", ADMINS),
    r("GET", "/api/v1/scoring/models/{id}", ALL),
    r("PATCH", "/api/v1/scoring/models/{id}", ADMINS),
    r("DELETE", "/api/v1/scoring/models/{id}", ADMINS),
    r("POST", "/api/v1/scoring/models/{id}/publish", ADMINS),
    r("GET", "/api/v1/scoring/models/{id}/preview", ALL),
    r("POST", "/api/v1/scoring/models/{id}/preview", ADMINS),
    r("GET", "/api/v1/scoring/calibration", ALL),
    r("GET", "/api/v1/audits", ALL),
    r("POST", "/api/v1/audits", STAFF),
    r("GET", "/api/v1/audits/{id}", ALL),
    own("POST", "/api/v1/audits/{id}/items/{deal_id}/decision", OWN_REP, "the items of deals they own"),
    r("POST", "/api/v1/audits/{id}/sign-off", STAFF),
    r("GET", "/api/v1/audits/{id}/export", ALL),
    r("GET", "/api/v1/deals/{id}/score", ALL),
    r("GET", "/api/v1/deals/{id}/win-probability", ALL),
    r("POST", "/api/v1/deals/{id}/score/clear", ALL),
    r("GET", "/api/v1/deals/{id}/answers", ALL),
    r("PUT", "/api/v1/deals/{id}/answers/{question_id}", ALL),
    r("GET", "/api/v1/webhooks", STAFF),
    r("POST", "/api/v1/webhooks", ADMINS),
    r("GET", "/api/v1/webhooks/{id}", STAFF),
    r("PATCH", "/api/v1/webhooks/{id}", ADMINS),
    r("DELETE", "/api/v1/webhooks/{id}", ADMINS),
    r("POST", "/api/v1/webhooks/{id}/rotate-secret", ADMINS),
    r("GET", "/api/v1/webhooks/{id}/deliveries", STAFF),
    r("POST", "/api/v1/webhooks/{id}/deliveries/{attempt_id}/redeliver", ADMINS),
    r("GET", "/api/v1/forms", STAFF),
    r("POST", "/api/v1/forms", ADMINS),
    r("GET", "/api/v1/forms/{id}", STAFF),
    r("PATCH", "/api/v1/forms/{id}", ADMINS),
    r("DELETE", "/api/v1/forms/{id}", ADMINS),
    r("GET", "/api/v1/forms/{id}/submissions", STAFF),
    r("GET", "/api/v1/connections", STAFF),
    r("POST", "/api/v1/connections", ADMINS),
    r("GET", "/api/v1/connections/{id}", STAFF),
    r("PATCH", "/api/v1/connections/{id}", ADMINS),
    r("DELETE", "/api/v1/connections/{id}", ADMINS),
    r("GET", "/api/v1/email-events", ALL),
    r("GET", "/api/v1/email-events/unmatched", STAFF),
    r("POST", "/api/v1/email-events/{id}/assign", ADMINS),
    r("GET", "/api/v1/replies", ALL),
    r("PATCH", "/api/v1/replies/{id}", ALL),
];

/// The row of an operation, by method (`HEAD` reads as `GET`) and path template.
pub fn rule(method: &str, path: &str) -> Option<&'static Rule> {
    let method = if method == "HEAD" { "GET" } else { method };
    TABLE.iter().find(|r| r.method == method && r.path == path)
}

/// Whether `role` may call the operation at all (on some record). The web
/// app asks this before offering an action; an operation without a row is
/// never offered.
pub fn allows(role: Role, method: &str, path: &str) -> bool {
    rule(method, path).is_some_and(|r| r.access(role) != No)
}

/// Whether the operation needs no sign-in.
pub fn is_public(method: &str, path: &str) -> bool {
    PUBLIC.iter().any(|(m, p)| *m == method && *p == path)
}

/// What the role guard granted the caller on this request. Handlers of
/// operations with [`Access::Own`] rules take it and check the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant(pub Access);

impl Grant {
    /// Whether the caller is limited to their own records here.
    pub fn own_only(self) -> bool {
        self.0 != Yes
    }

    /// Refuses with `message` unless the caller may act on any record or
    /// `is_own` (the record is theirs).
    pub fn check_own(self, is_own: bool, message: &str) -> Result<(), ApiError> {
        match self.0 {
            Yes => Ok(()),
            Own if is_own => Ok(()),
            _ => Err(ApiError::Forbidden(message.to_string())),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Grant {
    type Rejection = ApiError;

    /// The grant the role guard stored. A handler reached without it was
    /// not guarded, so it is refused rather than trusted (fail closed).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Grant>().copied().ok_or_else(|| {
            tracing::error!("a handler needing a role grant ran without the role guard");
            ApiError::Forbidden("this operation is not in the role table; nobody may call it".into())
        })
    }
}

/// Adds a 403 problem response to every operation the table refuses to some
/// role (or limits to their own records), unless it documents one already.
/// The body is the operation's 401 problem content, so both refusals are
/// described alike.
pub fn document_refusals(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ];
        for (method, op) in ops {
            if let (Some(op), Some(rule)) = (op.as_mut(), rule(method, path))
                && rule.access != ALL
            {
                add_forbidden(op, rule);
            }
        }
    }
}

fn add_forbidden(op: &mut Operation, rule: &Rule) {
    let text = rule.forbidden_text();
    match op.responses.responses.get_mut("403") {
        Some(RefOr::T(documented)) => {
            documented.description = format!("{} {text}", documented.description).trim().to_string();
            return;
        }
        Some(RefOr::Ref(_)) => return,
        None => {}
    }
    let problem = match op.responses.responses.get("401") {
        Some(RefOr::T(r)) => r.content.clone(),
        _ => Default::default(),
    };
    let mut response = ResponseBuilder::new().description(text);
    if problem.is_empty() {
        response = response.content("application/json", Content::new(Some(Ref::from_schema_name("Problem"))));
    }
    let mut response = response.build();
    response.content.extend(problem);
    op.responses.responses.insert("403".into(), RefOr::T(response));
}

fn cell(a: Access) -> &'static str {
    match a {
        Yes => "yes",
        No => "no",
        Own => "own",
    }
}

/// The matrix as the Markdown table `docs/security.md` shows.
pub fn markdown_table() -> String {
    let mut out = String::from("| operation | admin | manager | rep | own means |\n|---|---|---|---|---|\n");
    for (m, p) in PUBLIC {
        out.push_str(&format!("| `{m} {p}` | public | public | public | |\n"));
    }
    for r in TABLE {
        let [a, m, rep] = r.access.map(cell);
        let own = if r.own.is_empty() { String::new() } else { format!(" {}", r.own) };
        out.push_str(&format!("| `{} {}` | {a} | {m} | {rep} |{own} |\n", r.method, r.path));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &str = include_str!("../../../../docs/security.md");

    #[test]
    fn docs_show_the_table_of_the_code() {
        let start = "<!-- role-matrix:start -->\n";
        let end = "<!-- role-matrix:end -->";
        let from = DOCS.find(start).expect("docs/security.md has the role matrix markers") + start.len();
        let to = DOCS[from..].find(end).expect("the end marker follows the start marker") + from;
        let want = markdown_table();
        assert!(
            DOCS[from..to] == want,
            "docs/security.md's role matrix differs from the code; replace it with:\n{want}"
        );
    }

    #[test]
    fn the_document_gets_a_403_where_a_role_is_limited() {
        let (_, doc) = crate::api::router().split_for_parts();
        let doc = crate::openapi::finish(doc);
        let response = |path: &str, method: &str, status: &str| {
            let item = &doc.paths.paths[path];
            let op = match method {
                "GET" => &item.get,
                "PATCH" => &item.patch,
                _ => &item.delete,
            };
            match op.as_ref().expect("the operation").responses.responses.get(status) {
                Some(RefOr::T(r)) => Some(r.clone()),
                _ => None,
            }
        };
        let forbidden = response("/api/v1/campaigns/{id}", "DELETE", "403").expect("a 403 response");
        // The CSRF 403 every change documents comes first; the role's refusal is appended.
        assert!(
            forbidden.description.ends_with("Refused to reps: this is for admins and managers."),
            "{}",
            forbidden.description
        );
        let unauthorized = response("/api/v1/campaigns/{id}", "DELETE", "401").expect("a 401 response");
        let body = |r: &utoipa::openapi::Response| serde_json::to_value(&r.content).expect("content as JSON");
        assert_eq!(body(&forbidden), body(&unauthorized), "the same problem body as a 401");
        let settings = response("/api/v1/settings", "PATCH", "403").expect("a 403 response");
        assert!(settings.description.ends_with("this is for admins."), "{}", settings.description);
        assert!(response("/api/v1/deals/{id}", "GET", "403").is_none(), "everyone may read a deal");
    }

    #[test]
    fn every_operation_has_one_row_and_every_row_an_operation() {
        let (_, doc) = crate::api::router().split_for_parts();
        let mut documented = Vec::new();
        for (path, item) in doc.paths.paths.iter() {
            let ops = [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("PATCH", &item.patch)];
            for (m, op) in ops.into_iter().chain([("DELETE", &item.delete)]) {
                if op.is_some() {
                    documented.push((m, path.clone()));
                }
            }
        }
        for (m, p) in &documented {
            assert!(rule(m, p).is_some() || is_public(m, p), "{m} {p} has no row in the role table");
        }
        for r in TABLE {
            assert!(
                documented.iter().any(|(m, p)| *m == r.method && p == r.path),
                "{} {} is no operation",
                r.method,
                r.path
            );
            assert_eq!(
                TABLE.iter().filter(|o| o.method == r.method && o.path == r.path).count(),
                1,
                "{} {} twice",
                r.method,
                r.path
            );
            assert_eq!(
                r.own.is_empty(),
                !r.access.contains(&Own),
                "{} {}: say what own means iff a role has it",
                r.method,
                r.path
            );
        }
        assert_eq!(documented.len(), TABLE.len() + PUBLIC.len());
    }

    #[test]
    fn the_guarded_words_name_who_may() {
        let settings = rule("PATCH", "/api/v1/settings").expect("a row");
        assert_eq!(settings.access(Role::Rep), No);
        assert!(settings.refusal(Role::Rep).contains("a rep may not call PATCH /api/v1/settings: it is for admins;"));
        assert_eq!(rule("HEAD", "/api/v1/deals").map(|r| r.access), Some(ALL));
        assert!(!allows(Role::Rep, "GET", "/api/v1/deals/export"));
        assert!(allows(Role::Manager, "GET", "/api/v1/deals/export"));
        assert!(!allows(Role::Admin, "PUT", "/api/v1/deals"), "no row, never offered");
        let notes = rule("DELETE", "/api/v1/notes/{id}").expect("a row");
        assert_eq!(
            notes.forbidden_text(),
            "Managers and reps may do this only on their own records (notes they wrote); admins on any."
        );
        let exports = rule("GET", "/api/v1/deals/export").expect("a row");
        assert_eq!(exports.forbidden_text(), "Refused to reps: this is for admins and managers.");
        assert!(Grant(Own).check_own(false, "no").is_err());
        assert!(Grant(Own).check_own(true, "no").is_ok() && Grant(Yes).check_own(false, "no").is_ok());
    }
}
