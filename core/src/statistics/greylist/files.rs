//! The greylist files: a CSV with the header [`HEADER`] (IP in column 0, tags in column 1, as
//! IntelMQ's Turris greylist parser reads it; fields with commas are quoted), written as
//! `greylist-latest.csv` and `archive/YYYY/greylist-YYYY-MM-DD.csv` under the greylist
//! directory. Each file is written beside its final name and renamed, so a reader (`serve`)
//! sees the old file or the new one, never half of one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDate, SecondsFormat};
use serde::Serialize;

use super::Entry;
use crate::error::{Error, Result};

/// The latest snapshot's file name.
pub const LATEST: &str = "greylist-latest.csv";

/// The archive's directory under the greylist directory.
pub const ARCHIVE: &str = "archive";

/// The CSV header.
pub const HEADER: [&str; 6] = ["Address", "Tags", "Country", "FirstSeen", "LastSeen", "Count"];

/// The entries as CSV (header, then one line per entry; times in RFC 3339, UTC).
pub fn to_csv(entries: &[Entry]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    // writing into a Vec cannot fail
    let _ = writer.write_record(HEADER);
    for e in entries {
        let record = [e.address.to_string(), e.tags.join(","), e.country.clone().unwrap_or_default(), time(e.first_seen), time(e.last_seen), e.count.to_string()];
        let _ = writer.write_record(&record);
    }
    writer.into_inner().unwrap_or_default()
}

/// The archive file of `date`, relative to the greylist directory.
pub fn archive_path(date: NaiveDate) -> PathBuf {
    Path::new(ARCHIVE).join(date.format("%Y").to_string()).join(format!("greylist-{}.csv", date.format("%Y-%m-%d")))
}

/// The file a request for `archive/<year>/<name>` means, or `None` when the names are not
/// exactly a 4-digit year and `greylist-<that year>-MM-DD.csv` of a real date.
pub fn archive_request(year: &str, name: &str) -> Option<PathBuf> {
    let date = name.strip_prefix("greylist-")?.strip_suffix(".csv")?;
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) || date.len() != 10 || !date.starts_with(year) {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().map(archive_path)
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// The snapshot's date (the clock's, UTC).
    pub date: NaiveDate,
    /// Addresses listed.
    pub addresses: usize,
    /// `<dir>/greylist-latest.csv`.
    pub latest: PathBuf,
    /// `<dir>/archive/YYYY/greylist-YYYY-MM-DD.csv` (replaced when it existed).
    pub archive: PathBuf,
}

/// Writes `entries` as the latest snapshot and as `date`'s archive file under `dir`.
pub fn write_snapshot(dir: &Path, date: NaiveDate, entries: &[Entry]) -> Result<Written> {
    let bytes = to_csv(entries);
    let latest = dir.join(LATEST);
    let archive = dir.join(archive_path(date));
    for path in [&archive, &latest] {
        replace(path, &bytes)?;
    }
    Ok(Written { date, addresses: entries.len(), latest, archive })
}

/// Writes `bytes` to `path` through a temporary file beside it (renamed over `path`), creating
/// the directories.
fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = parent.join(format!(".{name}.{}.{}.tmp", std::process::id(), WRITES.fetch_add(1, Ordering::Relaxed)));
    let written = std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e)).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_are_validated() {
        assert_eq!(archive_request("2024", "greylist-2024-06-15.csv"), Some(PathBuf::from("archive/2024/greylist-2024-06-15.csv")));
        for (year, name) in [
            ("2024", "greylist-2023-06-15.csv"),
            ("2024", "greylist-2024-02-30.csv"),
            ("..", "greylist-2024-06-15.csv"),
            ("2024", "../greylist-2024-06-15.csv"),
            ("2024", "greylist-2024-06-15.csv/"),
            ("2024", "greylist-2024-6-15.csv"),
            ("+024", "greylist-+024-06-15.csv"),
        ] {
            assert_eq!(archive_request(year, name), None, "{year}/{name}");
        }
    }

    #[test]
    fn tags_are_quoted_and_column_one() {
        let t = crate::clock::parse_instant("2024-06-15T12:34:56Z").expect("instant");
        let e = Entry { address: "192.0.2.1".parse().expect("ip"), tags: vec!["ftp".into(), "telnet".into()], country: None, first_seen: t, last_seen: t, count: 3 };
        let text = String::from_utf8(to_csv(&[e])).expect("utf-8");
        assert_eq!(text, "Address,Tags,Country,FirstSeen,LastSeen,Count\n192.0.2.1,\"ftp,telnet\",,2024-06-15T12:34:56Z,2024-06-15T12:34:56Z,3\n");
    }
}
