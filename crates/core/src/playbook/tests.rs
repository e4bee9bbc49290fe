//! Step validation, due times and templates.

use super::*;
use crate::deal_change::gate_tests::spec;
use crate::model::Settings;
use crate::time::{TimeZone, Timestamp};

fn refs() -> Refs<'static> {
    Refs { campaign_exists: false, ..Default::default() }
}

fn fields_of(e: Invalid) -> Vec<String> {
    e.0.into_iter().map(|f| f.field).collect()
}

#[test]
fn an_unknown_field_is_named() {
    let mut s = spec("x", StepKind::Field);
    s.field = Some("budget".into());
    let e = check_spec(&s, &refs()).expect_err("unknown");
    assert_eq!(fields_of(e.clone()), ["field"]);
    assert!(e.0[0].message.contains("`budget`"), "{e}");
    s.field = Some("custom.budget".into());
    assert!(check_spec(&s, &refs()).is_err(), "an undefined custom field");
    s.field = Some("person.job_title".into());
    assert!(check_spec(&s, &refs()).is_ok());
}

#[test]
fn an_unknown_placeholder_is_refused() {
    let mut s = spec("Reminder", StepKind::Email);
    s.template = Some(Template { subject: "See you {{meeting.date}}".into(), body: "Hi {{person.nmae}}".into() });
    let e = check_spec(&s, &refs()).expect_err("unknown placeholder");
    assert_eq!(fields_of(e.clone()), ["template.body"]);
    assert!(e.0[0].message.contains("person.nmae"));
    s.template = Some(Template { subject: "See you {{ meeting.date }}".into(), body: "Hi {{person.name}}".into() });
    let ok = check_spec(&s, &refs()).expect("known placeholders");
    assert_eq!(ok.send, Some(SendMode::Draft), "draft by default");
}

#[test]
fn due_rules_are_bounded_and_fit_the_kind() {
    let mut s = spec("Call", StepKind::Task);
    s.due = Some(Due {
        anchor: DueAnchor::Meeting,
        offset_minutes: Some(MAX_OFFSET_MINUTES + 1),
        offset_working_days: None,
    });
    assert_eq!(fields_of(check_spec(&s, &refs()).expect_err("too far")), ["due.offset_minutes"]);
    s.due = Some(Due { anchor: DueAnchor::Meeting, offset_minutes: Some(-120), offset_working_days: None });
    assert!(check_spec(&s, &refs()).is_ok());
    let mut f = spec("Close date", StepKind::Field);
    f.field = Some("expected_close_date".into());
    f.due = s.due.clone();
    assert_eq!(fields_of(check_spec(&f, &refs()).expect_err("contradicts")), ["due"]);
}

#[test]
fn a_campaign_must_exist_and_kinds_keep_their_own_properties() {
    let mut c = spec("Nurture", StepKind::Campaign);
    c.campaign_id = Some(crate::CampaignId(9));
    assert_eq!(fields_of(check_spec(&c, &refs()).expect_err("missing")), ["campaign_id"]);
    assert!(check_spec(&c, &Refs { campaign_exists: true, ..refs() }).is_ok());
    let mut t = spec("Call", StepKind::Task);
    t.send = Some(SendMode::Auto);
    assert_eq!(fields_of(check_spec(&t, &refs()).expect_err("not an e-mail")), ["send"]);
}

fn berlin() -> Settings {
    Settings {
        name: "T".into(),
        time_zone: TimeZone::parse("Europe/Berlin").expect("a zone"),
        base_currency: crate::currency::Currency::parse("EUR").expect("a code"),
        exchange_rates: Default::default(),
        working_days: vec![1, 2, 3, 4, 5],
        require_lost_reason: false,
        holidays: Vec::new(),
        mail: Default::default(),
        override_roles: crate::model::DEFAULT_OVERRIDE_ROLES.to_vec(),
        webhooks_allow_private: false,
        updated_at: Timestamp(0),
        version: 1,
    }
}

