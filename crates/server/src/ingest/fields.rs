//! Reading providers' JSON: text, numbers and times wherever a provider
//! put them, without panicking on a shape we did not expect.

use chrono::DateTime;
use dealflow_core::time::Timestamp;
use serde_json::Value;

/// A field as text (strings as they are, numbers printed).
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A nested field as text: `path` names the objects on the way.
pub fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    let (last, on_the_way) = path.split_last()?;
    let mut cur = v;
    for k in on_the_way {
        cur = cur.get(k)?;
    }
    text(cur, last)
}

/// A boolean that providers send as `true`, `"true"` or `1`.
pub fn truthy(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
        _ => false,
    }
}

/// A time given as unix seconds (integer or fractional, number or text)
/// or as an RFC 3339 text.
pub fn time(v: &Value) -> Option<Timestamp> {
    let secs = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(f) => Some(f),
            Err(_) => return DateTime::parse_from_rfc3339(s.trim()).ok().map(|d| Timestamp(d.timestamp_millis())),
        },
        _ => None,
    }?;
    (secs.is_finite() && secs > 0.0 && secs < 1e11).then_some(Timestamp((secs * 1000.0) as i64))
}

/// A time field, or why it is missing.
pub fn time_field(v: &Value, key: &str) -> Result<Timestamp, String> {
    v.get(key).and_then(time).ok_or_else(|| format!("`{key}` is missing or not a time (unix seconds or RFC 3339)"))
}

/// A person id the sender attached (`dealflow_person_id`).
pub fn person_hint(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The first of a string or a list of strings (SendGrid's `category`).
pub fn first_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(|x| x.as_str().map(str::to_string)),
        _ => None,
    }
}
