//! The statistics storage written once for both backends: queries, table dumps and the
//! aggregation session, instantiated per backend by [`statistics_store`] with its
//! [`Codec`](crate::store::codec::Codec). Only the imports (COPY or INSERT) and how an
//! aggregation takes its lock stay per backend.

use chrono::Duration;
use sqlx::Transaction;

use super::model::Level;

/// An aggregation transaction holding its target level's lock (taken by the backend).
pub(crate) struct SqlAggregation<DB: sqlx::Database> {
    /// The open transaction.
    pub tx: Transaction<'static, DB>,
    /// The level read.
    pub source: Level,
    /// The level written.
    pub target: Level,
    /// The target's bucket width.
    pub width: Duration,
}

/// Implements [`super::StatisticsStore`] for `$store` on database `$db`, and
/// [`super::AggregationSession`] for [`SqlAggregation`] on it. `$store` provides
/// `begin_ingest_tx` and `begin_aggregation_tx(lock)`, and gets `identity_in`, which resolves
/// (or creates) an identity inside an import's transaction.
macro_rules! statistics_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// The id of the identity `(sn, token)` inside `tx`, created when unknown;
            /// `identities` caches the ids and counts the identities created.
            async fn identity_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                identities: &mut $crate::store::statistics::IdentityCache,
                sn: &str,
                token: &str,
            ) -> $crate::error::Result<i64> {
                use $crate::store::codec::Codec;
                if let Some(id) = identities.get(sn, token) {
                    return Ok(id);
                }
                let d = <$db>::DIALECT;
                let insert = format!(
                    "INSERT INTO identity (sn, device_token) VALUES ({}, {}) ON CONFLICT (sn, device_token) DO NOTHING RETURNING id",
                    d.param(1),
                    d.param(2)
                );
                let inserted: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(insert)).bind(sn).bind(token).fetch_optional(&mut **tx).await?;
                let id = match inserted {
                    Some(id) => {
                        identities.created += 1;
                        id
                    }
                    None => {
                        let select = format!("SELECT id FROM identity WHERE sn = {} AND device_token = {}", d.param(1), d.param(2));
                        sqlx::query_scalar(sqlx::AssertSqlSafe(select)).bind(sn).bind(token).fetch_one(&mut **tx).await?
                    }
                };
                identities.insert(sn, token, id);
                Ok(id)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::statistics::StatisticsStore for $store {
            async fn begin_ingest(&self) -> $crate::error::Result<Box<dyn $crate::store::statistics::IngestSession>> {
                self.begin_ingest_tx().await
            }

            async fn begin_aggregation(&self, target: $crate::store::statistics::model::Level) -> $crate::error::Result<Box<dyn $crate::store::statistics::AggregationSession>> {
                let (source, width, lock) = $crate::store::statistics::aggregation_of(target)?;
                let tx = self.begin_aggregation_tx(lock).await?;
                Ok(Box::new($crate::store::statistics::shared::SqlAggregation::<$db> { tx, source, target, width }))
            }

            async fn stat_query(&self, query: &$crate::store::statistics::query::StatQuery) -> $crate::error::Result<Vec<$crate::store::statistics::query::StatRow>> {
                use $crate::store::codec::Codec;
                use $crate::store::statistics::sql::Bind;
                use sqlx::Row;
                let (sql, binds) = <$db>::DIALECT.stat_query(query);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = match b {
                        Bind::Time(t) => q.bind(<$db>::encode_time(t)),
                        Bind::Text(s) => q.bind(s),
                        Bind::Int(i) => q.bind(i),
                    };
                }
                let rows = q.fetch_all(self.pool()).await?;
                let offset = usize::from(query.bucket.is_some());
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let bucket = if offset == 1 { r.try_get::<Option<<$db as Codec>::Time>, _>(0)?.map(<$db>::decode_time) } else { None };
                    let keys = $crate::store::texts(&r, offset, query.group.len())?;
                    out.push($crate::store::statistics::query::StatRow { bucket, keys, value: r.try_get(offset + query.group.len())? });
                }
                Ok(out)
            }

            async fn stat_scan(
                &self,
                data: $crate::store::statistics::model::DataType,
                level: $crate::store::statistics::model::Level,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<$crate::store::statistics::scan::Scan> {
                use $crate::store::codec::Codec;
                use futures::TryStreamExt as _;
                use sqlx::Row;
                use $crate::store::statistics::scan::Key;
                use $crate::store::statistics::sql::Wire;
                let wires: Vec<Wire> = $crate::store::statistics::scan::scan_columns(data).iter().map(|c| <$db>::DIALECT.scan_wire(*c)).collect();
                let sql = <$db>::DIALECT.scan(data, level.table(data));
                let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(<$db>::encode_time(from)).bind(<$db>::encode_time(to)).fetch(self.pool());
                let mut scan = $crate::store::statistics::scan::ScanBuilder::new(data, from, to);
                while let Some(r) = rows.try_next().await? {
                    let mut keys: [Option<Key<'_>>; 4] = [None; 4];
                    let mut at = 1;
                    for (key, wire) in keys.iter_mut().zip(&wires) {
                        *key = match wire {
                            Wire::Text => r.try_get::<Option<&str>, _>(at)?.map(Key::Text),
                            Wire::Label => r.try_get_unchecked::<Option<&str>, _>(at)?.map(Key::Text),
                            Wire::Int => r.try_get::<Option<i32>, _>(at)?.map(|i| Key::Int(i64::from(i))),
                            Wire::Inet => {
                                at += 1;
                                Key::inet(r.try_get_unchecked::<Option<&[u8]>, _>(at - 1)?, r.try_get::<Option<&str>, _>(at)?)?
                            }
                        };
                        at += 1;
                    }
                    scan.push(<$db>::decode_time(r.try_get(0)?), &keys[..wires.len()], r.try_get(at)?);
                }
                Ok(scan.finish())
            }

            async fn table_rows(
                &self,
                data: $crate::store::statistics::model::DataType,
                level: $crate::store::statistics::model::Level,
            ) -> $crate::error::Result<Vec<$crate::store::statistics::model::StoredRow>> {
                use $crate::store::codec::Codec;
                use sqlx::Row;
                let sql = <$db>::DIALECT.table_rows(data, level.table(data));
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let dims = $crate::store::texts(&r, 2, data.dimensions().len())?;
                    out.push($crate::store::statistics::model::StoredRow { time: <$db>::decode_time(r.try_get(0)?), dims, raw_count: r.try_get(1)? });
                }
                out.sort();
                Ok(out)
            }

            async fn table_totals(&self) -> $crate::error::Result<Vec<$crate::store::statistics::TableTotal>> {
                use $crate::store::codec::Codec;
                let mut out = Vec::new();
                for (data, level) in $crate::store::statistics::statistics_tables() {
                    let table = level.table(data);
                    let (rows, sum): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(<$db>::DIALECT.totals(table))).fetch_one(self.pool()).await?;
                    out.push($crate::store::statistics::TableTotal { table, rows, sum });
                }
                Ok(out)
            }

            async fn ip_activity(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                only: Option<&[String]>,
            ) -> $crate::error::Result<Vec<$crate::store::statistics::IpActivity>> {
                use $crate::store::codec::Codec;
                if only.is_some_and(|o| o.is_empty()) {
                    return Ok(Vec::new());
                }
                let only = only.unwrap_or_default();
                let sql = <$db>::DIALECT.ip_activity(only.len());
                let mut query = sqlx::query_as::<_, (String, String, String, i64, <$db as Codec>::Time, <$db as Codec>::Time)>(sqlx::AssertSqlSafe(sql))
                    .bind(<$db>::encode_time(from))
                    .bind(<$db>::encode_time(to));
                for ip in only {
                    query = query.bind(ip.clone());
                }
                let rows = query.fetch_all(self.pool()).await?;
                Ok(rows
                    .into_iter()
                    .map(|(ip, trap, action, incidents, first, last)| $crate::store::statistics::IpActivity {
                        ip,
                        trap,
                        action,
                        incidents,
                        first_seen: <$db>::decode_time(first),
                        last_seen: <$db>::decode_time(last),
                    })
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::statistics::AggregationSession for $crate::store::statistics::shared::SqlAggregation<$db> {
            async fn source_fingerprints(
                &mut self,
                data: $crate::store::statistics::model::DataType,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<(chrono::DateTime<chrono::Utc>, $crate::store::statistics::Fingerprint)>> {
                use $crate::store::codec::Codec;
                let src = self.source.table(data);
                let rows: Vec<(<$db as Codec>::Time, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(<$db>::DIALECT.fingerprint(self.width, src)))
                    .bind(<$db>::encode_time(from))
                    .bind(<$db>::encode_time(to))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err($crate::store::statistics::sql::aggregation_error(src))?;
                Ok(rows.into_iter().map(|(bucket, rows, sum)| (<$db>::decode_time(bucket), $crate::store::statistics::Fingerprint { rows, sum })).collect())
            }

            async fn done_windows(
                &mut self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<(chrono::DateTime<chrono::Utc>, $crate::store::statistics::WindowFingerprint)>> {
                use $crate::store::codec::Codec;
                use $crate::store::statistics::Fingerprint;
                use sqlx::Row;
                let rows = sqlx::query(sqlx::AssertSqlSafe(<$db>::DIALECT.done_windows()))
                    .bind(self.target.as_str())
                    .bind(<$db>::encode_time(from))
                    .bind(<$db>::encode_time(to))
                    .fetch_all(&mut *self.tx)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let fp = |i: usize| -> std::result::Result<Fingerprint, sqlx::Error> { Ok(Fingerprint { rows: r.try_get(i)?, sum: r.try_get(i + 1)? }) };
                    out.push((<$db>::decode_time(r.try_get(0)?), [fp(1)?, fp(3)?, fp(5)?]));
                }
                Ok(out)
            }

            async fn replace_range(
                &mut self,
                data: $crate::store::statistics::model::DataType,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<u64> {
                use $crate::store::codec::Codec;
                use $crate::store::statistics::sql::aggregation_error;
                let (src, dst) = (self.source.table(data), self.target.table(data));
                let (a, b) = (<$db>::encode_time(from), <$db>::encode_time(to));
                sqlx::query(sqlx::AssertSqlSafe(<$db>::DIALECT.delete_range(dst))).bind(a).bind(b).execute(&mut *self.tx).await.map_err(aggregation_error(dst))?;
                let insert = <$db>::DIALECT.aggregate_insert(self.width, data, src, dst);
                Ok(sqlx::query(sqlx::AssertSqlSafe(insert)).bind(a).bind(b).execute(&mut *self.tx).await.map_err(aggregation_error(src))?.rows_affected())
            }

            async fn record_window(
                &mut self,
                start: chrono::DateTime<chrono::Utc>,
                end: chrono::DateTime<chrono::Utc>,
                fp: &$crate::store::statistics::WindowFingerprint,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                use $crate::store::codec::Codec;
                sqlx::query(sqlx::AssertSqlSafe(<$db>::DIALECT.record_window()))
                    .bind(self.target.as_str())
                    .bind(<$db>::encode_time(start))
                    .bind(<$db>::encode_time(end))
                    .bind(fp[0].rows)
                    .bind(fp[0].sum)
                    .bind(fp[1].rows)
                    .bind(fp[1].sum)
                    .bind(fp[2].rows)
                    .bind(fp[2].sum)
                    .bind(<$db>::encode_time(now))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn commit(self: Box<Self>) -> $crate::error::Result<()> {
                self.tx.commit().await?;
                Ok(())
            }

            async fn rollback(self: Box<Self>) -> $crate::error::Result<()> {
                self.tx.rollback().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use statistics_store;
