//! Unit tests of row conversion.

use super::*;
use crate::import::csv::{Record, parse};

fn convert(mapping: &str, csv: &str, kinds: &[(&str, FieldKind)]) -> Vec<Result<RowValues, Vec<RowError>>> {
    let m = Mapping::parse(mapping).unwrap();
    let t = parse(csv).unwrap();
    let kinds = kinds.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let c = Converter::new(&m, &t.header, chrono_tz::UTC, Currency::parse("USD").unwrap(), kinds).unwrap();
    t.rows.iter().map(|r: &Record| c.convert(r)).collect()
}

const M: &str = r#"{
  "entity": "deals", "source": "s", "external_id": "id",
  "fields": {
    "title": {"template": "{product} for {account}"},
    "value": {"column": "amount", "or": {"column": "product", "map": {"Pro": "4821"}}},
    "status": {"column": "stage", "map": {"Won": "won", "Open": "open"}},
    "closed_at": {"column": "closed", "format": "%d/%m/%Y %H:%M"},
    "organization": "account",
    "custom.product": {"column": "product", "map": {"GTXPro": "Pro"}},
    "custom.revenue": "revenue"
  },
  "stage_dates": {"Engaging": "engaged"}
}"#;

const CSV: &str = "id,product,account,amount,stage,closed,engaged,revenue
a1,GTXPro,Acme,1054.5,Won,01/03/2017 09:30,2016-10-20,1100.04
a2,Pro,,,Open,,,
a3,Pro,Acme,abc,Maybe,31/02/2017 00:00,20-10-2016,lots
";

#[test]
fn converts_values_and_names_columns_in_errors() {
    let kinds = [("product", FieldKind::SingleSelect), ("revenue", FieldKind::Number)];
    let rows = convert(M, CSV, &kinds);
    let a1 = rows[0].as_ref().unwrap();
    assert_eq!(a1.external_id.as_deref(), Some("a1"));
    assert_eq!(a1.text("title").as_deref(), Some("GTXPro for Acme"));
    assert_eq!(a1.money("value"), Some(105_450));
    assert_eq!(a1.status("status"), Some(DealStatus::Won));
    assert_eq!(a1.time("closed_at").map(|t| t.to_rfc3339()).as_deref(), Some("2017-03-01T09:30:00.000Z"));
    assert_eq!(a1.reference("organization").as_deref(), Some("Acme"));
    assert_eq!(a1.custom(), serde_json::json!({"product": "Pro", "revenue": 1100.04}).as_object().cloned().unwrap());
    assert_eq!(a1.stage_dates[0].0, "Engaging");
    assert_eq!(a1.label("value"), "amount");

    let a2 = rows[1].as_ref().unwrap();
    assert_eq!(a2.money("value"), Some(482_100), "open deal falls back to the list price");
    assert_eq!(a2.reference("organization"), None);
    assert_eq!(a2.text("title").as_deref(), Some("Pro for"));
    assert!(a2.stage_dates.is_empty());

    let errs: Vec<String> = rows[2].as_ref().unwrap_err().iter().map(|e| e.to_string()).collect();
    assert!(errs.contains(&"row 4: amount: \"abc\" is not a number".to_string()), "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("row 4: stage: `maybe` is not one of")), "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("row 4: closed: \"31/02/2017 00:00\" is not a date")), "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("row 4: engaged:")), "{errs:?}");
    assert!(errs.contains(&"row 4: revenue: \"lots\" is not a number".to_string()), "{errs:?}");
}

#[test]
fn unknown_custom_fields_are_refused_up_front() {
    let m = Mapping::parse(M).unwrap();
    let t = parse(CSV).unwrap();
    let e = Converter::new(&m, &t.header, chrono_tz::UTC, Currency::parse("USD").unwrap(), BTreeMap::new());
    assert_eq!(e.err().map(|e| e.len()), Some(2));
}

#[test]
fn money_in_minor_units() {
    let usd = Currency::parse("USD").unwrap();
    let jpy = Currency::parse("JPY").unwrap();
    assert_eq!(minor_units("1054", &usd), Ok(105_400));
    assert_eq!(minor_units("0.5", &usd), Ok(50));
    assert_eq!(minor_units("12.50", &usd), Ok(1250));
    assert_eq!(minor_units("100", &jpy), Ok(100));
    assert!(minor_units("1.5", &jpy).unwrap_err().contains("more decimals"));
    for bad in ["", "1,054", "$5", "1.2.3", ".5", "abc"] {
        assert!(minor_units(bad, &usd).is_err(), "{bad}");
    }
}

#[test]
fn time_zone_and_lists() {
    let m = r#"{"entity": "people", "source": "s", "time_zone": "Europe/Berlin",
               "fields": {"name": "n", "email": {"column": "e", "split": "|"}, "created_at": "c"}}"#;
    let m = Mapping::parse(m).unwrap();
    let t = parse("n,e,c\nAda, A@x.com | b@x.com ,2026-01-15\n").unwrap();
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let c = Converter::new(&m, &t.header, tz, Currency::parse("EUR").unwrap(), BTreeMap::new()).unwrap();
    let r = c.convert(&t.rows[0]).unwrap();
    assert_eq!(r.list("email"), Some(vec!["A@x.com".to_string(), "b@x.com".to_string()]));
    assert_eq!(r.time("created_at").map(|t| t.to_rfc3339()).as_deref(), Some("2026-01-14T23:00:00.000Z"));
}

#[test]
fn malformed_lines_are_rejected_whole() {
    let kinds = [("product", FieldKind::SingleSelect), ("revenue", FieldKind::Number)];
    let csv = "id,product,account,amount,stage,closed,engaged,revenue\na2,Pro,,,Open,,,\na9,Pro\n\"X5,broken\n";
    let rows = convert(M, csv, &kinds);
    assert!(rows[0].is_ok());
    let short = rows[1].as_ref().unwrap_err();
    assert_eq!((short.len(), short[0].row, short[0].field.as_str()), (1, 3, "csv"));
    assert!(short[0].message.contains("has 2 cells but the header has 8 columns"), "{short:?}");
    let open = rows[2].as_ref().unwrap_err();
    assert_eq!((open[0].row, open[0].message.contains("never closed")), (4, true), "{open:?}");
}
