//! Storage: one trait, two implementations.
//!
//! - [`sqlite::SqliteStore`]: the embedded default, a file `vantage.db` in the data dir,
//!   created on first use (WAL mode).
//! - [`postgres::PgStore`]: PostgreSQL 15+, compatible with an existing Sentinel View
//!   database (TimescaleDB hypertables when the extension is usable).
//!
//! Each backend has its own migrations under `store/migrations/<backend>/`, applied on open
//! and recorded in `vantage_schema_migrations`. Capability modules talk to [`Store`] only.
//! SQL is built from fixed fragments (table and column names from allow-lists in
//! [`crate::statistics::model`]) with every value bound as a parameter.

pub mod events_sql;
pub mod postgres;
mod postgres_events;
pub mod sql;
pub mod sqlite;
mod sqlite_events;

pub use postgres_events::read_eventdb;

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::aggregate::{AggregateOutcome, Scope};
use crate::events::model::{AggTable, Event};
use crate::events::query::{EventQuery, EventRow};
use crate::events::EventsStatus;
use crate::passwords::PwnedHash;
use crate::progress::Progress;
use crate::statistics::aggregation::{ChunkOutcome, Precision, Window};
use crate::statistics::model::{DataType, Level, ReportBatch, StoredRow};
use crate::statistics::query::{StatQuery, StatRow};

/// Which implementation a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// Row count and `SUM(raw_count)` of one statistics table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableTotal {
    /// Table name.
    pub table: &'static str,
    /// Number of rows.
    pub rows: i64,
    /// Sum of `raw_count`.
    pub sum: i64,
}

/// An open import transaction. Dropping it without [`IngestSession::commit`] rolls back.
#[async_trait]
pub trait IngestSession: Send {
    /// Writes a batch inside the transaction, creating unknown identities on the fly.
    async fn write(&mut self, batch: &ReportBatch) -> Result<()>;
    /// Commits everything written; returns the number of identities created.
    async fn commit(self: Box<Self>) -> Result<u64>;
    /// Discards everything written.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// An open events import transaction. Dropping it without [`EventSession::commit`] rolls back.
#[async_trait]
pub trait EventSession: Send {
    /// Writes events inside the transaction.
    async fn write(&mut self, events: &[Event]) -> Result<()>;
    /// Marks the UTC days of the written events for re-aggregation and commits, setting the
    /// counter `mark` = (name, value) in the same transaction when given. Returns the days.
    async fn commit(self: Box<Self>, mark: Option<(&str, i64)>) -> Result<Vec<chrono::NaiveDate>>;
    /// Discards everything written.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// The storage interface every capability uses.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which implementation this is.
    fn backend(&self) -> Backend;

    /// Where the data lives, safe to print (passwords redacted).
    fn location(&self) -> String;

    /// Starts an import transaction.
    async fn begin_ingest(&self) -> Result<Box<dyn IngestSession>>;

    /// Aggregates `windows` (sorted, consecutive chunk of one precision) exactly once, in one
    /// transaction under the precision's lock. See [`crate::statistics::aggregation`].
    async fn aggregate_chunk(
        &self,
        precision: Precision,
        windows: &[Window],
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<ChunkOutcome>;

    /// Runs one statistics query (the building block of every resource).
    async fn stat_query(&self, query: &StatQuery) -> Result<Vec<StatRow>>;

    /// Every row of a statistics table in backend-neutral form, sorted.
    async fn table_rows(&self, data: DataType, level: Level) -> Result<Vec<StoredRow>>;

    /// Row counts and sums of all twelve statistics tables.
    async fn table_totals(&self) -> Result<Vec<TableTotal>>;

    /// Merges leaked-password hashes (one row per hash) in one transaction: counts are
    /// added to stored ones, sources united. `mark` = (counter name, value) is set in the
    /// same transaction (an incremental import's watermark).
    async fn pwned_merge(&self, rows: &[PwnedHash], mark: Option<(&str, i64)>, progress: &dyn Progress) -> Result<()>;

    /// A counter's value (0 when never set): see [`Store::pwned_merge`]'s `mark`.
    async fn counter(&self, name: &str) -> Result<i64>;

    /// Attempted passwords of the statistics `passwords` table reported after `after`
    /// (micro­seconds since the epoch), summed per (password, source trap); the trap is the
    /// `minipot_*` trap of a login incident reported at the same instant, if any. Also returns
    /// the newest time read (microseconds), or `after` when nothing is newer.
    async fn attempted_passwords(&self, after: i64) -> Result<(Vec<(String, Option<String>, i64)>, i64)>;

    /// Stored leaked-password hashes starting with `prefix` (lowercase hex), sorted, found
    /// by a range scan of the hash index.
    async fn pwned_range(&self, prefix: &str) -> Result<Vec<PwnedHash>>;

    /// Up to `limit` stored leaked-password hashes after `after` in hash order (paging
    /// through the index; `""` starts at the beginning).
    async fn pwned_page(&self, after: &str, limit: i64) -> Result<Vec<PwnedHash>>;

    /// A counter bumped by every [`Store::pwned_merge`] (0 before the first): readers holding a
    /// copy re-read when it changes.
    async fn pwned_version(&self) -> Result<i64>;

    /// The `limit` most often seen leaked-password hashes (count descending, then hash).
    async fn pwned_top(&self, limit: i64) -> Result<Vec<PwnedHash>>;

    /// Number of stored leaked-password hashes.
    async fn pwned_total(&self) -> Result<i64>;

    /// Starts an events import transaction.
    async fn begin_events_import(&self) -> Result<Box<dyn EventSession>>;

    /// Re-aggregates the daily tables in one transaction: the days marked by imports
    /// ([`Scope::Pending`]), a range of days, or everything. Marks of the days done are
    /// cleared in the same transaction; concurrent runs and commits of imports wait for it.
    /// Also counts the events without `time.source` (an index lookup).
    async fn events_aggregate(&self, scope: Scope) -> Result<AggregateOutcome>;

    /// Runs one events query (every events question is built from these).
    async fn events_query(&self, query: &EventQuery) -> Result<Vec<EventRow>>;

    /// Every row of an aggregation table as text (day, count, dimensions), sorted.
    async fn events_table_rows(&self, table: AggTable) -> Result<Vec<Vec<Option<String>>>>;

    /// Stored events, those without `time.source`, days waiting for aggregation, table sizes.
    async fn events_status(&self) -> Result<EventsStatus>;

    /// Checks the database answers (`SELECT 1`).
    async fn ping(&self) -> Result<()>;

    /// Closes the connection pool.
    async fn close(&self);
}

/// Opens the store the configuration names: PostgreSQL for `postgres://` URLs, SQLite for
/// `sqlite:` URLs or, by default, `<data_dir>/vantage.db`. Applies pending migrations.
pub async fn open(config: &Config) -> Result<Arc<dyn Store>> {
    match &config.database_url {
        Some(url) if url.expose().starts_with("postgres") => Ok(Arc::new(postgres::PgStore::connect(url).await?)),
        Some(url) => Ok(Arc::new(sqlite::SqliteStore::open_url(url.expose()).await?)),
        None => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| Error::io(&config.data_dir, e))?;
            Ok(Arc::new(sqlite::SqliteStore::open_file(&config.data_dir.join("vantage.db")).await?))
        }
    }
}

