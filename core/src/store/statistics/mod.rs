//! Storage of the statistics: the trait, the sessions it opens and the types they exchange.
//!
//! - [`model`]: the report types and enums of the sview schema, data types and table levels.
//! - [`query`]: the one query shape every statistics resource is built from.
//! - [`sql`]: the statistics SQL text of both dialects.
//! - [`scan`]: one table's rows in a time range, read once, and queries answered from them.
//!
//! The aggregation algorithm (windows, exactly once, retries) lives in the statistics
//! capability; the store offers an [`AggregationSession`]: one transaction under a level's
//! lock, in which the capability reads fingerprints and replaces time ranges.

pub mod model;
pub mod query;
pub mod scan;
pub(crate) mod shared;
pub mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use self::model::{DataType, Level, ReportBatch, StoredRow};
use self::query::{StatQuery, StatRow};
use crate::error::Result;

/// Row count and `SUM(raw_count)` of one statistics table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableTotal {
    /// Table name.
    pub table: &'static str,
    /// Number of rows.
    pub rows: i64,
    /// Sum of `raw_count`.
    pub sum: i64,
}

/// The incidents of one attacker address with one trap and action in a time range (what the
/// greylist is decided from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpActivity {
    /// Attacker address as text (no prefix length).
    pub ip: String,
    /// The trap (`trap_t` value).
    pub trap: String,
    /// The action (`action_t` value).
    pub action: String,
    /// `SUM(raw_count)` of its rows (NULLs count as 0).
    pub incidents: i64,
    /// Its earliest row time.
    pub first_seen: DateTime<Utc>,
    /// Its latest row time.
    pub last_seen: DateTime<Utc>,
}

/// `(rows, SUM(raw_count))` of one data type in one source window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    /// Number of source rows.
    pub rows: i64,
    /// Sum of their `raw_count` (NULLs count as 0).
    pub sum: i64,
}

/// Fingerprints of all three data types of a window, in [`DataType::ALL`] order.
pub type WindowFingerprint = [Fingerprint; 3];

/// An open import transaction. Dropping it without [`IngestSession::commit`] rolls back.
#[async_trait]
pub trait IngestSession: Send {
    /// Writes a batch inside the transaction, creating unknown identities on the fly.
    async fn write(&mut self, batch: &ReportBatch) -> Result<()>;
    /// Commits everything written; returns the number of identities created.
    async fn commit(self: Box<Self>) -> Result<u64>;
    /// Discards everything written.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// An open aggregation transaction into one target level, taken under that level's lock
/// (PostgreSQL: an advisory transaction lock; SQLite: `BEGIN IMMEDIATE`), so two sessions of
/// the same level run one after the other and the second sees the first's records. Buckets
/// are origin-aligned, of the target level's [`Level::bucket_width`]. Dropping it without
/// [`AggregationSession::commit`] rolls back.
#[async_trait]
pub trait AggregationSession: Send {
    /// The fingerprint of each non-empty bucket of `data`'s source table in `[from, to)`, by
    /// bucket start.
    async fn source_fingerprints(&mut self, data: DataType, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, Fingerprint)>>;
    /// The windows of the target level recorded as done with a start in `[from, to)`, with the
    /// source fingerprints recorded then.
    async fn done_windows(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, WindowFingerprint)>>;
    /// Replaces `data`'s target rows in `[from, to)` by the source rows of that range summed per
    /// bucket and dimensions; returns the rows inserted. A statement the database refuses (a
    /// sum overflowing 64 bits) is an [`crate::error::Error::Aggregation`] naming the table.
    async fn replace_range(&mut self, data: DataType, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u64>;
    /// Records the window `[start, end)` as done from sources with these fingerprints.
    async fn record_window(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, fingerprints: &WindowFingerprint, now: DateTime<Utc>) -> Result<()>;
    /// Commits everything replaced and recorded.
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Discards everything replaced and recorded.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// Storage of the statistics tables.
#[async_trait]
pub trait StatisticsStore: Send + Sync {
    /// Starts an import transaction.
    async fn begin_ingest(&self) -> Result<Box<dyn IngestSession>>;

    /// Starts an aggregation transaction into `target` (quarterly, hourly or daily), under
    /// the target's lock.
    async fn begin_aggregation(&self, target: Level) -> Result<Box<dyn AggregationSession>>;

    /// Runs one statistics query (the building block of every resource).
    async fn stat_query(&self, query: &StatQuery) -> Result<Vec<StatRow>>;

    /// Reads the rows of `data`'s table of `level` with `from ≤ time < to` once, for many
    /// queries to be answered from ([`scan::Scan::query`]).
    async fn stat_scan(&self, data: DataType, level: Level, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<scan::Scan>;

    /// Every row of a statistics table in backend-neutral form, sorted.
    async fn table_rows(&self, data: DataType, level: Level) -> Result<Vec<StoredRow>>;

    /// Row counts and sums of all twelve statistics tables.
    async fn table_totals(&self) -> Result<Vec<TableTotal>>;

    /// The raw incidents with a time in `[from, to]` (both included), summed per attacker
    /// address, trap and action, in no particular order; with `only`, just those addresses
    /// (as text without prefix length; an empty list reads nothing).
    async fn ip_activity(&self, from: DateTime<Utc>, to: DateTime<Utc>, only: Option<&[String]>) -> Result<Vec<IpActivity>>;
}

/// Identity ids already resolved in an import, looked up without allocating.
#[derive(Debug, Default)]
pub(crate) struct IdentityCache {
    by_sn: std::collections::HashMap<String, std::collections::HashMap<String, i64>>,
    /// Identities created by this import.
    pub created: u64,
}

impl IdentityCache {
    /// The id of `(sn, token)` if known.
    pub fn get(&self, sn: &str, token: &str) -> Option<i64> {
        self.by_sn.get(sn).and_then(|m| m.get(token)).copied()
    }

    /// Remembers an id.
    pub fn insert(&mut self, sn: &str, token: &str, id: i64) {
        self.by_sn.entry(sn.to_string()).or_default().insert(token.to_string(), id);
    }
}

/// The twelve statistics tables as data type and level.
pub(crate) fn statistics_tables() -> impl Iterator<Item = (DataType, Level)> {
    DataType::ALL
        .into_iter()
        .flat_map(|d| [Level::Raw, Level::Quarterly, Level::Hourly, Level::Daily].into_iter().map(move |l| (d, l)))
}

/// The source level, bucket width and lock number of an aggregation into `target`, or an
/// invalid-argument error for the raw level (nothing aggregates into it).
pub(crate) fn aggregation_of(target: Level) -> Result<(Level, chrono::Duration, i64)> {
    match (target.aggregated_from(), target.bucket_width()) {
        (Some(source), Some(width)) => Ok((source, width, target as i64 - 1)),
        _ => Err(crate::error::Error::InvalidArgument(format!("nothing aggregates into the {} tables", target.as_str()))),
    }
}
