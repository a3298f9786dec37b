//! The engine facade every front end talks to.
//!
//! [`Engine::start`] opens the configured deployment on a tokio runtime running on
//! background threads (with in-process workers when the queue is in-process) and returns at
//! once. Front ends [`Engine::send`] typed [`Request`]s — never blocking — and receive
//! [`Event`]s (results, progress, errors) with [`Engine::try_recv`] /
//! [`Engine::recv_timeout`], so a UI thread never waits on I/O.
//!
//! A resource that is not cached yet (or is being refreshed) is answered at once with what
//! the cache holds (`refreshing: true`), and answered again when the fresh value lands.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::cache::{EntryInfo, keys};
use crate::config::Config;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::events::query::Filter as EventsFilter;
use crate::events::questions::{self, View as EventsView};
use crate::events::table::Table;
use crate::geo::{GeoInfo, GeoIp};
use crate::jobs::Snapshot;
use crate::passwords::PwnedHash;
use crate::pcap::pipeline::JobStatus;
use crate::pcap::query::Request as CaptureRequest;
use crate::pcap::service::SensorStats;
use crate::pcap::summary::{self, CaptureSummary};
use crate::progress::{NoProgress, Progress};
use crate::statistics::aggregation::{self, AggregationReport, Precision};
use crate::statistics::periods::Period;
use crate::statistics::resources::{self, Params};
use crate::statistics::service::{ResourceRead, Suggestion};
use crate::worker::WorkerOptions;

/// What a front end can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A resource (cached value now, fresh value when computed).
    Resource {
        /// Resource name.
        name: String,
        /// Period.
        period: Period,
        /// Parameters.
        params: Params,
    },
    /// Run the refresh planner.
    Refresh,
    /// Queued / running / failed jobs.
    Jobs,
    /// Cache entries under a key prefix (e.g. `vantage:resource:`, `vantage:timeout:`).
    Entries {
        /// Key prefix.
        prefix: String,
    },
    /// Back-fill a precision over the last `days` days (with progress events).
    Migrate {
        /// Precision.
        precision: Precision,
        /// Days.
        days: u32,
    },
    /// Aggregate the last complete window of a precision (what `aggregate-period` does).
    Aggregate {
        /// Precision.
        precision: Precision,
    },
    /// Delete cached resources (`all`: every Vantage key).
    ClearCache {
        /// Everything, not only resources.
        all: bool,
    },
    /// Clear refresh timeouts of one kind (`aggregation` or `resource`) for a precision or period.
    ClearTimeouts {
        /// `aggregation` or `resource`.
        kind: String,
        /// A precision (aggregation) or a display period (resource).
        period: String,
    },
    /// What the GeoIP databases know about an address.
    Geo {
        /// The address.
        ip: IpAddr,
    },
    /// Is this SHA-1 a leaked password? The front end hashes: a password never reaches the engine.
    CheckHash {
        /// 40 hex digits.
        sha1: String,
    },
    /// The most often seen leaked-password hashes.
    LeakedTop {
        /// How many.
        limit: i64,
    },
    /// Request a packet capture from the text an analyst typed (see
    /// [`crate::pcap::query::Request::from_text`]).
    PcapSubmit {
        /// URL-form clauses or a raw Stenographer query.
        text: String,
    },
    /// Every packet-capture job in the spool.
    PcapJobs,
    /// The sensors' `/debug/stats` and the spool's free space.
    PcapSensors,
    /// The summary of a completed job's capture.
    PcapSummary {
        /// The job id.
        id: String,
    },
    /// An incident-events question over the last `days` UTC days (up to today by the clock).
    Events {
        /// The question.
        view: EventsView,
        /// Its filters (`from` / `to` are set from `days`).
        filter: EventsFilter,
        /// Days up to today.
        days: u32,
    },
}

