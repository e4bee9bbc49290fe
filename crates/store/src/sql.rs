//! A tiny builder for queries whose WHERE clause depends on filters. It
//! numbers placeholders `$1, $2, …` by hand, which both engines accept
//! through the `Any` driver (sqlx's `QueryBuilder<Any>` emits `?`, which
//! PostgreSQL rejects); for wide multi-row statements on SQLite it writes
//! bare `?` instead ([`Sql::for_engine`]).

use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row, any::AnyRow};

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

/// SQL text plus its arguments, built piece by piece.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    args: Vec<Arg>,
    /// Placeholders are bare `?` (SQLite only): see [`Sql::for_engine`].
    anonymous: bool,
}

impl Sql {
    pub fn new(base: &str) -> Self {
        Self { text: base.to_string(), args: Vec::new(), anonymous: false }
    }

    /// A builder for statements with many values (multi-row INSERTs), with
    /// the placeholders that cost least on `engine`
    /// ([`crate::Engine::anonymous_placeholders`]). `base` must hold no
    /// placeholder of its own.
    pub fn for_engine(engine: crate::Engine, base: &str) -> Self {
        Self { anonymous: engine.anonymous_placeholders(), ..Self::new(base) }
    }

    /// Appends raw SQL.
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends the next placeholder and binds `v` to it.
    pub fn bind(&mut self, v: impl Into<Arg>) -> &mut Self {
        self.args.push(v.into());
        if self.anonymous {
            self.text.push('?');
        } else {
            self.text.push_str(&format!("${}", self.args.len()));
        }
        self
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text.as_str()));
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
            };
        }
        q
    }
}

/// Page size and position asked for by a list request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Return at most this many (1–500).
    pub limit: i64,
    /// Return records with ids below this one (the previous page's cursor).
    pub before: Option<i64>,
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: 50, before: None }
    }
}

impl Page {
    pub const MAX: i64 = 500;

    /// Adds `AND id < cursor ORDER BY id DESC LIMIT n+1` to `sql`; ids are
    /// time-ordered, so this is newest first and stable under inserts.
    pub(crate) fn apply(&self, sql: &mut Sql, id_col: &str) {
        if let Some(b) = self.before {
            sql.push(&format!(" AND {id_col} < ")).bind(b);
        }
        sql.push(&format!(" ORDER BY {id_col} DESC LIMIT ")).bind(self.limit.clamp(1, Self::MAX) + 1);
    }
}

/// One page of a list plus the cursor for the next one.
#[derive(Debug, Clone, Serialize)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Runs a paged query built with [`Page::apply`] and maps its rows.
pub(crate) async fn fetch_page<T>(
    pool: &AnyPool,
    sql: &Sql,
    page: Page,
    map: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<ListPage<T>, crate::StoreError> {
    let rows = sql.query().fetch_all(pool).await?;
    let limit = page.limit.clamp(1, Page::MAX) as usize;
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit.min(rows.len()));
    let mut last_id = None;
    for r in rows.iter().take(limit) {
        last_id = Some(r.try_get::<i64, _>("id")?);
        items.push(map(r)?);
    }
    Ok(ListPage { items, next_cursor: if more { last_id.map(|i| i.to_string()) } else { None } })
}

/// Escapes `%`, `_` and `\` for a LIKE pattern and wraps it in `%…%`,
/// lower-cased (compare with `LOWER(col) LIKE $n ESCAPE '\'`). NUL is
/// dropped: no stored text holds one (PostgreSQL cannot store it, and
/// validation refuses it), so a search with one means the same without it,
/// where PostgreSQL would refuse the whole query.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for c in q.trim().to_lowercase().chars().filter(|c| *c != '\0') {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

#[cfg(test)]
mod like_tests {
    use super::like_pattern;

    #[test]
    fn a_search_drops_nul_and_escapes_wildcards() {
        assert_eq!(like_pattern(" A\0c_me% "), "%ac\\_me\\%%");
    }
}
