//! Custom fields: admins define extra fields per entity; every write of a
//! record's `custom` map is checked against those definitions here.

use crate::currency::{Currency, check_amount};
use crate::text_enum;
use crate::time::{Date, Timestamp};
use crate::{CustomFieldId, Invalid};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

text_enum!(
    /// Which records a custom field belongs to.
    Entity { Deal = "deal", Person = "person", Organization = "organization" }
);

text_enum!(
    /// The type of a custom field's value.
    FieldKind {
        /// A string of at most 2,000 characters.
        Text = "text",
        /// A JSON number.
        Number = "number",
        /// `{"value": minor_units, "currency": "USD"}`.
        Money = "money",
        /// `YYYY-MM-DD`.
        Date = "date",
        Boolean = "boolean",
        /// One of the field's `options`.
        SingleSelect = "single_select"
    }
);

/// A custom field definition.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CustomField {
    pub id: CustomFieldId,
    pub entity: Entity,
    /// Key in the records' `custom` map: lower-case letters, digits, `_`.
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// Allowed values of a single-select field.
    pub options: Vec<String>,
    /// Whether a new record must carry a value.
    pub required: bool,
    pub position: i64,
    /// Archived fields keep their values but accept no new ones.
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Body of `POST /api/v1/custom-fields`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomField {
    pub entity: Entity,
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
    pub position: Option<i64>,
}

/// Body of `PATCH /api/v1/custom-fields/{id}`. Entity, key and kind are
/// fixed once created, so stored values never change meaning.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldPatch {
    pub version: i64,
    pub label: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
    pub position: Option<i64>,
    pub archived: Option<bool>,
}

/// Checks a field key: 1–40 characters of `a-z`, `0-9`, `_`, starting with a letter.
pub fn check_key(key: &str) -> Result<String, Invalid> {
    let ok = !key.is_empty()
        && key.len() <= 40
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(key.to_string())
    } else {
        Err(Invalid::one("key", "must be 1–40 characters of a-z, 0-9 and _, starting with a letter"))
    }
}

/// Checks one value against its field; returns the normalized value.
pub fn check_value(def: &CustomField, v: &Value) -> Result<Value, String> {
    let kind = def.kind;
    let bad = || format!("expects {}", describe(kind));
    match (kind, v) {
        (FieldKind::Text, Value::String(s)) => {
            if s.chars().count() > 2000 {
                Err("is too long: at most 2000 characters".into())
            } else {
                Ok(Value::String(s.trim().to_string()))
            }
        }
        (FieldKind::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => Ok(v.clone()),
        (FieldKind::Money, Value::Object(o)) => {
            let amount = o.get("value").and_then(Value::as_i64).ok_or_else(bad)?;
            let cur = o.get("currency").and_then(Value::as_str).ok_or_else(bad)?;
            let cur = Currency::parse(cur)?;
            check_amount("value", amount).map_err(|e| e.to_string())?;
            if o.len() != 2 {
                return Err(bad());
            }
            Ok(serde_json::json!({"value": amount, "currency": cur.as_str()}))
        }
        (FieldKind::Date, Value::String(s)) => Date::parse(s).map(|d| Value::String(d.to_iso())),
        (FieldKind::Boolean, Value::Bool(_)) => Ok(v.clone()),
        (FieldKind::SingleSelect, Value::String(s)) => {
            if def.options.iter().any(|o| o == s) {
                Ok(v.clone())
            } else {
                Err(format!("`{s}` is not one of: {}", def.options.join(", ")))
            }
        }
        _ => Err(bad()),
    }
}

fn describe(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text (a JSON string)",
        FieldKind::Number => "a number",
        FieldKind::Money => r#"money: {"value": minor units, "currency": "USD"}"#,
        FieldKind::Date => "a date string YYYY-MM-DD",
        FieldKind::Boolean => "true or false",
        FieldKind::SingleSelect => "one of the field's options (a string)",
    }
}

