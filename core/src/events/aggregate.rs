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

use super::model::AggTable;
use crate::error::{Error, Result};
use crate::store::EventStore;

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

/// What a re-aggregation did.
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
    /// The outcome.
    #[serde(flatten)]
    pub outcome: AggregateOutcome,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Re-aggregates `scope` (timed).
pub async fn aggregate(store: &dyn EventStore, scope: Scope) -> Result<AggregateReport> {
    if let Scope::Days(from, to) = scope
        && from > to
    {
        return Err(Error::InvalidArgument(format!("--from {from} is after --to {to}")));
    }
    let started = Instant::now();
    let outcome = aggregate_scope(store, scope).await?;
    Ok(AggregateReport { outcome, seconds: started.elapsed().as_secs_f64() })
}

/// Re-aggregates the daily tables in one aggregation session: the days marked by imports
/// ([`Scope::Pending`]), a range of days, or everything. Marks of the days done are cleared in
/// the same transaction; concurrent runs and commits of imports wait for it. Also counts the
/// events without `time.source`.
async fn aggregate_scope(store: &dyn EventStore, scope: Scope) -> Result<AggregateOutcome> {
    let mut session = store.begin_events_aggregation().await?;
    let mut outcome = AggregateOutcome { full: scope == Scope::Full, ..AggregateOutcome::default() };
    if let Scope::Days(from, to) = scope {
        session.mark_days(from, to).await?;
    }
    if outcome.full {
        outcome.rows_written = session.rebuild().await?;
    } else {
        outcome.days = session.marked_days().await?;
    }
    for (a, b) in day_runs(&outcome.days) {
        for (i, table) in AggTable::ALL.into_iter().enumerate() {
            outcome.rows_written[i] += session.replace_days(table, a, b).await?;
        }
    }
    outcome.without_time_source = session.without_time_source().await?;
    session.clear_marks().await?;
    session.commit().await?;
    Ok(outcome)
}

/// Sorted runs of consecutive days as half-open ranges `[first, last + 1)`.
pub fn day_runs(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut sorted = days.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in sorted {
        let end = day.succ_opt().unwrap_or(day);
        match runs.last_mut() {
            Some(run) if run.1 == day => run.1 = end,
            _ => runs.push((day, end)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    #[test]
    fn runs_of_days() {
        let days = [day("2024-06-03"), day("2024-06-01"), day("2024-06-02"), day("2024-06-05"), day("2024-06-02")];
        assert_eq!(day_runs(&days), [(day("2024-06-01"), day("2024-06-04")), (day("2024-06-05"), day("2024-06-06"))]);
    }
}
