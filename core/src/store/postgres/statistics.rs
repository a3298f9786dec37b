//! The statistics on PostgreSQL: COPY imports and the advisory lock of aggregation; the rest
//! is the shared statistics SQL ([`statistics_store`]).

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};

use super::{PgStore, push_text};
use crate::error::Result;
use crate::store::statistics::model::ReportBatch;
use crate::store::statistics::shared::statistics_store;
use crate::store::statistics::{IdentityCache, IngestSession};

/// Advisory lock keys: one per aggregated level ("VANT" << 16 | n).
const AGGREGATION_LOCK_BASE: i64 = 0x5641_4e54_0000;

impl PgStore {
    async fn begin_ingest_tx(&self) -> Result<Box<dyn IngestSession>> {
        let tx = self.pool().begin().await?;
        Ok(Box::new(PgIngest { tx, identities: IdentityCache::default(), buf: String::new() }))
    }

    /// An aggregation transaction holding the advisory lock number `lock`.
    async fn begin_aggregation_tx(&self, lock: i64) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AGGREGATION_LOCK_BASE + lock).execute(&mut *tx).await?;
        sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *tx).await?;
        Ok(tx)
    }
}

statistics_store!(PgStore, Postgres, PgIngest);

/// An import transaction on PostgreSQL: identities resolved first, then one COPY per table
/// and batch, all inside one transaction.
struct PgIngest {
    tx: Transaction<'static, Postgres>,
    identities: IdentityCache,
    buf: String,
}

impl PgIngest {
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