/// Applies `changes` to `current` (a record's custom map) under `defs` (the
/// entity's definitions). A `null` value removes the key. With `creating`,
/// required fields must end up with a value. Errors name `custom.<key>`.
pub fn apply(
    defs: &[CustomField],
    current: &Map<String, Value>,
    changes: &Map<String, Value>,
    creating: bool,
) -> Result<Map<String, Value>, Invalid> {
    let mut out = current.clone();
    let mut errs = Invalid::new();
    for (key, value) in changes {
        let field = format!("custom.{key}");
        let Some(def) = defs.iter().find(|d| &d.key == key) else {
            errs.add(field, "is not a custom field of this record type; define it in settings first");
            continue;
        };
        if value.is_null() {
            if def.required {
                errs.add(field, "is required and cannot be cleared");
            } else {
                out.remove(key);
            }
            continue;
        }
        if def.archived {
            errs.add(field, "is archived and accepts no new values");
            continue;
        }
        match check_value(def, value) {
            Ok(v) => {
                out.insert(key.clone(), v);
            }
            Err(m) => errs.add(field, m),
        }
    }
    if creating {
        for def in defs.iter().filter(|d| d.required && !d.archived) {
            if !out.contains_key(&def.key) && !changes.contains_key(&def.key) {
                errs.add(format!("custom.{}", def.key), "is required");
            }
        }
    }
    errs.into_result().map(|()| out)
}

/// Validates a new definition.
pub fn check_definition(n: &NewCustomField) -> Result<(), Invalid> {
    let mut errs = Invalid::new();
    errs.take(check_key(&n.key));
    errs.take(crate::validate::required_text("label", &n.label, 100));
    errs.take(check_options(n.kind, &n.options));
    errs.into_result()
}

/// Options are required for single-select fields and refused otherwise.
pub fn check_options(kind: FieldKind, options: &[String]) -> Result<(), Invalid> {
    match kind {
        FieldKind::SingleSelect if options.is_empty() => {
            Err(Invalid::one("options", "a single-select field needs at least one option"))
        }
        FieldKind::SingleSelect => {
            let mut seen = std::collections::HashSet::new();
            for o in options {
                // The same rule as every one-line label, so the API's
                // schema can state it (`options[]` in openapi/limits.rs).
                if crate::validate::required_text("options", o, 100).is_err() {
                    return Err(Invalid::one("options", "each option must be 1–100 characters on one line"));
                }
                if !seen.insert(o) {
                    return Err(Invalid::one("options", format!("`{o}` appears twice")));
                }
            }
            Ok(())
        }
        _ if !options.is_empty() => Err(Invalid::one("options", "only single-select fields have options")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(key: &str, kind: FieldKind, required: bool) -> CustomField {
        CustomField {
            id: CustomFieldId(1),
            entity: Entity::Deal,
            key: key.into(),
            label: key.into(),
            kind,
            options: vec!["a".into(), "b".into()],
            required,
            position: 0,
            archived: false,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            version: 1,
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn types_are_checked() {
        let defs = vec![
            def("n", FieldKind::Number, false),
            def("d", FieldKind::Date, false),
            def("m", FieldKind::Money, false),
            def("s", FieldKind::SingleSelect, false),
            def("b", FieldKind::Boolean, false),
        ];
        let ok = apply(
            &defs,
            &Map::new(),
            &map(json!({"n": 3.5, "d": "2026-01-02", "m": {"value": 100, "currency": "eur"}, "s": "a", "b": true})),
            true,
        )
        .unwrap();
        assert_eq!(ok["m"], json!({"value": 100, "currency": "EUR"}));
        let err = apply(
            &defs,
            &Map::new(),
            &map(
                json!({"n": "3", "d": "02/01/2026", "m": {"value": -1, "currency": "EUR"}, "s": "c", "b": 1, "zz": 1}),
            ),
            true,
        )
        .unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        // serde_json maps iterate in key order.
        assert_eq!(fields, ["custom.b", "custom.d", "custom.m", "custom.n", "custom.s", "custom.zz"]);
    }

    #[test]
    fn required_and_clear() {
        let defs = vec![def("r", FieldKind::Text, true), def("o", FieldKind::Text, false)];
        assert!(apply(&defs, &Map::new(), &Map::new(), true).is_err());
        let cur = map(json!({"r": "x", "o": "y"}));
        let out = apply(&defs, &cur, &map(json!({"o": null})), false).unwrap();
        assert_eq!(out, map(json!({"r": "x"})));
        assert!(apply(&defs, &cur, &map(json!({"r": null})), false).is_err());
    }
}
