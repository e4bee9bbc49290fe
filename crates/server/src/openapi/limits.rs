//! The limits the server enforces on request bodies, written into their
//! schemas, so a client (and schemathesis) can tell a valid request from
//! the schema alone. The checks themselves live in `core::validate`, the
//! store and the handlers; this table repeats their numbers next to the
//! document, and `crates/cli/tests/schemathesis.rs` proves the two agree
//! (a limit missing here is a schema-valid request refused; a limit wrong
//! here is a schema-invalid request accepted).
//!
//! Text is checked after trimming (Unicode White_Space, like Rust's
//! `str::trim`) and refuses control characters (Unicode Cc), except tab and
//! line breaks in multi-line text; the patterns below say exactly that.

use serde_json::{Value, json};
use utoipa::Number;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{OpenApi, RefOr};

/// Unicode White_Space, which `str::trim` removes at both ends.
const WS: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters refused in one-line text.
const CTRL: &str = r"\x00-\x1f\x7f-\x9f";
/// Control characters refused in multi-line text (tab, LF and CR allowed).
const CTRL_MULTI: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

/// What the server checks of one property.
#[derive(Clone, Copy)]
enum Rule {
    /// `required_text`: one line, not blank, at most this many characters.
    Line(u64),
    /// `optional_text`: like `Line`, but blank text is accepted (as none).
    OptLine(u64),
    /// `required_multiline`.
    Multi(u64),
    /// `optional_multiline`.
    OptMulti(u64),
    /// An integer within these bounds.
    Range(i64, i64),
    /// A number above the first bound (not equal) and at most the second.
    Above(i64, i64),
    /// A pattern and a length, for text with a shape of its own.
    Shape(&'static str, u64),
    /// Any text of this many characters (passwords: not trimmed).
    Len(u64, u64),
    /// An e-mail address (`core::validate::email`).
    Email,
    /// A web domain (`store::parties::domain`): optional, no inner white space.
    Domain,
    /// A date as text, `YYYY-MM-DD` in the years 1900–2999 (`core::time::Date`).
    DateText,
    /// An id as text (`core::ids`).
    IdText,
    /// A goal metric key (`GoalMetric::ALL`).
    GoalMetric,
    /// An IANA time zone name (`core::time::TimeZone`).
    TimeZone,
}

use Rule::*;

/// Largest amount of money, in minor units (`core::currency::MAX_AMOUNT`).
const MONEY: i64 = dealflow_core::currency::MAX_AMOUNT;

/// (schema, property — `name[]` for the items of an array, rule).
const TABLE: &[(&str, &str, Rule)] = &[
    ("NewUser", "name", Line(200)),
    ("NewUser", "locale", OptLine(20)),
    ("NewUser", "password", Len(10, 1024)),
    ("NewUser", "email", Email),
    ("TestEmail", "to", Email),
    ("SettingsPatch", "smtp_port", Range(1, 65_535)),
    ("SettingsPatch", "public_url", Shape("^https?://[!-~]+$", 2_000)),
    ("UserPatch", "name", Line(200)),
    ("UserPatch", "password", Len(10, 1024)),
    ("NewToken", "name", Line(100)),
    ("NewPipeline", "name", Line(100)),
    ("PipelinePatch", "name", Line(100)),
    ("PipelinePatch", "audit_weekday", Range(1, 7)),
    ("PipelinePatch", "audit_time", Shape("^([01][0-9]|2[0-3]):[0-5][0-9]$", 5)),
    ("PipelinePatch", "audit_no_contact_days", Range(1, 365)),
    ("Decision", "note", Line(2000)),
    ("Decision", "lost_reason", OptLine(200)),
    ("Decision", "override_reason", OptLine(500)),
    ("NextActionInput", "subject", Line(200)),
    ("NewStage", "name", Line(100)),
    ("NewStage", "probability", Range(0, 100)),
    ("NewStage", "rotting_days", Range(1, 3650)),
    ("StagePatch", "name", Line(100)),
    ("StagePatch", "probability", Range(0, 100)),
    ("StagePatch", "rotting_days", Range(1, 3650)),
    ("NewCampaign", "name", Line(200)),
    ("CampaignPatch", "name", Line(200)),
    ("NewLostReason", "label", Line(200)),
    ("LostReasonPatch", "label", Line(200)),
    ("NewCustomField", "label", Line(100)),
    ("NewCustomField", "key", Shape("^[a-z][a-z0-9_]*$", 40)),
    ("CustomFieldPatch", "label", Line(100)),
    ("NewCustomField", "options[]", Line(100)),
    ("NewWebhook", "url", Shape(dealflow_store::WEBHOOK_URL_PATTERN, dealflow_store::WEBHOOK_URL_MAX as u64)),
    ("WebhookPatch", "url", Shape(dealflow_store::WEBHOOK_URL_PATTERN, dealflow_store::WEBHOOK_URL_MAX as u64)),
    ("NewWebhook", "description", OptLine(500)),
    ("NewForm", "name", Line(200)),
    ("NewForm", "source", OptLine(100)),
    ("NewForm", "success_message", OptLine(500)),
    ("NewForm", "redirect_url", Shape(dealflow_store::REDIRECT_PATTERN, 2_000)),
    ("FormPatch", "name", Line(200)),
    ("FormPatch", "source", OptLine(100)),
    ("FormPatch", "success_message", OptLine(500)),
    ("FormPatch", "redirect_url", Shape(dealflow_store::REDIRECT_PATTERN, 2_000)),
    ("FormPost", "email", Email),
    ("FormPost", "name", OptLine(200)),
    ("FormPost", "phone", OptLine(50)),
    ("FormPost", "company", OptLine(200)),
    ("FormPost", "job_title", OptLine(200)),
    ("FormPost", "message", OptMulti(5_000)),
    ("WebhookPatch", "description", OptLine(500)),
    ("NewConnection", "name", Line(200)),
    ("NewConnection", "signing_key", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("NewConnection", "username", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("NewConnection", "password", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("NewConnection", "secret", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("ConnectionPatch", "name", Line(200)),
    ("ConnectionPatch", "signing_key", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("ConnectionPatch", "username", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("ConnectionPatch", "password", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("ConnectionPatch", "secret", Shape(dealflow_store::MATERIAL_PATTERN, dealflow_store::MATERIAL_MAX)),
    ("CustomFieldPatch", "options[]", Line(100)),
    ("NewOrganization", "name", Line(200)),
    ("NewOrganization", "industry", OptLine(100)),
    ("NewOrganization", "country", OptLine(100)),
    ("NewOrganization", "employees", Range(0, 10_000_000)),
    ("NewOrganization", "domain", Domain),
    ("OrganizationPatch", "domain", Domain),
    ("OrganizationPatch", "name", Line(200)),
    ("OrganizationPatch", "industry", OptLine(100)),
    ("OrganizationPatch", "country", OptLine(100)),
    ("OrganizationPatch", "employees", Range(0, 10_000_000)),
    ("NewPerson", "name", Line(200)),
    ("NewPerson", "job_title", OptLine(100)),
    ("NewPerson", "source", OptLine(100)),
    ("NewPerson", "phones[]", Line(50)),
    ("NewPerson", "emails[]", Email),
    ("PersonPatch", "name", Line(200)),
    ("PersonPatch", "job_title", OptLine(100)),
    ("PersonPatch", "source", OptLine(100)),
    ("PersonPatch", "phones[]", Line(50)),
    ("PersonPatch", "emails[]", Email),
    ("NewNote", "body", Multi(100_000)),
    ("NotePatch", "body", Multi(100_000)),
    ("NewActivity", "subject", Line(200)),
    ("NewActivity", "note", OptMulti(10_000)),
    ("ActivityPatch", "subject", Line(200)),
    ("ActivityPatch", "note", OptMulti(10_000)),
    ("NewDeal", "title", Line(200)),
    ("NewDeal", "source", OptLine(100)),
    ("NewDeal", "value", Range(0, MONEY)),
    ("NewDeal", "probability", Range(0, 100)),
    ("NewDeal", "contract_months", Range(1, 1200)),
    ("DealPatch", "title", Line(200)),
    ("DealPatch", "source", OptLine(100)),
    ("DealPatch", "value", Range(0, MONEY)),
    ("DealPatch", "probability", Range(0, 100)),
    ("DealPatch", "contract_months", Range(1, 1200)),
    ("SettingsPatch", "name", Line(200)),
    ("SettingsPatch", "working_days[]", Range(1, 7)),
    ("SettingsPatch", "time_zone", TimeZone),
    ("NewGoalBody", "target", Range(0, MONEY)),
    ("NewGoalBody", "metric", GoalMetric),
    ("NewGoalBody", "from", DateText),
    ("NewGoalBody", "to", DateText),
    ("GoalPatchBody", "target", Range(0, MONEY)),
    ("GoalPatchBody", "metric", GoalMetric),
    ("GoalPatchBody", "from", DateText),
    ("GoalPatchBody", "to", DateText),
    ("GoalPatchBody", "owner_id", IdText),
    ("GoalPatchBody", "pipeline_id", IdText),
    ("SkipBody", "reason", Line(500)),
    ("StepSpec", "title", Line(200)),
    ("StepSpec", "description", OptMulti(10_000)),
    ("Template", "subject", Line(300)),
    ("Template", "body", Multi(20_000)),
    ("Due", "offset_minutes", Range(-MAX_OFFSET_MINUTES, MAX_OFFSET_MINUTES)),
    ("Due", "offset_working_days", Range(-MAX_OFFSET_WORKING_DAYS, MAX_OFFSET_WORKING_DAYS)),
    ("NewScoringModel", "name", Line(100)),
    ("ScoringModelPatch", "name", Line(100)),
    ("Rule", "id", Shape("^[A-Za-z0-9_-]{1,40}$", 40)),
    ("Rule", "points", Range(-1000, 1000)),
    ("Rule", "cap", Range(0, 10_000)),
    ("Rule", "half_life_days", Above(0, 3650)),
    ("Rule", "question", Line(200)),
    ("Band", "name", Line(40)),
    ("Thresholds", "disqualify_below", Range(-10_000, 10_000)),
    ("Thresholds", "nurture_at", Range(-10_000, 10_000)),
    ("Thresholds", "rearm_gap", Range(0, 1000)),
    ("ClearFlag", "reason", Line(500)),
    ("NewAnswer", "answer", Line(100)),
];

use dealflow_core::playbook::{MAX_OFFSET_MINUTES, MAX_OFFSET_WORKING_DAYS};

/// Writes every rule of the table into the document's schemas.
///
/// # Panics
/// On a rule for a schema or property the document lacks: a mistyped table
/// entry, which every test that builds the app reports at once.
pub fn apply(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else { panic!("openapi limits: the document has no schemas") };
    special(&mut components.schemas);
    for &(schema, prop, rule) in TABLE {
        let (name, items) = prop.strip_suffix("[]").map_or((prop, false), |n| (n, true));
        let target = match components.schemas.get_mut(schema) {
            Some(RefOr::T(Schema::Object(o))) => o.properties.get_mut(name),
            _ => None,
        };
        let target = match (target, items) {
            (Some(RefOr::T(Schema::Array(a))), true) => match &mut a.items {
                ArrayItems::RefOrSchema(item) => Some(item.as_mut()),
                _ => None,
            },
            (t, false) => t,
            _ => None,
        };
        let Some(RefOr::T(Schema::Object(target))) = target else {
            panic!("openapi limits: no {schema}.{prop} in the document")
        };
        for (k, v) in constraints(rule) {
            match (k, v) {
                ("pattern", Value::String(p)) => target.pattern = Some(p),
                ("maxLength", v) => target.max_length = v.as_u64().map(|n| n as usize),
                ("minLength", v) => target.min_length = v.as_u64().map(|n| n as usize),
                ("minimum", v) => target.minimum = v.as_i64().map(|n| Number::Int(n as isize)),
                ("maximum", v) => target.maximum = v.as_i64().map(|n| Number::Int(n as isize)),
                ("exclusiveMinimum", v) => target.exclusive_minimum = v.as_i64().map(|n| Number::Int(n as isize)),
                ("enum", Value::Array(values)) => target.enum_values = Some(with_null(values, &target.schema_type)),
                ("format", Value::String(f)) if f == "date" => {
                    target.format = Some(SchemaFormat::KnownFormat(KnownFormat::Date));
                }
                _ => {}
            }
        }
    }
}

fn constraints(rule: Rule) -> Vec<(&'static str, Value)> {
    let text = |max: u64, required: bool, ctrl: &str| {
        let nb = format!("[^{WS}{CTRL}]");
        let core = format!("{nb}(?:[^{ctrl}]*{nb})?");
        let pattern = if required { format!("^[{WS}]*{core}[{WS}]*$") } else { format!("^[{WS}]*(?:{core})?[{WS}]*$") };
        vec![("pattern", json!(pattern)), ("maxLength", json!(max))]
    };
    match rule {
        Line(max) => text(max, true, CTRL),
        OptLine(max) => text(max, false, CTRL),
        Multi(max) => text(max, true, CTRL_MULTI),
        OptMulti(max) => text(max, false, CTRL_MULTI),
        Range(min, max) => vec![("minimum", json!(min)), ("maximum", json!(max))],
        Above(min, max) => vec![("exclusiveMinimum", json!(min)), ("maximum", json!(max))],
        Shape(pattern, max) => vec![("pattern", json!(pattern)), ("maxLength", json!(max))],
        Len(min, max) => vec![("minLength", json!(min)), ("maxLength", json!(max))],
        Domain => {
            let pattern = format!("^[{WS}]*(?:[^{WS}{CTRL}]+)?[{WS}]*$");
            vec![("pattern", json!(pattern)), ("maxLength", json!(200))]
        }
        DateText => vec![("pattern", json!("^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$")), ("format", json!("date"))],
        IdText => vec![("pattern", json!("^[0-9]{1,18}$"))],
        GoalMetric => {
            let keys = dealflow_core::model::GoalMetric::ALL.iter().map(|m| json!(m.key())).collect::<Vec<_>>();
            vec![("enum", Value::Array(keys))]
        }
        TimeZone => {
            let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| json!(tz.name())).collect::<Vec<_>>();
            vec![("enum", Value::Array(names))]
        }
        Email => {
            // One `@`, something before it, a domain with an inner dot; no
            // white space or control characters; 254 characters at most.
            let x = format!("[^{WS}{CTRL}@]");
            let edge = format!("[^{WS}{CTRL}@.]");
            let pattern = format!("^[{WS}]*{x}+@{edge}{x}*\\.{x}*{edge}[{WS}]*$");
            vec![("pattern", json!(pattern)), ("maxLength", json!(254))]
        }
    }
}

/// A nullable property's enum must list `null` too, or it refuses null.
fn with_null(mut values: Vec<Value>, ty: &SchemaType) -> Vec<Value> {
    if matches!(ty, SchemaType::Array(types) if types.contains(&Type::Null)) {
        values.push(Value::Null);
    }
    values
}

/// The limits that are not one property's: currency codes (wherever the
/// `Currency` schema is used and as exchange-rate keys, with positive
/// rates) and a new pipeline's first stage.
fn special(schemas: &mut std::collections::BTreeMap<String, RefOr<Schema>>) {
    let codes: Vec<Value> = dealflow_core::currency::codes().map(|c| json!(c)).collect();
    if let Some(RefOr::T(Schema::Object(currency))) = schemas.get_mut("Currency") {
        currency.enum_values = Some(codes.clone());
    } else {
        panic!("openapi limits: no Currency schema");
    }
    let rates = match schemas.get_mut("SettingsPatch") {
        Some(RefOr::T(Schema::Object(o))) => o.properties.get_mut("exchange_rates"),
        _ => None,
    };
    let Some(RefOr::T(Schema::Object(rates))) = rates else {
        panic!("openapi limits: no SettingsPatch.exchange_rates")
    };
    let mut names = Object::with_type(Type::String);
    names.enum_values = Some(codes);
    rates.property_names = Some(Box::new(Schema::Object(names)));
    let positive = ObjectBuilder::new()
        .schema_type(Type::Number)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
        .exclusive_minimum(Some(0))
        .build();
    rates.additional_properties = Some(Box::new(AdditionalProperties::RefOr(RefOr::T(Schema::Object(positive)))));
    // A threshold's minimum score per stage is keyed by stage id.
    let min_score = match schemas.get_mut("Thresholds") {
        Some(RefOr::T(Schema::Object(o))) => o.properties.get_mut("min_score"),
        _ => None,
    };
    let Some(RefOr::T(Schema::Object(min_score))) = min_score else {
        panic!("openapi limits: no Thresholds.min_score")
    };
    let mut ids = Object::with_type(Type::String);
    ids.pattern = Some("^[0-9]{1,18}$".into());
    min_score.property_names = Some(Box::new(Schema::Object(ids)));
    let stages = match schemas.get_mut("NewPipeline") {
        Some(RefOr::T(Schema::Object(o))) => o.properties.get_mut("stages"),
        _ => None,
    };
    let Some(RefOr::T(Schema::Array(stages))) = stages else { panic!("openapi limits: no NewPipeline.stages") };
    stages.min_items = Some(1);
    // A subscription names at least one event, each from the list.
    for schema in ["NewWebhook", "WebhookPatch"] {
        let events = match schemas.get_mut(schema) {
            Some(RefOr::T(Schema::Object(o))) => o.properties.get_mut("events"),
            _ => None,
        };
        let Some(RefOr::T(Schema::Array(events))) = events else { panic!("openapi limits: no {schema}.events array") };
        events.min_items = Some(1);
        let names: Vec<Value> = dealflow_store::WEBHOOK_EVENTS.iter().map(|e| json!(e)).collect();
        let mut item = Object::with_type(Type::String);
        item.enum_values = Some(names);
        events.items = ArrayItems::RefOrSchema(Box::new(RefOr::T(Schema::Object(item))));
    }
    // A form's fields come from the list.
    for schema in ["NewForm", "FormPatch"] {
        let fields = match schemas.get_mut(schema) {
            Some(RefOr::T(Schema::Object(o))) => o.properties.get_mut("fields"),
            _ => None,
        };
        let Some(RefOr::T(Schema::Array(fields))) = fields else { panic!("openapi limits: no {schema}.fields array") };
        let names: Vec<Value> = dealflow_store::FORM_FIELDS.iter().map(|e| json!(e)).collect();
        let mut item = Object::with_type(Type::String);
        item.enum_values = Some(names);
        fields.items = ArrayItems::RefOrSchema(Box::new(RefOr::T(Schema::Object(item))));
    }
    // A select's options are refused when one appears twice.
    for schema in ["NewCustomField", "CustomFieldPatch"] {
        let options = match schemas.get_mut(schema) {
            Some(RefOr::T(Schema::Object(o))) => o.properties.get_mut("options"),
            _ => None,
        };
        match options {
            Some(RefOr::T(Schema::Array(a))) => a.unique_items = true,
            _ => panic!("openapi limits: no {schema}.options array"),
        }
    }
}
