//! Import of raw Sentinel reports from JSON Lines and CSV (files or stdin).
//!
//! ## Formats
//!
//! **JSON Lines** (`.jsonl`, `.ndjson`, `.json`, or stdin starting with `{`): one object per
//! line. The kind is the optional `"kind"` field (`incident`, `password`, `port`) or else
//! inferred from the keys. Fields:
//! - incident: `time`, `raw_count`?, `sn`, `device_token`, `trap`, `action`, `ip`, `country`?
//! - password: `time`, `raw_count`?, `username`, `password`
//! - port: `time`, `raw_count`?, `port`, `protocol`
//!
//! **CSV** (`.csv`, or stdin otherwise): a header line naming the columns (any order);
//! the header decides the kind: it must contain `trap` (incidents), `username` (passwords) or
//! `port` (ports) together with that kind's required columns. One kind per CSV file.
//!
//! `time` is RFC 3339 (`2024-06-15T12:34:56Z`, offsets converted to UTC), PostgreSQL's text
//! form (`2024-06-15 12:34:56.123+00`), a naive date-time taken as UTC, or (JSON only) a
//! number of seconds since the Unix epoch. `raw_count` defaults to 1 and must be between 1 and
//! [`MAX_RAW_COUNT`]; `username` and `password` are at most [`MAX_TEXT_BYTES`] bytes.
//! `country` is two letters (upper-cased) or empty/null for unknown. `ip` may carry `/32`
//! (`/128`), which is dropped. Unknown JSON keys are ignored.
//!
//! ## Bad rows
//!
//! Every invalid row is reported as `file:line: reason`. By default the valid rows are
//! imported and the invalid ones skipped; with `strict` a single invalid row means nothing
//! is stored. Either way the whole import is one transaction: an I/O or database error
//! part-way stores nothing, and rows stored before the import are never touched.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use super::model::{Incident, PasswordAttempt, PortScan, Report, ReportBatch};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::StatisticsStore;

/// Rows per batch handed from the parser thread to the database writer.
pub const BATCH_ROWS: usize = 20_000;

/// At most this many rejected lines are kept with their reasons; the rest are only counted.
pub const MAX_REPORTED_REJECTS: usize = 100_000;

/// The largest `raw_count` of one row: sums over any window then fit `i64` until a window
/// holds more than 9.2 billion rows (`i64::MAX / MAX_RAW_COUNT`).
pub const MAX_RAW_COUNT: i64 = 1_000_000_000;

/// The longest `username` or `password` of one row, in bytes (UTF-8).
pub const MAX_TEXT_BYTES: usize = 1024;

/// Where reports come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// Standard input (`-` on the command line).
    Stdin,
}

impl Source {
    /// `-` means stdin, anything else a path.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" { Source::Stdin } else { Source::File(PathBuf::from(arg)) }
    }

    fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".to_string(),
        }
    }
}

/// Input format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header line.
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jsonl" | "json" | "ndjson" => Ok(Format::JsonLines),
            "csv" => Ok(Format::Csv),
            other => Err(format!("unknown format `{other}`; expected jsonl or csv")),
        }
    }
}

/// Options of one import.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    /// Store nothing if any row is invalid.
    pub strict: bool,
    /// Force a format instead of guessing from the file name / first byte.
    pub format: Option<Format>,
}

/// A rejected input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// File name (`-` for stdin).
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong, naming the field.
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.reason)
    }
}

/// Rows written per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    /// Incident rows.
    pub incidents: u64,
    /// Password rows.
    pub passwords: u64,
    /// Port-scan rows.
    pub ports: u64,
}

impl RowCounts {
    /// Sum over kinds.
    pub fn total(&self) -> u64 {
        self.incidents + self.passwords + self.ports
    }

    /// Adds a batch's rows.
    pub fn add(&mut self, batch: &ReportBatch) {
        self.incidents += batch.incidents.len() as u64;
        self.passwords += batch.passwords.len() as u64;
        self.ports += batch.ports.len() as u64;
    }
}

