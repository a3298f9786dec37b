//! Multi-precision aggregation: raw → quarterly → hourly → daily, exactly once per window.
//!
//! A run of precision P over window `[start, end)` inserts `SUM(raw_count)` of P's source
//! table grouped by the origin-aligned bucket and every other column into P's target table,
//! for all three data types. Sources are never deleted.
//!
//! ## Exactly once
//!
//! Each window that was aggregated is recorded in `vantage_aggregation_window` **in the same
//! transaction** as its rows, together with a *fingerprint* of the source window per data
//! type: `(row count, SUM(raw_count))`. Every run takes a per-precision lock (PostgreSQL
//! advisory transaction lock, SQLite `BEGIN IMMEDIATE`), then compares the source's current
//! fingerprint with the recorded one ([`plan`]):
//! - recorded and equal → skip (a retried, manual or concurrent run changes nothing);
//! - not recorded → write the window (delete whatever the target holds in it, then insert);
//! - recorded but different, source not empty → **late rows**: the window is replaced
//!   (delete + insert) and the new fingerprint recorded. Coarser precisions see their own
//!   source change in turn and are replaced when their windows are next run, so late rows
//!   propagate quarterly → hourly → daily;
//! - recorded but the source is now empty (raw data dropped by a retention policy) → the
//!   aggregated rows are kept; Vantage never deletes aggregates because the source aged out.
//!
//! Late rows are picked up by any run covering their window: the scheduled run of the
//! current window only looks at that window, so after importing old data run
//! `migrate-period` with `--days` reaching back far enough (it skips unchanged windows
//! cheaply, so re-running it is safe and fast).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::model::{DataType, Level};
use crate::error::{Error, Result};
use crate::progress::Progress;
pub use crate::store::statistics::{Fingerprint, WindowFingerprint};
use crate::store::StatisticsStore;
use crate::timebucket::{floor, label};

/// An aggregation precision, named after its target tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// raw → `*_quarterly`, 15-minute buckets.
    Quarterly,
    /// quarterly → `*_hourly`, 1-hour buckets.
    Hourly,
    /// hourly → `*_daily`, 1-day buckets.
    Daily,
}

impl Precision {
    /// All precisions from finest to coarsest (the order dependencies run in).
    pub const ALL: [Precision; 3] = [Precision::Quarterly, Precision::Hourly, Precision::Daily];

    /// The handle used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Quarterly => "quarterly",
            Precision::Hourly => "hourly",
            Precision::Daily => "daily",
        }
    }

    /// Bucket (and window) width.
    pub fn width(self) -> Duration {
        match self {
            Precision::Quarterly => Duration::minutes(15),
            Precision::Hourly => Duration::hours(1),
            Precision::Daily => Duration::days(1),
        }
    }

    /// The table level this precision reads.
    pub fn source(self) -> Level {
        match self {
            Precision::Quarterly => Level::Raw,
            Precision::Hourly => Level::Quarterly,
            Precision::Daily => Level::Hourly,
        }
    }

    /// The table level this precision writes.
    pub fn target(self) -> Level {
        match self {
            Precision::Quarterly => Level::Quarterly,
            Precision::Hourly => Level::Hourly,
            Precision::Daily => Level::Daily,
        }
    }

    /// Days `migrate-period` back-fills by default (sview: 9 / 8 / 7).
    pub fn default_backfill_days(self) -> u32 {
        match self {
            Precision::Quarterly => 9,
            Precision::Hourly => 8,
            Precision::Daily => 7,
        }
    }

    /// Delay after the next window boundary before the next run is allowed (180/190/200 s).
    pub fn start_delay(self) -> Duration {
        match self {
            Precision::Quarterly => Duration::seconds(180),
            Precision::Hourly => Duration::seconds(190),
            Precision::Daily => Duration::seconds(200),
        }
    }

    /// Windows handled per transaction by back-fills.
    pub fn windows_per_chunk(self) -> usize {
        match self {
            Precision::Quarterly => 96,
            Precision::Hourly => 24,
            Precision::Daily => 31,
        }
    }

    /// Precisions whose pending or failed runs this one must wait for (transitively).
    pub fn depends_on(self) -> &'static [Precision] {
        match self {
            Precision::Quarterly => &[],
            Precision::Hourly => &[Precision::Quarterly],
            Precision::Daily => &[Precision::Quarterly, Precision::Hourly],
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "quarterly" => Ok(Precision::Quarterly),
            "hourly" => Ok(Precision::Hourly),
            "daily" => Ok(Precision::Daily),
            other => Err(Error::InvalidArgument(format!(
                "unknown aggregation period `{other}`; valid: quarterly, hourly, daily"
            ))),
        }
    }
}