/// Rows of a capture's summary: the top talkers, ports and protocols.
const SUMMARY_TOP: usize = 20;
/// Packets in a capture summary's preview.
const SUMMARY_PREVIEW: usize = 200;

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// The deployment is open.
    Ready {
        /// `sqlite` or `postgres`.
        store: String,
        /// `memory` or `redis`.
        cache: String,
    },
    /// A resource value (possibly stale or not ready: see `read.refreshing` / `read.data`).
    Resource {
        /// Resource name.
        name: String,
        /// Period.
        period: Period,
        /// Parameters.
        params: Params,
        /// The value and its state.
        read: ResourceRead,
    },
    /// Planner decisions.
    Planned(Vec<Suggestion>),
    /// Queue contents.
    Jobs(Snapshot),
    /// Cache entries.
    Entries {
        /// The prefix asked for.
        prefix: String,
        /// The entries.
        entries: Vec<EntryInfo>,
    },
    /// A back-fill or an aggregation finished.
    Migrated(AggregationReport),
    /// Keys deleted by [`Request::ClearCache`] or [`Request::ClearTimeouts`].
    Cleared {
        /// What was cleared, e.g. `cache` or `resource timeouts of 1d`.
        what: String,
        /// Keys deleted.
        count: u64,
    },
    /// GeoIP answer for [`Request::Geo`].
    Geo {
        /// The address asked about.
        ip: IpAddr,
        /// What the databases know.
        info: GeoInfo,
        /// The databases consulted (file names; empty: none configured).
        sources: Vec<String>,
    },
    /// Answer to [`Request::CheckHash`].
    Leak {
        /// The SHA-1 asked about.
        sha1: String,
        /// Its entry, None when not leaked.
        found: Option<PwnedHash>,
    },
    /// Answer to [`Request::LeakedTop`].
    LeakedTop(Vec<PwnedHash>),
    /// A capture request was accepted (a new job or an equal existing one).
    PcapSubmitted(JobStatus),
    /// Answer to [`Request::PcapJobs`], oldest first.
    PcapJobs(Vec<JobStatus>),
    /// Answer to [`Request::PcapSensors`]: each sensor's counters or error, and the spool's
    /// free bytes (None when it could not be measured).
    PcapSensors(Vec<SensorStats>, Option<u64>),
    /// Answer to [`Request::Events`] (the filter as asked, `days` kept out of it).
    Events {
        /// The question.
        view: EventsView,
        /// The filters asked with.
        filter: EventsFilter,
        /// Days asked for.
        days: u32,
        /// The answer.
        table: Table,
    },
    /// Answer to [`Request::PcapSummary`].
    PcapSummary {
        /// The job id.
        id: String,
        /// The summary.
        summary: CaptureSummary,
    },
    /// Progress of a long operation.
    Progress {
        /// What is running.
        label: String,
        /// Units done.
        done: u64,
        /// Units in all, if known.
        total: Option<u64>,
    },
    /// A request failed.
    Error {
        /// The request, described.
        request: String,
        /// The error, one line.
        message: String,
    },
}

/// Handle on a running engine.
pub struct Engine {
    requests: mpsc::UnboundedSender<Request>,
    events: std_mpsc::Receiver<Event>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Forwards progress as events.
struct EventProgress {
    events: std_mpsc::Sender<Event>,
    state: std::sync::Mutex<(String, u64, Option<u64>)>,
}

impl Progress for EventProgress {
    fn phase(&self, label: &str, total: Option<u64>) {
        if let Ok(mut s) = self.state.lock() {
            *s = (label.to_string(), 0, total);
        }
        let _ = self.events.send(Event::Progress { label: label.to_string(), done: 0, total });
    }
    fn advance(&self, n: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.1 += n;
            let _ = self.events.send(Event::Progress { label: s.0.clone(), done: s.1, total: s.2 });
        }
    }
    fn finish(&self) {}
}

