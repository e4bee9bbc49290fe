//! Every difference between the two engines, in one place. The rest of the
//! store writes one portable SQL (hand-numbered `$n` placeholders, BIGINT,
//! TEXT, `CAST(… AS BIGINT)` around aggregates) and asks [`Engine`] for the
//! few statements that cannot be portable: connection and transaction
//! set-up, catalog queries, planner hints, string aggregation, bulk-load
//! settings. Database errors are classified here too, by the engine's codes
//! (SQLSTATE on PostgreSQL, extended result codes on SQLite) and constraint
//! names, never by reading the wording of a message meant for people.

use crate::StoreError;
use std::borrow::Cow;

/// Which SQL engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// Picks the engine from the URL scheme (a bare path means a SQLite
    /// file) and returns the URL sqlx should open: for SQLite, with the
    /// file's folder created and `mode=rwc` so a missing file is created.
    pub(crate) fn from_url(url: &str) -> Result<(Engine, String), StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok((Engine::Postgres, url.to_string()));
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.contains("://") {
            let scheme = url.split("://").next().unwrap_or("");
            return Err(StoreError::Config(format!(
                "unsupported database URL scheme `{scheme}`; use sqlite:PATH or postgres://USER@HOST/DB"
            )));
        } else {
            url
        };
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        if path != ":memory:"
            && let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create the data folder {}: {e}", dir.display())))?;
        }
        let mut q = if query.is_empty() { String::new() } else { format!("{query}&") };
        if !q.contains("mode=") {
            q.push_str("mode=rwc");
        }
        Ok((Engine::Sqlite, format!("sqlite://{path}?{}", q.trim_end_matches('&'))))
    }

    /// Statements every new connection runs. SQLite keeps foreign keys, the
    /// busy timeout and the durability level per connection; the timeout
    /// lets writers queue instead of failing at once.
    pub(crate) fn per_connection(self, durability: Durability) -> Option<&'static str> {
        match (self, durability) {
            (Engine::Sqlite, Durability::Normal) => {
                Some("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;")
            }
            (Engine::Sqlite, Durability::Full) => {
                Some("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;")
            }
            (Engine::Postgres, _) => None,
        }
    }

    /// Statements run once when the store opens: WAL is a property of a
    /// SQLite file, so setting it once is enough.
    pub(crate) fn on_open(self) -> Option<&'static str> {
        match self {
            Engine::Sqlite => Some("PRAGMA journal_mode = WAL;"),
            Engine::Postgres => None,
        }
    }

    /// Whether to make one direct connection before building the pool: a
    /// pool only reports that it timed out, hiding "connection refused" or
    /// a bad password, and only a server has those.
    pub(crate) fn probe_before_pool(self) -> bool {
        self == Engine::Postgres
    }

    /// Whether the engine takes one writer at a time (the whole database
    /// is locked for a write), so the store queues its writers (`tx.rs`).
    pub(crate) fn one_writer(self) -> bool {
        matches!(self, Engine::Sqlite)
    }

    /// How a write transaction begins (`None`: a plain `BEGIN`). SQLite takes
    /// the write lock up front: a deferred transaction that later writes
    /// fails with SQLITE_BUSY when another writer got there first.
    pub(crate) fn begin_write(self) -> Option<&'static str> {
        match self {
            Engine::Sqlite => Some("BEGIN IMMEDIATE"),
            Engine::Postgres => None,
        }
    }

    /// The locking clause that ends a job claim's SELECT. PostgreSQL locks
    /// the picked rows and skips rows another claimer holds, so concurrent
    /// claims take disjoint jobs; SQLite's write transaction already holds
    /// the one write lock, so it needs none.
    pub(crate) fn lock_skip_locked(self) -> &'static str {
        match self {
            Engine::Sqlite => "",
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// How a read transaction that must see one point in time begins. A
    /// deferred SQLite transaction fixes its WAL snapshot at its first
    /// statement; PostgreSQL needs REPEATABLE READ for the same.
    pub(crate) fn begin_snapshot(self) -> Option<&'static str> {
        match self {
            Engine::Sqlite => None,
            Engine::Postgres => Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
        }
    }

    /// The base tables of the current schema, one name per row, sorted.
    /// PostgreSQL's catalog names have its own `name` type, which `Any`
    /// cannot decode; the cast makes them plain text.
    pub(crate) fn list_tables(self) -> &'static str {
        match self {
            Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Engine::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
            }
        }
    }

    /// Most rows in one multi-row INSERT of a copy. SQLite's cost per row
    /// grows with the length of a VALUES list, and about 100 rows measured
    /// fastest (well under half the time of 1,000); PostgreSQL takes a whole
    /// batch of `batch` rows at once.
    pub(crate) fn copy_rows_per_insert(self, batch: usize) -> usize {
        match self {
            Engine::Sqlite => 100,
            Engine::Postgres => batch,
        }
    }

    /// Whether statements with many values (multi-row INSERTs) should use
    /// bare `?` placeholders. SQLite's driver looks up each numbered `$n` by
    /// name, a walk of every earlier one, so n numbered values cost n² (a
    /// 500-row INSERT of 15 columns spent most of an import's time there)
    /// while n bare ones cost n. PostgreSQL only accepts `$n`.
    pub(crate) fn anonymous_placeholders(self) -> bool {
        match self {
            Engine::Sqlite => true,
            Engine::Postgres => false,
        }
    }

    /// The page cache (KiB) a long write transaction such as an import
    /// asks for, given back afterwards: SQLite's default 2 MiB makes a
    /// large file's transaction write the same pages out to the WAL again
    /// and again as it evicts them (`PRAGMA cache_size`; see
    /// `import/cache.rs`). `None`: the server manages its own buffers.
    pub(crate) fn bulk_write_cache_kib(self) -> Option<i64> {
        match self {
            Engine::Sqlite => Some(64 * 1024),
            Engine::Postgres => None,
        }
    }

    /// A hint that `table` must be read through `index`, to put after the
    /// table's name. SQLite's planner, given its statistics, may prefer a
    /// skip-scan of another index that does not cover the query; PostgreSQL
    /// has no such hint and needs none.
    pub(crate) fn index_hint(self, index: &str) -> String {
        match self {
            Engine::Sqlite => format!(" INDEXED BY {index}"),
            Engine::Postgres => String::new(),
        }
    }

    /// An aggregate joining a BIGINT column's values into one text with
    /// commas: one row through the driver instead of one per value.
    pub(crate) fn list_agg(self, column: &str) -> String {
        match self {
            Engine::Sqlite => format!("group_concat({column}, ',')"),
            Engine::Postgres => format!("string_agg(CAST({column} AS TEXT), ',')"),
        }
    }

    /// Settings for a bulk load on one connection (the benchmark generator):
    /// a crash may lose the load, which is then simply run again.
    #[cfg(any(test, feature = "generate"))]
    pub(crate) fn bulk_load_start(self) -> Option<&'static str> {
        match self {
            Engine::Sqlite => Some("PRAGMA synchronous = OFF"),
            Engine::Postgres => None,
        }
    }

    /// After a bulk load: normal durability again, the write-ahead log
    /// folded back into the file, and statistics for the planner, as a
    /// long-running workspace would have.
    #[cfg(any(test, feature = "generate"))]
    pub(crate) fn bulk_load_end(self) -> Option<&'static str> {
        match self {
            Engine::Sqlite => Some("PRAGMA synchronous = NORMAL; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)"),
            Engine::Postgres => None,
        }
    }
}

