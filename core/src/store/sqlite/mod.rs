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

use sqlx::{ConnectOptions, Sqlite, Transaction};
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
    (6, "events ips", include_str!("../migrations/sqlite/0006_events_ips.sql")),
];

/// The page cache of a pooled connection (negative: KiB): 8 MiB, set when a connection opens
/// and again whenever one goes back to the pool.
const DEFAULT_CACHE: &str = "PRAGMA cache_size = -8192";
/// The page cache of an import's connection: 256 MiB.
const BULK_CACHE: &str = "PRAGMA cache_size = -262144";

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
            // a day's scan runs for seconds by design: logged at debug level only
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        // 8 MiB of page cache per connection (4 connections): with 64 MiB each, the desktop
        // app's process grew to 445 MB while its in-process workers computed a demo year (245 MB
        // with 8 MiB; docs/benchmarks.md, desktop app). Imports raise it on their own connection
        // ([`SqliteStore::begin_bulk`]); it is set back when the connection is released.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query(DEFAULT_CACHE).execute(conn).await?;
                    Ok(())
                })
            })
            .after_release(|conn, _| {
                Box::pin(async move {
                    sqlx::query(DEFAULT_CACHE).execute(conn).await?;
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        migrator(MIGRATIONS).run(&pool).await?;
        Ok(SqliteStore { pool, location })
    }

    /// A write transaction (`BEGIN IMMEDIATE`) for a bulk import: its connection gets
    /// [`BULK_CACHE`] of page cache until it goes back to the pool. An import's random
    /// index inserts otherwise spill dirty pages to the WAL over and over (2M IntelMQ events:
    /// 24 s with 8 MiB, 12 s with 256 MiB).
    pub(crate) async fn begin_bulk(&self) -> Result<Transaction<'static, Sqlite>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(BULK_CACHE).execute(&mut *tx).await?;
        Ok(tx)
    }

    /// The connection pool, for other modules of this crate.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

store_common!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);

#[cfg(test)]
mod tests {
    use super::*;

    async fn cache_size(conn: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA cache_size").fetch_one(conn).await.expect("pragma")
    }

    #[tokio::test]
    async fn an_import_gets_a_big_page_cache_that_goes_back_with_its_connection() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open_file(&dir.path().join("vantage.db")).await.expect("open");
        let mut tx = store.begin_bulk().await.expect("bulk");
        assert_eq!(cache_size(&mut tx).await, -262_144);
        tx.commit().await.expect("commit");
        // every connection of the pool at once: the one the import used is among them
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut conn = store.pool().acquire().await.expect("acquire");
            assert_eq!(cache_size(&mut conn).await, -8192);
            held.push(conn);
        }
    }
}
