//! The pcap job pipeline (pcap.md "Pipeline", steps 1–3), in three steps a queue worker runs:
//!
//! 1. [`create`] (in the request handler): dedup by job id — an existing `SPOOL/<id>` is
//!    touched and reused; otherwise the directory, `query.json` (the [`Request`]) and
//!    `status.json` (the [`JobStatus`], state Created) are written.
//! 2. [`request`] (a `pcap-query` job): ask every selected sensor concurrently (wait until
//!    idle, then stream the answer to `SPOOL/<id>/<sensor>.pcap`) → Request Complete, or
//!    Error when no sensor answered.
//! 3. [`merge`] (a `pcap-io` job): one non-empty answer is renamed to `<merged_name>.pcap`,
//!    several are merged (native or `mergecap`) and deleted → Completed, or Failed.
//!
//! `status.json` is rewritten atomically (`.tmp` then rename) after every state change and
//! every finished sensor. A step holds the job directory's lock ([`spool::try_lock`]) while it
//! runs and does nothing when another holds it or the job is already past it, so a step
//! queued twice (a recovered job) is harmless. Final states never change. When every sensor
//! answered but none had packets the job is Completed without a capture
//! ([`JobStatus::merged`] is `None`).
//!
//! Cancelling ([`cancel`], from any process reaching the spool): a `cancel` marker is written
//! in the job directory. A job no step holds is Cancelled at once; a step that holds it checks
//! the marker every [`CANCEL_CHECK`] while it asks the sensors, and before a merge, then stops:
//! the sensors' connections are dropped, partial answers deleted, the job Cancelled (final).
//! A merge under way is not interrupted (it takes seconds and its result is the capture). The
//! same request submitted again after a cancel starts a new job.
//!
//! Times: a step's events and results are the `now` passed in (the caller's clock, pinned in
//! tests) plus the real time elapsed in the step, never earlier than the previous event. Real
//! durations are used for the idle wait and the query timeout.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pcap::client::{SensorConfig, StenoClient};
use crate::pcap::merge::{merge_files, merge_with_mergecap};
use crate::pcap::request::Request;
use crate::pcap::settings::{Merger, PcapConfig};
use crate::pcap::spool::{self, valid_id};

/// Name of the job status file in the job directory.
pub const STATUS: &str = "status.json";
/// Name of the request file in the job directory.
pub const QUERY: &str = "query.json";
/// Name of the marker [`cancel`] leaves in the job directory.
pub const CANCEL: &str = "cancel";
/// How often a step asking the sensors looks for the cancel marker.
pub const CANCEL_CHECK: std::time::Duration = std::time::Duration::from_millis(200);

/// State of a job or of one sensor's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// The job directory exists, nothing asked yet.
    Created,
    /// Sensors are being asked.
    Requesting,
    /// All sensors answered (job), or a sensor returned packets (sensor).
    #[serde(rename = "Request Complete")]
    RequestComplete,
    /// The answers are being merged.
    Merging,
    /// Done (job), or the sensor had no packets (sensor).
    Completed,
    /// The merge failed (final).
    Failed,
    /// No sensor answered (job), or the sensor failed (sensor) (final).
    Error,
    /// An analyst cancelled the job before it completed (final).
    Cancelled,
}

impl JobState {
    /// Completed, Failed, Error and Cancelled never change.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Completed | JobState::Failed | JobState::Error | JobState::Cancelled)
    }

    /// The name shown to users (`Request Complete` with a space).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Created => "Created",
            JobState::Requesting => "Requesting",
            JobState::RequestComplete => "Request Complete",
            JobState::Merging => "Merging",
            JobState::Completed => "Completed",
            JobState::Failed => "Failed",
            JobState::Error => "Error",
            JobState::Cancelled => "Cancelled",
        }
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one sensor's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorResult {
    /// Request Complete (packets), Completed (no packets) or Error.
    pub state: JobState,
    /// When the result was known.
    pub time: DateTime<Utc>,
    /// Bytes the sensor returned.
    pub bytes: u64,
    /// What happened, e.g. "1234 bytes", "no packets" or the error.
    pub message: String,
}

/// One entry of the job's event list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened.
    pub time: DateTime<Utc>,
    /// What happened, e.g. "sensor alpha: querying".
    pub message: String,
}

