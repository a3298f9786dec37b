//! Storage: one trait per concern, two implementations.
//!
//! Each concern keeps its storage trait together with the model types it exchanges:
//! - [`statistics`]: [`StatisticsStore`], sessions for imports and aggregation, the report and
//!   query types;
//! - [`passwords`]: [`PasswordStore`], the leaked-password hashes;
//! - [`events`]: [`EventStore`], IntelMQ events, the daily tables and their queries;
//! - [`flows`]: [`FlowStore`], raw flow records (Spot's columns),
//!   and [`FlowOaStore`], the outputs of an OA run.
//!
//! [`Store`] combines them with what every backend offers (counters, ping, close). Backends:
//! - [`sqlite::SqliteStore`]: the embedded default, a file `vantage.db` in the data dir,
//!   created on first use (WAL mode).
//! - [`postgres::PgStore`]: PostgreSQL 15+, compatible with an existing Sentinel View
//!   database (TimescaleDB hypertables when the extension is usable).
//!
//! Each backend has its own migrations under `store/migrations/<backend>/`, applied on open
//! and recorded in `vantage_schema_migrations`. The store imports no capability: capabilities
//! hold the algorithms and talk to these traits. SQL is built from fixed fragments (table and
//! column names from allow-lists in the model types) with every value bound as a parameter.

pub(crate) mod codec;
mod shared;
pub mod dialect;
pub mod events;
pub mod flows;
pub mod passwords;
mod passwords_shared;
pub mod postgres;
pub mod sqlite;
pub mod statistics;

pub use events::{EventAggregationSession, EventSession, EventStore};
pub use flows::oa::FlowOaStore;
pub use flows::{FlowSession, FlowStore};
pub use passwords::PasswordStore;
pub use statistics::{AggregationSession, IngestSession, StatisticsStore, TableTotal};

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::config::Config;
use crate::error::{Error, Result};

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

/// The storage interface of the whole application: every concern plus what all backends share.
#[async_trait]
pub trait Store: StatisticsStore + PasswordStore + EventStore + FlowStore + FlowOaStore {
    /// Which implementation this is.
    fn backend(&self) -> Backend;

    /// Where the data lives, safe to print (passwords redacted).
    fn location(&self) -> String;

    /// A counter's value (0 when never set): watermarks of incremental imports, set in the
    /// same transaction as the data they describe.
    async fn counter(&self, name: &str) -> Result<i64>;

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