/// A half-open aggregation window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Window {
    /// Inclusive start (a bucket boundary).
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {})", label(self.start), label(self.end))
    }
}

/// The window one scheduled run covers at `now`: `[floor(now − width), floor(now))`.
pub fn current_window(precision: Precision, now: DateTime<Utc>) -> Window {
    let end = floor(now, precision.width());
    Window { start: end - precision.width(), end }
}

/// When the next scheduled run is allowed after a run at `now`: the next window boundary
/// plus the precision's start delay.
pub fn next_run_allowed(precision: Precision, now: DateTime<Utc>) -> DateTime<Utc> {
    floor(now, precision.width()) + precision.width() + precision.start_delay()
}

/// The complete windows of the last `days` days before `now`, oldest first.
pub fn backfill_windows(precision: Precision, now: DateTime<Utc>, days: u32) -> Vec<Window> {
    let w = precision.width();
    let end = floor(now, w);
    let mut start = floor(now - Duration::days(i64::from(days)), w);
    let mut out = Vec::new();
    while start < end {
        out.push(Window { start, end: start + w });
        start += w;
    }
    out
}

/// What a run does with one data type of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Already aggregated from exactly this source data.
    Skip,
    /// Not yet aggregated: write it.
    Insert,
    /// Aggregated before, but the source changed (late rows): replace it.
    Replace,
    /// Not yet aggregated and the source is empty: only record it.
    RecordEmpty,
    /// Aggregated before, source since emptied (retention): keep the aggregates.
    KeepRetained,
}

impl Action {
    /// True when the target rows of the window are (re)written.
    pub fn writes(self) -> bool {
        matches!(self, Action::Insert | Action::Replace)
    }
}

/// Decides what to do with one data type of a window. The heart of exactly-once.
pub fn plan(source: Fingerprint, done: Option<Fingerprint>) -> Action {
    match done {
        None if source.rows == 0 => Action::RecordEmpty,
        None => Action::Insert,
        Some(d) if d == source => Action::Skip,
        Some(_) if source.rows == 0 => Action::KeepRetained,
        Some(_) => Action::Replace,
    }
}

/// The fingerprint to record after acting on a data type of a window.
pub fn recorded(action: Action, source: Fingerprint, done: Option<Fingerprint>) -> Fingerprint {
    match (action, done) {
        (Action::KeepRetained, Some(d)) => d,
        _ => source,
    }
}

/// The decisions for one window, per data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowPlan {
    /// The window.
    pub window: Window,
    /// Action per data type ([`DataType::ALL`] order).
    pub actions: [Action; 3],
}

/// Totals of an aggregation run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AggregationReport {
    /// The precision run.
    pub precision: Option<Precision>,
    /// Windows examined.
    pub windows: u64,
    /// (window, data type) pairs written for the first time.
    pub inserted: u64,
    /// (window, data type) pairs replaced because of late rows.
    pub replaced: u64,
    /// (window, data type) pairs already done.
    pub skipped: u64,
    /// (window, data type) pairs recorded with an empty source.
    pub empty: u64,
    /// Aggregated rows written.
    pub rows_written: u64,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// Wall time.
    #[serde(skip)]
    pub elapsed: StdDuration,
    /// The plan of every window that needs work (dry runs only).
    pub pending: Vec<WindowPlan>,
    /// Windows the database refused to aggregate (nothing of them written), oldest first.
    pub failed: Vec<FailedWindow>,
}

/// A window that could not be aggregated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedWindow {
    /// The window.
    pub window: Window,
    /// Why, naming the precision, the table and the window (`quarterly window [2024-06-15
    /// 10:00, 2024-06-15 10:15): table passwords: integer overflow`).
    pub error: String,
}

