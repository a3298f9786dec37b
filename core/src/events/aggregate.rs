//! Incremental daily aggregation (stats-portal's three tables).
//!
//! An import marks the UTC days of its events in `vantage_events_dirty_days` in its own
//! transaction. [`aggregate`] re-computes exactly those days — delete the days' rows, insert
//! them again from the events — and clears their marks, all in one transaction taken under the
//! store's aggregation lock (PostgreSQL: an advisory lock that import commits share; SQLite:
//! `BEGIN IMMEDIATE`). A crash before the commit leaves the marks, so the next run redoes the
//! days: exactly once, and no helper tables are left behind. [`Scope::Full`] rebuilds
//! everything like stats-portal's nightly `CREATE TABLE … AS SELECT`.

use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::Store;

/// Which days to re-aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The days imports marked since the last run.
    Pending,
    /// These days (first and last included) plus the pending ones: for events written into
    /// the table by something other than Vantage (IntelMQ's own output bot).
    Days(NaiveDate, NaiveDate),
    /// Every day: the tables are emptied and rebuilt from all events.
    Full,
}

/// What the store did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AggregateOutcome {
    /// True for a full rebuild.
    pub full: bool,
    /// The days re-aggregated (empty for a full rebuild).
    pub days: Vec<NaiveDate>,
    /// Rows written into `agg_ndim_day_all_tags`, `…_netobject_tags`, `…_feed_tags`.
    pub rows_written: [u64; 3],
    /// Events without `time.source`: in no daily table, counted here instead.
    pub without_time_source: i64,
}

/// What [`aggregate`] did, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateReport {
    /// The store's outcome.
    #[serde(flatten)]
    pub outcome: AggregateOutcome,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Re-aggregates `scope` (timed).
pub async fn aggregate(store: &dyn Store, scope: Scope) -> Result<AggregateReport> {
    if let Scope::Days(from, to) = scope
        && from > to
    {
        return Err(Error::InvalidArgument(format!("--from {from} is after --to {to}")));
    }
    let started = Instant::now();
    let outcome = store.events_aggregate(scope).await?;
    Ok(AggregateReport { outcome, seconds: started.elapsed().as_secs_f64() })
}
