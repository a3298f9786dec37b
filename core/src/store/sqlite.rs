//! The embedded SQLite store (default): one file, WAL mode, created on first use.
//!
//! Times are INTEGER microseconds since the Unix epoch; enums are CHECK-constrained TEXT.
//! Writers serialise on SQLite's single write lock; aggregation takes it up front with
//! `BEGIN IMMEDIATE` so two runs of the same window queue behind each other and the second
//! sees the first's record.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, Transaction};

use super::sql::{Bind, Dialect, aggregation_error};
use super::{Backend, IdentityCache, IngestSession, PWNED_ROWS_PER_STATEMENT, Store, TableTotal, migrator, prefix_end, statistics_tables, texts};
use crate::error::Result;
use crate::passwords::PwnedHash;
use crate::progress::Progress;
use crate::statistics::aggregation::{ChunkOutcome, ChunkState, Fingerprint, Precision, Window, runs};
use crate::statistics::model::{DataType, Level, ReportBatch, StoredRow};
use crate::statistics::query::{StatQuery, StatRow};
use crate::timebucket::{from_micros, to_micros};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "statistics", include_str!("migrations/sqlite/0001_statistics.sql")),
    (2, "counters", include_str!("migrations/sqlite/0002_counters.sql")),
    (3, "events", include_str!("migrations/sqlite/0003_events.sql")),
];

/// Rows per multi-row INSERT (7 columns × 1000 = 7000 parameters, below SQLite's 32766).
const ROWS_PER_INSERT: usize = 1000;

const D: Dialect = Dialect::Sqlite;

