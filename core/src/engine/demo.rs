//! The demo that fills every view of both front ends (`vantage demo`, `vantage-gui --demo`),
//! composed here from each capability's own part:
//!
//! - statistics: a year of Sentinel statistics ending at the clock's time
//!   ([`crate::statistics::demo`]), the demo device token registered for My devices, and the
//!   attempted passwords imported into the leaked-password store;
//! - events: IntelMQ's sample events re-dated to end today, imported and aggregated
//!   ([`crate::events::demo`]);
//! - packet captures: a completed demo job built from a shipped sample pcap, no sensor asked
//!   ([`crate::pcap::demo`]);
//! - flows: the shipped nfdump samples and a synthetic beacon on the day before the clock's
//!   date ([`crate::flows::demo`]), then the OA run of that day on the built-in scores.
//!
//! Each part fills only what is empty, so a second demo adds nothing: statistics when the raw
//! tables are empty, events when no event is stored, the capture when the spool holds no demo
//! job, flows when no flow is stored. Same seed, scale and clock: the same data.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::Engine;
use super::error::Result;
use crate::devices;
use crate::events::demo::{self as events_demo, EventsDemo};
use crate::flows::demo as flows_demo;
use crate::flows::oa::OaReport;
use crate::passwords::import::ImportReport;
use crate::pcap::demo as pcap_demo;
use crate::pcap::pipeline::JobStatus;
use crate::progress::Progress;
use crate::statistics::demo::DemoReport as StatisticsReport;

/// The raw statistics tables whose rows decide whether statistics are generated.
const RAW_TABLES: [&str; 3] = ["incidents", "passwords", "ports"];

/// The statistics part of a demo that generated them.
#[derive(Debug, Clone)]
pub struct StatisticsDemo {
    /// What the generator wrote and aggregated.
    pub report: StatisticsReport,
    /// The file the demo device token was registered in.
    pub devices_file: PathBuf,
    /// The attempted passwords imported into the leaked-password store.
    pub leaked: ImportReport,
    /// Wall time of generating and aggregating, in seconds.
    pub seconds: f64,
}

/// What [`Engine::demo`] filled, part by part.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Raw statistics rows the store held before (statistics are generated only when 0).
    pub statistics_before: i64,
    /// The statistics generated, when they were.
    pub statistics: Option<StatisticsDemo>,
    /// Events the store held before (the sample is imported only when 0).
    pub events_before: i64,
    /// The sample events imported, when they were.
    pub events: Option<EventsDemo>,
    /// The demo capture job (written now, or the one already in the spool).
    pub capture: JobStatus,
    /// Whether the capture job was written now.
    pub capture_created: bool,
    /// Flows the store held before (the demo day is imported only when 0).
    pub flows_before: i64,
    /// The demo flows day, when it was imported: its flows and OA run.
    pub flows: Option<FlowsDemo>,
}

/// The flows part of a demo that imported its day.
#[derive(Debug, Clone)]
pub struct FlowsDemo {
    /// Raw flows stored.
    pub imported: usize,
    /// The OA run of the day on the built-in scores.
    pub oa: OaReport,
}

impl Engine {
    /// Fills every empty part of the deployment with demo data (see [`self`](crate::engine::demo)):
    /// statistics of `seed` and `scale` (1.0 ≈ 1M raw rows), the sample events and the demo
    /// capture, all ending at the clock's time.
    pub async fn demo(&self, seed: u64, scale: f64, progress: Arc<dyn Progress>) -> Result<DemoReport> {
        let store = self.deployment.stats.store.as_ref();
        let now = self.deployment.stats.clock.now();
        let statistics_before: i64 = store.table_totals().await?.iter().filter(|t| RAW_TABLES.contains(&t.table)).map(|t| t.rows).sum();
        let statistics = if statistics_before == 0 { Some(self.statistics_demo(seed, scale, progress.clone()).await?) } else { None };
        let events_before = store.events_status().await?.events;
        let events = if events_before == 0 { Some(events_demo::run(store, now, progress).await?) } else { None };
        let pcap = &self.deployment.pcap;
        let (capture, capture_created) = match pcap.statuses()?.into_iter().find(pcap_demo::is_demo) {
            Some(existing) => (existing, false),
            None => pcap_demo::create(&pcap.config, now)?,
        };
        let flows_before = store.flows_status().await?.flows;
        let flows = if flows_before == 0 { Some(self.flows_demo(flows_demo::day_for(now)).await?) } else { None };
        Ok(DemoReport { statistics_before, statistics, events_before, events, capture, capture_created, flows_before, flows })
    }

    /// The flows part: imports the demo day and runs its OA on the built-in scores.
    async fn flows_demo(&self, day: chrono::NaiveDate) -> Result<FlowsDemo> {
        let flows = flows_demo::flows(day)?;
        let mut session = self.deployment.stats.store.begin_flows_import().await?;
        session.write(&flows).await?;
        session.commit().await?;
        let mut settings = (*self.deployment.flows).clone();
        if settings.settings.ipranges.is_none() && settings.settings.internal.is_empty() {
            settings.settings.internal = flows_demo::INTERNAL.iter().map(ToString::to_string).collect();
        }
        let store = self.deployment.stats.store.as_ref();
        let oa = crate::flows::pipeline::run_oa(store, &settings, day, None, flows_demo::DEMO_LIMIT).await?;
        Ok(FlowsDemo { imported: flows.len(), oa })
    }

    /// The statistics part: generates and aggregates, registers the device token, imports the
    /// attempted passwords.
    async fn statistics_demo(&self, seed: u64, scale: f64, progress: Arc<dyn Progress>) -> Result<StatisticsDemo> {
        let started = Instant::now();
        let report = self.statistics().demo(seed, scale, progress.clone()).await?;
        let seconds = started.elapsed().as_secs_f64();
        let data_dir = &self.config.data_dir;
        let mut tokens = devices::load(data_dir)?;
        tokens.push(report.demo_device_token.clone());
        devices::save(data_dir, &tokens)?;
        let leaked = self.passwords().import_statistics(progress).await?;
        Ok(StatisticsDemo { report, devices_file: devices::path(data_dir), leaked, seconds })
    }
}
