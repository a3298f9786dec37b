//! The channel adapter over an [`Engine`]: the dashboard's non-blocking door.
//!
//! [`Channel::start`] opens the configured deployment on a tokio runtime running on
//! background threads (with in-process workers when the queue is in-process) and returns at
//! once. Front ends [`Channel::send`] typed [`Request`]s — never blocking — and receive
//! [`Update`]s (results, progress, typed failures naming the request's id and kind) with [`Channel::try_recv`] /
//! [`Channel::recv_timeout`], so a UI thread never waits on I/O. Each request is answered by
//! the [`Engine`]'s typed methods.
//!
//! A resource that is not cached yet (or is being refreshed) is answered at once with what
//! the cache holds (`refreshing: true`), and answered again when the fresh value lands.
//! Flow-analytics requests and answers are grouped in [`flows`], DynFW's in [`dynfw`] (whose
//! feed, once started, pushes its status as it changes).

pub mod dynfw;
pub mod flows;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Engine;
use super::cancel::Cancels;
use super::request::{Import, Request, RequestId, RequestKind};
use crate::cache::EntryInfo;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::query::Filter as EventsFilter;
use crate::events::questions::View as EventsView;
use crate::events::table::Table;
use crate::geo::GeoInfo;
use crate::jobs::Snapshot;
use crate::passwords::PwnedHash;
use crate::pcap::pipeline::JobStatus;
use crate::pcap::service::SensorStats;
use crate::pcap::summary::CaptureSummary;
use crate::progress::{NoProgress, Progress};
use crate::statistics::aggregation::AggregationReport;
use crate::statistics::periods::Period;
use crate::statistics::resources::{self, Params};
use crate::statistics::service::{ResourceRead, Suggestion};
use crate::worker::WorkerOptions;

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum Update {
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
    /// The dossier asked for by [`Request::Dossier`].
    Dossier {
        /// The target as it was asked.
        target: String,
        /// The dossier.
        dossier: Box<super::dossier::Dossier>,
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
    /// Answer to [`Request::Import`]: what was stored.
    Imported {
        /// What was imported.
        what: Import,
        /// Records stored (0 when nothing was committed).
        imported: u64,
        /// Records rejected.
        rejected: u64,
        /// False when nothing was stored (strict mode with rejected records).
        committed: bool,
        /// The first rejections, `file:line: field: reason`.
        rejections: Vec<String>,
    },
    /// Answer to [`Request::PcapCancel`]: the job's status after the cancel was asked.
    PcapCancelled(JobStatus),
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
    /// Answer to [`Request::Flows`].
    Flows(flows::FlowsUpdate),
    /// Answer to [`Request::Dynfw`], and the feed's status pushed as it changes.
    Dynfw(dynfw::DynfwUpdate),
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
    /// A request failed: the id [`Channel::send`] gave it, its kind, and the typed error.
    Failed {
        /// The request's id.
        id: RequestId,
        /// What kind of request it was.
        kind: RequestKind,
        /// Why it failed (its `Display` is the one-line message).
        error: Arc<super::Error>,
    },
    /// A request was cancelled ([`Channel::cancel`]) before it ended: what it had finished
    /// stays (each step commits on its own), the rest was rolled back or never begun.
    Cancelled {
        /// The request's id.
        id: RequestId,
        /// What kind of request it was.
        kind: RequestKind,
    },
    /// The store or the cache stopped answering — `outage` says which and why, one line — or
    /// answers again (`None`). Sent when that changes; the engine probes every
    /// [`HEALTH_EVERY`] (as `/healthz` does).
    Health {
        /// What is unavailable (None: everything answers again).
        outage: Option<String>,
    },
    /// A part of the deployment no request asked for could not be opened: the deployment
    /// itself (`part` = `open`: nothing will be answered) or the GeoIP databases (`GeoIP`:
    /// lookups answer nothing).
    Unavailable {
        /// `open` or `GeoIP`.
        part: &'static str,
        /// Why, one line.
        message: String,
    },
}

/// Handle on a running engine: requests in, events out (see the module documentation).
/// [`Engine::open`] gives the typed [`Engine`] instead.
pub struct Channel {
    requests: mpsc::UnboundedSender<(RequestId, Request)>,
    last_id: AtomicU64,
    events: std_mpsc::Receiver<Update>,
    cancels: Arc<Cancels>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Forwards progress as events.
struct EventProgress {
    events: std_mpsc::Sender<Update>,
    state: std::sync::Mutex<(String, u64, Option<u64>)>,
}

impl Progress for EventProgress {
    fn phase(&self, label: &str, total: Option<u64>) {
        if let Ok(mut s) = self.state.lock() {
            *s = (label.to_string(), 0, total);
        }
        let _ = self.events.send(Update::Progress { label: label.to_string(), done: 0, total });
    }
    fn advance(&self, n: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.1 += n;
            let _ = self.events.send(Update::Progress { label: s.0.clone(), done: s.1, total: s.2 });
        }
    }
    fn finish(&self) {}
}

/// How often the engine probes the store and the cache for [`Update::Health`].
pub const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// Probes the deployment's health every [`HEALTH_EVERY`] until `stop`, sending
/// [`Update::Health`] whenever what is unavailable changes (nothing while all is well). An
/// outage is reported once two probes in a row failed (one may just have found the store's
/// pool busy for a second); its end at the first probe that succeeds.
async fn watch_health(engine: Engine, events: std_mpsc::Sender<Update>, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(HEALTH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut last, mut failed_before) = (None, false);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let probed = engine.ops().health().await.outage();
        // the first failed probe after a good one is not reported yet
        let first_failure = probed.is_some() && !failed_before;
        failed_before = probed.is_some();
        let outage = if first_failure { last.clone() } else { probed };
        if outage != last {
            if events.send(Update::Health { outage: outage.clone() }).is_err() {
                return;
            }
            last = outage;
        }
    }
}

