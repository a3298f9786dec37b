//! Reading flow records: `nfdump -o csv` output in both header dialects (1.6–1.7.4 `ts,te,td,
//! sa,da,sp,dp,pr,flg,…` and 1.7.5+ `firstSeen,duration,proto,srcAddr,…`, read by column
//! name; the trailing `Summary` block ends the records) and Zeek `conn.log`, as TSV with its
//! `#fields` header or as JSON lines. [`FlowReader`] sniffs the format from the first line and
//! yields one [`RawFlow`] or one located [`BadLine`] per record line.
//!
//! Mapping (documented in docs/flows.md): nfdump's columns map one to one onto Spot's; Zeek's
//! `id.orig_h`/`id.resp_h` → sip/dip, ports, `proto` upper-cased, `duration` → tdur,
//! `orig_pkts`/`orig_ip_bytes` → ipkt/ibyt, `resp_pkts`/`resp_ip_bytes` → opkt/obyt,
//! `history` → flag; `-` (unset) and a missing column give 0 or empty. nfdump prints times
//! without a zone: they are read as UTC (run nfdump with `TZ=UTC`).

use std::collections::HashMap;
use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value as Json;

use super::model::RawFlow;

/// One rejected line: its 1-based number, the field (input column name) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number in the input.
    pub line: u64,
    /// The input's column name, None when the whole line is wrong.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {field}: {}", self.line, self.reason),
            None => write!(f, "{}: {}", self.line, self.reason),
        }
    }
}

/// The input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `nfdump -o csv` (either header dialect).
    Nfdump,
    /// Zeek `conn.log` as TSV with `#` header lines.
    ZeekTsv,
    /// Zeek `conn.log` as JSON lines.
    ZeekJson,
}

/// The input column names of each Spot field, nfdump 1.6–1.7.4 first, then 1.7.5+, then Zeek.
const NAMES: [(Field, &[&str]); 21] = [
    (Field::Treceived, &["ts", "firstSeen"]),
    (Field::Tdur, &["td", "duration"]),
    (Field::Sip, &["sa", "srcAddr", "id.orig_h"]),
    (Field::Dip, &["da", "dstAddr", "id.resp_h"]),
    (Field::Sport, &["sp", "srcPort", "id.orig_p"]),
    (Field::Dport, &["dp", "dstPort", "id.resp_p"]),
    (Field::Proto, &["pr", "proto"]),
    (Field::Flag, &["flg", "flags", "history"]),
    (Field::Fwd, &["fwd"]),
    (Field::Stos, &["stos", "tos"]),
    (Field::Ipkt, &["ipkt", "packets", "orig_pkts"]),
    (Field::Ibyt, &["ibyt", "bytes", "orig_ip_bytes"]),
    (Field::Opkt, &["opkt", "resp_pkts"]),
    (Field::Obyt, &["obyt", "resp_ip_bytes"]),
    (Field::Input, &["in"]),
    (Field::Output, &["out"]),
    (Field::Sas, &["sas"]),
    (Field::Das, &["das"]),
    (Field::Dtos, &["dtos"]),
    (Field::Dir, &["dir"]),
    (Field::Rip, &["ra"]),
];

/// Spot's raw columns as read from an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Treceived,
    Tdur,
    Sip,
    Dip,
    Sport,
    Dport,
    Proto,
    Flag,
    Fwd,
    Stos,
    Ipkt,
    Ibyt,
    Opkt,
    Obyt,
    Input,
    Output,
    Sas,
    Das,
    Dtos,
    Dir,
    Rip,
}

/// Where each field is in a delimited line, and under which input name.
#[derive(Debug, Clone, Default)]
struct Columns {
    at: HashMap<Field, (usize, &'static str)>,
}

impl Columns {
    /// From a header's column names; the addresses and the start time must be there.
    fn from_header<'a>(names: impl Iterator<Item = &'a str>) -> Result<Columns, String> {
        let names: Vec<&str> = names.map(str::trim).collect();
        let mut at = HashMap::new();
        for (field, aliases) in NAMES {
            if let Some((i, name)) = aliases.iter().find_map(|a| names.iter().position(|n| n == a).map(|i| (i, *a))) {
                at.insert(field, (i, name));
            }
        }
        for (field, what) in [(Field::Treceived, "a start time (ts, firstSeen)"), (Field::Sip, "a source address (sa, srcAddr, id.orig_h)"), (Field::Dip, "a destination address (da, dstAddr, id.resp_h)")] {
            if !at.contains_key(&field) {
                return Err(format!("header has no column for {what}: {}", names.join(",")));
            }
        }
        Ok(Columns { at })
    }
}