/// The state of a job as stored in `status.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The job id (MD5 of the query).
    pub id: String,
    /// The Stenographer query.
    pub query: String,
    /// The job's state.
    pub state: JobState,
    /// When the job was started (the `now` given to [`run`]).
    pub time: DateTime<Utc>,
    /// Per sensor results, by sensor name.
    pub requests: BTreeMap<String, SensorResult>,
    /// Events in time order.
    pub events: Vec<Event>,
    /// Sensors that answered (with or without packets), in configuration order.
    pub successes: Vec<String>,
    /// The merged capture (absolute path) when there is one.
    pub merged: Option<PathBuf>,
    /// Size of the merged capture in bytes (0 without one).
    pub bytes: u64,
    /// How often the job was re-queued after its worker died.
    #[serde(default)]
    pub recoveries: u32,
}

impl JobStatus {
    /// A job of `request` in `state`, started at `now`, with no results yet.
    fn new(request: &Request, state: JobState, now: DateTime<Utc>) -> JobStatus {
        JobStatus {
            id: request.id.clone(),
            query: request.query.clone(),
            state,
            time: now,
            requests: BTreeMap::new(),
            events: Vec::new(),
            successes: Vec::new(),
            merged: None,
            bytes: 0,
            recoveries: 0,
        }
    }
}

/// The last time each sensor was seen idle (shared by the jobs of one process): a sensor seen
/// idle less than `idle_time` ago is queried without asking for its stats again.
pub type IdleCache = Mutex<HashMap<String, Instant>>;

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// One step of a job in progress: records events and persists the status. Holds the lock.
struct Job {
    dir: PathBuf,
    now: DateTime<Utc>,
    started: Instant,
    status: Mutex<JobStatus>,
    _lock: spool::JobLock,
}

impl Job {
    /// Opens job `id` for a step: `None` when another worker holds it.
    fn open(config: &PcapConfig, id: &str, now: DateTime<Utc>) -> Result<Option<Job>> {
        let dir = job_dir(config, id)?;
        let Some(lock) = spool::try_lock(&dir)? else { return Ok(None) };
        let status = status(&config.spool_dir, id)?.ok_or_else(|| Error::Pcap(format!("job {id}: {STATUS} is missing")))?;
        Ok(Some(Job { dir, now, started: Instant::now(), status: Mutex::new(status), _lock: lock }))
    }

    fn at(&self) -> DateTime<Utc> {
        let t = self.now + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        self.with(|s| s.events.last().map_or(t, |e| e.time.max(t)))
    }

    fn with<T>(&self, f: impl FnOnce(&mut JobStatus) -> T) -> T {
        f(&mut locked(&self.status))
    }

    fn event(&self, message: String) {
        let time = self.at();
        tracing::debug!(target: "vantage::pcap", "{message}");
        self.with(|s| s.events.push(Event { time, message }));
    }

    fn set_state(&self, state: JobState) -> Result<JobStatus> {
        self.event(format!("state: {state}"));
        self.with(|s| s.state = state);
        self.persist()
    }

    fn persist(&self) -> Result<JobStatus> {
        let snapshot = self.with(|s| s.clone());
        write_json(&self.dir.join(STATUS), &snapshot)?;
        Ok(snapshot)
    }

    /// Whether someone asked to cancel the job.
    fn cancel_asked(&self) -> bool {
        self.dir.join(CANCEL).exists()
    }

    /// Resolves once the cancel marker appears (checked every [`CANCEL_CHECK`]).
    async fn cancel_seen(&self) {
        while !self.cancel_asked() {
            tokio::time::sleep(CANCEL_CHECK).await;
        }
    }