impl Engine {
    /// Starts the engine on background threads; returns immediately. The first event is
    /// [`Event::Ready`] or an [`Event::Error`] saying why the deployment could not be opened.
    pub fn start(config: Config) -> Result<Engine> {
        let (req_tx, mut req_rx) = mpsc::unbounded_channel::<Request>();
        let (ev_tx, ev_rx) = std_mpsc::channel::<Event>();
        let (stop_tx, stop_rx) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vantage-engine")
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        let thread = std::thread::Builder::new()
            .name("vantage-engine".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let deployment = match Deployment::open(&config).await {
                        Ok(d) => d,
                        Err(e) => {
                            let _ = ev_tx.send(Event::Error { request: "open".into(), message: e.to_string() });
                            return;
                        }
                    };
                    let backends = deployment.backends.clone();
                    let _ = ev_tx.send(Event::Ready { store: backends.store.backend().to_string(), cache: backends.cache.kind().to_string() });
                    let geo = GeoIp::open_dir(&config.geoip_dir).unwrap_or_else(|e| {
                        let _ = ev_tx.send(Event::Error { request: "GeoIP".into(), message: e.to_string() });
                        GeoIp::default()
                    });
                    if backends.in_process() {
                        tokio::spawn(deployment.workers(WorkerOptions::default(), stop_rx.clone()));
                    }
                    let services = Services { deployment: Arc::new(deployment), geo };
                    // aggregations and back-fills run one after another, in the order asked
                    // (hourly reads what quarterly wrote); everything else runs concurrently
                    let (lane_tx, mut lane_rx) = mpsc::unbounded_channel::<Request>();
                    let (lane, lane_ev) = (services.clone(), ev_tx.clone());
                    tokio::spawn(async move {
                        while let Some(request) = lane_rx.recv().await {
                            handle(lane.clone(), request, lane_ev.clone()).await;
                        }
                    });
                    let mut stop = stop_rx.clone();
                    loop {
                        let request = tokio::select! {
                            r = req_rx.recv() => match r { Some(r) => r, None => break },
                            _ = stop.changed() => break,
                        };
                        if matches!(request, Request::Aggregate { .. } | Request::Migrate { .. }) {
                            let _ = lane_tx.send(request);
                            continue;
                        }
                        let (services, ev) = (services.clone(), ev_tx.clone());
                        tokio::spawn(async move { handle(services, request, ev).await });
                    }
                    backends.store.close().await;
                });
            })
            .map_err(|e| Error::io("engine thread", e))?;
        Ok(Engine { requests: req_tx, events: ev_rx, stop: stop_tx, thread: Some(thread) })
    }

    /// Queues a request (never blocks).
    pub fn send(&self, request: Request) {
        let _ = self.requests.send(request);
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Stops workers and the runtime; waits for the background thread.
    pub fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How long a refreshing resource is watched for its fresh value.
const WATCH_FOR: Duration = Duration::from_secs(120);

/// What requests are answered from.
#[derive(Clone)]
struct Services {
    deployment: Arc<Deployment>,
    geo: GeoIp,
}

async fn handle(services: Services, request: Request, events: std_mpsc::Sender<Event>) {
    let Services { deployment, geo } = services;
    let (stats, pcap) = (&deployment.stats, &deployment.pcap);
    let describe = format!("{request:?}");
    let result: Result<()> = async {
        match request {
            Request::Resource { name, period, params } => {
                let resource = resources::find(&name)?;
                let read = stats.read(resource, period, &params, None).await?;
                let waiting = read.refreshing || read.data.is_none();
                let before = read.computed_at;
                let _ = events.send(Event::Resource { name: name.clone(), period, params: params.clone(), read });
                if waiting {
                    let key = keys::resource(&crate::statistics::service::resource_id(resource, period, &params));
                    let deadline = tokio::time::Instant::now() + WATCH_FOR;
                    while tokio::time::Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        if stats.cache.get(&key).await?.is_some() {
                            let read = stats.read(resource, period, &params, None).await?;
                            if read.computed_at != before && read.data.is_some() {
                                let _ = events.send(Event::Resource { name, period, params, read });
                                break;
                            }
                        }
                    }
                }
            }
            Request::Refresh => {
                let _ = events.send(Event::Planned(stats.refresh(false).await?));
            }
            Request::Jobs => {
                let _ = events.send(Event::Jobs(stats.queue.snapshot().await?));
            }
            Request::Entries { prefix } => {
                let entries = stats.cache.scan(&prefix).await?;
                let _ = events.send(Event::Entries { prefix, entries });
            }
            Request::Migrate { precision, days } => {
                let now = stats.clock.now();
                let progress = Arc::new(EventProgress { events: events.clone(), state: std::sync::Mutex::new((String::new(), 0, None)) });
                let report =
                    aggregation::aggregate(stats.store.as_ref(), precision, aggregation::backfill_windows(precision, now, days), false, now, progress).await?;
                let _ = events.send(Event::Migrated(report));
            }
            Request::Aggregate { precision } => {
                let now = stats.clock.now();
                let window = aggregation::current_window(precision, now);
                let report = aggregation::aggregate(stats.store.as_ref(), precision, vec![window], false, now, Arc::new(NoProgress)).await?;
                let _ = events.send(Event::Migrated(report));
            }
            Request::ClearCache { all } => {
                let prefix = if all { keys::PREFIX.to_string() } else { keys::resource("") };
                let keys: Vec<String> = stats.cache.scan(&prefix).await?.into_iter().map(|e| e.key).collect();
                let count = stats.cache.del(&keys).await?;
                let _ = events.send(Event::Cleared { what: if all { "every Vantage key".into() } else { "cached resources".into() }, count });
            }
            Request::ClearTimeouts { kind, period } => {
                let count = stats.clear_timeouts(&kind, &period).await?;
                let _ = events.send(Event::Cleared { what: format!("{kind} timeouts of {period}"), count });
            }
            Request::CheckHash { sha1 } => {
                let found = crate::passwords::check_hash(stats.store.as_ref(), &sha1).await?;
                let _ = events.send(Event::Leak { sha1, found });
            }
            Request::LeakedTop { limit } => {
                let _ = events.send(Event::LeakedTop(stats.store.pwned_top(limit).await?));
            }
            Request::Geo { ip } => {
                let info = geo.lookup(ip);
                let _ = events.send(Event::Geo { ip, info, sources: geo.sources() });
            }
            Request::Events { view, filter, days } => {
                let table = questions::ask(stats.store.as_ref(), view, &questions::last_days(&filter, days, stats.clock.now())).await?;
                let _ = events.send(Event::Events { view, filter, days, table });
            }
            Request::PcapSubmit { text } => {
                let request =
                    CaptureRequest::from_text(&text, &pcap.config.request_settings(), pcap.clock.now()).map_err(|e| Error::InvalidArgument(e.message))?;
                let _ = events.send(Event::PcapSubmitted(pcap.submit(&request).await?));
            }
            Request::PcapJobs => {
                let _ = events.send(Event::PcapJobs(pcap.statuses()?));
            }
            Request::PcapSensors => {
                let sensors = pcap.sensor_stats(&[]).await?;
                let _ = events.send(Event::PcapSensors(sensors, pcap.space().ok().map(|s| s.free_bytes)));
            }
            Request::PcapSummary { id } => {
                let status = pcap.status(&id)?.ok_or_else(|| Error::InvalidArgument(format!("no pcap job {id}")))?;
                let path = status.merged.ok_or_else(|| Error::InvalidArgument(format!("pcap job {id} has no capture ({})", status.state)))?;
                let summary = tokio::task::spawn_blocking(move || summary::summarize(&path, SUMMARY_TOP, SUMMARY_PREVIEW))
                    .await
                    .map_err(|e| Error::Pcap(format!("summary task: {e}")))??;
                let _ = events.send(Event::PcapSummary { id, summary });
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = events.send(Event::Error { request: describe, message: e.to_string() });
    }
}
