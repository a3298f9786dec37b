//! What the `[flows]` data files (ipranges, iploc, reputation lists, network context,
//! safelists) share: addresses as numbers for range lookups, CSV records with their line
//! numbers, and errors that name the file, line and field.

use std::net::IpAddr;
use std::path::Path;

use crate::error::{Error, Result};

/// An address as a number (IPv4 in the low 32 bits, an IPv4-mapped IPv6 address as its IPv4
/// one; other IPv6 above them, so ranges of the two never overlap).
pub fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => u128::from(v6).max(1 << 32),
        },
    }
}

/// Reads a CSV file without headers into records with their line numbers, skipping blank
/// lines and those starting with `#`; errors are `file:line: reason`.
pub fn records(path: &Path) -> Result<Vec<(u64, csv::StringRecord)>> {
    let file = crate::error::open_file(path)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(std::io::BufReader::new(file));
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::Config(format!("{}:{}: {e}", path.display(), e.position().map_or(i as u64 + 1, |p| p.line()))))?;
        if record.iter().all(str::is_empty) || record.get(0).is_some_and(|f| f.starts_with('#')) {
            continue;
        }
        out.push((record.position().map_or(i as u64 + 1, |p| p.line()), record));
    }
    Ok(out)
}

/// A bad line of a data file: `file:line: field: reason`.
pub fn bad(path: &Path, line: u64, field: &str, reason: impl std::fmt::Display) -> Error {
    Error::Config(format!("{}:{line}: {field}: {reason}", path.display()))
}