/// What a database error means to the store, whichever engine raised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DbFailure {
    /// The server went away, refused, or aborted the transaction to keep
    /// concurrent ones consistent: nothing was written, a retry may work.
    Unavailable,
    /// A unique or primary key was violated; the field it is about.
    Duplicate { field: &'static str },
    /// A row refers to one that does not exist.
    MissingReference,
    /// Text the engine cannot store (PostgreSQL refuses NUL in TEXT).
    BadText,
    /// Anything else: a bug or an operational problem, logged as such.
    Other,
}

/// SQLite extended result codes (sqlite3.h).
const SQLITE_BUSY: &str = "5";
const SQLITE_BUSY_RECOVERY: &str = "261";
const SQLITE_BUSY_SNAPSHOT: &str = "517";
const SQLITE_CONSTRAINT_FOREIGNKEY: &str = "787";
const SQLITE_CONSTRAINT_PRIMARYKEY: &str = "1555";
const SQLITE_CONSTRAINT_UNIQUE: &str = "2067";

/// Classifies a database error by its code. The two engines' code spaces do
/// not overlap (five-character SQLSTATEs against decimal numbers), so no
/// engine needs to be named.
pub(crate) fn classify(db: &dyn sqlx::error::DatabaseError) -> DbFailure {
    let code = db.code().unwrap_or(Cow::Borrowed(""));
    match code.as_ref() {
        // PostgreSQL: SQLSTATE class 08 (connection exception), 57P01–57P03
        // (shutdown, cannot connect now), 40001/40P01 (serialization
        // failure, deadlock).
        c if c.starts_with("08") => DbFailure::Unavailable,
        "57P01" | "57P02" | "57P03" | "40001" | "40P01" => DbFailure::Unavailable,
        // SQLite: SQLITE_BUSY and its extended codes, once the busy timeout
        // has run out (the transaction did not start or was rolled back).
        SQLITE_BUSY | SQLITE_BUSY_RECOVERY | SQLITE_BUSY_SNAPSHOT => DbFailure::Unavailable,
        "23505" => DbFailure::Duplicate { field: unique_field(db.constraint().unwrap_or("")) },
        SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY => {
            DbFailure::Duplicate { field: unique_field(&sqlite_constraint(db.message())) }
        }
        "23503" | SQLITE_CONSTRAINT_FOREIGNKEY => DbFailure::MissingReference,
        // 22021: character not in repertoire (a NUL byte in text);
        // 22P05: untranslatable character.
        "22021" | "22P05" => DbFailure::BadText,
        _ => DbFailure::Other,
    }
}