#[test]
fn working_days_keep_the_local_time_across_a_dst_change() {
    // Monday 2026-03-30 10:00 in Berlin (summer time, UTC+2).
    let meeting = Timestamp::parse("2026-03-30T08:00:00Z").expect("a time");
    let d = Due { anchor: DueAnchor::Meeting, offset_minutes: None, offset_working_days: Some(-1) };
    // The working day before is Friday 2026-03-27, 10:00 winter time (UTC+1).
    assert_eq!(
        due::due_at(&d, meeting, &berlin()).to_rfc3339(),
        Timestamp::parse("2026-03-27T09:00:00Z").expect("t").to_rfc3339()
    );
    let m = Due { anchor: DueAnchor::Meeting, offset_minutes: Some(-120), offset_working_days: None };
    assert_eq!(due::due_at(&m, meeting, &berlin()), Timestamp(meeting.0 - 7_200_000));
}

#[test]
fn templates_fill_names_meeting_and_fields() {
    let mut deal = crate::deal_change::decide_create(
        &crate::model::NewDeal { title: "Acme".into(), value: 12_345, ..Default::default() },
        crate::DealId(1),
        &crate::deal_change::Context {
            actor: None,
            now: Timestamp(1_000),
            settings: &berlin(),
            lost_reasons: &[],
            custom_fields: &[],
            pipeline: Some(crate::deal_change::PipelineView {
                id: crate::PipelineId(1),
                archived: false,
                stages: &[crate::stage_move::tests::stage(10, 1, 0)],
                no_skipping_stages: false,
            }),
            history: &[],
            owner: None,
            person: None,
            organization: None,
            playbook: None,
            score: None,
        },
    )
    .expect("a deal")
    .deal;
    deal.custom.insert("plan".into(), "Gold".into());
    let s = berlin();
    let v = template::Values {
        deal: &deal,
        person_name: Some("Ada Lovelace"),
        owner_name: Some("Bob"),
        organization_name: None,
        meeting: Some(Timestamp::parse("2026-03-30T08:00:00Z").expect("t")),
        settings: &s,
    };
    let out = template::render(
        "Hi {{person.first_name}}, {{meeting.date}} {{meeting.time}} – {{deal.title}} {{deal.value}} {{custom.plan}}{{organization.name}} / {{owner.name}}",
        &v,
    );
    assert_eq!(out, "Hi Ada, 2026-03-30 10:00 – Acme 123.45 Gold / Bob");
}

#[test]
fn a_sample_shows_what_each_placeholder_stands_for() {
    use crate::custom_field::{CustomField, Entity, FieldKind};
    let plan = CustomField {
        id: crate::CustomFieldId(1),
        entity: Entity::Deal,
        key: "plan".into(),
        label: "Plan".into(),
        kind: FieldKind::Text,
        options: vec![],
        required: false,
        position: 0,
        archived: false,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
        version: 1,
    };
    let out = template::sample(
        "Hi {{ person.first_name }}, {{meeting.time}} on {{meeting.date}}: {{custom.plan}} {{x",
        &[plan],
    );
    assert_eq!(out, "Hi Ada, 10:00 on 2026-03-05: [Plan] {{x");
}

#[test]
fn working_days_skip_holidays_across_a_dst_change() {
    let date = |s: &str| crate::time::Date::parse(s).expect("a date");
    let mut s = berlin();
    s.holidays = vec![date("2026-03-27")];
    // Monday 2026-03-30 10:00 summer time; Friday the 27th is a holiday, so
    // one working day before is Thursday the 26th, 10:00 winter time.
    let meeting = Timestamp::parse("2026-03-30T08:00:00Z").expect("a time");
    let d = Due { anchor: DueAnchor::Meeting, offset_minutes: None, offset_working_days: Some(-1) };
    assert_eq!(due::due_at(&d, meeting, &s), Timestamp::parse("2026-03-26T09:00:00Z").expect("t"));
    // Forward over Easter: Thursday 2 April + 2 working days, with Good
    // Friday and Easter Monday off, is Wednesday 8 April at the same time.
    s.holidays = vec![date("2026-04-03"), date("2026-04-06")];
    let entered = Timestamp::parse("2026-04-02T12:30:00Z").expect("a time");
    let d = Due { anchor: DueAnchor::StageEntered, offset_minutes: None, offset_working_days: Some(2) };
    assert_eq!(due::due_at(&d, entered, &s), Timestamp::parse("2026-04-08T12:30:00Z").expect("t"));
    // Minute offsets are wall-clock time: holidays do not move them.
    let m = Due { anchor: DueAnchor::StageEntered, offset_minutes: Some(24 * 60), offset_working_days: None };
    assert_eq!(due::due_at(&m, entered, &s), Timestamp::parse("2026-04-03T12:30:00Z").expect("t"));
}
