//! The statistics on SQLite: multi-row INSERT imports and `BEGIN IMMEDIATE` for aggregation;
//! the rest is the shared statistics SQL ([`statistics_store`]). Times are epoch microseconds.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::SqliteStore;
use crate::error::Result;
use crate::store::statistics::model::ReportBatch;
use crate::store::statistics::shared::statistics_store;
use crate::store::statistics::{IdentityCache, IngestSession};
use crate::timebucket::to_micros;

/// Rows per multi-row INSERT (7 columns × 1000 = 7000 parameters, below SQLite's 32766).
const ROWS_PER_INSERT: usize = 1000;

impl SqliteStore {
    async fn begin_ingest_tx(&self) -> Result<Box<dyn IngestSession>> {
        let tx = self.begin_bulk().await?;
        Ok(Box::new(SqliteIngest { tx, identities: IdentityCache::default() }))
    }

    /// An aggregation transaction holding SQLite's write lock (one for every level).
    async fn begin_aggregation_tx(&self, _lock: i64) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool().begin_with("BEGIN IMMEDIATE").await?)
    }
}

statistics_store!(SqliteStore, Sqlite);

/// An import transaction on SQLite: multi-row INSERTs inside one `BEGIN IMMEDIATE`.
struct SqliteIngest {
    tx: Transaction<'static, Sqlite>,
    identities: IdentityCache,
}

#[async_trait]
impl IngestSession for SqliteIngest {
    async fn write(&mut self, batch: &ReportBatch) -> Result<()> {
        let mut ids = Vec::with_capacity(batch.incidents.len());
        for r in &batch.incidents {
            ids.push(SqliteStore::identity_in(&mut self.tx, &mut self.identities, &r.sn, &r.device_token).await?);
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
