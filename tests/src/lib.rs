//! Shared support for Vantage's integration tests: real PostgreSQL databases created per
//! test, SQLite stores in temporary directories, and Sentinel View's development data.
//!
//! PostgreSQL is reached at `VANTAGE_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); `scripts/test.sh` makes sure it runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, Months, Utc};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use vantage_core::config::{Config, SecretUrl};
use vantage_core::store::{self, Store};
use vantage_core::Clock;

pub mod bench_dossier;
pub mod bench_dynfw;
pub mod bench_sview_sql;
pub mod dynfw;
pub mod dynfw_sample;
pub mod events;
pub mod greylist;
pub mod process;
pub mod steno_standin;
pub mod sview;
pub mod tmux;

/// The maintenance database URL tests create their databases from.
pub fn pg_admin_url() -> String {
    std::env::var("VANTAGE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A PostgreSQL database that exists for one test.
pub struct TestPg {
    /// Database name.
    pub name: String,
    /// URL of the database.
    pub url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestPg {
    /// Creates a fresh, empty database `vantage_t_<pid>_<n>`.
    pub async fn create() -> TestPg {
        let admin = pg_admin_url();
        let name = format!("vantage_t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required for this test (run scripts/test.sh): {e}"));
        for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await.expect("create test database");
        }
        let _ = conn.close().await;
        let url = match admin.rfind('/') {
            Some(i) => format!("{}/{name}", &admin[..i]),
            None => panic!("VANTAGE_TEST_PG_URL must end in /database"),
        };
        TestPg { name, url }
    }

    /// Runs raw SQL (several statements) in the database.
    pub async fn execute(&self, sql: String) {
        let mut conn = PgConnection::connect(&self.url).await.expect("connect to test database");
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await.expect("raw SQL");
        let _ = conn.close().await;
    }

    /// Drops the database.
    pub async fn drop_db(self) {
        if let Ok(mut conn) = PgConnection::connect(&pg_admin_url()).await {
            let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))).execute(&mut conn).await;
            let _ = conn.close().await;
        }
    }
}

/// The Redis URL tests use (`VANTAGE_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`).
pub fn redis_url() -> String {
    std::env::var("VANTAGE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A key namespace of its own for one test on the shared Redis.
pub fn redis_namespace() -> String {
    format!("vt{}_{}_", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A cache and queue pair: in-process, or Redis under a fresh namespace.
pub async fn cache_and_queue(kind: Kind) -> (Arc<dyn vantage_core::cache::Cache>, Arc<dyn vantage_core::jobs::Queue>) {
    match kind {
        Kind::Sqlite => (Arc::new(vantage_core::cache::memory::MemoryCache::default()), Arc::new(vantage_core::jobs::memory::MemoryQueue::default())),
        Kind::Postgres => {
            let url = SecretUrl::new(redis_url());
            let ns = redis_namespace();
            let cache = vantage_core::cache::redis::RedisCache::connect_namespaced(&url, &ns)
                .await
                .unwrap_or_else(|e| panic!("Redis at {} is required (run scripts/test.sh): {e}", url.redacted()));
            let queue = vantage_core::jobs::redis::RedisQueue::connect_namespaced(&url, &ns).await.expect("redis queue");
            (Arc::new(cache), Arc::new(queue))
        }
    }
}

/// Which backend a test runs on: the embedded default (SQLite + in-process cache/queue) or
/// production (PostgreSQL + Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Embedded: SQLite file, in-process cache and queue.
    Sqlite,
    /// Production: PostgreSQL server, Redis.
    Postgres,
}

/// Both backends, for `for kind in BOTH { … }` loops.
pub const BOTH: [Kind; 2] = [Kind::Sqlite, Kind::Postgres];

/// A store of either kind plus what keeps it alive (temp dir / test database).
pub struct TestStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Configuration that opens the same store again (for a second "process").
    pub config: Config,
    /// Which backend.
    pub kind: Kind,
    dir: tempfile::TempDir,
    pg: Option<TestPg>,
}

impl TestStore {
    /// A new empty store of `kind` with the clock pinned to `now`.
    pub async fn new(kind: Kind, now: DateTime<Utc>) -> TestStore {
        Self::with_existing_pg_schema(kind, now, None).await
    }

    /// Like [`TestStore::new`], but on PostgreSQL runs `existing_sql` in the fresh database
    /// before Vantage opens it (an existing sview database).
    pub async fn with_existing_pg_schema(kind: Kind, now: DateTime<Utc>, existing_sql: Option<String>) -> TestStore {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::embedded(dir.path(), Clock::Fixed(now));
        let pg = match kind {
            Kind::Sqlite => None,
            Kind::Postgres => {
                let pg = TestPg::create().await;
                if let Some(sql) = existing_sql {
                    pg.execute(sql).await;
                }
                config.database_url = Some(SecretUrl::new(pg.url.clone()));
                Some(pg)
            }
        };
        let store = store::open(&config).await.expect("open store");
        TestStore { store, config, kind, dir, pg }
    }

    /// Opens another independent handle (own pool) on the same data, like a second process.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        store::open(&self.config).await.expect("reopen store")
    }

    /// The data directory (SQLite file lives here).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The PostgreSQL test database, if any.
    pub fn pg(&self) -> Option<&TestPg> {
        self.pg.as_ref()
    }

    /// Runs raw SQL on the store's database behind Vantage's back (rows an older version or
    /// another tool wrote): `sqlite` on the SQLite file, `postgres` on the PostgreSQL database.
    pub async fn raw_sql(&self, sqlite: &str, postgres: &str) {
        match &self.pg {
            Some(pg) => pg.execute(postgres.to_string()).await,
            None => {
                let raw = store::sqlite::SqliteStore::open_file(&self.dir.path().join("vantage.db")).await.expect("open the SQLite file");
                sqlx::raw_sql(AssertSqlSafe(sqlite.to_string())).execute(raw.pool()).await.expect("raw SQL");
                raw.close().await;
            }
        }
    }

    /// Closes the store and drops the PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(pg) = self.pg {
            pg.drop_db().await;
        }
    }
}

/// Parses an RFC 3339 instant (panics on bad test input).
pub fn t(s: &str) -> DateTime<Utc> {
    vantage_core::clock::parse_instant(s).expect("valid instant")
}

/// `now - interval` with PostgreSQL's calendar semantics for months.
pub fn minus_interval(now: DateTime<Utc>, amount: i64, unit: &str) -> DateTime<Utc> {
    match unit.trim_end_matches('s') {
        "minute" => now - Duration::minutes(amount),
        "hour" => now - Duration::hours(amount),
        "day" => now - Duration::days(amount),
        "month" => now.checked_sub_months(Months::new(amount as u32)).expect("month arithmetic"),
        other => panic!("unsupported interval unit {other}"),
    }
}

/// Country codes the benchmarks' synthetic data is spread over.
pub const COUNTRIES: &[&str] = &[
    "CN", "US", "RU", "BR", "IN", "VN", "KR", "DE", "NL", "FR", "GB", "ID", "TW", "UA", "IR", "CZ", "SG", "HK", "JP", "TR",
    "AR", "MX", "PL", "RO", "TH", "EG", "PK", "BG", "SK", "CA",
];
