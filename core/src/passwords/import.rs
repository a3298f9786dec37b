//! Imports into the leaked-password store: plaintext lists (`password` or
//! `password<TAB>count` per line, hashed here) and Have I Been Pwned files (`SHA1:COUNT`).
//!
//! A file is parsed whole first: malformed lines are reported with their line number and
//! skipped, repeated hashes are merged (counts added, sources united), then everything is
//! stored in one transaction — an import stores all its valid lines or nothing.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::postgres::PgPoolOptions;

use super::{PwnedHash, Source, is_sha1, normalized, sha1_hex};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Store;

/// The longest password of a plaintext list, in bytes (UTF-8); longer lines are rejected.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Input layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One password per line, optionally `<TAB>count`.
    Plain,
    /// `SHA1:COUNT` per line (HIBP's downloadable lists), hex in either case.
    Hibp,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "plain" => Ok(Format::Plain),
            "hibp" => Ok(Format::Hibp),
            _ => Err(Error::InvalidArgument(format!("format `{s}`: plain or hibp"))),
        }
    }
}

/// A rejected input line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// Why it was rejected.
    pub reason: String,
}

/// A parsed file: unique hashes and the rejected lines.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Merged rows, one per hash.
    pub rows: Vec<PwnedHash>,
    /// Lines read.
    pub lines: usize,
    /// Rejected lines.
    pub errors: Vec<LineError>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// Lines read.
    pub lines: usize,
    /// Distinct hashes merged into the store.
    pub hashes: usize,
    /// Rejected lines (line number and reason).
    pub errors: Vec<LineError>,
    /// Stored hashes after the import.
    pub total: i64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Guesses the format from the first line of `text`: `SHA1:COUNT` means HIBP.
pub fn detect(text: &str) -> Format {
    match text.lines().next().unwrap_or("").trim_end().split_once(':') {
        Some((h, c)) if is_sha1(h) && c.bytes().all(|b| b.is_ascii_digit()) && !c.is_empty() => Format::Hibp,
        _ => Format::Plain,
    }
}

/// Parses `input`; every valid line gets `source` (if any).
pub fn parse(input: impl BufRead, format: Format, source: Option<Source>, progress: &dyn Progress) -> Result<Parsed> {
    let mut valid: Vec<(String, i64)> = Vec::new();
    let mut parsed = Parsed::default();
    for (i, line) in input.split(b'\n').enumerate() {
        let line = line.map_err(|e| Error::io("input", e))?;
        parsed.lines = i + 1;
        if parsed.lines.is_multiple_of(100_000) {
            progress.advance(100_000);
        }
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.is_empty() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            parsed.errors.push(LineError { line: i + 1, reason: "not UTF-8".into() });
            continue;
        };
        match parse_line(text, format) {
            Ok(hash_count) => valid.push(hash_count),
            Err(reason) => parsed.errors.push(LineError { line: i + 1, reason }),
        }
    }
    parsed.rows = merged(valid.into_iter().map(|(hash, count)| (hash, count, source.into_iter().collect())));
    Ok(parsed)
}

fn parse_line(text: &str, format: Format) -> std::result::Result<(String, i64), String> {
    let count = |c: &str| match c.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("count `{}` is not a whole number ≥ 1", c.trim())),
    };
    let password = |p: &str| if p.len() > MAX_PASSWORD_BYTES { Err(format!("password: longer than {MAX_PASSWORD_BYTES} bytes")) } else { Ok(sha1_hex(p)) };
    match format {
        Format::Plain => match text.rsplit_once('\t') {
            Some((p, c)) => Ok((password(p)?, count(c)?)),
            None => Ok((password(text)?, 1)),
        },
        Format::Hibp => {
            let (hash, c) = text.trim().split_once(':').ok_or("expected SHA1:COUNT")?;
            if !is_sha1(hash) {
                return Err("the hash is not 40 hex digits".into());
            }
            Ok((hash.to_ascii_lowercase(), count(c)?))
        }
    }
}

