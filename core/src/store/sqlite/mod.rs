//! The embedded SQLite store (default): one file, WAL mode, created on first use.
//!
//! Times are INTEGER microseconds since the Unix epoch; enums are CHECK-constrained TEXT.
//! Writers serialise on SQLite's single write lock; aggregation takes it up front with
//! `BEGIN IMMEDIATE` so two runs of the same window queue behind each other and the second
//! sees the first's record. One module per concern: [`statistics`], [`passwords`], [`events`], [`flows`].

mod events;
mod flows;
mod passwords;
mod statistics;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::shared::store_common;
use super::{Backend, migrator};
use crate::error::Result;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "statistics", include_str!("../migrations/sqlite/0001_statistics.sql")),
    (2, "counters", include_str!("../migrations/sqlite/0002_counters.sql")),
    (3, "events", include_str!("../migrations/sqlite/0003_events.sql")),
    (4, "flows", include_str!("../migrations/sqlite/0004_flows.sql")),
    (5, "flow oa", include_str!("../migrations/sqlite/0005_flow_oa.sql")),
];

/// SQLite implementation of [`crate::store::Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    location: String,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`.
    pub async fn open_file(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new().filename(path);
        Self::open_with(options, path.display().to_string()).await
    }

    /// Opens a `sqlite:` URL (`sqlite://path/to/file.db`, `sqlite::memory:` is not useful
    /// across pool connections and is rejected by SQLite's per-connection semantics).
    pub async fn open_url(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?;
        Self::open_with(options, url.to_string()).await
    }

    async fn open_with(options: SqliteConnectOptions, location: String) -> Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(60))
            // 8 MiB of page cache per connection (4 connections): with 64 MiB each, the desktop
            // app's process grew to 445 MB while its in-process workers computed a demo year
            // (245 MB with 8 MiB; docs/benchmarks.md, desktop app)
            .pragma("cache_size", "-8192")
            // a day's scan runs for seconds by design: logged at debug level only
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        migrator(MIGRATIONS).run(&pool).await?;
        Ok(SqliteStore { pool, location })
    }

    /// The connection pool, for other modules of this crate.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

store_common!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
