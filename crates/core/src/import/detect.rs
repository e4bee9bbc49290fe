//! Recognises the CSV exports of other CRMs (Pipedrive, HubSpot,
//! Salesforce) by their header and proposes a mapping for them, so a team
//! moving to dealflow imports without writing one. The column names are the
//! ones these products document for their exports; a proposal only uses the
//! columns the file has, reads each date column's format from its values,
//! and for deals builds the pipeline from the stages the file names. The
//! proposal is an ordinary mapping (shown, saved, edited and passed back
//! with `--mapping`), never a separate import path.

use super::csv::Table;
use super::mapping::{Mapping, Target};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};

/// A CRM whose exports are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crm {
    Pipedrive,
    HubSpot,
    Salesforce,
}

impl Crm {
    pub fn name(self) -> &'static str {
        match self {
            Crm::Pipedrive => "Pipedrive",
            Crm::HubSpot => "HubSpot",
            Crm::Salesforce => "Salesforce",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Crm::Pipedrive => "pipedrive",
            Crm::HubSpot => "hubspot",
            Crm::Salesforce => "salesforce",
        }
    }
}

/// A recognised export and the mapping proposed for it.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub crm: Crm,
    /// The mapping as JSON, the form a user saves and edits.
    pub json: Value,
    /// The same, parsed and checked.
    pub mapping: Mapping,
    /// What the user should know: columns left out and why.
    pub notes: Vec<String>,
}

/// How a field is filled: the columns tried in order (the first non-empty
/// one wins), or a template of columns.
#[derive(Clone, Copy)]
enum Src {
    Cols(&'static [&'static str]),
    Template(&'static str, &'static [&'static str]),
}

/// One CRM's export of one entity.
struct Profile {
    crm: Crm,
    entity: Target,
    /// Columns that must all be there for the file to be this export.
    signature: &'static [&'static str],
    external_id: &'static [&'static str],
    fields: &'static [(&'static str, Src)],
    /// For deals: the stage column and its pipeline column, if any.
    stage: Option<(&'static str, Option<&'static str>)>,
    /// Deals whose status is read from the stage ("Closed won").
    status_from_stage: bool,
}

use Src::{Cols, Template};