/// Parses `input` and merges it into the store in one transaction.
pub async fn import(store: &dyn Store, input: impl BufRead, format: Format, source: Option<Source>, progress: Arc<dyn Progress>) -> Result<ImportReport> {
    let started = Instant::now();
    progress.phase("reading", None);
    let parsed = parse(input, format, source, progress.as_ref())?;
    store_merged(store, parsed.rows, None, parsed.lines, parsed.errors, progress, started).await
}

/// The counter holding the newest statistics password time imported (microseconds).
pub const STATISTICS_MARK: &str = "passwords_import_statistics";

/// Merges the attempted passwords of the statistics `passwords` table reported since the
/// last such import (incremental: a watermark of the newest time read is kept in the same
/// transaction). Sources come from the trap of a login incident reported at the same instant
/// (`minipot_telnet` → telnet …); a password without one gets no source. Rows arriving
/// later with a time older than the watermark are not picked up.
pub async fn from_statistics(store: &dyn Store, progress: Arc<dyn Progress>) -> Result<ImportReport> {
    let started = Instant::now();
    progress.phase("reading statistics", None);
    let after = store.counter(STATISTICS_MARK).await?;
    let (attempts, newest) = store.attempted_passwords(after).await?;
    let rows = merged(attempts.iter().map(|(password, trap, count)| (sha1_hex(password), *count, trap.as_deref().and_then(Source::from_trap).into_iter().collect())));
    store_merged(store, rows, Some((STATISTICS_MARK, newest)), attempts.len(), Vec::new(), progress, started).await
}

/// Merges passy's table (`passwords(id, password_hash, count, password_source)`) of the
/// PostgreSQL database at `passy_url` into the store, in one transaction; repeated hashes are
/// merged, malformed rows counted and skipped. The passy database is only read.
pub async fn from_passy(store: &dyn Store, passy_url: &crate::config::SecretUrl, progress: Arc<dyn Progress>) -> Result<ImportReport> {
    let started = Instant::now();
    progress.phase("reading passy", None);
    let (read, skipped) = read_passy(passy_url).await?;
    let lines = read.len() + skipped;
    let rows = merged(read.into_iter().map(|r| (r.hash, r.count, r.sources)));
    let errors = if skipped > 0 { vec![LineError { line: 0, reason: format!("{skipped} passy rows without a 40-hex-digit hash or a count ≥ 1 skipped") }] } else { Vec::new() };
    store_merged(store, rows, None, lines, errors, progress, started).await
}

/// One row per hash: counts added (saturating at `i64::MAX`), sources united; sorted by hash.
fn merged(items: impl Iterator<Item = (String, i64, Vec<Source>)>) -> Vec<PwnedHash> {
    let mut by_hash: HashMap<String, (i64, Vec<Source>)> = HashMap::new();
    for (hash, count, sources) in items {
        let e = by_hash.entry(hash).or_default();
        e.0 = e.0.saturating_add(count);
        e.1.extend(sources);
    }
    let mut rows: Vec<PwnedHash> = by_hash.into_iter().map(|(hash, (count, sources))| PwnedHash { hash, count, sources: normalized(sources) }).collect();
    rows.sort_by(|a, b| a.hash.cmp(&b.hash));
    rows
}

async fn store_merged(store: &dyn Store, rows: Vec<PwnedHash>, mark: Option<(&str, i64)>, lines: usize, errors: Vec<LineError>, progress: Arc<dyn Progress>, started: Instant) -> Result<ImportReport> {
    progress.phase("storing", Some(rows.len() as u64));
    store.pwned_merge(&rows, mark, progress.as_ref()).await?;
    progress.finish();
    Ok(ImportReport { lines, hashes: rows.len(), errors, total: store.pwned_total().await?, seconds: started.elapsed().as_secs_f64() })
}