impl AggregationReport {
    fn absorb(&mut self, outcome: ChunkOutcome, dry_run: bool) {
        for p in &outcome.plans {
            self.windows += 1;
            for a in p.actions {
                match a {
                    Action::Insert => self.inserted += 1,
                    Action::Replace => self.replaced += 1,
                    Action::Skip | Action::KeepRetained => self.skipped += 1,
                    Action::RecordEmpty => self.empty += 1,
                }
            }
            if dry_run && p.actions.iter().any(|a| *a != Action::Skip && *a != Action::KeepRetained) {
                self.pending.push(*p);
            }
        }
        self.rows_written += outcome.rows_written;
    }
}

/// What one chunk of windows came to.
#[derive(Debug, Clone, Default)]
pub struct ChunkOutcome {
    /// The plan that was carried out (or would be, on a dry run).
    pub plans: Vec<WindowPlan>,
    /// Aggregated rows inserted.
    pub rows_written: u64,
}

/// Builds the per-window plans of a chunk from source and recorded fingerprints.
/// `source(i)` and `done(i)` give the fingerprints of `windows[i]`.
pub fn plan_chunk(
    windows: &[Window],
    source: impl Fn(usize) -> WindowFingerprint,
    done: impl Fn(usize) -> Option<WindowFingerprint>,
) -> Vec<WindowPlan> {
    windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let s = source(i);
            let d = done(i);
            let actions = std::array::from_fn(|k| plan(s[k], d.map(|d| d[k])));
            WindowPlan { window: *w, actions }
        })
        .collect()
}

/// Source and recorded fingerprints of a chunk, keyed by window start `K`; turns them into
/// plans and the window records to write.
#[derive(Debug)]
pub struct ChunkState<K> {
    /// Source fingerprints by bucket.
    pub source: HashMap<K, WindowFingerprint>,
    /// Recorded fingerprints by window start.
    pub done: HashMap<K, WindowFingerprint>,
}

impl<K: std::hash::Hash + Eq + Copy> Default for ChunkState<K> {
    fn default() -> Self {
        ChunkState { source: HashMap::new(), done: HashMap::new() }
    }
}

impl<K: std::hash::Hash + Eq + Copy> ChunkState<K> {
    /// Adds one `(bucket, rows, sum)` row of data type number `k` of the source.
    pub fn add_source(&mut self, k: usize, bucket: K, rows: i64, sum: i64) {
        self.source.entry(bucket).or_default()[k] = Fingerprint { rows, sum };
    }

    /// Source rows of data type `k` in the window starting at `key`.
    pub fn source_rows(&self, key: &K, k: usize) -> i64 {
        self.source.get(key).map_or(0, |f| f[k].rows)
    }

    /// Plans each window (`key` maps a window to its start as `K`) and returns the plans with
    /// the fingerprints to record for the windows whose record must be written.
    pub fn plan(&self, windows: &[Window], key: impl Fn(&Window) -> K) -> (Vec<WindowPlan>, Vec<(Window, WindowFingerprint)>) {
        let source = |i: usize| self.source.get(&key(&windows[i])).copied().unwrap_or_default();
        let done = |i: usize| self.done.get(&key(&windows[i])).copied();
        let plans = plan_chunk(windows, source, done);
        let records = plans
            .iter()
            .enumerate()
            .filter(|(_, p)| p.actions.iter().any(|a| a.writes() || *a == Action::RecordEmpty))
            .map(|(i, p)| {
                let (s, d) = (source(i), done(i));
                (p.window, std::array::from_fn(|k| recorded(p.actions[k], s[k], d.map(|d| d[k]))))
            })
            .collect();
        (plans, records)
    }
}

/// Source rows one aggregation statement reads at most (when windows can be split): keeps
/// the database's grouping memory bounded on dense data while sparse data still gets few,
/// long statements.
pub const MAX_ROWS_PER_STATEMENT: i64 = 500_000;