/// Most specific first: a file is the first profile whose signature fits.
const PROFILES: &[Profile] = &[
    Profile {
        crm: Crm::Pipedrive,
        entity: Target::Deals,
        signature: &["Deal - Title", "Deal - Stage"],
        external_id: &["Deal - ID"],
        fields: &[
            ("title", Cols(&["Deal - Title"])),
            ("value", Cols(&["Deal - Value"])),
            ("currency", Cols(&["Deal - Currency"])),
            ("status", Cols(&["Deal - Status"])),
            ("probability", Cols(&["Deal - Probability"])),
            ("lost_reason", Cols(&["Deal - Lost reason"])),
            ("expected_close_date", Cols(&["Deal - Expected close date"])),
            ("created_at", Cols(&["Deal - Deal created"])),
            ("closed_at", Cols(&["Deal - Won time", "Deal - Lost time", "Deal - Deal closed on"])),
            ("owner", Cols(&["Deal - Owner"])),
            ("organization", Cols(&["Deal - Organization"])),
            ("person", Cols(&["Deal - Contact person"])),
            ("source", Cols(&["Deal - Source channel", "Deal - Source origin"])),
        ],
        stage: Some(("Deal - Stage", Some("Deal - Pipeline"))),
        status_from_stage: false,
    },
    Profile {
        crm: Crm::Pipedrive,
        entity: Target::People,
        signature: &["Person - Name"],
        external_id: &["Person - ID"],
        fields: &[
            ("name", Cols(&["Person - Name"])),
            ("email", Cols(&["Person - Email", "Person - Email - Work", "Person - Email - Home"])),
            ("phone", Cols(&["Person - Phone", "Person - Phone - Work", "Person - Phone - Mobile"])),
            ("job_title", Cols(&["Person - Job title"])),
            ("organization", Cols(&["Person - Organization"])),
            ("owner", Cols(&["Person - Owner"])),
            ("created_at", Cols(&["Person - Person created"])),
        ],
        stage: None,
        status_from_stage: false,
    },
    Profile {
        crm: Crm::Pipedrive,
        entity: Target::Organizations,
        signature: &["Organization - Name"],
        external_id: &["Organization - ID"],
        fields: &[
            ("name", Cols(&["Organization - Name"])),
            ("industry", Cols(&["Organization - Industry"])),
            ("employees", Cols(&["Organization - Number of employees"])),
            ("owner", Cols(&["Organization - Owner"])),
            ("created_at", Cols(&["Organization - Organization created"])),
        ],
        stage: None,
        status_from_stage: false,
    },
    Profile {
        crm: Crm::HubSpot,
        entity: Target::Deals,
        signature: &["Deal Name", "Deal Stage"],
        external_id: &["Record ID"],
        fields: &[
            ("title", Cols(&["Deal Name"])),
            ("value", Cols(&["Amount", "Amount in company currency"])),
            ("currency", Cols(&["Currency"])),
            ("close_date", Cols(&["Close Date"])),
            ("created_at", Cols(&["Create Date"])),
            ("lost_reason", Cols(&["Closed Lost Reason"])),
            ("owner", Cols(&["Deal owner", "Deal Owner"])),
            ("organization", Cols(&["Associated Company", "Associated Company (Primary)"])),
            ("source", Cols(&["Original Source Type", "Original Source"])),
        ],
        stage: Some(("Deal Stage", Some("Pipeline"))),
        status_from_stage: true,
    },
    Profile {
        crm: Crm::HubSpot,
        entity: Target::People,
        signature: &["Record ID", "First Name", "Last Name"],
        external_id: &["Record ID"],
        fields: &[
            ("name", Template("{First Name} {Last Name}", &["First Name", "Last Name"])),
            ("email", Cols(&["Email"])),
            ("phone", Cols(&["Phone Number", "Mobile Phone Number"])),
            ("job_title", Cols(&["Job Title"])),
            ("organization", Cols(&["Company Name", "Associated Company"])),
            ("owner", Cols(&["Contact owner", "Contact Owner"])),
            ("created_at", Cols(&["Create Date"])),
            ("source", Cols(&["Original Source"])),
        ],
        stage: None,
        status_from_stage: false,
    },
    Profile {
        crm: Crm::HubSpot,
        entity: Target::Organizations,
        signature: &["Record ID", "Company name"],
        external_id: &["Record ID"],
        fields: &[
            ("name", Cols(&["Company name"])),
            ("domain", Cols(&["Company Domain Name"])),
            ("industry", Cols(&["Industry"])),
            ("employees", Cols(&["Number of Employees"])),
            ("country", Cols(&["Country/Region"])),
            ("owner", Cols(&["Company owner", "Company Owner"])),
            ("created_at", Cols(&["Create Date"])),
        ],
        stage: None,
        status_from_stage: false,
    },
    Profile {
        crm: Crm::Salesforce,
        entity: Target::Deals,
        signature: &["Opportunity Name", "Stage"],
        external_id: &["Opportunity ID"],
        fields: &[
            ("title", Cols(&["Opportunity Name"])),
            ("value", Cols(&["Amount"])),
            ("currency", Cols(&["Opportunity Currency", "Amount Currency"])),
            ("probability", Cols(&["Probability (%)"])),
            ("close_date", Cols(&["Close Date"])),
            ("created_at", Cols(&["Created Date"])),
            ("owner", Cols(&["Opportunity Owner"])),
            ("organization", Cols(&["Account Name"])),
            ("source", Cols(&["Lead Source"])),
            ("lost_reason", Cols(&["Loss Reason"])),
        ],
        stage: Some(("Stage", None)),
        status_from_stage: true,
    },
    Profile {
        crm: Crm::Salesforce,
        entity: Target::People,
        signature: &["First Name", "Last Name", "Account Name"],
        external_id: &["Contact ID"],
        fields: &[
            ("name", Template("{First Name} {Last Name}", &["First Name", "Last Name"])),
            ("email", Cols(&["Email"])),
            ("phone", Cols(&["Phone", "Mobile"])),
            ("job_title", Cols(&["Title"])),
            ("organization", Cols(&["Account Name"])),
            ("owner", Cols(&["Contact Owner"])),
            ("created_at", Cols(&["Created Date"])),
            ("source", Cols(&["Lead Source"])),
        ],
        stage: None,
        status_from_stage: false,
    },
    Profile {
        crm: Crm::Salesforce,
        entity: Target::Organizations,
        signature: &["Account Name", "Account Owner"],
        external_id: &["Account ID"],
        fields: &[
            ("name", Cols(&["Account Name"])),
            ("industry", Cols(&["Industry"])),
            ("employees", Cols(&["Employees"])),
            ("country", Cols(&["Billing Country"])),
            ("owner", Cols(&["Account Owner"])),
            ("created_at", Cols(&["Created Date"])),
        ],
        stage: None,
        status_from_stage: false,
    },
];