/// SQLite implementation of [`Store`].
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
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        migrator(MIGRATIONS).run(&pool).await?;
        Ok(SqliteStore { pool, location })
    }

    /// The connection pool, for other modules of this crate.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    async fn begin_ingest(&self) -> Result<Box<dyn IngestSession>> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteIngest { tx, identities: IdentityCache::default() }))
    }

    async fn aggregate_chunk(&self, precision: Precision, windows: &[Window], dry_run: bool, now: DateTime<Utc>) -> Result<ChunkOutcome> {
        let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
            return Ok(ChunkOutcome::default());
        };
        let (from, to) = (to_micros(first.start), to_micros(last.end));
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;

        let mut state = ChunkState::<i64>::default();
        for (k, data) in DataType::ALL.into_iter().enumerate() {
            let src = precision.source().table(data);
            let sql = D.fingerprint(precision, src);
            let rows: Vec<(i64, i64, i64)> = sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(&mut *tx).await.map_err(aggregation_error(src))?;
            for (bucket, n, sum) in rows {
                state.add_source(k, bucket, n, sum);
            }
        }
        let done_rows = sqlx::query(AssertSqlSafe(D.done_windows()))
            .bind(precision.as_str())
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?;
        for r in done_rows {
            let fp = |i: usize| -> std::result::Result<Fingerprint, sqlx::Error> { Ok(Fingerprint { rows: r.try_get(i)?, sum: r.try_get(i + 1)? }) };
            state.done.insert(r.try_get(0)?, [fp(1)?, fp(3)?, fp(5)?]);
        }
        let (plans, records) = state.plan(windows, |w| to_micros(w.start));
        if dry_run {
            tx.rollback().await?;
            return Ok(ChunkOutcome { plans, rows_written: 0 });
        }

        let mut rows_written = 0;
        for (k, data) in DataType::ALL.into_iter().enumerate() {
            let (src, dst) = (precision.source().table(data), precision.target().table(data));
            let insert = D.aggregate_insert(precision, data, src, dst);
            for run in runs(&plans, |p| p.actions[k].writes(), |i| state.source_rows(&to_micros(plans[i].window.start), k)) {
                let (a, b) = (to_micros(run.start), to_micros(run.end));
                sqlx::query(AssertSqlSafe(D.delete_range(dst))).bind(a).bind(b).execute(&mut *tx).await.map_err(aggregation_error(dst))?;
                rows_written += sqlx::query(AssertSqlSafe(insert.clone())).bind(a).bind(b).execute(&mut *tx).await.map_err(aggregation_error(src))?.rows_affected();
            }
        }
        let record = D.record_window();
        for (window, fp) in records {
            sqlx::query(AssertSqlSafe(record.clone()))
                .bind(precision.as_str())
                .bind(to_micros(window.start))
                .bind(to_micros(window.end))
                .bind(fp[0].rows)
                .bind(fp[0].sum)
                .bind(fp[1].rows)
                .bind(fp[1].sum)
                .bind(fp[2].rows)
                .bind(fp[2].sum)
                .bind(to_micros(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ChunkOutcome { plans, rows_written })
    }

    async fn stat_query(&self, query: &StatQuery) -> Result<Vec<StatRow>> {
        let (sql, binds) = D.stat_query(query);
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Time(t) => q.bind(to_micros(t)),
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let offset = usize::from(query.bucket.is_some());
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let bucket = if offset == 1 { r.try_get::<Option<i64>, _>(0)?.map(from_micros) } else { None };
            let keys = texts(&r, offset, query.group.len())?;
            out.push(StatRow { bucket, keys, value: r.try_get(offset + query.group.len())? });
        }
        Ok(out)
    }

    async fn table_rows(&self, data: DataType, level: Level) -> Result<Vec<StoredRow>> {
        let sql = D.table_rows(data, level.table(data));
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let dims = texts(&r, 2, data.dimensions().len())?;
            out.push(StoredRow { time: from_micros(r.try_get(0)?), dims, raw_count: r.try_get(1)? });
        }
        out.sort();
        Ok(out)
    }

    async fn table_totals(&self) -> Result<Vec<TableTotal>> {
        let mut out = Vec::new();
        for (data, level) in statistics_tables() {
            let table = level.table(data);
            let (rows, sum): (i64, i64) = sqlx::query_as(AssertSqlSafe(D.totals(table))).fetch_one(&self.pool).await?;
            out.push(TableTotal { table, rows, sum });
        }
        Ok(out)
    }

    async fn pwned_merge(&self, rows: &[PwnedHash], mark: Option<(&str, i64)>, progress: &dyn Progress) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // 3 parameters a row, below SQLite's 32766
        for chunk in rows.chunks(PWNED_ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO passwords_pwned (password_hash, password_count, password_source) ");
            q.push_values(chunk, |mut b, r| {
                let sources: Vec<&str> = r.sources.iter().map(|s| s.as_str()).collect();
                b.push_bind(r.hash.as_str()).push_bind(r.count).push_bind(serde_json::to_string(&sources).unwrap_or_else(|_| "[]".into()));
            });
            // counts saturate at i64::MAX (SQLite would turn an overflowing sum into a REAL)
            q.push(format!(
                " ON CONFLICT (password_hash) DO UPDATE SET
                    password_count = CASE WHEN {c} > 9223372036854775807 - excluded.password_count THEN 9223372036854775807
                                          ELSE {c} + excluded.password_count END,
                    password_source = (SELECT json_group_array(value) FROM (
                        SELECT value FROM json_each(passwords_pwned.password_source)
                        UNION SELECT value FROM json_each(excluded.password_source) ORDER BY value))",
                c = PWNED_COUNT
            ));
            q.build().execute(&mut *tx).await?;
            progress.advance(chunk.len() as u64);
        }
        sqlx::query(
            "INSERT INTO vantage_counters (name, value) VALUES ('passwords_pwned', 1)
             ON CONFLICT (name) DO UPDATE SET value = vantage_counters.value + 1",
        )
        .execute(&mut *tx)
        .await?;
        if let Some((name, value)) = mark {
            sqlx::query("INSERT INTO vantage_counters (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                .bind(name)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn pwned_range(&self, prefix: &str) -> Result<Vec<PwnedHash>> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(AssertSqlSafe(pwned_select("WHERE password_hash >= ?1 AND password_hash < ?2 ORDER BY password_hash")))
        .bind(prefix)
        .bind(prefix_end(prefix))
        .fetch_all(&self.pool)
        .await?;
        Ok(pwned_rows(rows))
    }

    async fn pwned_page(&self, after: &str, limit: i64) -> Result<Vec<PwnedHash>> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(AssertSqlSafe(pwned_select("WHERE password_hash > ?1 ORDER BY password_hash LIMIT ?2")))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(pwned_rows(rows))
    }

    async fn pwned_top(&self, limit: i64) -> Result<Vec<PwnedHash>> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(AssertSqlSafe(pwned_select("ORDER BY 2 DESC, password_hash LIMIT ?1")))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(pwned_rows(rows))
    }

    async fn counter(&self, name: &str) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT value FROM vantage_counters WHERE name = ?1").bind(name).fetch_optional(&self.pool).await?;
        Ok(v.unwrap_or(0))
    }

    async fn attempted_passwords(&self, after: i64) -> Result<(Vec<(String, Option<String>, i64)>, i64)> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "WITH src AS (
                SELECT p.password, p.raw_count,
                       (SELECT min(i.trap) FROM incidents i
                         WHERE i.time = p.time AND i.action = 'login' AND i.trap LIKE 'minipot\\_%' ESCAPE '\\') AS trap
                  FROM passwords p WHERE p.time > ?1)
             SELECT password, trap, sum(coalesce(raw_count, 1)) FROM src GROUP BY password, trap",
        )
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        let newest: Option<i64> = sqlx::query_scalar("SELECT max(time) FROM passwords WHERE time > ?1").bind(after).fetch_one(&self.pool).await?;
        Ok((rows, newest.unwrap_or(after)))
    }

    async fn pwned_version(&self) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT value FROM vantage_counters WHERE name = 'passwords_pwned'").fetch_optional(&self.pool).await?;
        Ok(v.unwrap_or(0))
    }

    async fn pwned_total(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM passwords_pwned").fetch_one(&self.pool).await?)
    }

    async fn begin_events_import(&self) -> Result<Box<dyn super::EventSession>> {
        self.events_begin().await
    }

    async fn events_aggregate(&self, scope: crate::events::aggregate::Scope) -> Result<crate::events::aggregate::AggregateOutcome> {
        self.events_aggregate_impl(scope).await
    }

    async fn events_query(&self, query: &crate::events::query::EventQuery) -> Result<Vec<crate::events::query::EventRow>> {
        self.events_query_impl(query).await
    }

    async fn events_table_rows(&self, table: crate::events::model::AggTable) -> Result<Vec<Vec<Option<String>>>> {
        self.events_table_rows_impl(table).await
    }

    async fn events_status(&self) -> Result<crate::events::EventsStatus> {
        self.events_status_impl().await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// An import transaction on SQLite: multi-row INSERTs inside one `BEGIN IMMEDIATE`.
struct SqliteIngest {
    tx: Transaction<'static, Sqlite>,
    identities: IdentityCache,
}

impl SqliteIngest {
    async fn identity(&mut self, sn: &str, token: &str) -> Result<i64> {
        if let Some(id) = self.identities.get(sn, token) {
            return Ok(id);
        }
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO identity (sn, device_token) VALUES (?, ?) ON CONFLICT (sn, device_token) DO NOTHING RETURNING id",
        )
        .bind(sn)
        .bind(token)
        .fetch_optional(&mut *self.tx)
        .await?;
        let id = match inserted {
            Some(id) => {
                self.identities.created += 1;
                id
            }
            None => {
                sqlx::query_scalar("SELECT id FROM identity WHERE sn = ? AND device_token = ?")
                    .bind(sn)
                    .bind(token)
                    .fetch_one(&mut *self.tx)
                    .await?
            }
        };
        self.identities.insert(sn, token, id);
        Ok(id)
    }
}

