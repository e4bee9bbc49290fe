//! Decoding helpers for rows read through the `Any` driver, which only
//! knows integers, floats, text and bytes: booleans are 0/1 integers, times
//! are Unix milliseconds, JSON is text.

use dealflow_core::time::{Date, Timestamp};
use serde::de::DeserializeOwned;
use sqlx::{Row, any::AnyRow};

pub(crate) type R<T> = Result<T, sqlx::Error>;

pub(crate) fn decode_err(col: &str, msg: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: col.to_string(), source: msg.to_string().into() }
}

pub(crate) fn i64_(r: &AnyRow, c: &str) -> R<i64> {
    r.try_get::<i64, _>(c)
}

pub(crate) fn opt_i64(r: &AnyRow, c: &str) -> R<Option<i64>> {
    r.try_get::<Option<i64>, _>(c)
}

pub(crate) fn text(r: &AnyRow, c: &str) -> R<String> {
    r.try_get::<String, _>(c)
}

pub(crate) fn opt_text(r: &AnyRow, c: &str) -> R<Option<String>> {
    r.try_get::<Option<String>, _>(c)
}

pub(crate) fn bool_(r: &AnyRow, c: &str) -> R<bool> {
    Ok(i64_(r, c)? != 0)
}

pub(crate) fn ts(r: &AnyRow, c: &str) -> R<Timestamp> {
    i64_(r, c).map(Timestamp)
}

pub(crate) fn opt_ts(r: &AnyRow, c: &str) -> R<Option<Timestamp>> {
    Ok(opt_i64(r, c)?.map(Timestamp))
}

pub(crate) fn opt_date(r: &AnyRow, c: &str) -> R<Option<Date>> {
    opt_text(r, c)?.map(|s| Date::parse_stored(&s).map_err(|e| decode_err(c, e))).transpose()
}

/// Parses a column holding JSON text.
pub(crate) fn json<T: DeserializeOwned>(r: &AnyRow, c: &str) -> R<T> {
    serde_json::from_str(&text(r, c)?).map_err(|e| decode_err(c, e))
}

/// Parses a text enum column with the enum's own parser.
pub(crate) fn enum_<T>(r: &AnyRow, c: &str, parse: fn(&str) -> Result<T, String>) -> R<T> {
    parse(&text(r, c)?).map_err(|e| decode_err(c, e))
}

pub(crate) fn opt_enum<T>(r: &AnyRow, c: &str, parse: fn(&str) -> Result<T, String>) -> R<Option<T>> {
    opt_text(r, c)?.map(|s| parse(&s).map_err(|e| decode_err(c, e))).transpose()
}

/// Encodes a boolean as the integer the schema stores.
pub(crate) fn b(v: bool) -> i64 {
    v as i64
}

/// Ids written into SQL as `1,2,3` for an `IN (…)` list: they are numbers
/// formatted from `i64`, never user text. With no ids it is `0`, which is
/// never an id (minted ids are positive), so the list stays valid SQL and matches
/// nothing.
pub(crate) fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let list = ids.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    if list.is_empty() { "0".into() } else { list }
}
