//! The statistics on PostgreSQL: COPY imports (streamed by a writer task that owns the
//! transaction) and the advisory lock of aggregation; the rest is the shared statistics SQL
//! ([`statistics_store`]).

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{PgStore, push_text};
use crate::error::{Error, Result};
use crate::store::statistics::model::ReportBatch;
use crate::store::statistics::shared::statistics_store;
use crate::store::statistics::{IdentityCache, IngestSession};

/// Advisory lock keys: one per aggregated level ("VANT" << 16 | n).
const AGGREGATION_LOCK_BASE: i64 = 0x5641_4e54_0000;

impl PgStore {
    async fn begin_ingest_tx(&self) -> Result<Box<dyn IngestSession>> {
        Ok(Box::new(PgIngest::start(self.pool().begin().await?)))
    }

    /// An aggregation transaction holding the advisory lock number `lock`.
    async fn begin_aggregation_tx(&self, lock: i64) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AGGREGATION_LOCK_BASE + lock).execute(&mut *tx).await?;
        sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *tx).await?;
        Ok(tx)
    }
}

statistics_store!(PgStore, Postgres);

/// Rows the import session hands its writer task, at most this many orders ahead.
const ORDERS_AHEAD: usize = 2;

/// An import transaction on PostgreSQL. A writer task owns the transaction and streams the
/// rows into a COPY that stays open while consecutive batches hold rows of the same table
/// (an import of one kind: one COPY), so the server parses one batch while the next is
/// encoded (a COPY per batch left it waiting ~20 % of the time); identities unknown to the
/// session's cache are resolved by the writer, between COPYs. The writer's first error ends
/// it, and its transaction rolls back.
struct PgIngest {
    orders: mpsc::Sender<Order>,
    /// The writer, until its failure was taken ([`PgIngest::failure`]).
    writer: Option<JoinHandle<Result<()>>>,
    identities: IdentityCache,
}

/// What the session asks of its writer.
enum Order {
    /// COPY text of rows of one table.
    Rows(Table, String),
    /// The id of an identity (created when unknown).
    Identity { sn: String, token: String, reply: oneshot::Sender<i64> },
    /// Commit (answering the identities created) or roll back, and stop.
    End { commit: bool, reply: oneshot::Sender<Result<u64>> },
}

/// The tables an import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Incidents,
    Passwords,
    Ports,
}

impl Table {
    fn copy(self) -> &'static str {
        match self {
            Table::Incidents => "COPY incidents (time, raw_count, identity_id, trap, action, ip, country) FROM STDIN",
            Table::Passwords => "COPY passwords (time, raw_count, username, password) FROM STDIN",
            Table::Ports => "COPY ports (time, raw_count, port, protocol) FROM STDIN",
        }
    }
}

/// The writer: carries out `orders` in `tx` until an [`Order::End`] (or the session is
/// dropped: the transaction rolls back). Its first error ends it; the session reports it.
async fn write_orders(mut tx: Transaction<'static, Postgres>, mut orders: mpsc::Receiver<Order>) -> Result<()> {
    let mut identities = IdentityCache::default();
    let mut next = orders.recv().await;
    while let Some(order) = next.take() {
        match order {
            Order::Rows(table, text) => {
                let mut copy = tx.copy_in_raw(table.copy()).await?;
                copy.send(text.as_bytes()).await?;
                loop {
                    next = orders.recv().await;
                    match &next {
                        Some(Order::Rows(t, text)) if *t == table => {
                            copy.send(text.as_bytes()).await?;
                        }
                        // the session is gone (the import was dropped): nothing is to be kept
                        None => return Ok(copy.abort("import abandoned").await?),
                        Some(_) => break,
                    }
                }
                copy.finish().await?;
            }
            Order::Identity { sn, token, reply } => {
                // a failed statement aborts the transaction: the writer stops with the error
                // (the dropped reply sends the session to it), so nothing can commit after it
                let id = PgStore::identity_in(&mut tx, &mut identities, &sn, &token).await?;
                let _ = reply.send(id);
                next = orders.recv().await;
            }
            Order::End { commit, reply } => {
                let ended = if commit { tx.commit().await } else { tx.rollback().await };
                let _ = reply.send(ended.map(|()| identities.created).map_err(Into::into));
                return Ok(());
            }
        }
    }
    Ok(())
}

