//! The capture spool on disk: one directory per job (`SPOOL/<id>/`), free space, the job lock
//! and the cleanup (pcap.md "Pipeline", step 4).
//!
//! - A job directory is *locked* (an advisory `flock` on `SPOOL/<id>/.lock`) while a process
//!   works on it; the lock dies with the process, so a crashed worker leaves an unlocked,
//!   unfinished job that [`crate::pcap::service::PcapService::recover`] picks up.
//! - The cleanup deletes unlocked job directories whose modification time is older than
//!   `expire_time` (oldest first), then keeps deleting the oldest while the spool's file system
//!   has less than `expire_space` free. It runs at most every `cleanup_period` (the time of the
//!   last run is the modification time of `SPOOL/.cleanup`) unless forced.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::pcap::settings::PcapConfig;

/// Name of the lock file in a job directory.
const LOCK: &str = ".lock";
/// Name of the marker whose modification time is the last cleanup.
const CLEANUP_MARK: &str = ".cleanup";

/// Whether `id` is a job id: 32 lowercase hex digits (anything else never touches the disk).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Free space of the file system holding a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Space {
    /// Bytes available to unprivileged users.
    pub free_bytes: u64,
    /// Inodes available to unprivileged users.
    pub free_nodes: u64,
}

/// The free space of the file system holding `dir` (created when missing).
pub fn space(dir: &Path) -> Result<Space> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let s = rustix::fs::statvfs(dir).map_err(|e| Error::io(dir, e.into()))?;
    Ok(Space { free_bytes: s.f_bavail.saturating_mul(s.f_frsize), free_nodes: s.f_favail })
}

/// Refuses new work when the spool is low on space or inodes (pcap.md: 413).
pub fn check_space(config: &PcapConfig) -> Result<Space> {
    let s = space(&config.spool_dir)?;
    if s.free_bytes < config.free_bytes || s.free_nodes < config.free_nodes {
        return Err(Error::SpoolFull(format!(
            "{}: {} bytes and {} inodes free, need {} bytes and {} inodes",
            config.spool_dir.display(),
            s.free_bytes,
            s.free_nodes,
            config.free_bytes,
            config.free_nodes
        )));
    }
    Ok(s)
}

/// An exclusive hold on a job directory; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct JobLock {
    _file: File,
}

/// Takes the lock of job directory `dir` without waiting; `None` when another task or process
/// holds it. The lock file is created when missing (jobs get it when created, so that taking
/// the lock later does not change the directory's modification time).
pub fn try_lock(dir: &Path) -> Result<Option<JobLock>> {
    let path = dir.join(LOCK);
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(JobLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(path, e)),
    }
}

/// Sets a directory's modification time to now (a reused job is "touched").
pub fn touch(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// The job directories of the spool with their modification times, oldest first.
pub fn job_dirs(spool: &Path) -> Result<Vec<(String, SystemTime)>> {
    let entries = match std::fs::read_dir(spool) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(spool, e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(spool, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !valid_id(&name) {
            continue;
        }
        let meta = entry.metadata().map_err(|e| Error::io(entry.path(), e))?;
        if meta.is_dir() {
            dirs.push((name, meta.modified().map_err(|e| Error::io(entry.path(), e))?));
        }
    }
    dirs.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    Ok(dirs)
}

/// What a cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    /// False when skipped because the last cleanup was less than `cleanup_period` ago.
    pub ran: bool,
    /// Job ids deleted because they expired.
    pub expired: Vec<String>,
    /// Job ids deleted to free space.
    pub for_space: Vec<String>,
    /// Job ids skipped because a worker holds them.
    pub busy: Vec<String>,
    /// Free space afterwards (when it ran).
    pub space: Option<Space>,
}

/// Runs the cleanup at `now` (unless it ran less than `cleanup_period` ago and not `force`).
/// `free` measures the spool's free space (the real file system in production; tests pass
/// their own to simulate a full disk).
pub fn cleanup(config: &PcapConfig, now: DateTime<Utc>, force: bool, free: &dyn Fn(&Path) -> Result<Space>) -> Result<CleanupReport> {
    let spool = &config.spool_dir;
    std::fs::create_dir_all(spool).map_err(|e| Error::io(spool, e))?;
    let mark = spool.join(CLEANUP_MARK);
    let now_sys = SystemTime::from(now);
    if !force
        && let Ok(last) = std::fs::metadata(&mark).and_then(|m| m.modified())
        && last + config.cleanup_period > now_sys
    {
        return Ok(CleanupReport::default());
    }
    let file = File::create(&mark).map_err(|e| Error::io(&mark, e))?;
    file.set_modified(now_sys).map_err(|e| Error::io(&mark, e))?;
    let mut report = CleanupReport { ran: true, ..CleanupReport::default() };
    let mut remaining = Vec::new();
    for (id, modified) in job_dirs(spool)? {
        if modified + config.expire_time < now_sys && remove_unless_busy(spool, &id, &mut report)? {
            report.expired.push(id);
        } else {
            remaining.push(id);
        }
    }
    let mut space = free(spool)?;
    for id in remaining {
        if space.free_bytes >= config.expire_space {
            break;
        }
        if remove_unless_busy(spool, &id, &mut report)? {
            report.for_space.push(id);
            space = free(spool)?;
        }
    }
    report.space = Some(space);
    if report.ran && !(report.expired.is_empty() && report.for_space.is_empty()) {
        tracing::info!(target: "vantage::pcap", expired = report.expired.len(), for_space = report.for_space.len(), "spool cleaned");
    }
    Ok(report)
}

/// Deletes job `id` unless it is locked (recorded as busy); true when deleted.
fn remove_unless_busy(spool: &Path, id: &str, report: &mut CleanupReport) -> Result<bool> {
    let dir: PathBuf = spool.join(id);
    let Some(lock) = try_lock(&dir)? else {
        report.busy.push(id.to_string());
        return Ok(false);
    };
    let result = std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e));
    drop(lock);
    result.map(|()| true)
}

