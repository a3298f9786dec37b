//! Storage of the IntelMQ events: the trait, the sessions it opens and the types they exchange.
//!
//! - [`model`]: the stored IntelMQ fields (dotted names, allow-list) and the three daily tables.
//! - [`query`]: the one query shape (grouped count with the views' filters).
//! - [`sql`]: the events SQL text of both dialects.
//!
//! The aggregation algorithm (which days, exactly once) lives in the events capability; the
//! store offers an [`EventAggregationSession`]: one transaction under the events lock.

pub mod model;
pub mod query;
pub(crate) mod shared;
pub mod sql;

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Serialize;

use self::model::{AggTable, Event};
use self::query::{EventQuery, EventRow};
use crate::error::Result;

/// The state of the events store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventsStatus {
    /// Stored events.
    pub events: i64,
    /// Stored events without `time.source` (in no daily table).
    pub without_time_source: i64,
    /// UTC day of the oldest `time.source`.
    pub first_day: Option<NaiveDate>,
    /// UTC day of the newest `time.source`.
    pub last_day: Option<NaiveDate>,
    /// Days imported but not re-aggregated yet.
    pub pending_days: Vec<NaiveDate>,
    /// Rows of each daily table.
    pub table_rows: Vec<(String, i64)>,
}

/// An open events import transaction. Dropping it without [`EventSession::commit`] rolls back.
#[async_trait]
pub trait EventSession: Send {
    /// Writes events inside the transaction.
    async fn write(&mut self, events: &[Event]) -> Result<()>;
    /// Marks the UTC days of the written events for re-aggregation and commits, setting the
    /// counter `mark` = (name, value) in the same transaction when given. Returns the days.
    async fn commit(self: Box<Self>, mark: Option<(&str, i64)>) -> Result<Vec<NaiveDate>>;
    /// Discards everything written.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// An open transaction re-aggregating the daily tables, under the events aggregation lock:
/// concurrent sessions and the commits of imports wait for it (PostgreSQL: an advisory lock
/// imports share; SQLite: `BEGIN IMMEDIATE`). Dropping it without
/// [`EventAggregationSession::commit`] rolls back.
#[async_trait]
pub trait EventAggregationSession: Send {
    /// Marks the days `from` … `to` (both included) for re-aggregation.
    async fn mark_days(&mut self, from: NaiveDate, to: NaiveDate) -> Result<()>;
    /// The days marked for re-aggregation, sorted.
    async fn marked_days(&mut self) -> Result<Vec<NaiveDate>>;
    /// Replaces `table`'s rows of the days `[from, to)` by rows aggregated from the events;
    /// returns the rows written.
    async fn replace_days(&mut self, table: AggTable, from: NaiveDate, to: NaiveDate) -> Result<u64>;
    /// Rebuilds the three tables whole from every event; returns the rows written per table
    /// in [`AggTable::ALL`] order.
    async fn rebuild(&mut self) -> Result<[u64; 3]>;
    /// Counts the events without `time.source` (an index lookup).
    async fn without_time_source(&mut self) -> Result<i64>;
    /// Clears every mark.
    async fn clear_marks(&mut self) -> Result<()>;
    /// Commits.
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Storage of the IntelMQ events and their daily aggregation tables.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Starts an events import transaction.
    async fn begin_events_import(&self) -> Result<Box<dyn EventSession>>;

    /// Starts a re-aggregation of the daily tables, under the events aggregation lock.
    async fn begin_events_aggregation(&self) -> Result<Box<dyn EventAggregationSession>>;

    /// Runs one events query (every events question is built from these).
    async fn events_query(&self, query: &EventQuery) -> Result<Vec<EventRow>>;

    /// Every row of an aggregation table as text (day, count, dimensions), sorted.
    async fn events_table_rows(&self, table: AggTable) -> Result<Vec<Vec<Option<String>>>>;

    /// Stored events, those without `time.source`, days waiting for aggregation, table sizes.
    async fn events_status(&self) -> Result<EventsStatus>;

    /// Whether any event is stored (one row looked at, not counted).
    async fn events_stored(&self) -> Result<bool>;
}

/// Decodes the rows of an events query: day text (when by day), one text key per group field,
/// the count; sorted.
pub(crate) fn event_rows<R: sqlx::Row>(rows: &[R], query: &EventQuery) -> std::result::Result<Vec<EventRow>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let offset = usize::from(query.by_day);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let day = if query.by_day { r.try_get::<Option<String>, _>(0)?.and_then(|d| d.parse().ok()) } else { None };
        let value: Option<i64> = r.try_get(offset + query.group.len())?;
        out.push(EventRow { day, keys: super::texts(r, offset, query.group.len())?, value: value.unwrap_or(0) });
    }
    out.sort();
    Ok(out)
}

/// Binds an events query's values in order (days as `date` on PostgreSQL, `YYYY-MM-DD` text on SQLite).
pub(crate) fn bind_events<'q, DB: sqlx::Database>(
    mut query: sqlx::query::Query<'q, DB, DB::Arguments>,
    binds: Vec<sql::EventBind>,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    for<'t> chrono::NaiveDate: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    for b in binds {
        query = match b {
            sql::EventBind::Day(d) => query.bind(d),
            sql::EventBind::Text(s) => query.bind(s),
            sql::EventBind::Int(i) => query.bind(i),
        };
    }
    query
}