/// Outcome of an import.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    /// Valid rows seen per kind (stored when `committed`).
    pub rows: RowCounts,
    /// Identities created on the fly (when `committed`).
    pub identities_created: u64,
    /// Rejected rows with reasons (at most [`MAX_REPORTED_REJECTS`]).
    pub rejected: Vec<Rejected>,
    /// Number of rejected rows, including those not kept in `rejected`.
    pub rejected_total: u64,
    /// Whether the valid rows were committed (false in strict mode with rejects).
    pub committed: bool,
}

/// Imports `sources` into `store` in one transaction. See the module docs for the rules.
pub async fn ingest(
    store: &dyn StatisticsStore,
    sources: Vec<Source>,
    options: IngestOptions,
    progress: Arc<dyn Progress>,
) -> Result<IngestReport> {
    let total_bytes: u64 = sources
        .iter()
        .map(|s| match s {
            Source::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Source::Stdin => 0,
        })
        .sum();
    progress.phase("importing", (total_bytes > 0).then_some(total_bytes));

    let (tx, mut rx) = tokio::sync::mpsc::channel::<ReportBatch>(4);
    let parser_progress = progress.clone();
    let parser = tokio::task::spawn_blocking(move || parse_sources(&sources, options.format, &tx, parser_progress.as_ref()));

    let mut session = store.begin_ingest().await?;
    let mut rows = RowCounts::default();
    let mut write_error = None;
    while let Some(batch) = rx.recv().await {
        if let Err(e) = session.write(&batch).await {
            write_error = Some(e);
            break;
        }
        rows.add(&batch);
    }
    drop(rx);
    let parsed = parser
        .await
        .map_err(|e| Error::InvalidArgument(format!("parser thread failed: {e}")))?;
    progress.finish();
    if let Some(e) = write_error {
        session.rollback().await?;
        return Err(e);
    }
    let (rejected, rejected_total) = match parsed {
        Ok(r) => r,
        Err(e) => {
            session.rollback().await?;
            return Err(e);
        }
    };
    let mut report = IngestReport { rows, rejected, rejected_total, ..IngestReport::default() };
    if options.strict && rejected_total > 0 {
        session.rollback().await?;
    } else {
        report.identities_created = session.commit().await?;
        report.committed = true;
    }
    Ok(report)
}

type Rejects = (Vec<Rejected>, u64);

struct RejectSink {
    kept: Vec<Rejected>,
    total: u64,
}

impl RejectSink {
    fn push(&mut self, source: &str, line: u64, reason: String) {
        self.total += 1;
        if self.kept.len() < MAX_REPORTED_REJECTS {
            self.kept.push(Rejected { source: source.to_string(), line, reason });
        }
    }
}

/// Parses every source on the calling (blocking) thread, sending batches to `tx`.
fn parse_sources(
    sources: &[Source],
    forced: Option<Format>,
    tx: &tokio::sync::mpsc::Sender<ReportBatch>,
    progress: &dyn Progress,
) -> Result<Rejects> {
    let mut sink = RejectSink { kept: Vec::new(), total: 0 };
    let mut batch = ReportBatch::default();
    for source in sources {
        let name = source.name();
        let reader: Box<dyn Read> = match source {
            Source::File(p) => Box::new(crate::error::open_file(p)?),
            Source::Stdin => Box::new(std::io::stdin()),
        };
        let mut reader = CountingReader::new(BufReader::with_capacity(1 << 20, reader));
        let format = match forced {
            Some(f) => f,
            None => guess_format(source, &mut reader).map_err(|e| Error::io(name.clone(), e))?,
        };
        let mut emit = |row: std::result::Result<Report, (u64, String)>, reader_bytes: u64| -> bool {
            match row {
                Ok(report) => batch.push(report),
                Err((line, reason)) => sink.push(&name, line, reason),
            }
            if batch.len() >= BATCH_ROWS {
                progress.advance(reader_bytes);
                return tx.blocking_send(std::mem::take(&mut batch)).is_ok();
            }
            true
        };
        parse_format(&mut reader, format, &name, &mut emit)?;
        progress.advance(reader.take_count());
    }
    if !batch.is_empty() {
        // A closed channel means the writer failed; its error is reported by the caller.
        let _ = tx.blocking_send(batch);
    }
    Ok((sink.kept, sink.total))
}