    /// Ends the job Cancelled: the sensors' answers (partial or whole) are deleted, a merged
    /// capture is kept.
    fn cancel_now(&self, config: &PcapConfig) -> Result<JobStatus> {
        let merged = config.merged_file();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for path in entries.flatten().map(|e| e.path()) {
                if path.extension().is_some_and(|x| x == "pcap") && path.file_name() != Some(std::ffi::OsStr::new(&merged)) {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        self.event("cancelled by an analyst".into());
        self.set_state(JobState::Cancelled)
    }

    fn request(&self) -> Result<Request> {
        let path = self.dir.join(QUERY);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Pcap(format!("{}: {e}", path.display())))
    }
}

/// Writes `value` as JSON to `path` atomically (`.tmp`, then rename).
pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn job_dir(config: &PcapConfig, id: &str) -> Result<PathBuf> {
    if !valid_id(id) {
        return Err(Error::InvalidArgument(format!("`{id}` is not a job id (32 lowercase hex digits)")));
    }
    Ok(config.spool_dir.join(id))
}

/// Reads the status of job `id` from `spool_dir/<id>/status.json`; `None` when there is no
/// such job. The id must be 32 lowercase hex digits.
pub fn status(spool_dir: &Path, id: &str) -> Result<Option<JobStatus>> {
    if !valid_id(id) {
        return Err(Error::InvalidArgument(format!("`{id}` is not a job id (32 lowercase hex digits)")));
    }
    let path = spool_dir.join(id).join(STATUS);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The statuses of all jobs in the spool directory, oldest first (by job time, then id).
pub fn statuses(spool_dir: &Path) -> Result<Vec<JobStatus>> {
    let mut all = Vec::new();
    for (id, _) in spool::job_dirs(spool_dir)? {
        if let Some(s) = status(spool_dir, &id)? {
            all.push(s);
        }
    }
    all.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    Ok(all)
}

/// Step 1: dedup and create. Returns the job's status and whether it was created now (then a
/// `pcap-query` job must be queued). An existing job directory is touched and its job reused.
/// Errors for an unknown sensor name or when no sensor is configured.
pub fn create(request: &Request, config: &PcapConfig, now: DateTime<Utc>) -> Result<(JobStatus, bool)> {
    let dir = job_dir(config, &request.id)?;
    if let Some(unknown) = request.sensors.iter().find(|n| !config.sensors.iter().any(|s| &s.name == *n)) {
        let known: Vec<&str> = config.sensors.iter().map(|s| s.name.as_str()).collect();
        return Err(Error::InvalidArgument(format!("unknown sensor `{unknown}`; configured: {}", known.join(", "))));
    }
    if config.sensors.is_empty() {
        return Err(Error::Config("no Stenographer sensors configured: add [[pcap.sensors]] (name, host, port, ca, cert, key)".into()));
    }
    std::fs::create_dir_all(&config.spool_dir).map_err(|e| Error::io(&config.spool_dir, e))?;
    match std::fs::create_dir(&dir) {
        Ok(()) => {
            drop(spool::try_lock(&dir)?);
            write_json(&dir.join(QUERY), request)?;
            let mut created = JobStatus::new(request, JobState::Created, now);
            created.events.push(Event { time: now, message: "state: Created".into() });
            write_json(&dir.join(STATUS), &created)?;
            Ok((created, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if status(&config.spool_dir, &request.id)?.is_some_and(|s| s.state == JobState::Cancelled) {
                // asked again after a cancel: a new job in place of the cancelled one
                std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                return create(request, config, now);
            }
            spool::touch(&dir);
            let existing = status(&config.spool_dir, &request.id)?.unwrap_or_else(|| JobStatus::new(request, JobState::Created, now));
            Ok((existing, false))
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Step 2: asks the job's sensors concurrently and records their results. Returns the new
/// status, or `None` when another worker holds the job or it is already past this step.
pub async fn request(config: &PcapConfig, id: &str, now: DateTime<Utc>, idle: &IdleCache) -> Result<Option<JobStatus>> {
    let Some(job) = Job::open(config, id, now)? else { return Ok(None) };
    if !matches!(job.with(|s| s.state), JobState::Created | JobState::Requesting) {
        return Ok(None);
    }
    if job.cancel_asked() {
        return job.cancel_now(config).map(Some);
    }
    let request = job.request()?;
    let chosen: Vec<_> = config.sensors.iter().filter(|s| request.sensors.is_empty() || request.sensors.contains(&s.name)).collect();
    job.with(|s| {
        s.requests.clear();
        s.successes.clear();
    });
    job.set_state(JobState::Requesting)?;
    let asked = futures::future::join_all(chosen.iter().map(|s| async {
        let result = ask(&job, s, &request, config, idle).await;
        job.with(|st| st.requests.insert(s.name.clone(), result.clone()));
        job.persist()?;
        Ok::<_, Error>((s.name.clone(), result))
    }));
    let results = tokio::select! {
        results = asked => results.into_iter().collect::<Result<Vec<_>>>()?,
        () = job.cancel_seen() => return job.cancel_now(config).map(Some),
    };
    let successes: Vec<String> = results.iter().filter(|(_, r)| r.state != JobState::Error).map(|(n, _)| n.clone()).collect();
    job.with(|s| s.successes = successes.clone());
    if successes.is_empty() {
        job.event("no sensor answered".into());
        return job.set_state(JobState::Error).map(Some);
    }
    job.set_state(JobState::RequestComplete).map(Some)
}

/// Step 3: merges the sensors' answers. Returns the final status, or `None` when another
/// worker holds the job or it is not waiting for a merge.
pub async fn merge(config: &PcapConfig, id: &str, now: DateTime<Utc>) -> Result<Option<JobStatus>> {
    let Some(job) = Job::open(config, id, now)? else { return Ok(None) };
    if !matches!(job.with(|s| s.state), JobState::RequestComplete | JobState::Merging) {
        return Ok(None);
    }
    if job.cancel_asked() {
        return job.cancel_now(config).map(Some);
    }
    let inputs: Vec<PathBuf> =
        job.with(|s| s.requests.iter().filter(|(_, r)| r.state == JobState::RequestComplete).map(|(n, _)| job.dir.join(format!("{n}.pcap"))).collect());
    job.set_state(JobState::Merging)?;
    let merged = job.dir.join(config.merged_file());
    let present = merged.is_file() && inputs.iter().all(|i| !i.exists());
    match inputs.len() {
        _ if present => job.event("already merged".into()),
        0 => job.event("no packets: nothing to merge".into()),
        1 => {
            job.event("one result: renaming it".into());
            std::fs::rename(&inputs[0], &merged).map_err(|e| Error::io(&merged, e))?;
        }
        n => {
            job.event(format!("merging {n} results ({})", if config.merger == Merger::Mergecap { "mergecap" } else { "native" }));
            let (ins, out, merger) = (inputs.clone(), merged.clone(), config.merger);
            let report = tokio::task::spawn_blocking(move || match merger {
                Merger::Native => merge_files(&ins, &out),
                Merger::Mergecap => merge_with_mergecap(&ins, &out),
            })
            .await
            .map_err(|e| Error::Pcap(format!("the merge task failed: {e}")));
            match report.and_then(|r| r) {
                Ok(r) => {
                    job.event(format!("merged {} packets", r.packets));
                    for input in &inputs {
                        let _ = std::fs::remove_file(input);
                    }
                }
                Err(e) => {
                    job.event(format!("merge failed: {e}"));
                    return job.set_state(JobState::Failed).map(Some);
                }
            }
        }
    }
    if merged.is_file() {
        let bytes = std::fs::metadata(&merged).map_err(|e| Error::io(&merged, e))?.len();
        job.with(|s| {
            s.merged = Some(merged.clone());
            s.bytes = bytes;
        });
    }
    job.set_state(JobState::Completed).map(Some)
}

/// Asks to cancel job `id` (see the module docs): `None` when there is no such job, an error
/// when it is already final. Returns its status: Cancelled when no step held it, else as the
/// running step left it (it stops within [`CANCEL_CHECK`] while asking the sensors).
pub fn cancel(config: &PcapConfig, id: &str, now: DateTime<Utc>) -> Result<Option<JobStatus>> {
    let dir = job_dir(config, id)?;
    let Some(current) = status(&config.spool_dir, id)? else { return Ok(None) };
    let final_already = |s: &JobStatus| Error::InvalidArgument(format!("job {id} is already {}: nothing to cancel", s.state));
    if current.state.is_final() {
        return Err(final_already(&current));
    }
    let marker = dir.join(CANCEL);
    std::fs::write(&marker, now.to_rfc3339()).map_err(|e| Error::io(&marker, e))?;
    match Job::open(config, id, now)? {
        Some(job) if job.with(|s| s.state.is_final()) => Err(final_already(&job.with(|s| s.clone()))),
        Some(job) => job.cancel_now(config).map(Some),
        None => status(&config.spool_dir, id),
    }
}

/// Puts an abandoned job (its worker died) back to the start of its current step, counting
/// the recovery; after `max` recoveries it is set to Error instead. Returns the new status,
/// or `None` when someone holds the job or it is final.
pub fn recover(config: &PcapConfig, id: &str, now: DateTime<Utc>, max: u32) -> Result<Option<JobStatus>> {
    let Some(job) = Job::open(config, id, now)? else { return Ok(None) };
    let state = job.with(|s| s.state);
    if state.is_final() {
        return Ok(None);
    }
    let recoveries = job.with(|s| {
        s.recoveries += 1;
        s.recoveries
    });
    if recoveries > max {
        job.event(format!("abandoned by its worker {max} times"));
        return job.set_state(JobState::Error).map(Some);
    }
    job.event(format!("worker lost in state {state}: re-queued (recovery {recoveries})"));
    job.persist().map(Some)
}

/// Waits until the sensor is idle, then queries it; never fails (failures are results).
async fn ask(job: &Job, sensor: &SensorConfig, request: &Request, config: &PcapConfig, idle: &IdleCache) -> SensorResult {
    let name = &sensor.name;
    let error = |job: &Job, message: String| {
        job.event(format!("sensor {name}: error: {message}"));
        SensorResult { state: JobState::Error, time: job.at(), bytes: 0, message }
    };
    let client = match StenoClient::new(sensor) {
        Ok(c) => c.with_stat_timeout(config.stat_timeout),
        Err(e) => return error(job, e.to_string()),
    };
    let recently_idle = locked(idle).get(name).is_some_and(|t| t.elapsed() < config.idle_time);
    if !recently_idle {
        job.event(format!("sensor {name}: waiting until idle"));
        let deadline = Instant::now() + config.query_timeout;
        loop {
            match client.is_idle().await {
                Ok(true) => break,
                Ok(false) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return error(job, format!("not idle after {:?}", config.query_timeout));
                    }
                    tokio::time::sleep(config.idle_sleep.min(left)).await;
                }
                Err(e) => return error(job, e.to_string()),
            }
        }
        locked(idle).insert(name.clone(), Instant::now());
    }
    job.event(format!("sensor {name}: querying"));
    let out = job.dir.join(format!("{name}.pcap"));
    match client.query_to_file(&request.query, request.limit_packets, request.limit_bytes, &out, config.query_timeout).await {
        Ok(outcome) if outcome.bytes > config.empty_threshold => {
            job.event(format!("sensor {name}: {} bytes", outcome.bytes));
            SensorResult { state: JobState::RequestComplete, time: job.at(), bytes: outcome.bytes, message: format!("{} bytes", outcome.bytes) }
        }
        Ok(outcome) => {
            let _ = std::fs::remove_file(&out);
            job.event(format!("sensor {name}: no packets"));
            SensorResult { state: JobState::Completed, time: job.at(), bytes: outcome.bytes, message: "no packets".into() }
        }
        Err(e) => {
            let _ = std::fs::remove_file(&out);
            error(job, e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::request::query_id;

    #[test]
    fn states_serialize_with_their_names() {
        assert_eq!(serde_json::to_string(&JobState::RequestComplete).expect("json"), "\"Request Complete\"");
        assert!(JobState::Error.is_final() && !JobState::Merging.is_final());
    }

    #[test]
    fn status_of_a_missing_job_is_none_and_bad_ids_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(status(dir.path(), &"a".repeat(32)).expect("ok"), None);
        assert!(status(dir.path(), "../etc").is_err());
        assert!(statuses(&dir.path().join("missing")).expect("ok").is_empty());
    }

    #[test]
    fn create_refuses_unknown_sensors_and_reuses_an_existing_job() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = DateTime::parse_from_rfc3339("2024-06-15T12:40:00Z").expect("time").with_timezone(&Utc);
        let mut config = PcapConfig::with_spool(dir.path().join("spool"));
        let request = Request {
            query: "host 1.2.3.4".into(),
            id: query_id("host 1.2.3.4"),
            start: now,
            end: now,
            limit_packets: None,
            limit_bytes: None,
            sensors: vec!["nope".into()],
            ignore_weight: false,
        };
        assert!(create(&request, &config, now).expect_err("no sensors").to_string().contains("unknown sensor `nope`"));
        config.sensors.push(SensorConfig { name: "s".into(), host: "h".into(), port: 1, ca: "/x".into(), cert: "/x".into(), key: "/x".into() });
        let request = Request { sensors: Vec::new(), ..request };
        let (first, created) = create(&request, &config, now).expect("created");
        assert!(created && first.state == JobState::Created);
        let later = now + chrono::Duration::minutes(5);
        let (again, created) = create(&request, &config, later).expect("reused");
        assert!(!created);
        assert_eq!(again, first, "the existing job is returned as it is");
        let saved: Request = serde_json::from_slice(&std::fs::read(config.spool_dir.join(&request.id).join(QUERY)).expect("query.json")).expect("json");
        assert_eq!(saved, request);
    }
}
