//! Incident-event statistics (events.md): the IntelMQ eventDB and stats-portal's daily
//! aggregation, done incrementally.
//!
//! - [`model`]: the stored IntelMQ fields (dotted names, allow-list) and the three daily tables.
//! - [`parse`]: validation of IntelMQ JSON Lines, located errors per field.
//! - [`import`]: imports of files or an existing eventDB in one transaction, marking touched days.
//! - [`aggregate`]: exactly-once re-aggregation of the marked days, full rebuilds.
//! - [`query`]: the one query shape (grouped count with the views' filters).
//! - [`questions`]: the questions, each answered with a [`table::Table`].
//! - [`trend`]: least-squares slope, Mann–Kendall, modified z-scores.
//! - [`grafana`]: a Grafana dashboard over the production tables.
//!
//! Storage goes through [`crate::store::Store`] only.

pub mod aggregate;
pub mod grafana;
pub mod import;
pub mod model;
pub mod parse;
pub mod query;
pub mod questions;
pub mod table;
pub mod trend;

use chrono::NaiveDate;
use serde::Serialize;

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