/// Reads the Sentinel reports of one source in `format`, with no store: `each` is given every
/// report or `(line, reason)` rejection in order and returns `false` to stop. The reader the
/// import runs per source; public for the fuzz targets and for tools that only check a file.
/// Errors: only the reader's I/O; a malformed row is a rejection, not an error.
pub fn read_reports<R: BufRead>(
    reader: R,
    format: Format,
    name: &str,
    mut each: impl FnMut(std::result::Result<Report, (u64, String)>) -> bool,
) -> Result<()> {
    let mut emit = |row: std::result::Result<Report, (u64, String)>, _bytes: u64| each(row);
    parse_format(&mut CountingReader::new(reader), format, name, &mut emit)
}

/// Parses one source in `format`, handing each row to `emit`.
fn parse_format<R: BufRead>(reader: &mut CountingReader<R>, format: Format, name: &str, emit: &mut Emit<'_>) -> Result<()> {
    match format {
        Format::JsonLines => parse_jsonl(reader, name, emit),
        Format::Csv => parse_csv(reader, name, emit),
    }
}

/// Counts bytes consumed so progress can be reported in bytes.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: BufRead> CountingReader<R> {
    fn new(inner: R) -> Self {
        CountingReader { inner, count: 0 }
    }

    fn take_count(&mut self) -> u64 {
        std::mem::take(&mut self.count)
    }
}

impl<R: BufRead> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.count += amt as u64;
        self.inner.consume(amt);
    }
}

fn guess_format<R: BufRead>(source: &Source, reader: &mut R) -> std::io::Result<Format> {
    if let Source::File(p) = source {
        match p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "ndjson" | "json") => return Ok(Format::JsonLines),
            Some("csv") => return Ok(Format::Csv),
            _ => {}
        }
    }
    let head = reader.fill_buf()?;
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    Ok(if first == Some(&b'{') { Format::JsonLines } else { Format::Csv })
}

type Emit<'a> = dyn FnMut(std::result::Result<Report, (u64, String)>, u64) -> bool + 'a;

fn parse_jsonl<R: BufRead>(reader: &mut CountingReader<R>, name: &str, emit: &mut Emit<'_>) -> Result<()> {
    let mut line = Vec::with_capacity(512);
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| Error::io(name, e))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        let text = trim_ascii(&line);
        if text.is_empty() {
            continue;
        }
        let row = parse_json_report(text).map_err(|reason| (number, reason));
        let bytes = reader.take_count();
        if !emit(row, bytes) {
            return Ok(());
        }
    }
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTime<'a> {
    #[serde(borrow)]
    Text(Cow<'a, str>),
    Seconds(f64),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonPort<'a> {
    Number(i64),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}

#[derive(Deserialize)]
struct JsonReport<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Option<JsonTime<'a>>,
    raw_count: Option<i64>,
    #[serde(borrow)]
    sn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    device_token: Option<Cow<'a, str>>,
    #[serde(borrow)]
    trap: Option<Cow<'a, str>>,
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ip: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "nullable")]
    country: Option<Option<Cow<'a, str>>>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    password: Option<Cow<'a, str>>,
    #[serde(borrow)]
    port: Option<JsonPort<'a>>,
    #[serde(borrow)]
    protocol: Option<Cow<'a, str>>,
}

fn nullable<'de, D>(d: D) -> std::result::Result<Option<Option<Cow<'de, str>>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<Cow<'de, str>>::deserialize(d).map(Some)
}

/// The three report kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Incident,
    Password,
    Port,
}

impl Kind {
    fn parse(text: &str) -> std::result::Result<Kind, String> {
        match text {
            "incident" | "incidents" => Ok(Kind::Incident),
            "password" | "passwords" => Ok(Kind::Password),
            "port" | "ports" => Ok(Kind::Port),
            other => Err(format!("kind: `{other}` is not one of incident, password, port")),
        }
    }
}

fn required<T>(value: Option<T>, field: &str) -> std::result::Result<T, String> {
    value.ok_or_else(|| format!("missing field `{field}`"))
}

