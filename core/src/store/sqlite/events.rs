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
use crate::store::events::query::{EventQuery, EventRow};
use crate::store::events::sql::{self as events_sql, WITHOUT_TIME_SOURCE};
use crate::store::events::{EventAggregationSession, EventSession, EventStore, EventsStatus, bind_events, event_rows};
use crate::store::sorted_texts;

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

#[async_trait]
impl EventStore for SqliteStore {
    async fn begin_events_import(&self) -> Result<Box<dyn EventSession>> {
        Ok(Box::new(SqliteEvents { tx: self.pool().begin_with("BEGIN IMMEDIATE").await?, days: BTreeSet::new() }))
    }

    async fn begin_events_aggregation(&self) -> Result<Box<dyn EventAggregationSession>> {
        Ok(Box::new(SqliteEventAggregation { tx: self.pool().begin_with("BEGIN IMMEDIATE").await? }))
    }

    async fn events_query(&self, q: &EventQuery) -> Result<Vec<EventRow>> {
        let (sql, binds) = events_sql::query(D, q);
        let query = bind_events(sqlx::query(AssertSqlSafe(sql)), binds);
        Ok(event_rows(&query.fetch_all(self.pool()).await?, q)?)
    }

    async fn events_table_rows(&self, table: AggTable) -> Result<Vec<Vec<Option<String>>>> {
        let rows = sqlx::query(AssertSqlSafe(events_sql::table_rows(D, table))).fetch_all(self.pool()).await?;
        Ok(sorted_texts(&rows, table.dimensions().len() + 2)?)
    }

    async fn events_status(&self) -> Result<EventsStatus> {
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

/// A re-aggregation of the daily tables on SQLite, holding the write lock (`BEGIN IMMEDIATE`).
struct SqliteEventAggregation {
    tx: Transaction<'static, Sqlite>,
}

impl SqliteEventAggregation {
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
}

#[async_trait]
impl EventAggregationSession for SqliteEventAggregation {
    async fn mark_days(&mut self, from: NaiveDate, to: NaiveDate) -> Result<()> {
        for day in from.iter_days().take_while(|d| *d <= to) {
            mark_day(&mut self.tx, day).await?;
        }
        Ok(())
    }

    async fn marked_days(&mut self) -> Result<Vec<NaiveDate>> {
        pending(&mut self.tx).await
    }

    async fn replace_days(&mut self, table: AggTable, from: NaiveDate, to: NaiveDate) -> Result<u64> {
        self.replace(table, Some((from, to))).await
    }

    async fn rebuild(&mut self) -> Result<[u64; 3]> {
        let mut rows = [0; 3];
        for (i, table) in AggTable::ALL.into_iter().enumerate() {
            rows[i] = self.replace(table, None).await?;
        }
        Ok(rows)
    }

    async fn without_time_source(&mut self) -> Result<i64> {
        Ok(sqlx::query_scalar(WITHOUT_TIME_SOURCE).fetch_one(&mut *self.tx).await?)
    }

    async fn clear_marks(&mut self) -> Result<()> {
        sqlx::query("DELETE FROM vantage_events_dirty_days").execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
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