/// How long a job may stay unfinished, unlocked and unchanged before it counts as abandoned.
pub fn abandoned_after(config: &PcapConfig) -> Duration {
    config.idle_sleep.max(Duration::from_secs(1)) * 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex_digits() {
        assert!(valid_id(&"0a".repeat(16)));
        for bad in ["", "../etc/passwd", &"A".repeat(32), &"a".repeat(31), &"a".repeat(33), &format!("{}/", "a".repeat(31))] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = try_lock(dir.path()).expect("lock").expect("free");
        assert!(try_lock(dir.path()).expect("lock").is_none());
        drop(first);
        assert!(try_lock(dir.path()).expect("lock").is_some());
    }

    fn job(spool: &Path, n: u8, modified: DateTime<Utc>) -> String {
        let id = format!("{n:032x}");
        let dir = spool.join(&id);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("merged.pcap"), b"x").expect("file");
        File::open(&dir).expect("open").set_modified(SystemTime::from(modified)).expect("mtime");
        id
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
    }

    #[test]
    fn cleanup_deletes_expired_jobs_then_the_oldest_for_space_and_skips_busy_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = PcapConfig::with_spool(dir.path().join("spool"));
        config.expire_time = Duration::from_secs(48 * 3600);
        config.expire_space = 8;
        let now = at("2024-06-15T12:00:00Z");
        let spool = config.spool_dir.clone();
        let old = job(&spool, 1, at("2024-06-13T11:00:00Z"));
        let busy_old = job(&spool, 2, at("2024-06-13T10:00:00Z"));
        let a = job(&spool, 3, at("2024-06-14T09:00:00Z"));
        let b = job(&spool, 4, at("2024-06-14T10:00:00Z"));
        let c = job(&spool, 5, at("2024-06-15T11:00:00Z"));
        std::fs::create_dir_all(spool.join("not-a-job")).expect("dir");
        let hold = try_lock(&spool.join(&busy_old)).expect("lock").expect("free");
        File::open(spool.join(&busy_old)).expect("open").set_modified(SystemTime::from(at("2024-06-13T10:00:00Z"))).expect("mtime");
        // free "space" = 10 − job directories left: 8 free needs at most 2 directories
        let free = |p: &Path| Ok(Space { free_bytes: 10 - job_dirs(p)?.len() as u64, free_nodes: 100 });
        let report = cleanup(&config, now, false, &free).expect("cleanup");
        assert!(report.ran);
        assert_eq!(report.expired, vec![old.clone()]);
        assert_eq!(report.for_space, vec![a, b], "the oldest unlocked ones; the busy one is kept");
        assert_eq!(report.busy, vec![busy_old.clone(), busy_old.clone()]);
        assert_eq!(report.space, Some(Space { free_bytes: 8, free_nodes: 100 }));
        let left: Vec<String> = job_dirs(&spool).expect("dirs").into_iter().map(|(id, _)| id).collect();
        assert_eq!(left, vec![busy_old, c]);
        assert!(spool.join("not-a-job").is_dir(), "only job directories are touched");
        drop(hold);

        // within cleanup_period nothing happens unless forced
        let later = now + chrono::Duration::minutes(30);
        assert_eq!(cleanup(&config, later, false, &free).expect("cleanup"), CleanupReport::default());
        let forced = cleanup(&config, later, true, &free).expect("cleanup");
        assert!(forced.ran && forced.expired.len() == 1, "the unlocked old job goes now: {forced:?}");
    }

    #[test]
    fn low_space_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = PcapConfig::with_spool(dir.path().join("spool"));
        assert!(check_space(&config).is_ok());
        config.free_nodes = u64::MAX;
        let e = check_space(&config).expect_err("no disk has that many inodes");
        assert!(matches!(e, Error::SpoolFull(_)) && e.to_string().contains("inodes"), "{e}");
    }
}
