//! The statistics on PostgreSQL: COPY imports, aggregation sessions under an advisory lock,
//! queries.

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use super::{PgStore, push_text};
use crate::error::Result;
use crate::store::dialect::Dialect;
use crate::store::statistics::model::{DataType, Level, ReportBatch, StoredRow};
use crate::store::statistics::query::{StatQuery, StatRow};
use crate::store::statistics::sql::{Bind, aggregation_error};
use crate::store::statistics::{
    AggregationSession, Fingerprint, IdentityCache, IngestSession, StatisticsStore, TableTotal, WindowFingerprint, aggregation_of, statistics_tables,
};
use crate::store::texts;

/// Advisory lock keys: one per aggregated level ("VANT" << 16 | n).
const AGGREGATION_LOCK_BASE: i64 = 0x5641_4e54_0000;

const D: Dialect = Dialect::Postgres;

#[async_trait]
impl StatisticsStore for PgStore {
    async fn begin_ingest(&self) -> Result<Box<dyn IngestSession>> {
        let tx = self.pool().begin().await?;
        Ok(Box::new(PgIngest { tx, identities: IdentityCache::default(), buf: String::new() }))
    }

    async fn begin_aggregation(&self, target: Level) -> Result<Box<dyn AggregationSession>> {
        let (source, width, lock) = aggregation_of(target)?;
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AGGREGATION_LOCK_BASE + lock).execute(&mut *tx).await?;
        sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *tx).await?;
        Ok(Box::new(PgAggregation { tx, source, target, width }))
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
        let rows = q.fetch_all(self.pool()).await?;
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
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
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
            let (rows, sum): (i64, i64) = sqlx::query_as(AssertSqlSafe(D.totals(table))).fetch_one(self.pool()).await?;
            out.push(TableTotal { table, rows, sum });
        }
        Ok(out)
    }
}

/// An aggregation transaction on PostgreSQL, holding the target level's advisory lock.
struct PgAggregation {
    tx: Transaction<'static, Postgres>,
    source: Level,
    target: Level,
    width: Duration,
}

#[async_trait]
impl AggregationSession for PgAggregation {
    async fn source_fingerprints(&mut self, data: DataType, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, Fingerprint)>> {
        let src = self.source.table(data);
        let rows: Vec<(DateTime<Utc>, i64, i64)> =
            sqlx::query_as(AssertSqlSafe(D.fingerprint(self.width, src))).bind(from).bind(to).fetch_all(&mut *self.tx).await.map_err(aggregation_error(src))?;
        Ok(rows.into_iter().map(|(bucket, rows, sum)| (bucket, Fingerprint { rows, sum })).collect())
    }

    async fn done_windows(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, WindowFingerprint)>> {
        let rows = sqlx::query(AssertSqlSafe(D.done_windows())).bind(self.target.as_str()).bind(from).bind(to).fetch_all(&mut *self.tx).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let fp = |i: usize| -> std::result::Result<Fingerprint, sqlx::Error> { Ok(Fingerprint { rows: r.try_get(i)?, sum: r.try_get(i + 1)? }) };
            out.push((r.try_get(0)?, [fp(1)?, fp(3)?, fp(5)?]));
        }
        Ok(out)
    }

    async fn replace_range(&mut self, data: DataType, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u64> {
        let (src, dst) = (self.source.table(data), self.target.table(data));
        sqlx::query(AssertSqlSafe(D.delete_range(dst))).bind(from).bind(to).execute(&mut *self.tx).await.map_err(aggregation_error(dst))?;
        let insert = D.aggregate_insert(self.width, data, src, dst);
        Ok(sqlx::query(AssertSqlSafe(insert)).bind(from).bind(to).execute(&mut *self.tx).await.map_err(aggregation_error(src))?.rows_affected())
    }

    async fn record_window(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, fp: &WindowFingerprint, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(AssertSqlSafe(D.record_window()))
            .bind(self.target.as_str())
            .bind(start)
            .bind(end)
            .bind(fp[0].rows)
            .bind(fp[0].sum)
            .bind(fp[1].rows)
            .bind(fp[1].sum)
            .bind(fp[2].rows)
            .bind(fp[2].sum)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
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
