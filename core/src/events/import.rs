//! Imports of IntelMQ events: JSON Lines files (IntelMQ's file output) or an existing IntelMQ
//! eventDB table.
//!
//! Every line is validated ([`super::parse`]); rejected lines are reported as
//! `file:line: field: reason` and skipped. All valid lines of one import go into one
//! transaction, which also marks their UTC days for re-aggregation; with `strict`, one bad
//! line means nothing is stored. Afterwards the marked days are re-aggregated (unless turned
//! off, e.g. to load many files and aggregate once).

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Row};

use super::aggregate::{self, AggregateReport, Scope};
use super::model::{Event, Field, Kind};
use super::parse::{self, FieldError};
use crate::config::SecretUrl;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::{EventSession, Store};

/// Events written per batch.
const BATCH: usize = 10_000;

/// Rejected lines kept in a report (the count is always complete).
pub const MAX_REPORTED: usize = 1000;

/// The counter holding the last eventDB `id` imported.
pub const EVENTDB_MARK: &str = "events_eventdb_last_id";

/// Rows read from an eventDB per query.
const EVENTDB_PAGE: i64 = 50_000;

/// How to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Store nothing if any line is rejected.
    pub strict: bool,
    /// Re-aggregate the touched days right after the commit.
    pub aggregate: bool,
}

/// One rejected line (or eventDB row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The file name (`-` for standard input, `eventdb` for an eventDB).
    pub source: String,
    /// 1-based line number (the row's `id` for an eventDB).
    pub line: u64,
    /// The field and the reason.
    #[serde(flatten)]
    pub error: FieldError,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.error)
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// Non-empty lines (or rows) read.
    pub lines: u64,
    /// Events stored (0 when not committed).
    pub imported: u64,
    /// Stored events without `time.source` (in no daily table; counted here).
    pub without_time_source: u64,
    /// Lines rejected.
    pub rejected_lines: u64,
    /// The first [`MAX_REPORTED`] rejections (a line may have several).
    pub rejected: Vec<Rejected>,
    /// False when nothing was stored (strict mode with rejected lines).
    pub committed: bool,
    /// The UTC days the stored events fall on (marked for re-aggregation).
    pub days: Vec<NaiveDate>,
    /// The re-aggregation run after the import, if any.
    pub aggregation: Option<AggregateReport>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// One input: a name for messages and its lines.
pub struct Input {
    /// File name as given (`-` for standard input).
    pub name: String,
    /// The text.
    pub reader: Box<dyn BufRead + Send>,
}

/// Collects valid events into batches and rejections into the report.
struct Importer {
    session: Box<dyn EventSession>,
    batch: Vec<Event>,
    report: ImportReport,
    strict: bool,
}

impl Importer {
    async fn new(store: &dyn Store, strict: bool) -> Result<Importer> {
        let report = ImportReport {
            lines: 0,
            imported: 0,
            without_time_source: 0,
            rejected_lines: 0,
            rejected: Vec::new(),
            committed: false,
            days: Vec::new(),
            aggregation: None,
            seconds: 0.0,
        };
        Ok(Importer { session: store.begin_events_import().await?, batch: Vec::with_capacity(BATCH), report, strict })
    }

