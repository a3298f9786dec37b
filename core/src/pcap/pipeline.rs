//! The pcap job pipeline run inline (pcap.md "Pipeline", steps 1–3): dedup by job id, ask every
//! selected sensor concurrently (wait until idle, then stream the answer to
//! `SPOOL/<id>/<sensor>.pcap`), and merge the non-empty answers into `SPOOL/<id>/merged.pcap`.
//!
//! [`run`] is self-contained so a queue worker can call it later. The job directory holds
//! `query.json` (the [`Request`]) and `status.json` (the [`JobStatus`]), both rewritten
//! atomically (`.tmp` then rename) after every state change and every finished sensor.
//!
//! States: Created → Requesting → Request Complete → Merging → Completed; `Error` when no
//! sensor answered (every one failed), `Failed` when the merge itself failed. Final states never
//! change: a job whose `merged.pcap` or final `status.json` exists is returned as is.
//! When every sensor answered but none had packets the job is Completed without a
//! `merged.pcap` ([`JobStatus::merged`] is `None`).
//!
//! Times: the job's `time` is the `now` passed in (the caller's clock, pinned in tests); event
//! and result times are that `now` plus the real elapsed time since the start. Real durations
//! are used for the idle wait and the query timeout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pcap::client::{SensorConfig, StenoClient};
use crate::pcap::merge::merge_files;
use crate::pcap::query::Request;

/// Name of the merged capture in the job directory.
pub const MERGED: &str = "merged.pcap";
/// Name of the job status file in the job directory.
pub const STATUS: &str = "status.json";
/// Name of the request file in the job directory.
pub const QUERY: &str = "query.json";

/// Timing and size settings of the pipeline (pcap.md "Configuration").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineOptions {
    /// How often `/debug/stats` is polled while a sensor is busy (default 2 s).
    pub idle_sleep: Duration,
    /// Longest wait for a sensor to become idle, and longest query (default 720 s).
    pub query_timeout: Duration,
    /// Answers of at most this many bytes hold no packets (default 25).
    pub empty_threshold: u64,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions { idle_sleep: Duration::from_secs(2), query_timeout: Duration::from_secs(720), empty_threshold: 25 }
    }
}

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
}

impl JobState {
    /// Completed, Failed and Error never change.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Completed | JobState::Failed | JobState::Error)
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
        }
    }
}

/// Records events and persists the status; shared by the concurrent sensor requests.
struct Job {
    dir: PathBuf,
    now: DateTime<Utc>,
    started: Instant,
    status: Mutex<JobStatus>,
}

impl Job {
    fn at(&self) -> DateTime<Utc> {
        self.now + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut JobStatus) -> T) -> T {
        let mut guard = match self.status.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    fn event(&self, message: String) {
        let time = self.at();
        tracing::debug!(target: "vantage::pcap", "{message}");
        self.with(|s| s.events.push(Event { time, message }));
    }

    fn set_state(&self, state: JobState) -> Result<()> {
        self.event(format!("state: {state}"));
        self.with(|s| s.state = state);
        self.persist()
    }

    fn persist(&self) -> Result<()> {
        let snapshot = self.with(|s| s.clone());
        write_json(&self.dir.join(STATUS), &snapshot)
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn valid_sensor_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && name != "merged" && !name.contains(['/', '\\', '\0'])
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
    let entries = match std::fs::read_dir(spool_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(spool_dir, e)),
    };
    let mut all = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(spool_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if valid_id(&name)
            && let Some(s) = status(spool_dir, &name)?
        {
            all.push(s);
        }
    }
    all.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    Ok(all)
}

