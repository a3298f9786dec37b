//! The PostgreSQL store: Sentinel View compatible schema, COPY ingest, advisory-locked
//! aggregation. TimescaleDB hypertables are used when the extension can be enabled.

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use super::sql::{Bind, Dialect, aggregation_error};
use super::{Backend, IdentityCache, IngestSession, PWNED_ROWS_PER_STATEMENT, Store, TableTotal, migrator, prefix_end, statistics_tables, texts};
use crate::config::SecretUrl;
use crate::error::Result;
use crate::passwords::PwnedHash;
use crate::progress::Progress;
use crate::statistics::aggregation::{ChunkOutcome, ChunkState, Fingerprint, Precision, Window, runs};
use crate::statistics::model::{DataType, Level, ReportBatch, StoredRow};
use crate::statistics::query::{StatQuery, StatRow};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "statistics", include_str!("migrations/postgres/0001_statistics.sql")),
    (2, "counters", include_str!("migrations/postgres/0002_counters.sql")),
    (3, "events", include_str!("migrations/postgres/0003_events.sql")),
];

/// Advisory lock keys: one per aggregation precision ("VANT" << 16 | n).
const AGGREGATION_LOCK_BASE: i64 = 0x5641_4e54_0000;

const D: Dialect = Dialect::Postgres;

/// PostgreSQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    location: String,
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &SecretUrl) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url.expose())
            .await?;
        migrator(MIGRATIONS).run(&pool).await?;
        Ok(PgStore { pool, location: url.redacted() })
    }

    /// The connection pool, for other modules of this crate.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Reads passy's leaked-password table `passwords(id, password_hash, count, password_source