/// Reads passy's leaked-password table `passwords(id, password_hash, count, password_source
/// data_source[])` from the PostgreSQL database at `url`, read-only (no migrations, nothing
/// written there). Hashes are lower-cased; rows whose hash is not 40 hex digits or whose count
/// is not ≥ 1 are counted in the second value and skipped.
async fn read_passy(url: &crate::config::SecretUrl) -> Result<(Vec<PwnedHash>, usize)> {
    let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(10)).connect(url.expose()).await?;
    /// `(password_hash, count, password_source)`, any of them possibly NULL.
    type PassyRow = (Option<String>, Option<i64>, Option<Vec<String>>);
    let rows: Vec<PassyRow> =
        sqlx::query_as("SELECT password_hash, count, password_source::text[] FROM passwords ORDER BY id").fetch_all(&pool).await?;
    pool.close().await;
    let mut skipped = 0;
    let mut out = Vec::with_capacity(rows.len());
    for (hash, count, sources) in rows {
        match (hash, count) {
            (Some(h), Some(c)) if is_sha1(&h) && c >= 1 => out.push(PwnedHash {
                hash: h.to_ascii_lowercase(),
                count: c,
                sources: normalized(sources.unwrap_or_default().iter().filter_map(|s| s.parse().ok()).collect()),
            }),
            _ => skipped += 1,
        }
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    #[test]
    fn plain_and_hibp_lines_with_located_errors() {
        let text = "password\nPassword\tx\n\npassword\t2\r\n123456\t0\n\u{e9}t\u{e9}\n";
        let p = parse(text.as_bytes(), Format::Plain, Some(Source::Telnet), &NoProgress).expect("parses");
        assert_eq!(p.lines, 6);
        assert_eq!(p.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 5]);
        assert!(p.errors[0].reason.contains("count `x`"), "{:?}", p.errors);
        let pw = p.rows.iter().find(|r| r.hash == sha1_hex("password")).expect("merged");
        assert_eq!((pw.count, pw.sources.clone()), (3, vec![Source::Telnet]), "1 + 2, CRLF stripped");
        assert!(p.rows.iter().any(|r| r.hash == sha1_hex("été")), "UTF-8 passwords are hashed as UTF-8");

        let hibp = "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:10\n5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8:5\nnot-a-hash:1\n7C4A8D09CA3762AF61E59520943DC26494F8941B:0\n";
        assert_eq!(detect(hibp.lines().next().expect("line")), Format::Hibp);
        assert_eq!(detect("password"), Format::Plain);
        let p = parse(hibp.as_bytes(), Format::Hibp, None, &NoProgress).expect("parses");
        assert_eq!(p.rows, vec![PwnedHash { hash: sha1_hex("password"), count: 15, sources: vec![] }]);
        assert_eq!(p.errors.iter().map(|e| (e.line, e.reason.as_str())).collect::<Vec<_>>(), [(3, "the hash is not 40 hex digits"), (4, "count `0` is not a whole number ≥ 1")]);
    }

    #[test]
    fn repeated_counts_saturate_and_long_passwords_are_rejected() {
        let text = format!("x\t{m}\nx\t{m}\nx\t5\n{long}\n{long}\t2\n{edge}\n", m = i64::MAX, long = "p".repeat(MAX_PASSWORD_BYTES + 1), edge = "p".repeat(MAX_PASSWORD_BYTES));
        let p = parse(text.as_bytes(), Format::Plain, None, &NoProgress).expect("parses");
        assert_eq!(p.rows.iter().find(|r| r.hash == sha1_hex("x")).map(|r| r.count), Some(i64::MAX));
        assert_eq!(p.errors, [4, 5].map(|line| LineError { line, reason: format!("password: longer than {MAX_PASSWORD_BYTES} bytes") }));
        assert_eq!(p.rows.len(), 2, "the password of exactly the limit is kept");
    }
}