/// One record's values by field, whatever the format.
trait Record {
    /// The value of `field` (None: no such column or unset), with its input name.
    fn get(&self, field: Field) -> Option<(String, &str)>;
}

/// A delimited line (nfdump CSV, Zeek TSV).
struct Delimited<'a> {
    cells: Vec<&'a str>,
    columns: &'a Columns,
    unset: &'a str,
}

impl Record for Delimited<'_> {
    fn get(&self, field: Field) -> Option<(String, &str)> {
        let (i, name) = *self.columns.at.get(&field)?;
        let cell = self.cells.get(i)?.trim();
        (cell != self.unset && !cell.is_empty()).then(|| (cell.to_string(), name))
    }
}

/// A Zeek JSON object.
struct Object<'a>(&'a serde_json::Map<String, Json>);

impl Record for Object<'_> {
    fn get(&self, field: Field) -> Option<(String, &str)> {
        let (_, aliases) = NAMES.iter().find(|(f, _)| *f == field)?;
        aliases.iter().find_map(|name| match self.0.get(*name)? {
            Json::String(s) if s != "-" => Some((s.clone(), *name)),
            Json::Number(n) => Some((n.to_string(), *name)),
            Json::Bool(b) => Some((b.to_string(), *name)),
            _ => None,
        })
    }
}

/// Builds a flow from a record, naming the first bad field.
fn flow(r: &dyn Record) -> Result<RawFlow, (Option<String>, String)> {
    let bad = |name: &str, reason: String| (Some(name.to_string()), reason);
    let required = |field, what: &str| r.get(field).ok_or_else(|| (None, format!("no {what}")));
    let (t, name) = required(Field::Treceived, "start time")?;
    let treceived = instant(&t).ok_or_else(|| bad(name, format!("not a time: {t:?}")))?;
    let addr = |field, what| -> Result<IpAddr, (Option<String>, String)> {
        let (a, name) = required(field, what)?;
        a.parse().map_err(|_| bad(name, format!("not an IP address: {a:?}")))
    };
    let (sip, dip) = (addr(Field::Sip, "source address")?, addr(Field::Dip, "destination address")?);
    let int = |field| -> Result<i64, (Option<String>, String)> {
        match r.get(field) {
            None => Ok(0),
            Some((v, name)) => integer(&v).ok_or_else(|| bad(name, format!("not a count: {v:?}"))),
        }
    };
    let port = |field| -> Result<u16, (Option<String>, String)> {
        match r.get(field) {
            None => Ok(0),
            Some((v, name)) => port_number(&v).ok_or_else(|| bad(name, format!("not a port: {v:?}"))),
        }
    };
    let small = |field| -> Result<i32, (Option<String>, String)> {
        let v = int(field)?;
        i32::try_from(v).map_err(|_| (None, format!("{v} is out of range")))
    };
    let tdur = match r.get(Field::Tdur) {
        None => 0.0,
        Some((v, name)) => v.parse::<f64>().ok().filter(|d| d.is_finite() && *d >= 0.0).ok_or_else(|| bad(name, format!("not a duration in seconds: {v:?}")))?,
    };
    let text = |field| r.get(field).map(|(v, _)| v).unwrap_or_default();
    Ok(RawFlow {
        treceived,
        tdur,
        sip,
        dip,
        sport: port(Field::Sport)?,
        dport: port(Field::Dport)?,
        proto: text(Field::Proto).to_uppercase(),
        flag: text(Field::Flag),
        fwd: small(Field::Fwd)?,
        stos: small(Field::Stos)?,
        ipkt: int(Field::Ipkt)?,
        ibyt: int(Field::Ibyt)?,
        opkt: int(Field::Opkt)?,
        obyt: int(Field::Obyt)?,
        input: small(Field::Input)?,
        output: small(Field::Output)?,
        sas: int(Field::Sas)?,
        das: int(Field::Das)?,
        dtos: small(Field::Dtos)?,
        dir: small(Field::Dir)?,
        rip: text(Field::Rip),
    })
}

/// A time as nfdump (`2010-07-04 20:24:17[.123]`, UTC) or Zeek (epoch seconds, or RFC 3339)
/// prints it.
fn instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| DateTime::from_timestamp_micros((secs * 1e6).round() as i64)).flatten();
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc())
}