    async fn add(&mut self, source: &str, line: u64, parsed: std::result::Result<Event, Vec<FieldError>>) -> Result<()> {
        self.report.lines += 1;
        match parsed {
            Ok(event) if self.report.rejected_lines == 0 || !self.strict => {
                self.report.without_time_source += u64::from(event.day().is_none());
                self.batch.push(event);
                if self.batch.len() >= BATCH {
                    self.flush().await?;
                }
            }
            Ok(_) => {}
            Err(errors) => {
                self.report.rejected_lines += 1;
                let room = MAX_REPORTED.saturating_sub(self.report.rejected.len());
                self.report.rejected.extend(errors.into_iter().take(room).map(|error| Rejected { source: source.to_string(), line, error }));
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.session.write(&self.batch).await?;
        self.report.imported += self.batch.len() as u64;
        self.batch.clear();
        Ok(())
    }

    /// Commits (or, strict with rejections, rolls back) and re-aggregates when asked.
    async fn finish(mut self, store: &dyn Store, mark: Option<(&str, i64)>, aggregate: bool, started: Instant) -> Result<ImportReport> {
        if self.strict && self.report.rejected_lines > 0 {
            self.session.rollback().await?;
            self.report.imported = 0;
            self.report.without_time_source = 0;
        } else {
            self.flush().await?;
            self.report.days = self.session.commit(mark).await?;
            self.report.committed = true;
            if aggregate {
                self.report.aggregation = Some(aggregate::aggregate(store, Scope::Pending).await?);
            }
        }
        self.report.seconds = started.elapsed().as_secs_f64();
        Ok(self.report)
    }
}

/// Imports IntelMQ JSON Lines from `inputs` in one transaction.
pub async fn import(store: &dyn Store, inputs: Vec<Input>, options: ImportOptions, progress: Arc<dyn Progress>) -> Result<ImportReport> {
    let started = Instant::now();
    let mut importer = Importer::new(store, options.strict).await?;
    for input in inputs {
        progress.phase(&format!("importing {}", input.name), None);
        for (i, line) in input.reader.split(b'\n').enumerate() {
            let line = line.map_err(|e| Error::io(&input.name, e))?;
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = match std::str::from_utf8(line) {
                Ok(text) => parse::parse_line(text),
                Err(_) => Err(vec![FieldError { field: None, reason: "not UTF-8".into() }]),
            };
            importer.add(&input.name, i as u64 + 1, parsed).await?;
            if (i + 1) % BATCH == 0 {
                progress.advance(BATCH as u64);
            }
        }
        progress.finish();
    }
    importer.finish(store, None, options.aggregate, started).await
}

/// Imports the rows of an IntelMQ eventDB (`events` table at `url`, only read) added since the
/// last such import: rows with an `id` above the stored watermark, which is advanced in the
/// same transaction. Rows are validated like lines; a rejected row is reported with its `id`.
pub async fn import_eventdb(store: &dyn Store, url: &SecretUrl, options: ImportOptions, progress: Arc<dyn Progress>) -> Result<ImportReport> {
    let started = Instant::now();
    let mut after = store.counter(EVENTDB_MARK).await?;
    let mut importer = Importer::new(store, options.strict).await?;
    progress.phase("importing eventdb", None);
    loop {
        let page: Vec<(i64, Map<String, Json>)> = read_eventdb(url, after, EVENTDB_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (id, row) in &page {
            importer.add("eventdb", *id as u64, parse::parse_object(row)).await?;
        }
        progress.advance(page.len() as u64);
    }
    progress.finish();
    importer.finish(store, Some((EVENTDB_MARK, after)), options.aggregate, started).await
}

/// Reads up to `limit` rows with `id > after` from the IntelMQ `events` table of the
/// PostgreSQL database at `url` (only read; IntelMQ's DDL: dotted columns, `id` serial), in id
/// order, as `(id, IntelMQ JSON object)` to be validated like imported lines.
async fn read_eventdb(url: &SecretUrl, after: i64, limit: i64) -> Result<Vec<(i64, Map<String, Json>)>> {
    let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(10)).connect(url.expose()).await?;
    let cols: Vec<String> = Field::ALL
        .iter()
        .map(|f| match f.kind() {
            Kind::Time => format!("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", f.quoted()),
            Kind::Ip => format!("host({})", f.quoted()),
            Kind::Asn | Kind::Port => format!("{}::bigint::text", f.quoted()),
            _ => format!("{}::text", f.quoted()),
        })
        .collect();
    let sql = format!("SELECT id::bigint, {} FROM events WHERE id > $1 ORDER BY id LIMIT $2", cols.join(", "));
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(&pool).await;
    pool.close().await;
    let mut out = Vec::new();
    for r in rows? {
        let values = crate::store::texts(&r, 1, Field::ALL.len())?;
        let mut map = Map::new();
        for (f, v) in Field::ALL.iter().zip(values) {
            let Some(v) = v else { continue };
            let json = match f.kind() {
                Kind::Asn | Kind::Port => v.parse::<i64>().map_or(Json::String(v), Json::from),
                _ => Json::String(v),
            };
            map.insert(f.name().to_string(), json);
        }
        out.push((r.try_get(0)?, map));
    }
    Ok(out)
}
