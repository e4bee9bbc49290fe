//! The role matrix, walked (issue 14): every operation of the served OpenAPI
//! document, called by an admin, a manager and a rep, answers as the role
//! table says. Denied: 403 naming the role, and nothing changed. Allowed:
//! anything but 403. Own records only: 403 on someone else's record (and
//! nothing changed), not 403 on one's own.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use dealflow_core::model::Role;
use dealflow_server::auth::roles::{self, Access};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// A signed-in user of the walk and the records that are theirs.
struct Member {
    role: Role,
    id: String,
    token: String,
    /// A second token, to be revoked (so `token` keeps working).
    spare_token: String,
    note: String,
    goal: String,
    /// A deal they own (in the fixture's audit).
    deal: String,
}

/// The records every path id is taken from, and the users.
struct Fixture {
    ids: HashMap<&'static str, String>,
    members: Vec<Member>,
    /// Owns the "someone else's" records: a rep who is not walked.
    other: Member,
    team_goal: String,
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("an id in {v}")).to_string()
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, v) = app.call_as(Some(token), Method::POST, path, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "POST {path}: {v}");
    v
}

fn goal_body(owner: Value) -> Value {
    json!({"metric": "deals_won", "target": 5, "from": "2025-03-01", "to": "2025-04-01", "owner_id": owner})
}