/// The stage orders these products ship with, used to put a file's stages
/// in pipeline order (stages not listed follow in the order first seen).
const KNOWN_STAGE_ORDER: &[&str] = &[
    // Pipedrive's default pipeline.
    "Lead In",
    "Qualified",
    "Contact Made",
    "Demo Scheduled",
    "Needs Defined",
    "Proposal Made",
    "Negotiations Started",
    // HubSpot's default sales pipeline.
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
    // Salesforce's standard opportunity stages.
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
];

/// Date and time formats these exports use, most specific first.
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
];

/// Rows read to choose formats and collect stages: enough for any real
/// export's variety, bounded for a million-row file.
pub const SAMPLE_ROWS: usize = 10_000;

/// The proposal for `table` as an export of `entity`, or `None` when its
/// header is no export we know.
pub fn propose(entity: Target, table: &Table) -> Option<Proposal> {
    let has = |c: &str| col_index(table, c).is_some();
    let profile = PROFILES.iter().find(|p| p.entity == entity && p.signature.iter().all(|c| has(c)))?;
    let mut notes = Vec::new();
    let mut fields = Map::new();
    for (target, src) in profile.fields {
        let spec = match src {
            Cols(cols) => chain(table, target, cols, &mut notes),
            Template(t, cols) if cols.iter().all(|c| has(c)) => Some(json!({"template": t})),
            Template(..) => None,
        };
        if let Some(mut spec) = spec {
            refine(target, &mut spec);
            fields.insert((*target).to_string(), spec);
        }
    }
    let mut out = Map::new();
    out.insert("entity".into(), json!(entity.as_str()));
    out.insert("source".into(), json!(profile.crm.source()));
    if let Some(id) = profile.external_id.iter().find(|c| has(c)) {
        out.insert("external_id".into(), json!(id));
    }
    if entity == Target::Deals {
        // A lost deal needs a reason, which a Salesforce export does not
        // carry and other exports leave empty at times: say where it went.
        let missing = format!("Not given in the {} export", profile.crm.name());
        match fields.get_mut("lost_reason") {
            Some(spec) => spec["default"] = json!(missing),
            None => {
                fields.insert("lost_reason".into(), json!({"value": missing}));
            }
        }
    }
    if let Some((stage_col, pipeline_col)) = profile.stage {
        stages(table, profile, stage_col, pipeline_col, &mut out, &mut fields);
    }
    out.insert("fields".into(), Value::Object(fields));
    let json = Value::Object(out);
    // Every proposal is checked like a hand-written mapping; one that fails
    // is a defect of this module, reported rather than hidden.
    let mapping = match Mapping::parse(&json.to_string()) {
        Ok(m) => m,
        Err(e) => {
            notes.push(format!("the proposed mapping does not check: {}", e.join("; ")));
            return None;
        }
    };
    Some(Proposal { crm: profile.crm, json, mapping, notes })
}

/// The column's index, matched without regard to case or outer spaces.
fn col_index(table: &Table, name: &str) -> Option<usize> {
    table.header.iter().position(|h| h.trim().eq_ignore_ascii_case(name))
}

/// The file's own spelling of a column.
fn header_name(table: &Table, name: &str) -> Option<String> {
    col_index(table, name).and_then(|i| table.header.get(i)).cloned()
}

fn sample(table: &Table, col: usize) -> impl Iterator<Item = &str> {
    table
        .rows
        .iter()
        .take(SAMPLE_ROWS)
        .filter_map(move |r| r.cells.get(col))
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
}

