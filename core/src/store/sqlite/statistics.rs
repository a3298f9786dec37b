//! The statistics on SQLite: multi-row INSERT imports, aggregation sessions under
//! `BEGIN IMMEDIATE`, queries. Times are bound and read as epoch microseconds.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, Transaction};

use super::SqliteStore;
use crate::error::Result;
use crate::store::dialect::Dialect;
use crate::store::statistics::model::{DataType, Level, ReportBatch, StoredRow};
use crate::store::statistics::query::{StatQuery, StatRow};
use crate::store::statistics::sql::{Bind, aggregation_error};
use crate::store::statistics::{
    AggregationSession, Fingerprint, IdentityCache, IngestSession, StatisticsStore, TableTotal, WindowFingerprint, aggregation_of, statistics_tables,
};
use crate::store::texts;
use crate::timebucket::{from_micros, to_micros};

/// Rows per multi-row INSERT (7 columns × 1000 = 7000 parameters, below SQLite's 32766).
const ROWS_PER_INSERT: usize = 1000;

const D: Dialect = Dialect::Sqlite;

#[async_trait]
impl StatisticsStore for SqliteStore {
    async fn begin_ingest(&self) -> Result<Box<dyn IngestSession>> {
        let tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteIngest { tx, identities: IdentityCache::default() }))
    }

    async fn begin_aggregation(&self, target: Level) -> Result<Box<dyn AggregationSession>> {
        let (source, width, _) = aggregation_of(target)?;
        let tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteAggregation { tx, source, target, width }))
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
        let rows = q.fetch_all(self.pool()).await?;
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
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
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
            let (rows, sum): (i64, i64) = sqlx::query_as(AssertSqlSafe(D.totals(table))).fetch_one(self.pool()).await?;
            out.push(TableTotal { table, rows, sum });
        }
        Ok(out)
    }
}

/// An aggregation transaction on SQLite, holding the write lock (`BEGIN IMMEDIATE`).
struct SqliteAggregation {
    tx: Transaction<'static, Sqlite>,
    source: Level,
    target: Level,
    width: Duration,
}

#[async_trait]
impl AggregationSession for SqliteAggregation {
    async fn source_fingerprints(&mut self, data: DataType, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, Fingerprint)>> {
        let src = self.source.table(data);
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(AssertSqlSafe(D.fingerprint(self.width, src)))
            .bind(to_micros(from))
            .bind(to_micros(to))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(aggregation_error(src))?;
        Ok(rows.into_iter().map(|(bucket, rows, sum)| (from_micros(bucket), Fingerprint { rows, sum })).collect())
    }

    async fn done_windows(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, WindowFingerprint)>> {
        let rows = sqlx::query(AssertSqlSafe(D.done_windows()))
            .bind(self.target.as_str())
            .bind(to_micros(from))
            .bind(to_micros(to))
            .fetch_all(&mut *self.tx)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let fp = |i: usize| -> std::result::Result<Fingerprint, sqlx::Error> { Ok(Fingerprint { rows: r.try_get(i)?, sum: r.try_get(i + 1)? }) };
            out.push((from_micros(r.try_get(0)?), [fp(1)?, fp(3)?, fp(5)?]));
        }
        Ok(out)
    }

    async fn replace_range(&mut self, data: DataType, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u64> {
        let (src, dst) = (self.source.table(data), self.target.table(data));
        let (a, b) = (to_micros(from), to_micros(to));
        sqlx::query(AssertSqlSafe(D.delete_range(dst))).bind(a).bind(b).execute(&mut *self.tx).await.map_err(aggregation_error(dst))?;
        let insert = D.aggregate_insert(self.width, data, src, dst);
        Ok(sqlx::query(AssertSqlSafe(insert)).bind(a).bind(b).execute(&mut *self.tx).await.map_err(aggregation_error(src))?.rows_affected())
    }

    async fn record_window(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, fp: &WindowFingerprint, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(AssertSqlSafe(D.record_window()))
            .bind(self.target.as_str())
            .bind(to_micros(start))
            .bind(to_micros(end))
            .bind(fp[0].rows)
            .bind(fp[0].sum)
            .bind(fp[1].rows)
            .bind(fp[1].sum)
            .bind(fp[2].rows)
            .bind(fp[2].sum)
            .bind(to_micros(now))
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