/// A non-negative count (nfdump may scale large ones: `1.2 M`, `3 G`).
fn integer(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return (n >= 0).then_some(n);
    }
    let (number, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let scale = match unit.trim() {
        "K" | "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    let n = number.trim().parse::<f64>().ok()? * scale;
    (n.is_finite() && n >= 0.0 && n < i64::MAX as f64).then(|| n.round() as i64)
}

/// A port; nfdump prints ICMP's type and code as `type.code` (kept as `type·256 + code`).
fn port_number(s: &str) -> Option<u16> {
    match s.split_once('.') {
        Some((t, c)) => Some(t.parse::<u8>().ok()? as u16 * 256 + c.parse::<u8>().ok()? as u16),
        None => s.parse().ok(),
    }
}

/// Reads flows from nfdump CSV or Zeek conn.log text (the format sniffed from the first line).
pub struct FlowReader<R> {
    lines: std::io::Lines<R>,
    line: u64,
    format: Option<Format>,
    columns: Option<Columns>,
    separator: String,
    unset: String,
    ended: bool,
}

impl<R: BufRead> FlowReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> FlowReader<R> {
        FlowReader { lines: input.lines(), line: 0, format: None, columns: None, separator: "\t".into(), unset: "-".into(), ended: false }
    }

    /// The format, once the first line has been read.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Takes one line; None when it holds no record (header, comment, blank).
    fn take(&mut self, text: &str) -> Option<Result<RawFlow, BadLine>> {
        let line = self.line;
        let located = |(field, reason): (Option<String>, String)| BadLine { line, field, reason };
        if text.trim().is_empty() {
            return None;
        }
        let format = *self.format.get_or_insert_with(|| sniff(text));
        match format {
            Format::ZeekJson => Some(match serde_json::from_str::<Json>(text) {
                Ok(Json::Object(map)) => flow(&Object(&map)).map_err(located),
                Ok(_) => Err(located((None, "not a JSON object".into()))),
                Err(e) => Err(located((None, format!("invalid JSON ({e})")))),
            }),
            Format::ZeekTsv if text.starts_with('#') => {
                let (key, value) = text[1..].split_once(self.separator.as_str()).or_else(|| text[1..].split_once(' ')).unwrap_or((&text[1..], ""));
                match key {
                    "separator" => self.separator = unescape(value.trim()),
                    "unset_field" => self.unset = value.to_string(),
                    "fields" => match Columns::from_header(value.split(self.separator.as_str())) {
                        Ok(c) => self.columns = Some(c),
                        Err(e) => return Some(Err(located((None, e)))),
                    },
                    _ => {}
                }
                None
            }
            Format::ZeekTsv | Format::Nfdump => {
                if format == Format::Nfdump && text.trim_start().starts_with("Summary") {
                    self.ended = true;
                    return None;
                }
                let separator = if format == Format::Nfdump { "," } else { self.separator.as_str() };
                let Some(columns) = &self.columns else {
                    return match Columns::from_header(text.split(separator)) {
                        Ok(c) => {
                            self.columns = Some(c);
                            None
                        }
                        Err(e) => Some(Err(located((None, e)))),
                    };
                };
                let unset = if format == Format::Nfdump { "" } else { self.unset.as_str() };
                let record = Delimited { cells: text.split(separator).collect(), columns, unset };
                Some(flow(&record).map_err(located))
            }
        }
    }
}

/// The format a first line shows.
fn sniff(first: &str) -> Format {
    let first = first.trim_start();
    if first.starts_with('{') {
        Format::ZeekJson
    } else if first.starts_with('#') {
        Format::ZeekTsv
    } else {
        Format::Nfdump
    }
}

/// Zeek writes its separator escaped (`\x09`).
fn unescape(s: &str) -> String {
    match s.strip_prefix("\\x").and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
        Some(b) => char::from(b).to_string(),
        None => s.to_string(),
    }
}

impl<R: BufRead> Iterator for FlowReader<R> {
    type Item = Result<RawFlow, BadLine>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.ended {
            let text = match self.lines.next()? {
                Ok(t) => t,
                Err(e) => {
                    self.ended = true;
                    return Some(Err(BadLine { line: self.line + 1, field: None, reason: format!("cannot read: {e}") }));
                }
            };
            self.line += 1;
            if let Some(item) = self.take(&text) {
                return Some(item);
            }
        }
        None
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