/// Maximal runs of consecutive windows for which `pick` holds, as `[start, end)` ranges —
/// one INSERT…SELECT per run instead of one per window. A run is closed once it covers
/// [`MAX_ROWS_PER_STATEMENT`] source rows (`rows(i)` = source rows of `plans[i]`).
pub fn runs(plans: &[WindowPlan], pick: impl Fn(&WindowPlan) -> bool, rows: impl Fn(usize) -> i64) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::new();
    let mut run_rows = 0;
    for (i, p) in plans.iter().enumerate().filter(|(_, p)| pick(p)) {
        match out.last_mut() {
            Some(last) if last.end == p.window.start && run_rows < MAX_ROWS_PER_STATEMENT => {
                last.end = p.window.end;
                run_rows += rows(i);
            }
            _ => {
                out.push(p.window);
                run_rows = rows(i);
            }
        }
    }
    out
}

/// Aggregates `windows` (sorted, consecutive chunk of one precision) exactly once, in one
/// aggregation session of the store (one transaction under the precision's lock): reads the
/// source and recorded fingerprints, plans every window, replaces the runs of windows to
/// write and records them. A dry run only plans, and rolls back.
pub async fn aggregate_chunk(store: &dyn StatisticsStore, precision: Precision, windows: &[Window], dry_run: bool, now: DateTime<Utc>) -> Result<ChunkOutcome> {
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok(ChunkOutcome::default());
    };
    let (from, to) = (first.start, last.end);
    let mut session = store.begin_aggregation(precision.target()).await?;
    let mut state = ChunkState::<DateTime<Utc>>::default();
    for (k, data) in DataType::ALL.into_iter().enumerate() {
        for (bucket, fp) in session.source_fingerprints(data, from, to).await? {
            state.add_source(k, bucket, fp.rows, fp.sum);
        }
    }
    state.done.extend(session.done_windows(from, to).await?);
    let (plans, records) = state.plan(windows, |w| w.start);
    if dry_run {
        session.rollback().await?;
        return Ok(ChunkOutcome { plans, rows_written: 0 });
    }

    let mut rows_written = 0;
    for (k, data) in DataType::ALL.into_iter().enumerate() {
        for run in runs(&plans, |p| p.actions[k].writes(), |i| state.source_rows(&plans[i].window.start, k)) {
            rows_written += session.replace_range(data, run.start, run.end).await?;
        }
    }
    for (window, fp) in records {
        session.record_window(window.start, window.end, &fp, now).await?;
    }
    session.commit().await?;
    Ok(ChunkOutcome { plans, rows_written })
}

/// Aggregates `windows` (any order, deduplicated, processed oldest first in chunks of
/// [`Precision::windows_per_chunk`]) exactly once. With `dry_run` nothing is written and
/// the report lists the windows that would be. A window the database refuses to aggregate
/// does not stop the others (see [`aggregate_windows`]); it is an [`Error::Aggregation`]
/// naming every such window once the rest is done.
pub async fn aggregate(
    store: &dyn StatisticsStore,
    precision: Precision,
    windows: Vec<Window>,
    dry_run: bool,
    now: DateTime<Utc>,
    progress: Arc<dyn Progress>,
) -> Result<AggregationReport> {
    let report = aggregate_windows(store, precision, windows, dry_run, now, progress).await?;
    if report.failed.is_empty() {
        Ok(report)
    } else {
        Err(Error::Aggregation(report.failed.iter().map(|f| f.error.as_str()).collect::<Vec<_>>().join("; ")))
    }
}