/// A user of `role` (the test's admin when `role` is admin) with a note on
/// `deal`, a goal of their own and a spare token.
async fn member(app: &TestApp, role: Role, email: &str, deal: &str) -> Member {
    let admin = app.token.clone();
    let (user, token) = if role == Role::Admin {
        let (_, me) = app.get("/api/v1/auth/me").await;
        (id(&me["user"]), admin.clone())
    } else {
        let body = json!({"email": email, "name": email, "role": role.as_str(), "password": "a password 123"});
        let u = id(&created(app, &admin, "/api/v1/users", body).await);
        let t = created(app, &admin, "/api/v1/tokens", json!({"name": "walk", "user_id": u})).await;
        (u, t["secret"].as_str().expect("a secret").to_string())
    };
    let spare = created(app, &admin, "/api/v1/tokens", json!({"name": "spare", "user_id": user})).await;
    let note = created(app, &token, "/api/v1/notes", json!({"body": "mine", "deal_id": deal})).await;
    let goal = created(app, &admin, "/api/v1/goals", goal_body(json!(user))).await;
    let mine = created(app, &admin, "/api/v1/deals", json!({"title": "Mine", "owner_id": user})).await;
    Member {
        role,
        spare_token: id(&spare["token"]),
        note: id(&note),
        goal: id(&goal),
        deal: id(&mine),
        id: user,
        token,
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let t = app.token.clone();
    let pipeline = id(&app.default_pipeline().await);
    let deal = id(&app.create_deal(json!({"title": "Acme"})).await);
    let person = id(&created(app, &t, "/api/v1/people", json!({"name": "Pat"})).await);
    let org = id(&created(app, &t, "/api/v1/organizations", json!({"name": "Acme"})).await);
    let activity = created(app, &t, "/api/v1/activities", json!({"subject": "Call", "deal_id": deal})).await;
    let campaign = created(app, &t, "/api/v1/campaigns", json!({"name": "Spring"})).await;
    let outreach = created(app, &t, "/api/v1/outreach", json!({"person_id": person})).await;
    let stage = created(app, &t, &format!("/api/v1/pipelines/{pipeline}/stages"), json!({"name": "Extra"})).await;
    let reason = created(app, &t, "/api/v1/lost-reasons", json!({"label": "Too dear"})).await;
    let field_body = json!({"entity": "deal", "key": "product", "label": "Product", "kind": "text"});
    let field = created(app, &t, "/api/v1/custom-fields", field_body).await;
    let step_body = json!({"title": "Call", "kind": "task"});
    let step = created(app, &t, &format!("/api/v1/stages/{}/steps", id(&stage)), step_body).await;
    let team_goal = id(&created(app, &t, "/api/v1/goals", goal_body(Value::Null)).await);
    let mut members = Vec::new();
    for (role, email) in [(Role::Rep, "rep@example.com"), (Role::Manager, "boss@example.com"), (Role::Admin, "")] {
        members.push(member(app, role, email, &deal).await);
    }
    let other = member(app, Role::Rep, "other@example.com", &deal).await;
    let audit = created(app, &t, "/api/v1/audits", json!({"pipeline_id": pipeline})).await;
    let ids = HashMap::from([
        ("pipelines", pipeline),
        ("stages", id(&stage)),
        ("deals", deal),
        ("people", person),
        ("organizations", org),
        ("activities", id(&activity)),
        ("campaigns", id(&campaign)),
        ("outreach", id(&outreach)),
        ("lost-reasons", id(&reason)),
        ("custom-fields", id(&field)),
        ("steps", id(&step)),
        ("audits", id(&audit)),
        ("notes", other.note.clone()),
        ("goals", team_goal.clone()),
        ("users", other.id.clone()),
        ("tokens", other.spare_token.clone()),
    ]);
    Fixture { ids, members, other, team_goal }
}

/// `path` with its `{id}` replaced by the fixture's record of that resource.
fn url(f: &Fixture, path: &str) -> String {
    let resource = path.trim_start_matches("/api/v1/").split('/').next().unwrap_or_default();
    match f.ids.get(resource) {
        Some(id) => path.replace("{id}", id),
        None => path.to_string(),
    }
}

/// Everything an admin can read, to prove a refused request changed nothing
/// (token use times aside: every request updates them).
async fn fingerprint(app: &TestApp) -> Value {
    let mut all = serde_json::Map::new();
    for list in [
        "deals",
        "people",
        "organizations",
        "activities",
        "notes",
        "goals",
        "campaigns",
        "outreach",
        "users",
        "tokens",
        "settings",
        "pipelines",
        "lost-reasons",
        "custom-fields",
    ] {
        let (s, mut v) = app.get(&format!("/api/v1/{list}")).await;
        assert_eq!(s, StatusCode::OK, "GET /api/v1/{list}: {v}");
        if list == "tokens" {
            for t in v["items"].as_array_mut().expect("a page of tokens") {
                t["last_used_at"] = Value::Null;
            }
        }
        all.insert(list.to_string(), v);
    }
    Value::Object(all)
}

/// A request of the walk: method, URL and body.
type Call = (Method, String, Option<Value>);

/// For an "own records only" rule: a request on the member's own record,
/// and requests on others' records.
fn own_calls(f: &Fixture, m: &Member, method: &Method, path: &str) -> (Call, Vec<Call>) {
    let on = |id: &str| path.replace("{id}", id);
    let same = |id: &str, body: &Option<Value>| (method.clone(), on(id), body.clone());
    // Changes that would succeed: refusing them must be the role rule's doing.
    let patch = |change: Value| (*method == Method::PATCH).then_some(change);
    match (method.as_str(), path) {
        (_, "/api/v1/notes/{id}") => {
            let body = patch(json!({"version": 0, "body": "changed"}));
            (same(&m.note, &body), vec![same(&f.other.note, &body)])
        }
        (_, "/api/v1/goals/{id}") => {
            let body = patch(json!({"version": 0, "target": 9}));
            (same(&m.goal, &body), vec![same(&f.other.goal, &body), same(&f.team_goal, &body)])
        }
        ("POST", "/api/v1/goals") => {
            let with = |owner: Value| (Method::POST, path.to_string(), Some(goal_body(owner)));
            (with(json!(m.id)), vec![with(json!(f.other.id)), with(Value::Null)])
        }
        ("PATCH", "/api/v1/users/{id}") => {
            let body = patch(json!({"version": 0, "name": "Changed"}));
            (same(&m.id, &body), vec![same(&f.other.id, &body)])
        }
        ("GET", "/api/v1/tokens") => ((Method::GET, path.to_string(), None), vec![]),
        ("POST", "/api/v1/tokens") => {
            let with = |user: &str| (Method::POST, path.to_string(), Some(json!({"name": "x", "user_id": user})));
            (with(&m.id), vec![with(&f.other.id)])
        }
        ("POST", "/api/v1/tokens/{id}/revoke") => {
            (same(&m.spare_token, &None), vec![same(&f.other.spare_token, &None)])
        }
        ("POST", "/api/v1/audits/{id}/items/{deal_id}/decision") => {
            let on = |deal: &str| path.replace("{id}", &f.ids["audits"]).replace("{deal_id}", deal);
            let keep = Some(json!({"kind": "keep"}));
            ((Method::POST, on(&m.deal), keep.clone()), vec![(Method::POST, on(&f.other.deal), keep)])
        }
        _ => panic!("{method} {path} is limited to own records, but this test has no own/other records for it"),
    }
}

/// `call` with the record's current version in its body (when it has a
/// `version`), read as the admin.
async fn current(app: &TestApp, (method, url, mut body): Call) -> Call {
    if let Some(b) = body.as_mut().filter(|b| b.get("version").is_some()) {
        let (s, record) = app.get(&url).await;
        assert_eq!(s, StatusCode::OK, "GET {url}: {record}");
        b["version"] = record["version"].clone();
    }
    (method, url, body)
}

/// Sends `call` as `m` and requires a 403 problem that leaves everything as it was.
async fn refused(app: &TestApp, m: &Member, call: Call, role_named: bool) {
    let (method, url, body) = current(app, call).await;
    let before = fingerprint(app).await;
    let (s, p) = app.call_as(Some(&m.token), method.clone(), &url, body).await;
    assert_problem(s, &p, StatusCode::FORBIDDEN, None);
    if role_named {
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(&format!("a {} may not", m.role.as_str())), "{method} {url}: {detail}");
    }
    assert_eq!(fingerprint(app).await, before, "{method} {url} refused to a {:?} changed something", m.role);
}

