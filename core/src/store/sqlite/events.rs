//! The events on SQLite: batched INSERTs, aggregation sessions under `BEGIN IMMEDIATE`
//! (SQLite's single writer lock serialises them with imports), queries.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, QueryBuilder, Sqlite, Transaction};

use super::{SqliteStore, set_counter};
use crate::error::Result;
use crate::store::dialect::Dialect;
use crate::store::events::model::{AggTable, Event, Value};
use crate::store::events::shared::{SqlEventAggregation, events_store};
use crate::store::events::sql as events_sql;
use crate::store::events::{EventSession, EventsStatus};

const D: Dialect = Dialect::Sqlite;

/// Events per INSERT (17 parameters each: 17,000, below SQLite's 32,766).
const EVENTS_PER_INSERT: usize = 1000;

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn pending(tx: &mut Transaction<'static, Sqlite>) -> Result<Vec<NaiveDate>> {
    let days: Vec<String> = sqlx::query_scalar("SELECT day FROM vantage_events_dirty_days ORDER BY day").fetch_all(&mut **tx).await?;
    Ok(days.iter().filter_map(|d| d.parse().ok()).collect())
}

async fn mark_day(tx: &mut Transaction<'static, Sqlite>, day: NaiveDate) -> Result<()> {
    sqlx::query("INSERT OR IGNORE INTO vantage_events_dirty_days (day) VALUES (?1)").bind(day_text(day)).execute(&mut **tx).await?;
    Ok(())
}

impl SqliteStore {
    async fn begin_events_import_tx(&self) -> Result<Box<dyn EventSession>> {
        Ok(Box::new(SqliteEvents { tx: self.begin_bulk().await?, days: BTreeSet::new() }))
    }

    /// A transaction holding SQLite's write lock.
    async fn begin_events_aggregation_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool().begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn events_status_impl(&self) -> Result<EventsStatus> {
        let (events, without, first, last): (i64, i64, Option<String>, Option<String>) = sqlx::query_as(
            "SELECT count(*), count(*) - count(\"time.source\"), substr(min(\"time.source\"), 1, 10), substr(max(\"time.source\"), 1, 10) FROM events",
        )
        .fetch_one(self.pool())
        .await?;
        let mut tx = self.pool().begin().await?;
        let pending_days = pending(&mut tx).await?;
        let mut table_rows = Vec::new();
        for t in AggTable::ALL {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {}", t.name()))).fetch_one(&mut *tx).await?;
            table_rows.push((t.name().to_string(), n));
        }
        tx.rollback().await?;
        let day = |d: Option<String>| d.and_then(|d| d.parse().ok());
        Ok(EventsStatus { events, without_time_source: without, first_day: day(first), last_day: day(last), pending_days, table_rows })
    }
}

events_store!(SqliteStore, Sqlite);

/// The per-backend part of a re-aggregation on SQLite.
impl SqlEventAggregation<Sqlite> {
    /// Deletes and re-inserts `table`'s rows of the days `range` (`[first, end)`), or all of them.
    async fn replace(&mut self, table: AggTable, range: Option<(NaiveDate, NaiveDate)>) -> Result<u64> {
        let (delete, insert) = (events_sql::delete(D, table, range.is_some()), events_sql::aggregate(D, table, range.is_some()));
        let bounds: Vec<String> = range.iter().flat_map(|(a, b)| [day_text(*a), day_text(*b)]).collect();
        let mut del = sqlx::query(AssertSqlSafe(delete));
        let mut ins = sqlx::query(AssertSqlSafe(insert));
        for b in &bounds {
            del = del.bind(b.clone());
            ins = ins.bind(b.clone());
        }
        del.execute(&mut *self.tx).await?;
        Ok(ins.execute(&mut *self.tx).await?.rows_affected())
    }

    async fn mark_days_impl(&mut self, from: NaiveDate, to: NaiveDate) -> Result<()> {
        for day in from.iter_days().take_while(|d| *d <= to) {
            mark_day(&mut self.tx, day).await?;
        }
        Ok(())
    }

    async fn marked_days_impl(&mut self) -> Result<Vec<NaiveDate>> {
        pending(&mut self.tx).await
    }

    async fn replace_days_impl(&mut self, table: AggTable, from: NaiveDate, to: NaiveDate) -> Result<u64> {
        self.replace(table, Some((from, to))).await
    }

    async fn rebuild_impl(&mut self) -> Result<[u64; 3]> {
        let mut rows = [0; 3];
        for (i, table) in AggTable::ALL.into_iter().enumerate() {
            rows[i] = self.replace(table, None).await?;
        }
        Ok(rows)
    }
}

/// An events import on SQLite: multi-row INSERTs inside one `BEGIN IMMEDIATE`.
struct SqliteEvents {
    tx: Transaction<'static, Sqlite>,
    days: BTreeSet<NaiveDate>,
}

#[async_trait]
impl EventSession for SqliteEvents {
    async fn write(&mut self, events: &[Event]) -> Result<()> {
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO events ({}) ", events_sql::event_columns()));
            q.push_values(chunk, |mut b, e| {
                for v in &e.values {
                    match v {
                        Value::Int(i) => b.push_bind(*i),
                        other => b.push_bind(other.text()),
                    };
                }
            });
            q.build().execute(&mut *self.tx).await?;
            self.days.extend(chunk.iter().filter_map(Event::day));
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>, mark: Option<(&str, i64)>) -> Result<Vec<NaiveDate>> {
        for day in &self.days {
            mark_day(&mut self.tx, *day).await?;
        }
        if let Some((name, value)) = mark {
            set_counter(&mut self.tx, name, value).await?;
        }
        self.tx.commit().await?;
        Ok(self.days.into_iter().collect())
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
