//! The demo capture: a completed job in the spool built from the shipped sample
//! (`assets/demo/synscan.pcap`, an nmap SYN scan of scanme.nmap.org), no sensor asked.
//!
//! It is an ordinary job directory (`query.json`, `status.json`, the merged capture), so the
//! job list, `vantage pcap status`, the summary and `pcap fetch` work on it as on any job; its
//! only sensor is [`DEMO_SENSOR`], which is how it shows as a demo ([`is_demo`]). The query asks
//! for the scanned host over the ten minutes before the clock's time, and the sample's packets
//! are moved by whole seconds so that the last one falls a minute before that time (within
//! its second). Same clock, same job id and the same capture.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::merge::merge_files_shifted;
use super::pipeline::{self, Event, JobState, JobStatus, SensorResult};
use crate::packets::reader::PacketReader;
use super::request::Request;
use super::settings::PcapConfig;
use super::spool;
use crate::error::{Error, Result};

/// The sample as shipped (classic pcap, Ethernet; see `assets/demo/README.md`).
const SAMPLE: &[u8] = include_bytes!("../../../assets/demo/synscan.pcap");

/// The sample's name, shown in the job's events.
pub const SAMPLE_NAME: &str = "assets/demo/synscan.pcap";

/// The sensor name of demo jobs (no such sensor is asked).
pub const DEMO_SENSOR: &str = "demo";

/// The demo job's query: the scanned host (scanme.nmap.org) in the last ten minutes.
const QUERY: &str = "host 64.13.134.52 and after 10m ago";

/// Seconds between the re-dated capture's last packet and the clock's time.
const ENDS_BEFORE: i64 = 60;

/// Whether a job is a demo job: [`DEMO_SENSOR`] its one sensor.
pub fn is_demo(status: &JobStatus) -> bool {
    status.requests.len() == 1 && status.requests.contains_key(DEMO_SENSOR) && status.successes == [DEMO_SENSOR]
}

/// The time stamp (seconds) of the capture's last packet.
fn last_packet_secs(path: &Path) -> Result<i64> {
    let mut reader = PacketReader::open(path)?;
    let mut last = None;
    while let Some(packet) = reader.next_packet()? {
        last = packet.ts.map(|t| t.secs).max(last);
    }
    last.ok_or_else(|| Error::Pcap(format!("{}: no time-stamped packet", path.display())))
}

/// Writes the demo job into `config`'s spool at `now` and returns its status and `true`; a job
/// already in the spool with the same id (the same clock) is returned as it is, with `false`.
pub fn create(config: &PcapConfig, now: DateTime<Utc>) -> Result<(JobStatus, bool)> {
    let mut request = Request::raw(QUERY, &config.request_settings(), now).map_err(|e| Error::InvalidArgument(e.message))?;
    request.sensors = vec![DEMO_SENSOR.to_string()];
    let spool_dir = &config.spool_dir;
    std::fs::create_dir_all(spool_dir).map_err(|e| Error::io(spool_dir, e))?;
    let dir = spool_dir.join(&request.id);
    match std::fs::create_dir(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // a directory without status.json is a demo job cut short: written again below
            if let Some(existing) = pipeline::status(spool_dir, &request.id)? {
                return Ok((existing, false));
            }
        }
        Err(e) => return Err(Error::io(dir, e)),
    }
    let _lock = spool::try_lock(&dir)?.ok_or_else(|| Error::Pcap(format!("job {}: another process holds it", request.id)))?;
    pipeline::write_json(&dir.join(pipeline::QUERY), &request)?;
    let sample: PathBuf = dir.join(".demo-sample.pcap");
    std::fs::write(&sample, SAMPLE).map_err(|e| Error::io(&sample, e))?;
    let shift = now.timestamp() - ENDS_BEFORE - last_packet_secs(&sample)?;
    let merged = dir.join(config.merged_file());
    let written = merge_files_shifted(std::slice::from_ref(&sample), &merged, shift);
    std::fs::remove_file(&sample).map_err(|e| Error::io(&sample, e))?;
    let report = written?;
    let message = format!("demo capture: the shipped sample {SAMPLE_NAME}, re-dated; no sensor asked");
    let events = [
        "state: Created".to_string(),
        format!("sensor {DEMO_SENSOR}: {} bytes from {SAMPLE_NAME} (no sensor asked)", SAMPLE.len()),
        format!("merged {} packets", report.packets),
        "state: Completed".to_string(),
    ];
    let status = JobStatus {
        id: request.id.clone(),
        query: request.query.clone(),
        state: JobState::Completed,
        time: now,
        requests: BTreeMap::from([(
            DEMO_SENSOR.to_string(),
            SensorResult { state: JobState::RequestComplete, time: now, bytes: SAMPLE.len() as u64, message },
        )]),
        events: events.into_iter().map(|message| Event { time: now, message }).collect(),
        successes: vec![DEMO_SENSOR.to_string()],
        merged: Some(merged),
        bytes: report.bytes,
        recoveries: 0,
    };
    pipeline::write_json(&dir.join(pipeline::STATUS), &status)?;
    Ok((status, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_instant;
    use crate::pcap::summary::summarize;

    #[test]
    fn the_demo_job_is_completed_re_dated_and_written_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = PcapConfig::with_spool(dir.path().join("spool"));
        let now = parse_instant("2024-06-15T12:40:00Z").expect("instant");
        let (job, created) = create(&config, now).expect("demo job");
        assert!(created && is_demo(&job) && job.state == JobState::Completed, "{job:?}");
        assert!(job.query.starts_with("host 64.13.134.52 and after 2024-06-15T12:30:00Z"), "{}", job.query);
        assert_eq!(pipeline::statuses(&config.spool_dir).expect("statuses"), vec![job.clone()]);
        let merged = job.merged.clone().expect("a capture");
        assert_eq!(std::fs::metadata(&merged).expect("merged").len(), job.bytes);
        let summary = summarize(&merged, 5, 5).expect("summary");
        assert_eq!(summary.packets, 2011);
        let (first, last) = (summary.first.expect("first"), summary.last.expect("last"));
        // whole seconds moved: the last packet keeps its fraction of a second
        assert!(last >= now - chrono::Duration::seconds(ENDS_BEFORE) && last < now - chrono::Duration::seconds(ENDS_BEFORE - 1), "{last}");
        assert!(first >= now - chrono::Duration::minutes(10), "inside the query's window: {first}");
        let files: Vec<_> = std::fs::read_dir(merged.parent().expect("dir")).expect("dir").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(files.len(), 4, "query.json, status.json, the capture and the lock: {files:?}");

        let (again, created) = create(&config, now).expect("again");
        assert!(!created);
        assert_eq!(again, job);
    }
}