fn touch(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// Runs the pipeline for `request` (steps 1–3 of pcap.md "Pipeline") and returns the final
/// status. An existing job with a merged capture or a final status is reused without asking
/// any sensor (its directory is touched). Errors are returned for an unknown sensor name, a
/// bad job id or when the job directory cannot be written; sensor failures are results.
pub async fn run(request: &Request, sensors: &[SensorConfig], spool_dir: &Path, options: &PipelineOptions, now: DateTime<Utc>) -> Result<JobStatus> {
    if !valid_id(&request.id) {
        return Err(Error::InvalidArgument(format!("`{}` is not a job id (32 lowercase hex digits)", request.id)));
    }
    if let Some(unknown) = request.sensors.iter().find(|n| !sensors.iter().any(|s| &s.name == *n)) {
        let known: Vec<&str> = sensors.iter().map(|s| s.name.as_str()).collect();
        return Err(Error::InvalidArgument(format!("unknown sensor `{unknown}`; configured: {}", known.join(", "))));
    }
    let chosen: Vec<&SensorConfig> = sensors.iter().filter(|s| request.sensors.is_empty() || request.sensors.contains(&s.name)).collect();
    if chosen.is_empty() {
        return Err(Error::Config("no Stenographer sensors configured".into()));
    }
    let dir = spool_dir.join(&request.id);
    // 1. dedup
    let existing = status(spool_dir, &request.id)?;
    if let Some(s) = &existing
        && s.state.is_final()
    {
        touch(&dir);
        return Ok(s.clone());
    }
    if dir.join(MERGED).is_file() {
        touch(&dir);
        let bytes = std::fs::metadata(dir.join(MERGED)).map(|m| m.len()).unwrap_or(0);
        return Ok(existing.unwrap_or_else(|| JobStatus { merged: Some(dir.join(MERGED)), bytes, ..JobStatus::new(request, JobState::Completed, now) }));
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    write_json(&dir.join(QUERY), request)?;
    let job = Job {
        dir: dir.clone(),
        now,
        started: Instant::now(),
        status: Mutex::new(JobStatus::new(request, JobState::Created, now)),
    };
    job.set_state(JobState::Created)?;
    // 2. ask every sensor concurrently
    job.set_state(JobState::Requesting)?;
    let results = futures::future::join_all(chosen.iter().map(|s| async {
        let result = ask(&job, s, request, options).await;
        job.with(|st| st.requests.insert(s.name.clone(), result.clone()));
        job.persist()?;
        Ok::<_, Error>((s.name.clone(), result))
    }))
    .await
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let successes: Vec<String> = results.iter().filter(|(_, r)| r.state != JobState::Error).map(|(n, _)| n.clone()).collect();
    job.with(|s| s.successes = successes.clone());
    if successes.is_empty() {
        job.event("no sensor answered".into());
        job.set_state(JobState::Error)?;
        return Ok(job.with(|s| s.clone()));
    }
    job.set_state(JobState::RequestComplete)?;
    // 3. merge
    let inputs: Vec<PathBuf> = results.iter().filter(|(_, r)| r.state == JobState::RequestComplete).map(|(n, _)| dir.join(format!("{n}.pcap"))).collect();
    job.set_state(JobState::Merging)?;
    let merged = dir.join(MERGED);
    match inputs.len() {
        0 => job.event("no packets: nothing to merge".into()),
        1 => {
            job.event("one result: renaming it".into());
            std::fs::rename(&inputs[0], &merged).map_err(|e| Error::io(&merged, e))?;
        }
        n => {
            job.event(format!("merging {n} results"));
            let (ins, out) = (inputs.clone(), merged.clone());
            let report = tokio::task::spawn_blocking(move || merge_files(&ins, &out)).await.map_err(|e| Error::Pcap(format!("the merge task failed: {e}")));
            match report.and_then(|r| r) {
                Ok(r) => {
                    job.event(format!("merged {} packets", r.packets));
                    for input in &inputs {
                        let _ = std::fs::remove_file(input);
                    }
                }
                Err(e) => {
                    job.event(format!("merge failed: {e}"));
                    job.set_state(JobState::Failed)?;
                    return Ok(job.with(|s| s.clone()));
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
    job.set_state(JobState::Completed)?;
    Ok(job.with(|s| s.clone()))
}

/// Waits until the sensor is idle, then queries it; never fails (failures are results).
async fn ask(job: &Job, sensor: &SensorConfig, request: &Request, options: &PipelineOptions) -> SensorResult {
    let name = &sensor.name;
    let error = |job: &Job, message: String| {
        job.event(format!("sensor {name}: error: {message}"));
        SensorResult { state: JobState::Error, time: job.at(), bytes: 0, message }
    };
    if !valid_sensor_name(name) {
        return error(job, format!("`{name}` cannot be used as a file name"));
    }
    let client = match StenoClient::new(sensor) {
        Ok(c) => c,
        Err(e) => return error(job, e.to_string()),
    };
    job.event(format!("sensor {name}: waiting until idle"));
    let deadline = Instant::now() + options.query_timeout;
    loop {
        match client.is_idle().await {
            Ok(true) => break,
            Ok(false) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return error(job, format!("not idle after {:?}", options.query_timeout));
                }
                tokio::time::sleep(options.idle_sleep.min(left)).await;
            }
            Err(e) => return error(job, e.to_string()),
        }
    }
    job.event(format!("sensor {name}: querying"));
    let out = job.dir.join(format!("{name}.pcap"));
    match client.query_to_file(&request.query, request.limit_packets, request.limit_bytes, &out, options.query_timeout).await {
        Ok(outcome) if outcome.bytes > options.empty_threshold => {
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

    #[tokio::test]
    async fn unknown_sensors_and_final_jobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = DateTime::parse_from_rfc3339("2024-06-15T12:40:00Z").expect("time").with_timezone(&Utc);
        let request = Request {
            query: "host 1.2.3.4".into(),
            id: crate::pcap::query::query_id("host 1.2.3.4"),
            start: now,
            end: now,
            limit_packets: None,
            limit_bytes: None,
            sensors: vec!["nope".into()],
            ignore_weight: false,
        };
        let sensor = SensorConfig { name: "s".into(), host: "h".into(), port: 1, ca: "/x".into(), cert: "/x".into(), key: "/x".into() };
        let err = run(&request, std::slice::from_ref(&sensor), dir.path(), &PipelineOptions::default(), now).await.expect_err("unknown");
        assert!(err.to_string().contains("unknown sensor `nope`"), "{err}");
        // a final status is reused without asking (the sensor's files do not even exist)
        let request = Request { sensors: Vec::new(), ..request };
        let job = dir.path().join(&request.id);
        std::fs::create_dir_all(&job).expect("dir");
        let done = JobStatus::new(&request, JobState::Completed, now);
        write_json(&job.join(STATUS), &done).expect("write");
        assert_eq!(run(&request, &[sensor], dir.path(), &PipelineOptions::default(), now).await.expect("reused"), done);
    }
}