/// Parses one JSON Lines row.
pub fn parse_json_report(line: &[u8]) -> std::result::Result<Report, String> {
    let r: JsonReport<'_> = serde_json::from_slice(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let kind = match &r.kind {
        Some(k) => Kind::parse(k)?,
        None if r.trap.is_some() || r.action.is_some() || r.ip.is_some() => Kind::Incident,
        None if r.username.is_some() || r.password.is_some() => Kind::Password,
        None if r.port.is_some() || r.protocol.is_some() => Kind::Port,
        None => return Err("cannot tell the report kind: give `kind` or the fields of an incident (trap, action, ip), password (username, password) or port (port, protocol)".into()),
    };
    let time = match required(r.time, "time")? {
        JsonTime::Text(t) => parse_time(&t)?,
        JsonTime::Seconds(s) => epoch_seconds(s)?,
    };
    let raw_count = raw_count(r.raw_count)?;
    Ok(match kind {
        Kind::Incident => Report::Incident(Incident {
            time,
            raw_count,
            sn: sn(&required(r.sn, "sn")?)?,
            device_token: device_token(&required(r.device_token, "device_token")?)?,
            trap: field("trap", &required(r.trap, "trap")?)?,
            action: field("action", &required(r.action, "action")?)?,
            ip: ip(&required(r.ip, "ip")?)?,
            country: country(r.country.flatten().as_deref())?,
        }),
        Kind::Password => Report::Password(PasswordAttempt {
            time,
            raw_count,
            username: text_field("username", required(r.username, "username")?)?,
            password: text_field("password", required(r.password, "password")?)?,
        }),
        Kind::Port => Report::Port(PortScan {
            time,
            raw_count,
            port: match required(r.port, "port")? {
                JsonPort::Number(n) => port_number(n)?,
                JsonPort::Text(t) => port(&t)?,
            },
            protocol: field("protocol", &required(r.protocol, "protocol")?)?,
        }),
    })
}

fn field<T: std::str::FromStr<Err = String>>(name: &str, text: &str) -> std::result::Result<T, String> {
    text.parse::<T>().map_err(|e| format!("{name}: {e}"))
}

fn text_field(name: &str, text: Cow<'_, str>) -> std::result::Result<String, String> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(format!("{name}: longer than {MAX_TEXT_BYTES} bytes"));
    }
    if text.contains('\0') {
        return Err(format!("{name}: contains a NUL character"));
    }
    Ok(text.into_owned())
}

fn raw_count(value: Option<i64>) -> std::result::Result<i64, String> {
    match value {
        None => Ok(1),
        Some(n) if (1..=MAX_RAW_COUNT).contains(&n) => Ok(n),
        Some(n) => Err(format!("raw_count: must be between 1 and {MAX_RAW_COUNT} (got {n})")),
    }
}

fn sn(text: &str) -> std::result::Result<String, String> {
    if text.is_empty() || text.chars().count() > 16 || text.contains('\0') {
        return Err(format!("sn: `{text}` must be 1–16 characters"));
    }
    Ok(text.to_string())
}

fn device_token(text: &str) -> std::result::Result<String, String> {
    if text.is_empty() || text.chars().count() > 64 || text.contains('\0') {
        return Err(format!("device_token: must be 1–64 characters (got {})", text.chars().count()));
    }
    Ok(text.to_string())
}

fn ip(text: &str) -> std::result::Result<IpAddr, String> {
    let host = match text.split_once('/') {
        Some((host, "32")) if !host.contains(':') => host,
        Some((host, "128")) if host.contains(':') => host,
        Some(_) => return Err(format!("ip: `{text}` is a network, expected a single address")),
        None => text,
    };
    host.parse::<IpAddr>().map_err(|_| format!("ip: `{text}` is not an IPv4 or IPv6 address"))
}

fn country(text: Option<&str>) -> std::result::Result<Option<String>, String> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(cc) if cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_alphabetic()) => Ok(Some(cc.to_ascii_uppercase())),
        Some(other) => Err(format!("country: `{other}` is not a two-letter country code")),
    }
}

fn port_number(n: i64) -> std::result::Result<u16, String> {
    u16::try_from(n).map_err(|_| format!("port: {n} is outside 0–65535"))
}

fn port(text: &str) -> std::result::Result<u16, String> {
    let n: i64 = text.trim().parse().map_err(|_| format!("port: `{text}` is not a number"))?;
    port_number(n)
}