/// Like [`aggregate`], but windows the database refuses to aggregate (an [`Error::Aggregation`],
/// e.g. a sum overflowing 64 bits) are listed in [`AggregationReport::failed`] instead: the
/// chunk holding one is retried window by window, so every other window is still aggregated.
/// Other errors (a lost connection) stop the run.
pub async fn aggregate_windows(
    store: &dyn StatisticsStore,
    precision: Precision,
    mut windows: Vec<Window>,
    dry_run: bool,
    now: DateTime<Utc>,
    progress: Arc<dyn Progress>,
) -> Result<AggregationReport> {
    let started = Instant::now();
    windows.sort();
    windows.dedup();
    progress.phase(&format!("{precision} aggregation"), Some(windows.len() as u64));
    let mut report = AggregationReport { precision: Some(precision), dry_run, ..AggregationReport::default() };
    let failed = |window: Window, reason: String| FailedWindow { window, error: format!("{precision} window {window}: {reason}") };
    for chunk in windows.chunks(precision.windows_per_chunk()) {
        match aggregate_chunk(store, precision, chunk, dry_run, now).await {
            Ok(outcome) => report.absorb(outcome, dry_run),
            Err(Error::Aggregation(reason)) if chunk.len() == 1 => report.failed.push(failed(chunk[0], reason)),
            Err(Error::Aggregation(_)) => {
                for window in chunk {
                    match aggregate_chunk(store, precision, std::slice::from_ref(window), dry_run, now).await {
                        Ok(outcome) => report.absorb(outcome, dry_run),
                        Err(Error::Aggregation(reason)) => report.failed.push(failed(*window, reason)),
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
        progress.advance(chunk.len() as u64);
    }
    progress.finish();
    report.elapsed = started.elapsed();
    Ok(report)
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_instant;

    fn t(s: &str) -> DateTime<Utc> {
        parse_instant(s).expect("instant")
    }

    #[test]
    fn current_windows_match_the_spec_table() {
        let now = t("2024-06-15T12:40:00Z");
        assert_eq!(current_window(Precision::Quarterly, now), Window { start: t("2024-06-15T12:15:00Z"), end: t("2024-06-15T12:30:00Z") });
        assert_eq!(current_window(Precision::Hourly, now), Window { start: t("2024-06-15T11:00:00Z"), end: t("2024-06-15T12:00:00Z") });
        assert_eq!(current_window(Precision::Daily, now), Window { start: t("2024-06-14T00:00:00Z"), end: t("2024-06-15T00:00:00Z") });
        assert_eq!(next_run_allowed(Precision::Quarterly, now), t("2024-06-15T12:48:00Z"));
        assert_eq!(next_run_allowed(Precision::Hourly, now), t("2024-06-15T13:03:10Z"));
        assert_eq!(next_run_allowed(Precision::Daily, now), t("2024-06-16T00:03:20Z"));
    }

    #[test]
    fn backfill_covers_whole_windows_up_to_now() {
        let now = t("2024-06-15T12:40:00Z");
        let q = backfill_windows(Precision::Quarterly, now, 9);
        assert_eq!(q.len(), 9 * 96);
        assert_eq!(q[0].start, t("2024-06-06T12:30:00Z"));
        assert_eq!(q.last().map(|w| w.end), Some(t("2024-06-15T12:30:00Z")));
        let d = backfill_windows(Precision::Daily, now, 7);
        assert_eq!(d.len(), 7);
        assert_eq!(d[0].start, t("2024-06-08T00:00:00Z"));
    }

    #[test]
    fn plan_is_exactly_once() {
        let fp = |rows, sum| Fingerprint { rows, sum };
        assert_eq!(plan(fp(3, 5), None), Action::Insert);
        assert_eq!(plan(fp(0, 0), None), Action::RecordEmpty);
        assert_eq!(plan(fp(3, 5), Some(fp(3, 5))), Action::Skip);
        assert_eq!(plan(fp(4, 6), Some(fp(3, 5))), Action::Replace);
        assert_eq!(plan(fp(0, 0), Some(fp(3, 5))), Action::KeepRetained);
        assert_eq!(recorded(Action::KeepRetained, fp(0, 0), Some(fp(3, 5))), fp(3, 5));
        assert_eq!(recorded(Action::Replace, fp(4, 6), Some(fp(3, 5))), fp(4, 6));
    }

    #[test]
    fn runs_merge_adjacent_windows() {
        let w = |h: u32| Window { start: t("2024-06-15T00:00:00Z") + Duration::hours(i64::from(h)), end: t("2024-06-15T00:00:00Z") + Duration::hours(i64::from(h) + 1) };
        let plans: Vec<WindowPlan> = (0..5)
            .map(|h| WindowPlan { window: w(h), actions: [if h == 2 { Action::Skip } else { Action::Insert }, Action::Skip, Action::Skip] })
            .collect();
        let r = runs(&plans, |p| p.actions[0].writes(), |_| 1);
        assert_eq!(runs(&plans, |p| p.actions[0].writes(), |_| MAX_ROWS_PER_STATEMENT).len(), 4, "dense windows are not merged");
        assert_eq!(r, vec![Window { start: w(0).start, end: w(1).end }, Window { start: w(3).start, end: w(4).end }]);
    }
}