impl Channel {
    /// Starts the engine on background threads; returns immediately. The first event is
    /// [`Update::Ready`] or an [`Update::Unavailable`] saying why the deployment could not be opened.
    pub fn start(config: Config) -> Result<Channel> {
        let (req_tx, mut req_rx) = mpsc::unbounded_channel::<(RequestId, Request)>();
        let (ev_tx, ev_rx) = std_mpsc::channel::<Update>();
        let (stop_tx, stop_rx) = watch::channel(false);
        let cancels = Arc::new(Cancels::default());
        let running = cancels.clone();
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
                    let engine = match Engine::open(&config).await {
                        Ok(engine) => engine,
                        Err(e) => {
                            // the part's own error, as before the errors were typed
                            let _ = ev_tx.send(Update::Unavailable { part: "open", message: e.core().to_string() });
                            return;
                        }
                    };
                    let _ = ev_tx.send(Update::Ready { store: engine.store_backend(), cache: engine.cache_kind().to_string() });
                    if let Err(e) = engine.ops().open_geoip() {
                        let _ = ev_tx.send(Update::Unavailable { part: "GeoIP", message: e.to_string() });
                    }
                    tokio::spawn(watch_health(engine.clone(), ev_tx.clone(), stop_rx.clone()));
                    if engine.in_process_queue() {
                        let workers = engine.clone();
                        let stop = stop_rx.clone();
                        tokio::spawn(async move { workers.ops().run_workers(WorkerOptions::default(), stop).await });
                    }
                    // aggregations and back-fills run one after another, in the order asked
                    // (hourly reads what quarterly wrote); everything else runs concurrently
                    let (lane_tx, mut lane_rx) = mpsc::unbounded_channel::<(RequestId, Request)>();
                    let (lane, lane_ev, lane_cancels) = (engine.clone(), ev_tx.clone(), running.clone());
                    tokio::spawn(async move {
                        while let Some((id, request)) = lane_rx.recv().await {
                            run(&lane, id, request, &lane_ev, &lane_cancels).await;
                        }
                    });
                    let mut stop = stop_rx.clone();
                    loop {
                        let (id, request) = tokio::select! {
                            r = req_rx.recv() => match r { Some(r) => r, None => break },
                            _ = stop.changed() => break,
                        };
                        if matches!(request, Request::Aggregate { .. } | Request::Migrate { .. }) {
                            let _ = lane_tx.send((id, request));
                            continue;
                        }
                        let (engine, ev, cancels) = (engine.clone(), ev_tx.clone(), running.clone());
                        tokio::spawn(async move { run(&engine, id, request, &ev, &cancels).await });
                    }
                    engine.close().await;
                });
            })
            .map_err(|e| Error::io("engine thread", e))?;
        Ok(Channel { requests: req_tx, last_id: AtomicU64::new(0), events: ev_rx, cancels, stop: stop_tx, thread: Some(thread) })
    }

    /// Queues a request (never blocks); its failure, if any, names the id returned.
    pub fn send(&self, request: Request) -> RequestId {
        let id = RequestId(self.last_id.fetch_add(1, Ordering::Relaxed) + 1);
        let _ = self.requests.send((id, request));
        id
    }

    /// Cancels every request of `kind` sent so far (e.g. a long back-fill): a running one is
    /// aborted, a queued one never starts; each answers [`Update::Cancelled`]. Returns how
    /// many were running. Never blocks.
    pub fn cancel(&self, kind: RequestKind) -> usize {
        self.cancels.cancel(kind, RequestId(self.last_id.load(Ordering::Relaxed)))
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<Update> {
        self.events.try_recv().ok()
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Update> {
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

/// A back-fill or aggregation as the dashboard takes it: a failed window fails the request
/// (with every failed window named).
fn all_done(report: AggregationReport) -> super::Result<AggregationReport> {
    if report.failed.is_empty() {
        return Ok(report);
    }
    Err(Error::Aggregation(report.failed.iter().map(|f| f.error.as_str()).collect::<Vec<_>>().join("; ")).into())
}

/// An import as the dashboard runs it: the files opened here (a missing one fails the request
/// before anything is read), one transaction, and for events the touched days re-aggregated.
async fn import(engine: &Engine, what: Import, files: &[std::path::PathBuf], strict: bool, progress: Arc<dyn Progress>) -> super::Result<Update> {
    let mut opened = Vec::new();
    for path in files {
        let reader: Box<dyn std::io::BufRead + Send> = Box::new(std::io::BufReader::with_capacity(1 << 20, crate::error::open_file(path)?));
        opened.push((path.display().to_string(), reader));
    }
    let first = |texts: Vec<String>| texts.into_iter().take(5).collect();
    Ok(match what {
        Import::Events => {
            use crate::events::import::{ImportOptions, Input};
            let inputs = opened.into_iter().map(|(name, reader)| Input { name, reader }).collect();
            let r = engine.events().import(inputs, ImportOptions { strict, aggregate: true }, progress).await?;
            let rejections = first(r.rejected.iter().map(ToString::to_string).collect());
            Update::Imported { what, imported: r.imported, rejected: r.rejected_lines, committed: r.committed, rejections }
        }
        Import::Flows => {
            use crate::flows::import::Input;
            let inputs = opened.into_iter().map(|(name, reader)| Input { name, reader }).collect();
            let r = engine.flows().import(inputs, strict, progress).await?;
            let rejections = first(r.rejected.iter().map(ToString::to_string).collect());
            Update::Imported { what, imported: r.imported, rejected: r.rejected_records, committed: r.committed, rejections }
        }
    })
}

/// Runs one request as a task of its own that [`Channel::cancel`] can abort; a cancelled
/// request (before or while it runs) answers [`Update::Cancelled`].
async fn run(engine: &Engine, id: RequestId, request: Request, events: &std_mpsc::Sender<Update>, cancels: &Cancels) {
    let kind = request.kind();
    if !cancels.cancelled(kind, id) {
        let (engine, out) = (engine.clone(), events.clone());
        let task = tokio::spawn(async move { handle(&engine, id, request, &out).await });
        cancels.started(kind, id, task.abort_handle());
        let ended = task.await;
        cancels.ended(id);
        if !ended.is_err_and(|e| e.is_cancelled()) {
            return;
        }
    }
    let _ = events.send(Update::Cancelled { id, kind });
}

/// Answers one request with the engine's typed methods; a failure becomes [`Update::Failed`].
async fn handle(engine: &Engine, id: RequestId, request: Request, events: &std_mpsc::Sender<Update>) {
    let kind = request.kind();
    let send = |event: Update| {
        let _ = events.send(event);
    };
    let result: super::Result<()> = async {
        match request {
            Request::Resource { name, period, params } => {
                let resource = resources::find(&name)?;
                let read = engine.statistics().read(resource, period, &params).await?;
                let waiting = read.refreshing || read.data.is_none();
                send(Update::Resource { name: name.clone(), period, params: params.clone(), read: read.clone() });
                if waiting && let Some(read) = engine.statistics().fresh(resource, period, &params, &read).await? {
                    send(Update::Resource { name, period, params, read });
                }
            }
            Request::Refresh => send(Update::Planned(engine.ops().plan(&super::ops::Plan::Refresh, false).await?)),
            Request::Jobs => send(Update::Jobs(engine.ops().jobs().await?)),
            Request::Entries { prefix } => {
                let entries = engine.ops().entries(&prefix).await?;
                send(Update::Entries { prefix, entries });
            }
            Request::Migrate { precision, days } => {
                let progress = Arc::new(EventProgress { events: events.clone(), state: std::sync::Mutex::new((String::new(), 0, None)) });
                send(Update::Migrated(all_done(engine.statistics().backfill(precision, days, false, progress).await?)?));
            }
            Request::Aggregate { precision } => {
                send(Update::Migrated(all_done(engine.statistics().aggregate(precision, false, Arc::new(NoProgress)).await?)?));
            }
            Request::ClearCache { all } => {
                let count = engine.ops().clear_cache(all).await?;
                send(Update::Cleared { what: if all { "every Vantage key".into() } else { "cached resources".into() }, count });
            }
            Request::ClearTimeouts { kind, period } => {
                let count = engine.ops().clear_timeouts(&kind, &period).await?;
                send(Update::Cleared { what: format!("{kind} timeouts of {period}"), count });
            }
            Request::CheckHash { sha1 } => {
                let found = engine.passwords().check_hash(&sha1).await?;
                send(Update::Leak { sha1, found });
            }
            Request::LeakedTop { limit } => send(Update::LeakedTop(engine.passwords().top(limit).await?)),
            Request::Geo { ip } => {
                let (info, sources) = engine.ops().geo(ip);
                send(Update::Geo { ip, info, sources });
            }
            Request::Events { view, filter, days } => {
                let table = engine.events().ask(view, &filter, days).await?;
                send(Update::Events { view, filter, days, table });
            }
            Request::Import { what, files, strict } => {
                let progress = Arc::new(EventProgress { events: events.clone(), state: std::sync::Mutex::new((String::new(), 0, None)) });
                send(import(engine, what, &files, strict, progress).await?);
            }
            Request::PcapSubmit { text } => send(Update::PcapSubmitted(engine.pcap().submit_text(&text).await?)),
            Request::PcapCancel { id } => send(Update::PcapCancelled(engine.pcap().cancel(&id)?)),
            Request::PcapJobs => send(Update::PcapJobs(engine.pcap().statuses()?)),
            Request::PcapSensors => {
                let pcap = engine.pcap();
                send(Update::PcapSensors(pcap.sensors(&[]).await?, pcap.free_bytes()));
            }
            Request::PcapSummary { id } => {
                let summary = engine.pcap().summary(&id).await?;
                send(Update::PcapSummary { id, summary });
            }
            Request::Flows(request) => send(Update::Flows(flows::answer(engine, request).await?)),
            Request::Dynfw(request) => send(Update::Dynfw(dynfw::answer(engine, request, events).await?)),
            Request::Dossier { target } => {
                let parsed = super::dossier::DossierApi::target(&target)?;
                let dossier = engine.dossier().of(parsed, super::dossier::Range::days(None, None, engine.now())?).await?;
                send(Update::Dossier { target, dossier: Box::new(dossier) });
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        send(Update::Failed { id, kind, error: Arc::new(e) });
    }
}