/// Reads `n` nullable text columns starting at `from` (group keys, dimension columns).
pub(crate) fn texts<R: sqlx::Row>(row: &R, from: usize, n: usize) -> std::result::Result<Vec<Option<String>>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    (from..from + n).map(|i| row.try_get(i)).collect()
}

/// Decodes the rows of an events query: day text (when by day), one text key per group field,
/// the count; sorted.
pub(crate) fn event_rows<R: sqlx::Row>(rows: &[R], query: &EventQuery) -> std::result::Result<Vec<EventRow>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let offset = usize::from(query.by_day);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let day = if query.by_day { r.try_get::<Option<String>, _>(0)?.and_then(|d| d.parse().ok()) } else { None };
        let value: Option<i64> = r.try_get(offset + query.group.len())?;
        out.push(EventRow { day, keys: texts(r, offset, query.group.len())?, value: value.unwrap_or(0) });
    }
    out.sort();
    Ok(out)
}

/// Binds an events query's values in order (days as `date` on PostgreSQL, `YYYY-MM-DD` text on SQLite).
pub(crate) fn bind_events<'q, DB: sqlx::Database>(
    mut query: sqlx::query::Query<'q, DB, DB::Arguments>,
    binds: Vec<events_sql::EventBind>,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    for<'t> chrono::NaiveDate: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    for b in binds {
        query = match b {
            events_sql::EventBind::Day(d) => query.bind(d),
            events_sql::EventBind::Text(s) => query.bind(s),
            events_sql::EventBind::Int(i) => query.bind(i),
        };
    }
    query
}

/// Rows of `n` nullable text columns, sorted.
pub(crate) fn sorted_texts<R: sqlx::Row>(rows: &[R], n: usize) -> std::result::Result<Vec<Vec<Option<String>>>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let mut out = rows.iter().map(|r| texts(r, 0, n)).collect::<std::result::Result<Vec<_>, _>>()?;
    out.sort();
    Ok(out)
}

/// Identity ids already resolved in an import, looked up without allocating.
#[derive(Debug, Default)]
pub(crate) struct IdentityCache {
    by_sn: std::collections::HashMap<String, std::collections::HashMap<String, i64>>,
    /// Identities created by this import.
    pub created: u64,
}

impl IdentityCache {
    /// The id of `(sn, token)` if known.
    pub fn get(&self, sn: &str, token: &str) -> Option<i64> {
        self.by_sn.get(sn).and_then(|m| m.get(token)).copied()
    }

    /// Remembers an id.
    pub fn insert(&mut self, sn: &str, token: &str, id: i64) {
        self.by_sn.entry(sn.to_string()).or_default().insert(token.to_string(), id);
    }
}

/// Rows per leaked-password upsert statement.
pub(crate) const PWNED_ROWS_PER_STATEMENT: usize = 5000;

/// The exclusive upper bound of a hex prefix range: every lowercase hex string starting with
/// `prefix` is ≥ `prefix` and < `prefix` + `g`.
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}g")
}

/// Name of the table that records applied migrations (kept apart from sview's tables).
pub const MIGRATIONS_TABLE: &str = "vantage_schema_migrations";

/// Builds a migrator over embedded SQL files `(version, description, sql)`.
fn migrator(files: &[(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = files
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, sqlx::SqlSafeStr::into_sql_str(*sql), false)
        })
        .collect();
    let mut m = Migrator::with_migrations(migrations);
    m.dangerous_set_table_name(MIGRATIONS_TABLE);
    m
}

/// The names of the twelve statistics tables with their data type and level.
pub(crate) fn statistics_tables() -> impl Iterator<Item = (DataType, Level)> {
    DataType::ALL
        .into_iter()
        .flat_map(|d| [Level::Raw, Level::Quarterly, Level::Hourly, Level::Daily].into_iter().map(move |l| (d, l)))
}

