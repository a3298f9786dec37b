//! `vantage flows import`: raw flows from nfdump CSV or Zeek conn.log inputs (each input's
//! format sniffed on its own, [`super::parse`]) and from captures ([`super::pcap`]) into the
//! store, all inputs in one transaction. A capture that cannot be read fails the import.
//! A bad line is reported as `file:line: field: reason` and the others import — or, with
//! `strict`, nothing is stored.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::model::RawFlow;
use super::parse::{BadLine, FlowReader};
use super::pcap::{self, BuildSettings};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Store;
use crate::store::flows::FlowSession;

/// Flows written per batch.
const BATCH: usize = 5_000;

/// Rejections kept in the report (the count is always complete).
pub const MAX_REPORTED: usize = 100;

/// One input: a name for messages and its text.
pub struct Input {
    /// File name as given (`-` for standard input).
    pub name: String,
    /// The text.
    pub reader: Box<dyn BufRead + Send>,
}

/// Captures to build flows from, and how ([`super::pcap`]).
#[derive(Debug, Clone, Default)]
pub struct Captures {
    /// The capture files (pcap or pcapng).
    pub paths: Vec<PathBuf>,
    /// Timeouts and direction.
    pub settings: BuildSettings,
}

/// What one capture gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptureReport {
    /// The file.
    pub source: String,
    /// Packets read.
    pub packets: u64,
    /// Packets in no flow (not IP, cut short, tunnels).
    pub skipped: u64,
    /// Flows built.
    pub flows: u64,
}

/// One rejected line of one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The input's name.
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// The input column, if one is to blame.
    pub field: Option<String>,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bad = BadLine { line: self.line, field: self.field.clone(), reason: self.reason.clone() };
        write!(f, "{}:{bad}", self.source)
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// Flow records read (good and bad).
    pub records: u64,
    /// Flows stored (0 when not committed).
    pub imported: u64,
    /// Records rejected.
    pub rejected_records: u64,
    /// The first [`MAX_REPORTED`] rejections.
    pub rejected: Vec<Rejected>,
    /// The captures read.
    pub captures: Vec<CaptureReport>,
    /// False when nothing was stored (strict mode with rejected records).
    pub committed: bool,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Imports every input in one transaction; `strict`: nothing is stored if any record is bad.
pub async fn import(store: &dyn Store, inputs: Vec<Input>, strict: bool, progress: Arc<dyn Progress>) -> Result<ImportReport> {
    import_all(store, inputs, &Captures::default(), strict, progress).await
}

/// Imports every input and the flows of every capture in one transaction; `strict`: nothing
/// is stored if any record is bad. A capture that cannot be read fails it all.
pub async fn import_all(store: &dyn Store, inputs: Vec<Input>, captures: &Captures, strict: bool, progress: Arc<dyn Progress>) -> Result<ImportReport> {
    let started = Instant::now();
    let mut session: Box<dyn FlowSession> = store.begin_flows_import().await?;
    let mut report = ImportReport { records: 0, imported: 0, rejected_records: 0, rejected: Vec::new(), captures: Vec::new(), committed: false, seconds: 0.0 };
    let mut batch: Vec<RawFlow> = Vec::with_capacity(BATCH);
    for path in &captures.paths {
        let source = path.display().to_string();
        progress.phase(&format!("building the flows of {source}"), None);
        let (file, settings) = (path.clone(), captures.settings);
        let built = tokio::task::spawn_blocking(move || pcap::build(&file, settings))
            .await
            .map_err(|e| Error::InvalidArgument(format!("{source}: {e}")))?
            .map_err(|e| Error::InvalidArgument(format!("{source}: {e}")))?;
        report.records += built.flows.len() as u64;
        report.captures.push(CaptureReport { source, packets: built.packets, skipped: built.skipped, flows: built.flows.len() as u64 });
        for chunk in built.flows.chunks(BATCH) {
            session.write(chunk).await?;
            report.imported += chunk.len() as u64;
            progress.advance(chunk.len() as u64);
        }
        progress.finish();
    }
    for input in inputs {
        progress.phase(&format!("importing {}", input.name), None);
        for record in FlowReader::new(input.reader) {
            report.records += 1;
            match record {
                Ok(flow) => {
                    batch.push(flow);
                    if batch.len() >= BATCH {
                        session.write(&batch).await?;
                        report.imported += batch.len() as u64;
                        progress.advance(batch.len() as u64);
                        batch.clear();
                    }
                }
                Err(bad) => {
                    report.rejected_records += 1;
                    if report.rejected.len() < MAX_REPORTED {
                        report.rejected.push(Rejected { source: input.name.clone(), line: bad.line, field: bad.field, reason: bad.reason });
                    }
                }
            }
        }
        progress.finish();
    }
    if strict && report.rejected_records > 0 {
        session.rollback().await?;
        report.imported = 0;
    } else {
        session.write(&batch).await?;
        report.imported += batch.len() as u64;
        session.commit().await?;
        report.committed = true;
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
