//! `copy_workspace`: a workspace with every table populated copies
//! SQLite→SQLite and back with identical rows; a non-empty target is refused
//! without `overwrite`; failed copies leave the target unchanged; every
//! table of the schema is copied. With `DEALFLOW_TEST_POSTGRES` set (an
//! admin URL), also SQLite→PostgreSQL→SQLite.

use dealflow_core::custom_field::{Entity, FieldKind, NewCustomField};
use dealflow_core::model::{
    ActivityKind, Channel, DealPatch, DealStatus, NewActivity, NewCampaign, NewDeal, NewMember, NewNote,
    NewOrganization, NewOutreachMessage, NewPerson, Role, Sentiment,
};
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, CopyReport, Engine, NewSession, PoolSettings, Store, StoreError, copy_workspace};
use sqlx::{Column, Row};
use std::collections::BTreeMap;

mod tempdir {
    /// A throwaway folder under the temp dir, removed on drop.
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("dealflow-copy-{}", dealflow_core::ids::next_id()));
            std::fs::create_dir_all(&p).expect("create temp dir");
            Self(p)
        }
        pub fn url(&self, name: &str) -> String {
            format!("sqlite:{}/{name}.db", self.0.display())
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn open(url: &str) -> Store {
    Store::open(url, &PoolSettings::default()).await.expect("open store")
}

/// Puts at least one row in every table, through the store's own methods.
async fn populate(store: &Store) {
    let now = Timestamp::now();
    let system = Actor::system();
    let admin = store.create_user(&system, "ann@example.com", "Ann", Role::Admin, "hash-a", Some("de".into()));
    let admin = admin.await.unwrap();
    store.create_user(&system, "bo@example.com", "Bo", Role::Rep, "hash-b", None).await.unwrap();
    let actor = Actor::user(admin.id);
    let session = NewSession {
        token_hash: "session-hash".into(),
        csrf_token: "csrf".into(),
        expires_at: Timestamp(now.0 + 3_600_000),
    };
    store.create_session(admin.id, session, now, None).await.unwrap();
    store.create_token(&actor, admin.id, "cli", "token-hash").await.unwrap();
    let field = NewCustomField {
        entity: Entity::Organization,
        key: "seats".into(),
        label: "Seats".into(),
        kind: FieldKind::Number,
        options: vec![],
        required: false,
        position: None,
    };
    store.create_custom_field(&actor, field).await.unwrap();
    let custom = serde_json::json!({ "seats": 40 }).as_object().cloned();
    let org =
        NewOrganization { name: "Acme «Ü»".into(), domain: Some("acme.test".into()), custom, ..Default::default() };
    let org = store.create_organization(&actor, org).await.unwrap();
    let person = NewPerson {
        name: "Pat O'Neil".into(),
        emails: vec!["pat@acme.test".into()],
        organization_id: Some(org.id),
        ..Default::default()
    };
    let person = store.create_person(&actor, person).await.unwrap();
    let stages = store.pipelines().await.unwrap()[0].stages.clone();
    let spec: dealflow_core::playbook::StepSpec =
        serde_json::from_value(serde_json::json!({"title": "Call «Pat»", "kind": "task"})).unwrap();
    let step = store.create_step(&actor, stages[0].id, spec).await.unwrap();
    let new = NewDeal {
        title: "Acme renewal".into(),
        value: 12_000,
        person_id: Some(person.id),
        organization_id: Some(org.id),
        ..Default::default()
    };
    let deal = store.create_deal(&actor, new).await.unwrap();
    store.tick_step(&actor, deal.id, step.id, true).await.unwrap();
    let patch =
        DealPatch { version: deal.version, stage_id: Some(stages[2].id), value: Some(15_000), ..Default::default() };
    let deal = store.update_deal(&actor, deal.id, patch).await.unwrap();
    let patch = DealPatch {
        version: deal.version,
        status: Some(DealStatus::Lost),
        lost_reason: Some("Timing".into()),
        ..Default::default()
    };
    store.update_deal(&actor, deal.id, patch).await.unwrap();
    let activity = NewActivity {
        kind: Some(ActivityKind::Call),
        subject: "Call Pat".into(),
        due_at: Some(now),
        deal_id: Some(deal.id),
        ..Default::default()
    };
    store.create_activity(&actor, activity).await.unwrap();
    let note = NewNote { body: "Line one\nline two; \"quoted\"".into(), deal_id: Some(deal.id), ..Default::default() };
    store.create_note(&actor, note).await.unwrap();
    let campaign = NewCampaign { name: "Spring".into(), channel: Some(Channel::Email), ..Default::default() };
    let campaign = store.create_campaign(&actor, campaign).await.unwrap();
    store.add_campaign_member(&actor, campaign.id, NewMember { person_id: person.id }).await.unwrap();
    let message = NewOutreachMessage {
        person_id: person.id,
        campaign_id: Some(campaign.id),
        sent_at: Some(Timestamp(now.0 - 7_200_000)),
        replied_at: Some(Timestamp(now.0 - 3_600_000)),
        sentiment: Some(Sentiment::Positive),
        ..Default::default()
    };
    store.create_outreach(&actor, message).await.unwrap();
    // What `dealflow import` remembers (crates/store/src/import/keys.rs).
    sqlx::query(
        "INSERT INTO import_keys (id, entity, source, external_id, record_id, created_at, updated_at)
         VALUES (1, 'deals', 'crm', 'X-1', $1, $2, $2)",
    )
    .bind(deal.id.0)
    .bind(now.0)
    .execute(store.pool())
    .await
    .unwrap();
    let goal = dealflow_store::NewGoal {
        metric: "won_value".into(),
        target: 5_000_000,
        from: "2026-10-01".into(),
        to: "2027-01-01".into(),
        owner_id: Some(admin.id),
        pipeline_id: None,
    };
    store.create_goal(&actor, goal).await.unwrap();
    // A job of the deal that ran once and failed, so its optional columns hold values.
    let job = dealflow_store::NewJob::new("mail.send", serde_json::json!({ "to": "pat@example.com" }), now)
        .dedupe("mail:1")
        .deal(deal.id);
    store.enqueue(&job).await.unwrap();
    let claimed = store.claim_jobs("copy-test", now, 60_000, 1).await.unwrap();
    assert!(store.fail_job(&claimed[0], "the mail server said no", now).await.unwrap());
    // A webhook subscription, a message it was sent and the logged attempt.
    let hook = dealflow_store::NewWebhook {
        url: "https://hooks.example.com/in".into(),
        events: vec!["deal.created".into()],
        active: None,
        description: Some("CRM «mirror»".into()),
    };
    store.create_webhook(&actor, hook).await.unwrap();
    let later = NewDeal { title: "Heard of".into(), ..Default::default() };
    store.create_deal(&actor, later).await.unwrap();
    let kind = |k: &str| dealflow_store::JobFilter { kind: Some(k.into()), ..Default::default() };
    let page = dealflow_store::Page::default();
    let fanout = store.jobs(&kind(dealflow_store::FANOUT_JOB), page).await.unwrap().items;
    assert_eq!(store.webhook_fanout(&fanout[0]).await.unwrap(), 1);
    let deliver = store.jobs(&kind(dealflow_store::DELIVER_JOB), page).await.unwrap().items;
    let delivery = store.webhook_delivery(&deliver[0], now).await.unwrap().unwrap();
    store.record_webhook_attempt(&delivery, Some(204), 12, Some(""), now).await.unwrap();
    // An intake form and one sign-up through it.
    let pipeline = store.pipelines().await.unwrap()[0].id;
    let form = dealflow_store::NewForm {
        name: "Trial".into(),
        pipeline_id: pipeline,
        stage_id: None,
        fields: None,
        owner_mode: None,
        owner_id: None,
        source: Some("self-serve".into()),
        success_message: None,
        redirect_url: None,
        active: None,
    };
    let form = store.create_form(&actor, form).await.unwrap().form;
    let fields = BTreeMap::from([("email".to_string(), "sam@signup.test".to_string())]);
    store.submit_form(&system, &form, &fields, None).await.unwrap();
    // An e-mail connection, an event it brought in (matched to the person
    // the form made), a used token and a reply.
    let conn = dealflow_store::NewConnection {
        provider: dealflow_store::Provider::Generic,
        name: Some("Tool «x»".into()),
        public_key: None,
        signing_key: None,
        username: None,
        password: None,
        secret: None,
        campaign_id: None,
    };
    let conn = store.create_connection(&actor, conn).await.unwrap().connection.id;
    let sent = dealflow_store::IncomingEvent {
        index: 0,
        event_id: Some("ev-1".into()),
        kind: dealflow_store::EmailEventType::Sent,
        at: now,
        email: Some("sam@signup.test".into()),
        person_hint: None,
        message_id: Some("<m-1@tool.test>".into()),
        campaign: Some("Spring".into()),
        url: None,
        machine_open: false,
        raw: serde_json::json!({"id": "ev-1"}),
    };
    let report = store.ingest_events(conn, now, vec![sent], Default::default()).await.unwrap();
    assert_eq!(report.stored, 1);
    assert!(store.use_ingest_token(conn, "token-1", now).await.unwrap());
    let reply = dealflow_store::InboundMail {
        from: "sam@signup.test".into(),
        subject: "Re: hi".into(),
        text: "Sounds good".into(),
        message_id: Some("<r-1@mail.test>".into()),
        references: vec!["<m-1@tool.test>".into()],
        received_at: now,
    };
    assert!(store.receive_reply(conn, reply).await.unwrap().is_some_and(|r| r.outreach_id.is_some()));
    // A published scoring model, the deals' ledgers and scores, an answer,
    // and the firing of a level every deal is below.
    let body: dealflow_core::scoring::ModelBody = serde_json::from_value(serde_json::json!({
        "rules": [{"group": "fit", "field": "source", "op": "eq", "value": "self-serve", "points": 20},
                  {"id": "budget", "group": "question", "question": "Budget «ok»?", "answers": {"yes": 30, "no": -40}}],
        "thresholds": {"disqualify_below": 100}
    }))
    .unwrap();
    let model = dealflow_store::NewScoringModel {
        name: "Fit".into(),
        pipeline_id: Some(pipeline),
        rules: body.rules,
        thresholds: body.thresholds,
        bands: body.bands,
    };
    let model = store.create_scoring_model(&actor, model).await.unwrap();
    let published = store.publish_scoring_model(&actor, model.id).await.unwrap();
    let version = published.published_version.unwrap();
    while store.rescore_batch(model.id.0, version, false, 0).await.unwrap().is_some() {}
    let signed_up = store.list_deals(&Default::default(), page).await.unwrap().items;
    let deal = signed_up.iter().find(|d| d.source.as_deref() == Some("self-serve")).unwrap();
    let answer = dealflow_store::scoring::NewAnswer { answer: "yes".into() };
    store.answer_question(&actor, deal.id, "budget", answer).await.unwrap();
    // An audit of the pipeline with a kept deal and its next action.
    let audit = store.create_audit(&actor, pipeline, None).await.unwrap();
    let first = audit.items.unwrap()[0].facts.deal_id;
    let keep: dealflow_core::pipeline_audit::Decision = serde_json::from_value(serde_json::json!(
        {"kind": "keep", "note": "fine", "next_action": {"subject": "Call back"}}
    ))
    .unwrap();
    store.decide_audit_item(&actor, audit.id, first, keep).await.unwrap();
}

/// The tables of the store's schema, from the engine's own catalog.
async fn catalog(store: &Store) -> Vec<String> {
    let sql = match store.engine() {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    sqlx::query_scalar(sql).fetch_all(store.pool()).await.unwrap()
}

/// Every row of every table (but `schema_migrations`) as text, sorted,
/// independent of the copy's own checksum code. The metric projections
/// (rebuilt in the target, not copied) are compared too.
async fn dump(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for table in catalog(store).await.into_iter().filter(|t| t != "schema_migrations") {
        let sql = format!("SELECT * FROM {table}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(store.pool()).await.unwrap();
        let rows = rows
            .iter()
            .map(|r| {
                let mut cols: Vec<String> = (0..r.len())
                    .map(|i| {
                        let v = if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                            format!("{v:?}")
                        } else {
                            format!("{:?}", r.try_get::<Option<String>, _>(i).unwrap())
                        };
                        format!("{}={v}", r.columns()[i].name())
                    })
                    .collect();
                cols.sort();
                cols.join(" ")
            })
            .collect::<Vec<_>>();
        let mut rows = rows;
        rows.sort();
        out.insert(table, rows);
    }
    out
}

fn assert_ok(report: &CopyReport) {
    assert!(report.ok, "{report:?}");
    for t in &report.tables {
        assert!(t.matches && t.rows > 0 && t.checksum.len() == 64, "{t:?}");
    }
}

#[tokio::test]
async fn sqlite_round_trip_copies_every_row_both_ways() {
    let dir = tempdir::Dir::new();
    let a = open(&dir.url("a")).await;
    populate(&a).await;
    let b = open(&dir.url("b")).await;
    let report = copy_workspace(&a, &b, false).await.unwrap();
    assert_ok(&report);
    let source = dump(&a).await;
    assert!(source.values().all(|rows| !rows.is_empty()), "every table is populated: {source:?}");
    assert_eq!(dump(&b).await, source, "the target holds exactly the source's rows, defaults replaced");

    // The copy is a working workspace, and copying it back is exact too.
    let system = Actor::system();
    b.create_deal(&system, NewDeal { title: "Only in B".into(), ..Default::default() }).await.unwrap();
    let back = copy_workspace(&b, &a, true).await.unwrap();
    assert_ok(&back);
    assert_eq!(dump(&a).await, dump(&b).await);
    // The new deal entered a stage with a task step: its task and the
    // step's state row come with it, the deal's creation is audited, and
    // the copied webhook subscription gets its event (one fan-out job).
    // The copied scoring model scores it: its score row, and the firing of
    // the level it is below, with that event's fan-out job.
    assert_eq!(
        back.rows(),
        report.rows() + 9,
        "one more deal, its creation event, its audit entry, its task and step state, its webhook job, \
         its score, its firing and that webhook job"
    );
}

#[tokio::test]
async fn every_schema_table_is_copied() {
    let dir = tempdir::Dir::new();
    let a = open(&dir.url("a")).await;
    let b = open(&dir.url("b")).await;
    let report = copy_workspace(&a, &b, false).await.unwrap();
    let mut copied: Vec<String> = report.tables.iter().map(|t| t.table.clone()).collect();
    copied.push("schema_migrations".into());
    copied.extend(dealflow_store::DERIVED_TABLES.iter().map(|t| t.to_string()));
    copied.sort();
    assert_eq!(copied, catalog(&a).await, "a table added to the schema must be added to the copy's list");

    // A table the copy does not know is refused rather than silently dropped.
    sqlx::query("CREATE TABLE extra_things (id BIGINT PRIMARY KEY)").execute(a.pool()).await.unwrap();
    let err = copy_workspace(&a, &b, true).await.unwrap_err();
    assert!(err.to_string().contains("extra_things"), "{err}");
}

#[tokio::test]
async fn a_non_empty_target_is_refused_without_overwrite() {
    let dir = tempdir::Dir::new();
    let a = open(&dir.url("a")).await;
    populate(&a).await;
    let b = open(&dir.url("b")).await;
    b.create_user(&Actor::system(), "zed@example.com", "Zed", Role::Admin, "h", None).await.unwrap();
    let before = dump(&b).await;
    let err = copy_workspace(&a, &b, false).await.unwrap_err();
    assert!(matches!(err, StoreError::InUse(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("not empty (1 user)") && msg.contains("--overwrite"), "{msg}");
    assert_eq!(dump(&b).await, before, "a refused copy changes nothing");

    assert_ok(&copy_workspace(&a, &b, true).await.unwrap());
    assert_eq!(dump(&b).await, dump(&a).await, "overwrite replaces the target's users");
}

#[tokio::test]
async fn failed_copies_leave_the_target_unchanged() {
    let dir = tempdir::Dir::new();
    let a = open(&dir.url("a")).await;
    populate(&a).await;
    let target = open(&dir.url("target")).await;
    assert_ok(&copy_workspace(&a, &target, false).await.unwrap());
    let before = dump(&target).await;

    // A source from a newer dealflow (one more migration) is refused.
    let newer = open(&dir.url("newer")).await;
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)")
        .execute(newer.pool())
        .await
        .unwrap();
    let err = copy_workspace(&newer, &target, true).await.unwrap_err();
    assert!(err.to_string().contains("version 999"), "{err}");
    assert_eq!(dump(&target).await, before);

    // A failure half-way through the write (after the deletes and most
    // inserts): an outreach message whose person is missing breaks the last
    // table's foreign key, and the whole copy rolls back.
    let broken = open(&dir.url("broken")).await;
    populate(&broken).await;
    let mut conn = broken.pool().acquire().await.unwrap();
    sqlx::raw_sql("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.unwrap();
    sqlx::query(
        "INSERT INTO outreach_messages (id, person_id, channel, sent_at, created_at, updated_at, version)
         VALUES (1, 424242, 'email', 0, 0, 0, 1)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql("PRAGMA foreign_keys = ON").execute(&mut *conn).await.unwrap();
    drop(conn);
    let err = copy_workspace(&broken, &target, true).await.unwrap_err().to_string();
    assert!(err.contains("outreach_messages") && err.contains("FOREIGN KEY"), "{err}");
    assert_eq!(dump(&target).await, before, "the failed copy was rolled back");
}

/// Replaces the database of a PostgreSQL URL, keeping any query string.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let host_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_end..].find('/') {
        Some(slash) => &base[..host_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[tokio::test]
async fn sqlite_to_postgres_and_back() {
    let Ok(admin) = std::env::var("DEALFLOW_TEST_POSTGRES") else {
        assert!(std::env::var("CI").is_err(), "CI must run this test: scripts/test sets DEALFLOW_TEST_POSTGRES");
        eprintln!("DEALFLOW_TEST_POSTGRES is not set (scripts/test sets it); not run");
        return;
    };
    sqlx::any::install_default_drivers();
    let name = format!("copy_{}", dealflow_core::ids::next_id());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();

    let dir = tempdir::Dir::new();
    let a = open(&dir.url("a")).await;
    populate(&a).await;
    let pg = open(&with_database(&admin, &name)).await;
    assert_eq!(pg.engine(), Engine::Postgres);
    let there = copy_workspace(&a, &pg, false).await.unwrap();
    assert_ok(&there);
    let source = dump(&a).await;
    assert_eq!(dump(&pg).await, source);
    // The store reads the copied rows the same on either engine.
    let deals = a.list_deals(&Default::default(), Default::default()).await.unwrap().items;
    for d in deals {
        assert_eq!(format!("{:?}", pg.deal(d.id).await.unwrap()), format!("{d:?}"));
        let events = (a.deal_events(d.id).await.unwrap(), pg.deal_events(d.id).await.unwrap());
        assert_eq!(format!("{:?}", events.0), format!("{:?}", events.1));
    }

    let c = open(&dir.url("c")).await;
    let back = copy_workspace(&pg, &c, false).await.unwrap();
    assert_ok(&back);
    assert_eq!(dump(&c).await, source, "SQLite → PostgreSQL → SQLite is exact");
    let sums = |r: &CopyReport| r.tables.iter().map(|t| (t.table.clone(), t.checksum.clone())).collect::<Vec<_>>();
    assert_eq!(sums(&there), sums(&back), "checksums agree across engines");

    pg.close().await;
    let drop_db = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop_db)).execute(&mut conn).await;
}

#[test]
fn postgres_urls_get_the_new_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5433/postgres", "x"),
        "postgres://postgres@127.0.0.1:5433/x"
    );
    assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
