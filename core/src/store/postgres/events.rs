//! The events on PostgreSQL: COPY imports, aggregation sessions under an advisory lock,
//! queries.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, Postgres, Transaction};

use super::{PgStore, push_text, set_counter};
use crate::error::Result;
use crate::store::dialect::Dialect;
use crate::store::events::model::{AggTable, Event};
use crate::store::events::shared::{SqlEventAggregation, events_store};
use crate::store::events::sql as events_sql;
use crate::store::events::{EventSession, EventsStatus};

const D: Dialect = Dialect::Postgres;

/// Advisory lock of the events aggregation ("VANT" << 16 | 0x0e): exclusive for aggregation,
/// shared by import commits.
const EVENTS_LOCK: i64 = 0x5641_4e54_000e;

/// Events per COPY statement.
const EVENTS_PER_COPY: usize = 20_000;

impl PgStore {
    async fn begin_events_import_tx(&self) -> Result<Box<dyn EventSession>> {
        Ok(Box::new(PgEvents { tx: self.pool().begin().await?, days: BTreeSet::new(), buf: String::new() }))
    }

    /// A transaction holding the events lock exclusively.
    async fn begin_events_aggregation_tx(&self) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(EVENTS_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }

    async fn events_status_impl(&self) -> Result<EventsStatus> {
        let (events, without, first, last): (i64, i64, Option<NaiveDate>, Option<NaiveDate>) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE \"time.source\" IS NULL),
                    min(\"time.source\" AT TIME ZONE 'UTC')::date, max(\"time.source\" AT TIME ZONE 'UTC')::date FROM events",
        )
        .fetch_one(self.pool())
        .await?;
        let pending_days = sqlx::query_scalar("SELECT day FROM vantage_events_dirty_days ORDER BY day").fetch_all(self.pool()).await?;
        let mut table_rows = Vec::new();
        for t in AggTable::ALL {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {}", t.name()))).fetch_one(self.pool()).await?;
            table_rows.push((t.name().to_string(), n));
        }
        Ok(EventsStatus { events, without_time_source: without, first_day: first, last_day: last, pending_days, table_rows })
    }
}

events_store!(PgStore, Postgres);

/// The per-backend part of a re-aggregation on PostgreSQL.
impl SqlEventAggregation<Postgres> {
    async fn mark_days_impl(&mut self, from: NaiveDate, to: NaiveDate) -> Result<()> {
        sqlx::query("INSERT INTO vantage_events_dirty_days (day) SELECT generate_series($1::date, $2::date, '1 day')::date ON CONFLICT DO NOTHING")
            .bind(from)
            .bind(to)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn marked_days_impl(&mut self) -> Result<Vec<NaiveDate>> {
        Ok(sqlx::query_scalar("SELECT day FROM vantage_events_dirty_days ORDER BY day").fetch_all(&mut *self.tx).await?)
    }

    async fn replace_days_impl(&mut self, table: AggTable, from: NaiveDate, to: NaiveDate) -> Result<u64> {
        sqlx::query(AssertSqlSafe(events_sql::delete(D, table, true))).bind(from).bind(to).execute(&mut *self.tx).await?;
        let insert = sqlx::query(AssertSqlSafe(events_sql::aggregate(D, table, true))).bind(from).bind(to);
        Ok(insert.execute(&mut *self.tx).await?.rows_affected())
    }

    async fn rebuild_impl(&mut self) -> Result<[u64; 3]> {
        rebuild(&mut self.tx).await
    }
}

/// The `work_mem` of a full rebuild's transaction, 256 MB: per sort or hash of its plan and of
/// each parallel worker (a hash up to `hash_mem_multiplier`, by default 2, times that), so a
/// rebuild may take a few times this much of the server's memory.
const REBUILD_WORK_MEM: &str = "SET LOCAL work_mem = '256MB'";

/// Rebuilds the three tables whole inside `tx`: each is computed by `CREATE TABLE … AS SELECT`
/// into a new table (PostgreSQL runs that SELECT with parallel workers, which an
/// `INSERT … SELECT` never gets), which then replaces the old one, indexes restored (like
/// stats-portal's own tables, a rebuilt `date` column is not declared `NOT NULL`). DDL is
/// transactional: until the commit readers see the old tables, and a failed rebuild leaves
/// nothing behind.
async fn rebuild(tx: &mut Transaction<'static, Postgres>) -> Result<[u64; 3]> {
    // the groupings hold about as many rows as there are events: with the default 4 MB they
    // spill to disk (27 s of all_tags' 2M events instead of 9 s); for this transaction only
    sqlx::query(REBUILD_WORK_MEM).execute(&mut **tx).await?;
    let mut rows = [0; 3];
    for (i, table) in AggTable::ALL.into_iter().enumerate() {
        let new = format!("vantage_rebuild_{}", table.name());
        let select = events_sql::aggregate_select(D, table, false, "vantage_rebuild_agg_ndim_day_all_tags");
        rows[i] = sqlx::query(AssertSqlSafe(format!("CREATE TABLE {new} AS {select}"))).execute(&mut **tx).await?.rows_affected();
    }
    for table in AggTable::ALL {
        let name = table.name();
        for sql in [format!("DROP TABLE {name}"), format!("ALTER TABLE vantage_rebuild_{name} RENAME TO {name}")].into_iter().chain(events_sql::indexes(table))
        {
            sqlx::query(AssertSqlSafe(sql)).execute(&mut **tx).await?;
        }
    }
    Ok(rows)
}

/// An events import on PostgreSQL: one COPY per batch inside one transaction.
struct PgEvents {
    tx: Transaction<'static, Postgres>,
    days: BTreeSet<NaiveDate>,
    buf: String,
}

#[async_trait]
impl EventSession for PgEvents {
    async fn write(&mut self, events: &[Event]) -> Result<()> {
        for chunk in events.chunks(EVENTS_PER_COPY) {
            for e in chunk {
                self.days.extend(e.day());
                for (i, v) in e.values.iter().enumerate() {
                    if i > 0 {
                        self.buf.push('\t');
                    }
                    match v.text() {
                        Some(t) => push_text(&mut self.buf, &t),
                        None => self.buf.push_str("\\N"),
                    }
                }
                self.buf.push('\n');
            }
            let mut copy = self.tx.copy_in_raw(&format!("COPY events ({}) FROM STDIN", events_sql::event_columns())).await?;
            copy.send(self.buf.as_bytes()).await?;
            copy.finish().await?;
            self.buf.clear();
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>, mark: Option<(&str, i64)>) -> Result<Vec<NaiveDate>> {
        // waits for a running aggregation, so it cannot miss these events' days
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(EVENTS_LOCK).execute(&mut *self.tx).await?;
        let days: Vec<NaiveDate> = self.days.iter().copied().collect();
        sqlx::query("INSERT INTO vantage_events_dirty_days (day) SELECT unnest($1::date[]) ON CONFLICT DO NOTHING").bind(&days).execute(&mut *self.tx).await?;
        if let Some((name, value)) = mark {
            set_counter(&mut self.tx, name, value).await?;
        }
        self.tx.commit().await?;
        Ok(days)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