/// SQLite names no constraint, but its unique-violation message is fixed
/// by its source: `UNIQUE constraint failed: t.a, t.b`. This turns the
/// column list into the name PostgreSQL gives the same constraint
/// (`t_a_b_key`), so one table of names serves both engines.
fn sqlite_constraint(message: &str) -> String {
    let Some(cols) = message.split_once(": ").map(|(_, c)| c) else { return String::new() };
    let mut table = "";
    let mut names = Vec::new();
    for part in cols.split(", ") {
        if let Some((t, c)) = part.trim().split_once('.') {
            table = t;
            names.push(c);
        }
    }
    if table.is_empty() { String::new() } else { format!("{table}_{}_key", names.join("_")) }
}

/// The field a violated unique constraint is about, as the API names it.
fn unique_field(constraint: &str) -> &'static str {
    match constraint {
        "users_email_key" => "email",
        "sessions_token_hash_key" | "api_tokens_token_hash_key" => "token_hash",
        "lost_reasons_label_key" => "label",
        "custom_fields_entity_field_key_key" => "key",
        "import_keys_entity_source_external_id_key" => "external_id",
        c if c.ends_with("_pkey") || c.ends_with("_id_key") => "id",
        _ => "value",
    }
}

/// How hard SQLite works to keep a commit through a power failure (its
/// `synchronous` setting; PostgreSQL's durability is the server's own).
/// Both keep every commit when the process is killed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// WAL synced at checkpoints: a commit survives a crash of dealflow,
    /// but the last ones before a power failure or OS crash may be lost.
    #[default]
    Normal,
    /// WAL synced at every commit: also survives a power failure, at the
    /// price of one disk flush per write.
    Full,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Engine::from_url("postgres://x/y").unwrap().0, Engine::Postgres);
        assert!(Engine::from_url("mysql://x").unwrap_err().to_string().contains("unsupported"));
        let (e, u) = Engine::from_url("sqlite::memory:").unwrap();
        assert_eq!(e, Engine::Sqlite);
        assert_eq!(u, "sqlite://:memory:?mode=rwc");
    }

    #[test]
    fn both_engines_name_a_constraint_alike() {
        assert_eq!(sqlite_constraint("UNIQUE constraint failed: users.email"), "users_email_key");
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: custom_fields.entity, custom_fields.field_key"),
            "custom_fields_entity_field_key_key"
        );
        assert_eq!(sqlite_constraint("something else"), "");
        assert_eq!(unique_field("users_email_key"), "email");
        assert_eq!(
            unique_field(&sqlite_constraint("UNIQUE constraint failed: custom_fields.entity, custom_fields.field_key")),
            "key"
        );
        assert_eq!(unique_field("deals_pkey"), "id");
        assert_eq!(unique_field(&sqlite_constraint("UNIQUE constraint failed: deals.id")), "id");
        assert_eq!(unique_field("made_up_key"), "value");
    }
}
