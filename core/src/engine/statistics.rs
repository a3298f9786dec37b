//! Statistics through the engine: resources (cached, fresh or computed now), aggregation and
//! back-fills, ingest, demo data.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::Engine;
use super::error::Result;
use super::watch::Watch;
use crate::cache::keys;
use crate::progress::Progress;
use crate::statistics::aggregation::{self, AggregationReport, Precision};
use crate::statistics::demo::{self, DemoReport};
use crate::statistics::greylist::{self, Entry, files::Written};
use crate::statistics::ingest::{self, IngestOptions, IngestReport, Source};
use crate::statistics::periods::Period;
use crate::statistics::resources::{Params, Resource};
use crate::statistics::service::{ResourceRead, resource_id};
use crate::store::TableTotal;

/// How long [`StatisticsApi::fresh`] waits for a refreshed value.
pub const WATCH_FOR: Duration = Duration::from_secs(120);

/// How often [`StatisticsApi::fresh`] asks again while no value is written (a refresh blocked
/// on a pending aggregation is queued by no one else until the next planner round).
pub const ASK_AGAIN: Duration = Duration::from_secs(3);

/// The statistics methods of a [`Engine`].
pub struct StatisticsApi<'a> {
    pub(super) engine: &'a Engine,
}

impl StatisticsApi<'_> {
    /// What the cache holds for a resource, queueing its refresh when due
    /// (stale-while-revalidate: see `read.refreshing`).
    pub async fn read(&self, resource: &Resource, period: Period, params: &Params) -> Result<ResourceRead> {
        Ok(self.engine.deployment.stats.read(resource, period, params, None).await?)
    }

    /// Waits (at most [`WATCH_FOR`]) for a value of the resource computed after `before`'s and
    /// returns it; None when none came in time. Woken by the cache's change notification —
    /// a worker in this process or in another one on the same Redis —, and every
    /// [`ASK_AGAIN`] it reads again, so a refresh that was blocked when asked gets queued.
    pub async fn fresh(&self, resource: &Resource, period: Period, params: &Params, before: &ResourceRead) -> Result<Option<ResourceRead>> {
        let stats = &self.engine.deployment.stats;
        let key = keys::resource(&resource_id(resource, period, params));
        let deadline = tokio::time::Instant::now() + WATCH_FOR;
        // subscribed before looking, so a value landing in between is not missed
        let mut watch = Watch::new(stats.cache.as_ref()).await;
        let mut ask_again = false;
        loop {
            if ask_again || stats.cache.get(&key).await?.is_some() {
                // reading queues the refresh when it is due: a refresh that was blocked on
                // an aggregation when first asked is queued once the aggregation is done
                let read = stats.read(resource, period, params, None).await?;
                if read.computed_at != before.computed_at && read.data.is_some() {
                    return Ok(Some(read));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            let wait = (tokio::time::Instant::now() + ASK_AGAIN).min(deadline);
            ask_again = tokio::time::timeout_at(wait, watch.written(&key)).await.is_err();
        }
    }

    /// Computes a resource now (at the clock's time) and caches it.
    pub async fn compute(&self, resource: &Resource, period: Period, params: &Params) -> Result<Value> {
        let stats = &self.engine.deployment.stats;
        Ok(stats.compute_and_cache(resource, period, params, stats.clock.now()).await?)
    }

    /// Aggregates the precision's current window (the last complete one); windows the
    /// database refused are listed in the report's `failed`.
    pub async fn aggregate(&self, precision: Precision, dry_run: bool, progress: Arc<dyn Progress>) -> Result<AggregationReport> {
        let now = self.engine.deployment.stats.clock.now();
        let window = aggregation::current_window(precision, now);
        Ok(aggregation::aggregate_windows(self.engine.deployment.stats.store.as_ref(), precision, vec![window], dry_run, now, progress).await?)
    }

    /// Back-fills the last `days` days of a precision, window by window (failed windows as in
    /// [`StatisticsApi::aggregate`]).
    pub async fn backfill(&self, precision: Precision, days: u32, dry_run: bool, progress: Arc<dyn Progress>) -> Result<AggregationReport> {
        let now = self.engine.deployment.stats.clock.now();
        let windows = aggregation::backfill_windows(precision, now, days);
        Ok(aggregation::aggregate_windows(self.engine.deployment.stats.store.as_ref(), precision, windows, dry_run, now, progress).await?)
    }

    /// Imports Sentinel reports (one transaction).
    pub async fn ingest(&self, sources: Vec<Source>, options: IngestOptions, progress: Arc<dyn Progress>) -> Result<IngestReport> {
        Ok(ingest::ingest(self.engine.deployment.stats.store.as_ref(), sources, options, progress).await?)
    }

    /// Generates the demo data set (a year up to the clock's time).
    pub async fn demo(&self, seed: u64, scale: f64, progress: Arc<dyn Progress>) -> Result<DemoReport> {
        let stats = &self.engine.deployment.stats;
        Ok(demo::run(stats.store.as_ref(), seed, stats.clock.now(), scale, progress).await?)
    }

    /// The greylist at the clock's time by the `[greylist]` rule, sorted by address
    /// ([`greylist`]).
    pub async fn greylist(&self) -> Result<Vec<Entry>> {
        let d = &self.engine.deployment;
        Ok(greylist::compute(d.stats.store.as_ref(), &d.greylist, d.stats.clock.now(), self.engine.geoip()).await?)
    }

    /// The greylist entries of `ips` alone at the clock's time (reads only their incidents).
    pub async fn greylist_of(&self, ips: &[std::net::IpAddr]) -> Result<Vec<Entry>> {
        let d = &self.engine.deployment;
        Ok(greylist::entries_of(d.stats.store.as_ref(), &d.greylist, d.stats.clock.now(), self.engine.geoip(), ips).await?)
    }

    /// Writes the greylist as `greylist-latest.csv` and the clock's day's archive file under
    /// `out` (default: the `[greylist]` directory), replacing that day's earlier snapshot.
    pub async fn export_greylist(&self, out: Option<&Path>) -> Result<Written> {
        let d = &self.engine.deployment;
        let entries = self.greylist().await?;
        let dir = out.unwrap_or(&d.greylist.dir);
        Ok(greylist::files::write_snapshot(dir, d.stats.clock.now().date_naive(), &entries)?)
    }

    /// Rows and sums of the raw and aggregated statistics tables.
    pub async fn table_totals(&self) -> Result<Vec<TableTotal>> {
        Ok(self.engine.deployment.stats.store.table_totals().await?)
    }
}