/// The present columns of `cols` as one source, each falling back to the
/// next; date columns carry the format their values are in.
fn chain(table: &Table, target: &str, cols: &[&str], notes: &mut Vec<String>) -> Option<Value> {
    let dated = matches!(target, "created_at" | "closed_at" | "close_date" | "expected_close_date");
    let mut specs = Vec::new();
    for c in cols {
        let Some(name) = header_name(table, c) else { continue };
        let mut spec = json!({"column": name});
        if dated {
            match date_format(table, &name) {
                Some(f) => spec["format"] = json!(f),
                None => {
                    notes.push(format!(
                        "column `{name}`: its dates are in no format we know; it is left out (map it with a `format`)"
                    ));
                    continue;
                }
            }
        }
        specs.push(spec);
    }
    let mut spec: Option<Value> = None;
    for s in specs.into_iter().rev() {
        spec = Some(match spec {
            None => s,
            Some(next) => {
                let mut s = s;
                s["or"] = next;
                s
            }
        });
    }
    spec
}

/// The first format that reads every sampled value of the column; `None`
/// when none does, or the column is empty (any format would then do).
fn date_format(table: &Table, name: &str) -> Option<&'static str> {
    let col = col_index(table, name)?;
    let values: Vec<&str> = sample(table, col).collect();
    if values.is_empty() {
        return Some(DATE_FORMATS[0]);
    }
    DATE_FORMATS.iter().copied().find(|f| {
        values.iter().all(|v| NaiveDateTime::parse_from_str(v, f).is_ok() || NaiveDate::parse_from_str(v, f).is_ok())
    })
}

/// Options a field needs whatever the CRM: how references find records.
fn refine(target: &str, spec: &mut Value) {
    match target {
        // Owners must exist (by name): creating users needs their e-mail,
        // which these exports do not carry.
        "owner" => spec["lookup"] = json!("name"),
        "organization" | "person" => {
            spec["lookup"] = json!("name");
            spec["create_missing"] = json!({});
        }
        _ => {}
    }
}

/// Whether a stage name means the deal closed, and how.
fn closed_status(stage: &str) -> Option<&'static str> {
    let s = stage.trim().to_lowercase();
    match s.as_str() {
        "closed won" | "won" => Some("won"),
        "closed lost" | "lost" => Some("lost"),
        _ => None,
    }
}

/// The pipeline (named after the file's one pipeline, else the CRM) with
/// the file's open stages in order; closed stages ("Closed won") give the
/// status when the export has no status column, and place the deal in the
/// last stage.
fn stages(
    table: &Table,
    profile: &Profile,
    stage_col: &str,
    pipeline_col: Option<&str>,
    out: &mut Map<String, Value>,
    fields: &mut Map<String, Value>,
) {
    let Some(col) = col_index(table, stage_col) else { return };
    let mut seen: Vec<String> = Vec::new();
    for v in sample(table, col) {
        if !seen.iter().any(|s| s.eq_ignore_ascii_case(v)) {
            seen.push(v.to_string());
        }
    }
    let (closed, mut open): (Vec<String>, Vec<String>) = seen.into_iter().partition(|s| closed_status(s).is_some());
    let rank = |s: &String| KNOWN_STAGE_ORDER.iter().position(|k| k.eq_ignore_ascii_case(s)).unwrap_or(usize::MAX);
    open.sort_by_key(rank);
    if open.is_empty() {
        open.push("Closed".into());
    }
    let last = open.last().cloned().unwrap_or_default();
    let pipelines: Vec<&str> = pipeline_col
        .and_then(|p| col_index(table, p))
        .map(|p| {
            let mut v: Vec<&str> = sample(table, p).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .unwrap_or_default();
    let name = match pipelines.as_slice() {
        [one] => (*one).to_string(),
        _ => profile.crm.name().to_string(),
    };
    out.insert("pipeline".into(), json!({"name": name, "stages": open, "create": true}));
    let header = header_name(table, stage_col).unwrap_or_else(|| stage_col.to_string());
    let to_last: Map<String, Value> = closed.iter().map(|c| (c.clone(), json!(last))).collect();
    let mut stage = json!({"column": header});
    if !to_last.is_empty() {
        stage["map"] = Value::Object(to_last);
    }
    fields.insert("stage".into(), stage);
    if profile.status_from_stage && !fields.contains_key("status") {
        let mut map = Map::new();
        for s in &open {
            map.insert(s.clone(), json!("open"));
        }
        for c in &closed {
            map.insert(c.clone(), json!(closed_status(c).unwrap_or("open")));
        }
        fields.insert("status".into(), json!({"column": header, "map": map}));
    }
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