#[async_trait]
impl IngestSession for SqliteIngest {
    async fn write(&mut self, batch: &ReportBatch) -> Result<()> {
        let mut ids = Vec::with_capacity(batch.incidents.len());
        for r in &batch.incidents {
            ids.push(self.identity(&r.sn, &r.device_token).await?);
        }
        for (chunk, ids) in batch.incidents.chunks(ROWS_PER_INSERT).zip(ids.chunks(ROWS_PER_INSERT)) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country) ");
            q.push_values(chunk.iter().zip(ids), |mut b, (r, id)| {
                b.push_bind(to_micros(r.time))
                    .push_bind(r.raw_count)
                    .push_bind(*id)
                    .push_bind(r.trap.as_str())
                    .push_bind(r.action.as_str())
                    .push_bind(r.ip.to_string())
                    .push_bind(r.country.clone());
            });
            q.build().execute(&mut *self.tx).await?;
        }
        for chunk in batch.passwords.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO passwords (time, raw_count, username, password) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(to_micros(r.time)).push_bind(r.raw_count).push_bind(r.username.clone()).push_bind(r.password.clone());
            });
            q.build().execute(&mut *self.tx).await?;
        }
        for chunk in batch.ports.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO ports (time, raw_count, port, protocol) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(to_micros(r.time)).push_bind(r.raw_count).push_bind(i32::from(r.port)).push_bind(r.protocol.as_str());
            });
            q.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<u64> {
        self.tx.commit().await?;
        Ok(self.identities.created)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

/// A stored leaked-password count read robustly: an INTEGER as it is; anything else an older
/// version or another tool may have left (a REAL from an overflowed sum, text) is converted
/// and clamped to 1 … `i64::MAX`, so one bad row never stops the index from loading.
const PWNED_COUNT: &str =
    "max(1, CASE WHEN typeof(password_count) = 'integer' THEN password_count ELSE CAST(CAST(password_count AS REAL) AS INTEGER) END)";

/// `SELECT hash, count, sources FROM passwords_pwned {tail}` with the count read by [`PWNED_COUNT`].
fn pwned_select(tail: &str) -> String {
    format!("SELECT password_hash, {PWNED_COUNT}, password_source FROM passwords_pwned {tail}")
}

/// Rows of `passwords_pwned` (hash, count, JSON sources) as [`PwnedHash`]es.
fn pwned_rows(rows: Vec<(String, i64, String)>) -> Vec<PwnedHash> {
    rows.into_iter()
        .map(|(hash, count, sources)| {
            let sources: Vec<String> = serde_json::from_str(&sources).unwrap_or_default();
            PwnedHash { hash, count, sources: crate::passwords::normalized(sources.iter().filter_map(|s| s.parse().ok()).collect()) }
        })
        .collect()
}