impl PgIngest {
    fn start(tx: Transaction<'static, Postgres>) -> PgIngest {
        let (orders, received) = mpsc::channel(ORDERS_AHEAD);
        PgIngest { orders, writer: Some(tokio::spawn(write_orders(tx, received))), identities: IdentityCache::default() }
    }

    /// Hands `order` to the writer; when it has stopped, its error.
    async fn send(&mut self, order: Order) -> Result<()> {
        match self.orders.send(order).await {
            Ok(()) => Ok(()),
            Err(_) => Err(self.failure().await),
        }
    }

    /// Why the writer stopped early (once; later calls: that it crashed).
    async fn failure(&mut self) -> Error {
        let crashed = || Error::Database(sqlx::Error::WorkerCrashed);
        let Some(writer) = self.writer.take() else { return crashed() };
        match writer.await {
            Ok(Err(e)) => e,
            // it stops early only by an error, or by a panic
            Ok(Ok(())) | Err(_) => crashed(),
        }
    }

    /// The id of `(sn, token)`: cached, or asked of the writer.
    async fn identity(&mut self, sn: &str, token: &str) -> Result<i64> {
        if let Some(id) = self.identities.get(sn, token) {
            return Ok(id);
        }
        let (reply, answer) = oneshot::channel();
        self.send(Order::Identity { sn: sn.to_string(), token: token.to_string(), reply }).await?;
        let Ok(id) = answer.await else { return Err(self.failure().await) };
        self.identities.insert(sn, token, id);
        Ok(id)
    }

    /// Commits or rolls back through the writer; the identities created. A writer that
    /// stopped with an error has rolled back already: a rollback then succeeds, a commit
    /// fails with that error.
    async fn end(mut self, commit: bool) -> Result<u64> {
        if self.writer.is_none() {
            // its error was reported already
            return if commit { Err(Error::Database(sqlx::Error::WorkerCrashed)) } else { Ok(0) };
        }
        let (reply, answer) = oneshot::channel();
        let ended = match self.orders.send(Order::End { commit, reply }).await {
            Ok(()) => answer.await.ok(),
            Err(_) => None,
        };
        match ended {
            Some(ended) => ended,
            None if commit => Err(self.failure().await),
            None => Ok(0),
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
            let mut buf = String::with_capacity(batch.incidents.len() * 96);
            for r in &batch.incidents {
                let id = self.identity(&r.sn, &r.device_token).await?;
                push_time(&mut buf, r.time);
                let _ = write!(buf, "\t{}\t{}\t{}\t{}\t{}\t", r.raw_count, id, r.trap, r.action, r.ip);
                match &r.country {
                    Some(cc) => push_text(&mut buf, cc),
                    None => buf.push_str("\\N"),
                }
                buf.push('\n');
            }
            self.send(Order::Rows(Table::Incidents, buf)).await?;
        }
        if !batch.passwords.is_empty() {
            let mut buf = String::with_capacity(batch.passwords.len() * 64);
            for r in &batch.passwords {
                push_time(&mut buf, r.time);
                let _ = write!(buf, "\t{}\t", r.raw_count);
                push_text(&mut buf, &r.username);
                buf.push('\t');
                push_text(&mut buf, &r.password);
                buf.push('\n');
            }
            self.send(Order::Rows(Table::Passwords, buf)).await?;
        }
        if !batch.ports.is_empty() {
            let mut buf = String::with_capacity(batch.ports.len() * 48);
            for r in &batch.ports {
                push_time(&mut buf, r.time);
                let _ = writeln!(buf, "\t{}\t{}\t{}", r.raw_count, r.port, r.protocol);
            }
            self.send(Order::Rows(Table::Ports, buf)).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<u64> {
        self.end(true).await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.end(false).await.map(|_| ())
    }
}