/// data_source[])` from the PostgreSQL database at `url`, read-only (no migrations, nothing
/// written there). Hashes are lower-cased; rows whose hash is not 40 hex digits or whose count
/// is not ≥ 1 are counted in the second value and skipped.
pub async fn read_passy(url: &SecretUrl) -> Result<(Vec<PwnedHash>, usize)> {
    let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(10)).connect(url.expose()).await?;
    /// `(password_hash, count, password_source)`, any of them possibly NULL.
    type PassyRow = (Option<String>, Option<i64>, Option<Vec<String>>);
    let rows: Vec<PassyRow> =
        sqlx::query_as("SELECT password_hash, count, password_source::text[] FROM passwords ORDER BY id").fetch_all(&pool).await?;
    pool.close().await;
    let mut skipped = 0;
    let mut out = Vec::with_capacity(rows.len());
    for (hash, count, sources) in rows {
        match (hash, count) {
            (Some(h), Some(c)) if crate::passwords::is_sha1(&h) && c >= 1 => out.push(PwnedHash {
                hash: h.to_ascii_lowercase(),
                count: c,
                sources: crate::passwords::normalized(sources.unwrap_or_default().iter().filter_map(|s| s.parse().ok()).collect()),
            }),
            _ => skipped += 1,
        }
    }
    Ok((out, skipped))
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    async fn begin_ingest(&self) -> Result<Box<dyn IngestSession>> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(PgIngest { tx, identities: IdentityCache::default(), buf: String::new() }))
    }

    async fn aggregate_chunk(&self, precision: Precision, windows: &[Window], dry_run: bool, now: DateTime<Utc>) -> Result<ChunkOutcome> {
        let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
            return Ok(ChunkOutcome::default());
        };
        let (from, to) = (first.start, last.end);
        let mut tx = self.pool.begin().await?;
        let lock = AGGREGATION_LOCK_BASE + Precision::ALL.iter().position(|p| *p == precision).unwrap_or(0) as i64;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock).execute(&mut *tx).await?;
        sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *tx).await?;

        let mut state = ChunkState::<DateTime<Utc>>::default();
        for (k, data) in DataType::ALL.into_iter().enumerate() {
            let src = precision.source().table(data);
            let sql = D.fingerprint(precision, src);
            let rows: Vec<(DateTime<Utc>, i64, i64)> =
                sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(&mut *tx).await.map_err(aggregation_error(src))?;
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
        let (plans, records) = state.plan(windows, |w| w.start);
        if dry_run {
            tx.rollback().await?;
            return Ok(ChunkOutcome { plans, rows_written: 0 });
        }

        let mut rows_written = 0;
        for (k, data) in DataType::ALL.into_iter().enumerate() {
            let (src, dst) = (precision.source().table(data), precision.target().table(data));
            let insert = D.aggregate_insert(precision, data, src, dst);
            for run in runs(&plans, |p| p.actions[k].writes(), |i| state.source_rows(&plans[i].window.start, k)) {
                sqlx::query(AssertSqlSafe(D.delete_range(dst))).bind(run.start).bind(run.end).execute(&mut *tx).await.map_err(aggregation_error(dst))?;
                rows_written +=
                    sqlx::query(AssertSqlSafe(insert.clone())).bind(run.start).bind(run.end).execute(&mut *tx).await.map_err(aggregation_error(src))?.rows_affected();
            }
        }
        let record = D.record_window();
        for (window, fp) in records {
            sqlx::query(AssertSqlSafe(record.clone()))
                .bind(precision.as_str())
                .bind(window.start)
                .bind(window.end)
                .bind(fp[0].rows)
                .bind(fp[0].sum)
                .bind(fp[1].rows)
                .bind(fp[1].sum)
                .bind(fp[2].rows)
                .bind(fp[2].sum)
                .bind(now)
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
                Bind::Time(t) => q.bind(t),
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let offset = usize::from(query.bucket.is_some());
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let bucket = if offset == 1 { r.try_get::<Option<DateTime<Utc>>, _>(0)? } else { None };
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
            out.push(StoredRow { time: r.try_get(0)?, dims, raw_count: r.try_get(1)? });
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
        for chunk in rows.chunks(PWNED_ROWS_PER_STATEMENT) {
            let hashes: Vec<&str> = chunk.iter().map(|r| r.hash.as_str()).collect();
            let counts: Vec<i64> = chunk.iter().map(|r| r.count).collect();
            let sources: Vec<String> = chunk.iter().map(|r| r.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")).collect();
            sqlx::query(
                "INSERT INTO passwords_pwned (password_hash, password_count, password_source)
                 SELECT h, c, CASE WHEN s = '' THEN '{}'::text[] ELSE string_to_array(s, ',') END
                 FROM UNNEST($1::text[], $2::bigint[], $3::text[]) AS t(h, c, s)
                 ON CONFLICT (password_hash) DO UPDATE SET
                    password_count = LEAST(passwords_pwned.password_count::numeric + EXCLUDED.password_count, 9223372036854775807)::bigint,
                    password_source = ARRAY(SELECT DISTINCT x FROM unnest(passwords_pwned.password_source || EXCLUDED.password_source) AS x ORDER BY x)",
            )
            .bind(&hashes)
            .bind(&counts)
            .bind(&sources)
            .execute(&mut *tx)
            .await?;
            progress.advance(chunk.len() as u64);
        }
        sqlx::query(
            "INSERT INTO vantage_counters (name, value) VALUES ('passwords_pwned', 1)
             ON CONFLICT (name) DO UPDATE SET value = vantage_counters.value + 1",
        )
        .execute(&mut *tx)
        .await?;
        if let Some((name, value)) = mark {
            sqlx::query("INSERT INTO vantage_counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                .bind(name)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if rows.len() >= 10_000 {
            // fresh statistics, or the planner guesses wrongly (and JIT-compiles) range lookups
            sqlx::query("ANALYZE passwords_pwned").execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn pwned_range(&self, prefix: &str) -> Result<Vec<PwnedHash>> {
        let rows: Vec<(String, i64, Vec<String>)> = sqlx::query_as(AssertSqlSafe(pwned_select("WHERE password_hash ~>=~ $1 AND password_hash ~<~ $2 ORDER BY password_hash USING ~<~")))
        .bind(prefix)
        .bind(prefix_end(prefix))
        .fetch_all(&self.pool)
        .await?;
        Ok(pwned_rows(rows))
    }

    async fn pwned_page(&self, after: &str, limit: i64) -> Result<Vec<PwnedHash>> {
        let rows: Vec<(String, i64, Vec<String>)> = sqlx::query_as(AssertSqlSafe(pwned_select("WHERE password_hash ~>~ $1 ORDER BY password_hash USING ~<~ LIMIT $2")))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(pwned_rows(rows))
    }

    async fn pwned_top(&self, limit: i64) -> Result<Vec<PwnedHash>> {
        let rows: Vec<(String, i64, Vec<String>)> = sqlx::query_as(AssertSqlSafe(pwned_select("ORDER BY 2 DESC, password_hash USING ~<~ LIMIT $1")))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(pwned_rows(rows))
    }

    async fn counter(&self, name: &str) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT value FROM vantage_counters WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        Ok(v.unwrap_or(0))
    }

    async fn attempted_passwords(&self, after: i64) -> Result<(Vec<(String, Option<String>, i64)>, i64)> {
        let after_time = crate::timebucket::from_micros(after);
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "WITH src AS (
                SELECT p.password, p.raw_count,
                       (SELECT min(i.trap::text) FROM incidents i
                         WHERE i.time = p.time AND i.action = 'login' AND i.trap::text LIKE 'minipot\\_%') AS trap
                  FROM passwords p WHERE p.time > $1)
             SELECT password, trap, sum(coalesce(raw_count, 1))::bigint FROM src GROUP BY password, trap",
        )
        .bind(after_time)
        .fetch_all(&self.pool)
        .await?;
        let newest: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT max(time) FROM passwords WHERE time > $1").bind(after_time).fetch_one(&self.pool).await?;
        Ok((rows, newest.map_or(after, crate::timebucket::to_micros)))
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

/// An import transaction on PostgreSQL: identities resolved first, then one COPY per table
/// and batch, all inside one transaction.
struct PgIngest {
    tx: Transaction<'static, Postgres>,
    identities: IdentityCache,
    buf: String,
}

impl PgIngest {
    async fn identity(&mut self, sn: &str, token: &str) -> Result<i64> {
        if let Some(id) = self.identities.get(sn, token) {
            return Ok(id);
        }
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO identity (sn, device_token) VALUES ($1, $2) ON CONFLICT (sn, device_token) DO NOTHING RETURNING id",
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
                sqlx::query_scalar("SELECT id FROM identity WHERE sn = $1 AND device_token = $2")
                    .bind(sn)
                    .bind(token)
                    .fetch_one(&mut *self.tx)
                    .await?
            }
        };
        self.identities.insert(sn, token, id);
        Ok(id)
    }

    async fn copy(&mut self, statement: &str) -> Result<()> {
        let mut copy = self.tx.copy_in_raw(statement).await?;
        copy.send(self.buf.as_bytes()).await?;
        copy.finish().await?;
        self.buf.clear();
        Ok(())
    }
}

/// Appends a value in COPY text format (backslash escapes for the special characters).
pub(super) fn push_text(buf: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

fn push_time(buf: &mut String, t: DateTime<Utc>) {
    let _ = write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00"));
}

#[async_trait]
impl IngestSession for PgIngest {
    async fn write(&mut self, batch: &ReportBatch) -> Result<()> {
        if !batch.incidents.is_empty() {
            let mut ids = Vec::with_capacity(batch.incidents.len());
            for r in &batch.incidents {
                ids.push(self.identity(&r.sn, &r.device_token).await?);
            }
            for (r, id) in batch.incidents.iter().zip(ids) {
                let buf = &mut self.buf;
                push_time(buf, r.time);
                let _ = write!(buf, "\t{}\t{}\t{}\t{}\t{}\t", r.raw_count, id, r.trap, r.action, r.ip);
                match &r.country {
                    Some(cc) => push_text(buf, cc),
                    None => buf.push_str("\\N"),
                }
                buf.push('\n');
            }
            self.copy("COPY incidents (time, raw_count, identity_id, trap, action, ip, country) FROM STDIN").await?;
        }
        if !batch.passwords.is_empty() {
            for r in &batch.passwords {
                let buf = &mut self.buf;
                push_time(buf, r.time);
                let _ = write!(buf, "\t{}\t", r.raw_count);
                push_text(buf, &r.username);
                buf.push('\t');
                push_text(buf, &r.password);
                buf.push('\n');
            }
            self.copy("COPY passwords (time, raw_count, username, password) FROM STDIN").await?;
        }
        if !batch.ports.is_empty() {
            for r in &batch.ports {
                let buf = &mut self.buf;
                push_time(buf, r.time);
                let _ = writeln!(buf, "\t{}\t{}\t{}", r.raw_count, r.port, r.protocol);
            }
            self.copy("COPY ports (time, raw_count, port, protocol) FROM STDIN").await?;
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

/// `SELECT hash, count, sources FROM passwords_pwned {tail}`; the count is clamped to
/// 1 … `i64::MAX` so a table whose `password_count` column is wider than `bigint` (created by
/// another tool or an older version) still loads.
fn pwned_select(tail: &str) -> String {
    format!("SELECT password_hash, LEAST(GREATEST(password_count::numeric, 1), 9223372036854775807)::bigint, password_source FROM passwords_pwned {tail}")
}

/// Rows of `passwords_pwned` (hash, count, text[] sources) as [`PwnedHash`]es.
fn pwned_rows(rows: Vec<(String, i64, Vec<String>)>) -> Vec<PwnedHash> {
    rows.into_iter().map(|(hash, count, sources)| PwnedHash { hash, count, sources: crate::passwords::normalized(sources.iter().filter_map(|s| s.parse().ok()).collect()) }).collect()
}