async fn allowed(app: &TestApp, m: &Member, call: Call) -> Value {
    let (method, url, body) = current(app, call).await;
    let (s, v) = app.call_as(Some(&m.token), method.clone(), &url, body).await;
    assert_ne!(s, StatusCode::FORBIDDEN, "{method} {url} refused to a {:?}: {v}", m.role);
    v
}

/// The operations of the served document that need a sign-in, by
/// (method, path template), each with whether it documents a 403.
async fn operations(app: &TestApp) -> Vec<(Method, String, bool)> {
    let (s, doc) = app.call_as(None, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            if roles::is_public(m.as_str(), path) {
                continue;
            }
            out.push((m, path.clone(), op["responses"].get("403").is_some()));
        }
    }
    // A record is deleted only after everything else was tried on it.
    out.sort_by_key(|(m, p, _)| (p.clone(), *m == Method::DELETE));
    out
}

#[tokio::test]
async fn every_operation_answers_each_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let ops = operations(&app).await;
    let documented: BTreeSet<_> = ops.iter().map(|(m, p, _)| (m.to_string(), p.clone())).collect();
    let table: BTreeSet<_> = roles::TABLE.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(documented, table, "the document's operations and the role table's rows differ");
    let mut checked = 0;
    // Reps first, admins last: what an allowed call deletes is gone only for those after.
    for m in &f.members {
        for (method, path, documents_403) in &ops {
            let rule = roles::rule(method.as_str(), path).expect("every operation has a row (checked above)");
            let call =
                (method.clone(), url(&f, path), matches!(*method, Method::POST | Method::PATCH).then(|| json!({})));
            match rule.access(m.role) {
                Access::No => {
                    assert!(documents_403, "{method} {path} refuses a role but documents no 403");
                    refused(&app, m, call, true).await;
                }
                Access::Yes => {
                    allowed(&app, m, call).await;
                }
                Access::Own => {
                    assert!(documents_403, "{method} {path} limits a role to its own but documents no 403");
                    let (own, others) = own_calls(&f, m, method, path);
                    for other in others {
                        refused(&app, m, other, false).await;
                    }
                    let v = allowed(&app, m, own).await;
                    if path == "/api/v1/tokens" && *method == Method::GET {
                        let tokens = v["items"].as_array().expect("a page of tokens");
                        assert!(tokens.iter().all(|t| t["user_id"] == json!(m.id)), "others' tokens listed: {v}");
                    }
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 3 * roles::TABLE.len());
    assert_eq!(checked, 3 * ops.len());
}

/// The deals list page as seen by a new user of `role`, signed in with a cookie.
async fn deals_page_as(app: &TestApp, role: &str) -> String {
    let email = format!("{role}@example.com");
    let body = json!({"email": email, "name": role, "role": role, "password": "a password 123"});
    created(app, &app.token, "/api/v1/users", body).await;
    let c = reqwest::Client::builder().cookie_store(true).build().expect("a client");
    let r =
        c.post(format!("{}/api/v1/auth/login", app.base)).json(&json!({"email": email, "password": "a password 123"}));
    let r = r.send().await.expect("sign in");
    assert!(r.status().is_success(), "sign-in as {role}: {}", r.status());
    let r = c.get(format!("{}/deals", app.base)).send().await.expect("the deals page");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("a body")
}

#[tokio::test]
async fn the_deals_page_offers_exports_only_to_roles_that_may_export() {
    let app = spawn_app().await;
    assert!(!deals_page_as(&app, "rep").await.contains("/api/v1/deals/export"), "a rep is offered an export");
    assert!(deals_page_as(&app, "manager").await.contains("/api/v1/deals/export"), "a manager is not offered it");
}
