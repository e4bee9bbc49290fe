//! Unit tests of the mapping parser and its checks.

use super::*;
use crate::import::spec::Lookup;

const DEALS: &str = r#"{
  "entity": "deals",
  "source": "maven",
  "external_id": "opportunity_id",
  "pipeline": {"name": "Maven", "stages": ["Prospecting", "Engaging"], "create": true},
  "custom_fields": [{"key": "product", "label": "Product", "kind": "single_select", "options": ["GTX Pro"]}],
  "fields": {
    "title": {"template": "{opportunity_id} {product}"},
    "value": {"column": "close_value", "or": {"column": "product", "map": {"GTX Pro": "4821"}}},
    "status": {"column": "deal_stage", "map": {"Won": "won"}},
    "owner": {"column": "sales_agent", "create_missing": {"email_domain": "maven.example"}},
    "closed_at": "close_date",
    "custom.product": {"column": "product", "map": {"GTXPro": "GTX Pro"}}
  },
  "stage_dates": {"Engaging": "engage_date"}
}"#;

#[test]
fn parses_a_full_mapping() {
    let m = Mapping::parse(DEALS).unwrap();
    assert_eq!(m.entity, Target::Deals);
    assert_eq!(m.date_format, "%Y-%m-%d");
    assert_eq!(m.fields["closed_at"].column.as_deref(), Some("close_date"));
    assert_eq!(m.lookup("owner"), Some(Lookup::Name));
    assert_eq!(m.lookup("title"), None);
    assert_eq!(m.custom_keys().collect::<Vec<_>>(), ["product"]);
    let mut cols: Vec<String> = m.columns().into_iter().map(|c| c.0).collect();
    cols.sort();
    cols.dedup();
    assert_eq!(
        cols,
        ["close_date", "close_value", "deal_stage", "engage_date", "opportunity_id", "product", "sales_agent"]
    );
}

#[test]
fn header_must_have_the_columns() {
    let m = Mapping::parse(DEALS).unwrap();
    let header: Vec<String> = ["opportunity_id", "product"].iter().map(|s| s.to_string()).collect();
    let errs = m.check_header(&header).unwrap_err();
    assert!(errs.iter().any(|e| e.starts_with("fields.closed_at: column `close_date` is not in the file")), "{errs:?}");
}

fn errors(json: &str) -> Vec<String> {
    Mapping::parse(json).unwrap_err()
}

#[test]
fn every_problem_is_listed() {
    let errs = errors(
        r#"{"entity": "organizations", "source": " ", "date_format": "%Q",
            "time_zone": "Mars/Base", "custom_fields": [{"key": "Bad Key", "label": "x", "kind": "text"}],
            "fields": {"nme": "a", "employees": {"column": "e", "value": "1"}, "owner": {"column": "o", "lookup": "domain"},
                       "industry": {"column": "i", "format": "%Y"}},
            "stage_dates": {"X": "d"}}"#,
    );
    let want = [
        "source:",
        "date_format:",
        "time_zone:",
        "fields: `name` is required",
        "fields.nme: is not a field",
        "fields.employees: give exactly one",
        "fields.owner.lookup:",
        "fields.industry.format:",
        "stage_dates and pipeline",
        "custom_fields[0]:",
    ];
    for w in want {
        assert!(errs.iter().any(|e| e.starts_with(w)), "missing {w} in {errs:#?}");
    }
}

#[test]
fn structural_errors_are_precise() {
    let e = errors(r#"{"entity": "deals", "source": "x", "fields": {"title": {"colum": "t"}}}"#);
    assert!(e[0].contains("unknown field `colum`"), "{e:?}");
    let e = errors(r#"{"entity": "contacts", "source": "x", "fields": {}}"#);
    assert!(e[0].contains("unknown variant `contacts`"), "{e:?}");
}

#[test]
fn create_missing_rules() {
    let base =
        |owner: &str| format!(r#"{{"entity": "people", "source": "x", "fields": {{"name": "n", "owner": {owner}}}}}"#);
    assert!(Mapping::parse(&base(r#"{"column": "o", "create_missing": {}}"#)).is_err(), "needs a domain");
    assert!(
        Mapping::parse(&base(r#"{"column": "o", "lookup": "email", "create_missing": {"role": "manager"}}"#)).is_ok()
    );
    let org = r#"{"entity": "people", "source": "x", "fields": {"name": "n", "organization": {"column": "o", "create_missing": {}}}}"#;
    assert!(Mapping::parse(org).is_ok());
    let deal = r#"{"entity": "activities", "source": "x", "fields": {"subject": "s", "deal": {"column": "d", "create_missing": {}}}}"#;
    assert!(errors(deal).iter().any(|e| e.contains("only owners, organizations and people")));
}

#[test]
fn stage_dates_must_name_pipeline_stages() {
    let m = r#"{"entity": "deals", "source": "x", "pipeline": {"name": "P", "stages": ["A"]},
               "fields": {"title": "t"}, "stage_dates": {"B": "d"}}"#;
    assert!(errors(m).iter().any(|e| e.starts_with("stage_dates.B:")));
    let m =
        r#"{"entity": "deals", "source": "x", "pipeline": {"name": "P", "create": true}, "fields": {"title": "t"}}"#;
    assert!(errors(m).iter().any(|e| e.starts_with("pipeline.stages:")));
}