fn epoch_seconds(s: f64) -> std::result::Result<DateTime<Utc>, String> {
    if !s.is_finite() || !(0.0..4.0e9).contains(&s) {
        return Err(format!("time: {s} is not a plausible Unix time in seconds"));
    }
    let micros = (s * 1e6).round() as i64;
    Utc.timestamp_micros(micros).single().ok_or_else(|| format!("time: {s} is out of range"))
}

/// Parses a report time: RFC 3339, PostgreSQL text output, or a naive date-time (UTC).
pub fn parse_time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Ok(dt.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(naive.and_utc());
        }
    }
    Err(format!("time: `{text}` is not a date-time (expected e.g. 2024-06-15T12:34:56Z)"))
}

/// Column positions of a CSV file, decided by its header.
struct CsvLayout {
    kind: Kind,
    time: usize,
    raw_count: Option<usize>,
    cols: Vec<usize>,
    country: Option<usize>,
}

impl CsvLayout {
    fn from_header(header: &csv::StringRecord) -> std::result::Result<CsvLayout, String> {
        let find = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let kind = if find("trap").is_some() {
            Kind::Incident
        } else if find("username").is_some() {
            Kind::Password
        } else if find("port").is_some() {
            Kind::Port
        } else {
            return Err("header: cannot tell the report kind; an incidents file needs a `trap` column, a passwords file `username`, a ports file `port`".into());
        };
        let names: &[&str] = match kind {
            Kind::Incident => &["sn", "device_token", "trap", "action", "ip"],
            Kind::Password => &["username", "password"],
            Kind::Port => &["port", "protocol"],
        };
        let mut cols = Vec::with_capacity(names.len());
        for name in names {
            cols.push(find(name).ok_or_else(|| format!("header: missing column `{name}`"))?);
        }
        Ok(CsvLayout {
            kind,
            time: find("time").ok_or("header: missing column `time`")?,
            raw_count: find("raw_count"),
            cols,
            country: find("country"),
        })
    }

    fn parse(&self, rec: &csv::StringRecord) -> std::result::Result<Report, String> {
        let get = |i: usize| rec.get(i).unwrap_or("");
        let time = parse_time(get(self.time))?;
        let raw_count = match self.raw_count.map(get).map(str::trim) {
            None | Some("") => 1,
            Some(t) => raw_count(Some(t.parse::<i64>().map_err(|_| format!("raw_count: `{t}` is not a whole number"))?))?,
        };
        let c = &self.cols;
        Ok(match self.kind {
            Kind::Incident => Report::Incident(Incident {
                time,
                raw_count,
                sn: sn(get(c[0]))?,
                device_token: device_token(get(c[1]))?,
                trap: field("trap", get(c[2]))?,
                action: field("action", get(c[3]))?,
                ip: ip(get(c[4]))?,
                country: country(self.country.map(get))?,
            }),
            Kind::Password => Report::Password(PasswordAttempt {
                time,
                raw_count,
                username: text_field("username", Cow::Borrowed(get(c[0])))?,
                password: text_field("password", Cow::Borrowed(get(c[1])))?,
            }),
            Kind::Port => Report::Port(PortScan { time, raw_count, port: port(get(c[0]))?, protocol: field("protocol", get(c[1]))? }),
        })
    }
}

fn parse_csv<R: BufRead>(reader: &mut CountingReader<R>, name: &str, emit: &mut Emit<'_>) -> Result<()> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
    let header = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            emit(Err((1, format!("header: {e}"))), 0);
            return Ok(());
        }
    };
    let layout = match CsvLayout::from_header(&header) {
        Ok(l) => l,
        Err(reason) => {
            emit(Err((1, reason)), 0);
            return Ok(());
        }
    };
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line() + 1;
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                let row = if record.len() != header.len() {
                    Err((line, format!("expected {} fields like the header, found {}", header.len(), record.len())))
                } else {
                    layout.parse(&record).map_err(|r| (line, r))
                };
                let bytes = csv.get_mut().take_count();
                if !emit(row, bytes) {
                    return Ok(());
                }
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => return Err(Error::io(name, std::io::Error::other(e.to_string()))),
                _ => {
                    let at = e.position().map_or(line, |p| p.line());
                    if !emit(Err((at, format!("CSV: {e}"))), 0) {
                        return Ok(());
                    }
                }
            },
        }
    }
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;
