//! The events capability on SQLite: batched INSERTs, aggregation under `BEGIN IMMEDIATE`
//! (SQLite's single writer lock serialises it with imports), queries.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, QueryBuilder, Sqlite, Transaction};

use super::events_sql::{self, WITHOUT_TIME_SOURCE, day_runs};
use super::sql::Dialect;
use super::sqlite::SqliteStore;
use super::{EventSession, bind_events, event_rows, sorted_texts};
use crate::error::Result;
use crate::events::EventsStatus;
use crate::events::aggregate::{AggregateOutcome, Scope};
use crate::events::model::{AggTable, Event, Value};
use crate::events::query::{EventQuery, EventRow};

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

impl SqliteStore {
    pub(super) async fn events_begin(&self) -> Result<Box<dyn EventSession>> {
        Ok(Box::new(SqliteEvents { tx: self.pool().begin_with("BEGIN IMMEDIATE").await?, days: BTreeSet::new() }))
    }

    pub(super) async fn events_aggregate_impl(&self, scope: Scope) -> Result<AggregateOutcome> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let mut outcome = AggregateOutcome { full: scope == Scope::Full, ..AggregateOutcome::default() };
        if let Scope::Days(from, to) = scope {
            for day in from.iter_days().take_while(|d| *d <= to) {
                sqlx::query("INSERT OR IGNORE INTO vantage_events_dirty_days (day) VALUES (?1)").bind(day_text(day)).execute(&mut *tx).await?;
            }
        }
        let ranges: Vec<Option<(NaiveDate, NaiveDate)>> = if outcome.full {
            vec![None]
        } else {
            outcome.days = pending(&mut tx).await?;
            day_runs(&outcome.days).into_iter().map(Some).collect()
        };
        for range in ranges {
            for (i, table) in AggTable::ALL.into_iter().enumerate() {
                let (delete, insert) = (events_sql::delete(D, table, range.is_some()), events_sql::aggregate(D, table, range.is_some()));
                let bounds: Vec<String> = range.iter().flat_map(|(a, b)| [day_text(*a), day_text(*b)]).collect();
                let mut del = sqlx::query(AssertSqlSafe(delete));
                let mut ins = sqlx::query(AssertSqlSafe(insert));
                for b in &bounds {
                    del = del.bind(b.clone());
                    ins = ins.bind(b.clone());
                }
                del.execute(&mut *tx).await?;
                outcome.rows_written[i] += ins.execute(&mut *tx).await?.rows_affected();
            }
        }
        outcome.without_time_source = sqlx::query_scalar(WITHOUT_TIME_SOURCE).fetch_one(&mut *tx).await?;
        sqlx::query("DELETE FROM vantage_events_dirty_days").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn events_query_impl(&self, q: &EventQuery) -> Result<Vec<EventRow>> {
        let (sql, binds) = events_sql::query(D, q);
        let query = bind_events(sqlx::query(AssertSqlSafe(sql)), binds);
        Ok(event_rows(&query.fetch_all(self.pool()).await?, q)?)
    }

    pub(super) async fn events_table_rows_impl(&self, table: AggTable) -> Result<Vec<Vec<Option<String>>>> {
        let rows = sqlx::query(AssertSqlSafe(events_sql::table_rows(D, table))).fetch_all(self.pool()).await?;
        Ok(sorted_texts(&rows, table.dimensions().len() + 2)?)
    }

    pub(super) async fn events_status_impl(&self) -> Result<EventsStatus> {
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
            sqlx::query("INSERT OR IGNORE INTO vantage_events_dirty_days (day) VALUES (?1)").bind(day_text(*day)).execute(&mut *self.tx).await?;
        }
        if let Some((name, value)) = mark {
            sqlx::query("INSERT INTO vantage_counters (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                .bind(name)
                .bind(value)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(self.days.into_iter().collect())
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
