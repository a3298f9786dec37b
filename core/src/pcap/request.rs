//! Docket requests (pcap.md, "Requests"): the URL and form/JSON forms parsed into [`Clauses`],
//! which [`Clauses::build`] turns into a [`Request`]: the time window, the canonical
//! Stenographer query string, its id and the weight check. Pure: no I/O, and "now" is a
//! parameter (the injectable clock's instant).
//!
//! Forms:
//! - URL ([`Clauses::from_uri`]): the path after `/api/uri/`, split on `/`; empty segments are
//!   ignored and keywords are case-insensitive: `host IP`, `net ADDR MASK`, `port N`,
//!   `proto N`, `tcp`|`udp`|`icmp`, `before T`, `after T`, `ignore-weight`. A duration value
//!   may be followed by an `ago` segment (`after/2h/ago`). A path without any clause is
//!   refused (400), like an empty form.
//! - form and JSON ([`Clauses::from_form`], [`Clauses::from_json`]): fields host, net, port,
//!   proto, proto-name, before, after, before-ago, after-ago, ignore-weight,
//!   Steno-Limit-Packets, Steno-Limit-Bytes, sensor. Field names are case-insensitive; host,
//!   net, port and sensor repeat (a repeated form key, or a JSON list); for the others the last
//!   value wins. An empty value counts as absent, as in Docket (HTML forms send every input).
//!   Headers (`Steno-Limit-*`) go through [`Clauses::apply`].
//!
//! Building ([`Clauses::build`]), with TW = `time_window` and win(t) = t floored to a multiple
//! of TW since the epoch, qt = win(now):
//! - start = qt − `long_ago` by default; `after D` / `after-ago D` → win(qt − D);
//!   `after T` → win(T). `after` takes precedence over `after-ago` (as in Docket).
//! - end = qt + 60 s by default; `before-ago D` → win(qt − D); `before D` → win(qt − D) + TW;
//!   `before T` → win(T) + TW. `before` takes precedence over `before-ago`.
//! - start ≥ end is rejected; then the weight check runs on this window (as in Docket); then
//!   both ends are padded by [`WINDOW_PADDING`], and [`Request::start`]/[`Request::end`] and the
//!   query's `after`/`before` are the padded times. A padded time outside
//!   [`QUERY_SECONDS`] (years 0000–9999, what RFC 3339 and so the query language can write)
//!   is refused (400), e.g. `before/9999-12-31T23:59:59Z`.
//! - Query: `host` clauses sorted as text, `net` clauses sorted as text (pcap.md leaves their
//!   order open; sorting lets equal requests share an id), ports sorted numerically,
//!   `ip proto N`, `tcp|udp|icmp`, `after …Z`, `before …Z`, joined with " and ". Repeated equal
//!   clauses are emitted (and weighed) once: under "and" they are redundant.
//! - Id: lowercase hex MD5 of the query ([`query_id`]). Sensors and limits are not part of it
//!   (pcap.md: the id is the query's hash), so equal queries share a job whatever they ask.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::steno::{self, decimal, mask_prefix, max_prefix};

/// Padding subtracted from the start and added to the end of every window: Stenographer only
/// selects whole ~1-minute files by time and would miss packets at the edges.
pub const WINDOW_PADDING: Duration = Duration::from_secs(120);
/// The default end of the window, after the start of the current time window.
pub const DEFAULT_END: Duration = Duration::from_secs(60);

const NS_PER_SEC: i128 = 1_000_000_000;
const DURATION_EXAMPLES: &str = "examples: 5m, 1h30m, 3.5h, 500ms, 90 (seconds)";

/// A rejected request: the HTTP status to answer with (400 for every error of this module)
/// and the message for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    /// HTTP status: 400 Bad Request.
    pub status: u16,
    /// What is wrong, naming the offending field or value.
    pub message: String,
}

impl RequestError {
    /// A 400 Bad Request with this message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        RequestError { status: 400, message: message.into() }
    }
}

impl From<steno::ParseError> for RequestError {
    fn from(e: steno::ParseError) -> Self {
        RequestError::bad_request(format!("Invalid Stenographer query: {e}"))
    }
}

/// The request-relevant part of the `[pcap]` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSettings {
    /// TIME_WINDOW in seconds: request times are floored to a multiple of it (0 counts as 1).
    pub time_window: u32,
    /// LONG_AGO: how far before the current time window the default window starts.
    pub long_ago: Duration,
    /// The weight check; `None` disables it (Docket enables it only when WEIGHT_TOTAL,
    /// WEIGHT_THRESHOLD and WEIGHT_HOURS are all set).
    pub weight: Option<Weights>,
}

impl Default for RequestSettings {
    /// TIME_WINDOW 60 s, LONG_AGO 24 h, no weight check.
    fn default() -> Self {
        RequestSettings { time_window: 60, long_ago: Duration::from_secs(24 * 3600), weight: None }
    }
}

/// The weight check's configuration: `w = total × span_seconds / (hours × 3600) /
/// (hosts × ips + nets × nets + ports × ports, or 1 if that is 0)`, rejected when
/// `w > threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// WEIGHT_TOTAL: bytes of capture the sensors hold for `hours` (a size such as "1TB").
    pub total: u64,
    /// WEIGHT_THRESHOLD: the largest acceptable weight, in bytes (a size such as "20GB").
    pub threshold: u64,
    /// WEIGHT_HOURS: the hours of capture `total` covers; must be positive.
    pub hours: f64,
    /// WEIGHT_IPS: divisor per `host` clause (default 50).
    pub ips: f64,
    /// WEIGHT_NETS: divisor per `net` clause (default 2).
    pub nets: f64,
    /// WEIGHT_PORTS: divisor per `port` clause (default 100).
    pub ports: f64,
}

impl Weights {
    /// The check with Docket's default multipliers (ips 50, nets 2, ports 100).
    pub fn new(total: u64, threshold: u64, hours: f64) -> Self {
        Weights { total, threshold, hours, ips: 50.0, nets: 2.0, ports: 100.0 }
    }

    /// The weight of a request spanning `span_seconds` with these clause counts.
    pub fn weigh(&self, span_seconds: f64, hosts: usize, nets: usize, ports: usize) -> f64 {
        let selectivity = hosts as f64 * self.ips + nets as f64 * self.nets + ports as f64 * self.ports;
        self.total as f64 * span_seconds / (self.hours * 3600.0) / if selectivity == 0.0 { 1.0 } else { selectivity }
    }
}

/// A validated request, ready to be sent to the sensors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The canonical Stenographer query string.
    pub query: String,
    /// Lowercase hex MD5 of [`Request::query`]: equal requests in the same window share it.
    pub id: String,
    /// Start of the window, padded (the query's `after`).
    pub start: DateTime<Utc>,
    /// End of the window, padded (the query's `before`).
    pub end: DateTime<Utc>,
    /// `Steno-Limit-Packets`: most packets each sensor returns.
    pub limit_packets: Option<u64>,
    /// `Steno-Limit-Bytes`: most bytes each sensor returns.
    pub limit_bytes: Option<u64>,
    /// Sensors to ask, by name; empty = all.
    pub sensors: Vec<String>,
    /// The weight check was skipped on request.
    pub ignore_weight: bool,
}

impl Request {
    /// The raw form (`/api/raw/<q>`, `POST /api/query/`): a Stenographer query, validated by
    /// [`steno::parse`]. Relative times (`2h ago`) are resolved against the current time
    /// window (qt − D, floored to TIME_WINDOW) so that, as in the URL form, the id changes with
    /// the window; the query sent is the parsed query's canonical text and the id its MD5.
    /// [`Request::start`]/[`Request::end`] are the earliest `after` and the latest `before`
    /// (qt − LONG_AGO and qt + 60 s when absent); they only describe the job.
    pub fn raw(text: &str, settings: &RequestSettings, now: DateTime<Utc>) -> Result<Request, RequestError> {
        if text.trim().is_empty() {
            return Err(RequestError::bad_request("Empty query"));
        }
        let tw = i128::from(settings.time_window.max(1)) * NS_PER_SEC;
        let qt = nanos(now).div_euclid(tw) * tw;
        let resolve = |t: steno::Time| -> Result<DateTime<Utc>, RequestError> {
            match t {
                steno::Time::At(at) => Ok(at),
                steno::Time::MinutesAgo(m) => instant((qt - i128::from(m) * 60 * NS_PER_SEC).div_euclid(tw) * tw),
            }
        };
        let mut bounds: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (None, None);
        let expr = resolve_times(steno::parse(text)?, &resolve, &mut bounds)?;
        let query = expr.to_string();
        Ok(Request {
            id: query_id(&query),
            query,
            start: bounds.0.map_or_else(|| instant(qt - settings.long_ago.as_nanos() as i128), Ok)?,
            end: bounds.1.map_or_else(|| instant(qt + DEFAULT_END.as_nanos() as i128), Ok)?,
            limit_packets: None,
            limit_bytes: None,
            sensors: Vec::new(),
            ignore_weight: false,
        })
    }
}

impl Request {
    /// Text an analyst typed (the CLI's words, the dashboard's query line): a raw Stenographer
    /// query when it uses `and`, `or`, `&&`, `||` or parentheses; otherwise URL-form clauses
    /// separated by spaces or slashes, e.g. `host 10.0.0.1 port 80 after 2h ago` or a whole
    /// `/api/uri/host/10.0.0.1/` path.
    pub fn from_text(text: &str, settings: &RequestSettings, now: DateTime<Utc>) -> Result<Request, RequestError> {
        let raw = text.contains(['(', ')']) || text.split_whitespace().any(|w| ["and", "or", "&&", "||"].contains(&w.to_ascii_lowercase().as_str()));
        if raw {
            return Request::raw(text, settings, now);
        }
        let path = text.split_whitespace().collect::<Vec<_>>().join("/");
        let path = path.trim_start_matches('/');
        let path = path.strip_prefix("api/uri/").or_else(|| path.strip_prefix("uri/")).unwrap_or(path);
        Clauses::from_uri(path)?.build(settings, now)
    }
}

/// Replaces relative times by absolute ones and records the earliest `after` and latest
/// `before` in `bounds`.
fn resolve_times(
    expr: steno::Expr,
    resolve: &dyn Fn(steno::Time) -> Result<DateTime<Utc>, RequestError>,
    bounds: &mut (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> Result<steno::Expr, RequestError> {
    use steno::{Expr, Time};
    Ok(match expr {
        Expr::After(t) => {
            let at = resolve(t)?;
            bounds.0 = Some(bounds.0.map_or(at, |b| b.min(at)));
            Expr::After(Time::At(at))
        }
        Expr::Before(t) => {
            let at = resolve(t)?;
            bounds.1 = Some(bounds.1.map_or(at, |b| b.max(at)));
            Expr::Before(Time::At(at))
        }
        Expr::And(a, b) => Expr::And(Box::new(resolve_times(*a, resolve, bounds)?), Box::new(resolve_times(*b, resolve, bounds)?)),
        Expr::Or(a, b) => Expr::Or(Box::new(resolve_times(*a, resolve, bounds)?), Box::new(resolve_times(*b, resolve, bounds)?)),
        other => other,
    })
}

/// The lowercase hex MD5 of a query string: the job id.
pub fn query_id(query: &str) -> String {
    format!("{:x}", Md5::digest(query.as_bytes()))
}

/// When a request's window starts or ends: an instant, or a duration before now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// An absolute instant (UTC).
    At(DateTime<Utc>),
    /// A duration before the current time window.
    Ago(Duration),
}

/// Parses a duration: a sum of `<number><unit>` (units us, ms, s, m, h, d, w, case-insensitive;
/// decimals allowed; parts may be separated by spaces), e.g. `5m`, `1h30m`, `3.5h`; a bare
/// number is seconds. Also the helper for `[pcap]` durations such as "48h".
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: String| format!("`{text}` is not a duration ({why}); {DURATION_EXAMPLES}");
    let s = text.trim();
    if s.is_empty() {
        return Err(bad("empty".into()));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return scaled(s, NS_PER_SEC as u128).and_then(nanos_to_duration).ok_or_else(|| bad(format!("`{s}` is malformed or too large")));
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_len);
        let unit_len = tail.find(|c: char| !c.is_alphabetic()).unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        if number.is_empty() {
            return Err(bad(format!("expected a number before `{}`", if unit.is_empty() { tail } else { unit })));
        }
        let scale: u128 = match unit.to_ascii_lowercase().as_str() {
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "w" => 604_800_000_000_000,
            "" => return Err(bad(format!("`{number}` needs a unit: us, ms, s, m, h, d or w"))),
            _ => return Err(bad(format!("unknown unit `{unit}`: use us, ms, s, m, h, d or w"))),
        };
        let part = scaled(number, scale).ok_or_else(|| bad(format!("`{number}` is malformed or too large")))?;
        total = total.checked_add(part).ok_or_else(|| bad("too long".into()))?;
        rest = tail.trim_start();
    }
    nanos_to_duration(total).ok_or_else(|| bad("too long".into()))
}

/// Parses a size in bytes: a number (decimals allowed) and an optional 1024-based unit
/// B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, P/PB/PiB (case-insensitive), e.g. "500MB"; the
/// helper for `[pcap]` sizes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a size (examples: 500MB, 1.5GiB, 25B, 4096)");
    let s = text.trim();
    let number_len = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(number_len);
    let power = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 1,
        "m" | "mb" | "mib" => 2,
        "g" | "gb" | "gib" => 3,
        "t" | "tb" | "tib" => 4,
        "p" | "pb" | "pib" => 5,
        _ => return Err(bad()),
    };
    scaled(number, 1024u128.pow(power)).and_then(|bytes| u64::try_from(bytes).ok()).ok_or_else(bad)
}

/// Parses a `before`/`after` value: a duration (optionally followed by `ago`, e.g. `2h ago`)
/// or an ISO-8601 date-time (offsets converted to UTC; without an offset it is UTC) or a date
/// (midnight UTC). Accepted date-times: `2024-06-15T12:40:00Z`, `…T12:40:00.5+02:00`,
/// `…T12:40:00+0200`, `…T12:40`, a space or `t` instead of `T`, `z` for `Z`.
pub fn parse_time(text: &str) -> Result<TimeSpec, String> {
    let (body, ago) = strip_ago(text.trim());
    if ago {
        return parse_duration(body).map(TimeSpec::Ago);
    }
    parse_duration(body).map(TimeSpec::Ago).or_else(|_| {
        parse_iso(body).map(TimeSpec::At).ok_or_else(|| {
            format!("`{text}` is neither a duration (e.g. 5m, 1h30m, 2h ago, 3.5h) nor an ISO-8601 time (e.g. 2024-06-15T12:40:00Z) or date (2024-06-15)")
        })
    })
}

/// Parses a count limit (`Steno-Limit-Packets`, `Steno-Limit-Bytes`): a positive integer.
pub fn parse_limit(text: &str) -> Result<u64, String> {
    decimal(text.trim()).filter(|&n| n > 0).ok_or_else(|| format!("`{text}` is not a positive integer"))
}

/// `(text without a trailing " ago", whether it had one)`.
fn strip_ago(text: &str) -> (&str, bool) {
    match text.rsplit_once(|c: char| c.is_whitespace()) {
        Some((head, last)) if last.eq_ignore_ascii_case("ago") => (head.trim_end(), true),
        _ => (text, false),
    }
}

fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    let mut norm = text.to_string();
    if matches!(norm.as_bytes().get(10), Some(b' ' | b't')) {
        norm.replace_range(10..11, "T");
    }
    if norm.ends_with(['z', 'Z']) {
        norm.pop();
        norm.push_str("+00:00");
    }
    let with_offset = ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"].iter().find_map(|f| DateTime::parse_from_str(&norm, f).ok());
    let naive = || ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"].iter().find_map(|f| NaiveDateTime::parse_from_str(&norm, f).ok());
    let date = || NaiveDate::parse_from_str(&norm, "%Y-%m-%d").ok().map(|d| d.and_time(NaiveTime::MIN));
    with_offset.map(|t| t.to_utc()).or_else(|| naive().or_else(date).map(|t| t.and_utc()))
}

/// `number × scale`, for a decimal `number` (`12`, `3.5`; digits on both sides of a dot),
/// truncated to an integer; `None` for anything else or an overflow.
fn scaled(number: &str, scale: u128) -> Option<u128> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if number.ends_with('.') {
        return None;
    }
    let int: u128 = decimal(int)?.into();
    let frac = &frac[..frac.len().min(18)];
    let frac_value: u128 = if frac.is_empty() { 0 } else { decimal(frac)?.into() };
    int.checked_mul(scale)?.checked_add(frac_value * scale / 10u128.pow(frac.len() as u32))
}

fn nanos_to_duration(nanos: u128) -> Option<Duration> {
    let secs = u64::try_from(nanos / NS_PER_SEC as u128).ok()?;
    Some(Duration::new(secs, (nanos % NS_PER_SEC as u128) as u32))
}

/// A `net` clause: an address and a prefix length or a dotted IPv4 mask, emitted as
/// `net A/len` or `net A mask M` (Stenographer rejects `A/255.255.0.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    mask: Mask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mask {
    Prefix(u8),
    Dotted(Ipv4Addr),
}

impl Net {
    /// Parses `ADDR/LEN`, `ADDR/MASK`, `ADDR MASK` or `ADDR mask MASK`.
    fn parse(text: &str) -> Result<Net, String> {
        let bad = |why: &str| format!("`{text}` is not a network ({why}); use ADDR/LEN, ADDR/MASK or ADDR MASK");
        let parts: Vec<&str> = text.split(|c: char| c == '/' || c.is_whitespace()).filter(|p| !p.is_empty()).collect();
        let (addr_text, mask_text) = match parts[..] {
            [addr, mask] => (addr, mask),
            [addr, keyword, mask] if keyword.eq_ignore_ascii_case("mask") => (addr, mask),
            _ => return Err(bad("expected an address and a mask")),
        };
        let addr = steno::parse_ip(addr_text).ok_or_else(|| bad(&format!("`{addr_text}` is not an IPv4 or IPv6 address")))?;
        let max = max_prefix(addr);
        let mask = match (decimal(mask_text), steno::parse_ip(mask_text), addr) {
            (Some(len), ..) if len <= max.into() => Mask::Prefix(len as u8),
            (Some(_), ..) => return Err(bad(&format!("prefix length must be 0-{max}"))),
            (None, Some(IpAddr::V4(mask)), IpAddr::V4(_)) if mask_prefix(mask).is_some() => Mask::Dotted(mask),
            (None, Some(IpAddr::V4(_)), IpAddr::V4(_)) => return Err(bad(&format!("`{mask_text}` is not a contiguous mask"))),
            (None, Some(_), _) => return Err(bad("a dotted mask needs an IPv4 address and an IPv4 mask")),
            (None, None, _) => return Err(bad(&format!("`{mask_text}` is neither a prefix length nor a dotted mask"))),
        };
        Ok(Net { addr, mask })
    }

    fn clause(&self) -> String {
        match self.mask {
            Mask::Prefix(len) => format!("net {}/{len}", self.addr),
            Mask::Dotted(mask) => format!("net {} mask {mask}", self.addr),
        }
    }
}

/// `tcp`, `udp` or `icmp` (the last one given wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Udp,
    Icmp,
}

impl Transport {
    fn parse(text: &str) -> Result<Transport, String> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Transport::Tcp),
            "udp" => Ok(Transport::Udp),
            "icmp" => Ok(Transport::Icmp),
            _ => Err(format!("`{text}` is not tcp, udp or icmp")),
        }
    }

    fn keyword(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
        }
    }
}

/// The parsed, validated fields of a request, in any form, before the time window is known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clauses {
    hosts: Vec<IpAddr>,
    nets: Vec<Net>,
    ports: Vec<u16>,
    proto: Option<u8>,
    transport: Option<Transport>,
    after: Option<TimeSpec>,
    after_ago: Option<Duration>,
    before: Option<TimeSpec>,
    before_ago: Option<Duration>,
    ignore_weight: bool,
    limit_packets: Option<u64>,
    limit_bytes: Option<u64>,
    sensors: Vec<String>,
}

type Setter = fn(&mut Clauses, &str) -> Result<(), String>;

/// The form/JSON fields (lowercase) and how each one is applied.
const FIELDS: &[(&str, Setter)] = &[
    ("host", |c, v| steno::parse_ip(v).map(|ip| c.hosts.push(ip)).ok_or_else(|| format!("`{v}` is not an IPv4 or IPv6 address"))),
    ("net", |c, v| Net::parse(v).map(|net| c.nets.push(net))),
    ("port", |c, v| number_in(v, 1, 65_535, "port number").map(|p| c.ports.push(p as u16))),
    ("proto", |c, v| number_in(v, 1, 255, "protocol number").map(|p| c.proto = Some(p as u8))),
    ("proto-name", |c, v| Transport::parse(v).map(|t| c.transport = Some(t))),
    ("before", |c, v| parse_time(v).map(|t| c.before = Some(t))),
    ("after", |c, v| parse_time(v).map(|t| c.after = Some(t))),
    ("before-ago", |c, v| parse_duration(strip_ago(v).0).map(|d| c.before_ago = Some(d))),
    ("after-ago", |c, v| parse_duration(strip_ago(v).0).map(|d| c.after_ago = Some(d))),
    ("ignore-weight", |c, v| parse_flag(v).map(|b| c.ignore_weight = b)),
    ("steno-limit-packets", |c, v| parse_limit(v).map(|n| c.limit_packets = Some(n))),
    ("steno-limit-bytes", |c, v| parse_limit(v).map(|n| c.limit_bytes = Some(n))),
    ("sensor", |c, v| {
        c.sensors.push(v.to_string());
        Ok(())
    }),
];

fn number_in(text: &str, min: u64, max: u64, what: &str) -> Result<u64, String> {
    decimal(text).filter(|n| (min..=max).contains(n)).ok_or_else(|| format!("`{text}` is not a {what} {min}-{max}"))
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("`{text}` is not true or false")),
    }
}

impl Clauses {
    /// Parses the URL form: the path after `/api/uri/` (percent-decoded).
    pub fn from_uri(path: &str) -> Result<Clauses, RequestError> {
        let mut clauses = Clauses::default();
        let mut segments = path.split('/').map(str::trim).filter(|s| !s.is_empty()).peekable();
        if segments.peek().is_none() {
            // as the empty form: no clause at all would capture all traffic of LONG_AGO
            return Err(RequestError::bad_request("Empty request: give at least one clause (host, net, port, proto, tcp, udp, icmp, before, after, ...)"));
        }
        while let Some(word) = segments.next() {
            let keyword = word.to_ascii_lowercase();
            let incomplete = || RequestError::bad_request(format!("Incomplete {} clause", keyword.to_ascii_uppercase()));
            match keyword.as_str() {
                "tcp" | "udp" | "icmp" => clauses.apply("proto-name", word)?,
                "ignore-weight" => clauses.ignore_weight = true,
                "host" | "port" | "proto" => clauses.apply(&keyword, segments.next().ok_or_else(incomplete)?)?,
                "net" => {
                    let (addr, mask) = (segments.next(), segments.next());
                    clauses.apply("net", &format!("{}/{}", addr.ok_or_else(incomplete)?, mask.ok_or_else(incomplete)?))?;
                }
                "before" | "after" => {
                    let mut time = segments.next().ok_or_else(incomplete)?.to_string();
                    if segments.next_if(|s| s.eq_ignore_ascii_case("ago")).is_some() {
                        time.push_str(" ago");
                    }
                    clauses.apply(&keyword, &time)?;
                }
                _ => return Err(RequestError::bad_request(format!("Unrecognized clause in URI: {word}"))),
            }
        }
        Ok(clauses)
    }

    /// Parses a form body given as `(key, value)` pairs (a repeated key repeats the field).
    /// A body without any non-empty value is rejected.
    pub fn from_form<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Clauses, RequestError> {
        let mut clauses = Clauses::default();
        let mut empty = true;
        for (key, value) in pairs {
            clauses.apply(key.as_ref(), value.as_ref())?;
            empty &= value.as_ref().trim().is_empty();
        }
        if empty {
            return Err(RequestError::bad_request("Empty request: give at least one field (host, net, port, proto, before, after, ...)"));
        }
        Ok(clauses)
    }

    /// Parses a JSON body: an object whose values are strings, numbers, booleans, null
    /// (absent) or lists of those (a list repeats the field). Rejected like a form when empty.
    pub fn from_json(body: &Value) -> Result<Clauses, RequestError> {
        let Value::Object(fields) = body else {
            return Err(RequestError::bad_request("Request body must be a JSON object"));
        };
        // `null` and `[]` are absent values, still passed on so that unknown names are rejected.
        const ABSENT: &Value = &Value::Null;
        let mut pairs = Vec::new();
        for (key, value) in fields {
            let items = match value {
                Value::Array(items) if items.is_empty() => std::slice::from_ref(ABSENT),
                Value::Array(items) => items.as_slice(),
                scalar => std::slice::from_ref(scalar),
            };
            for item in items {
                match item {
                    Value::String(s) => pairs.push((key.as_str(), s.clone())),
                    Value::Number(n) => pairs.push((key.as_str(), n.to_string())),
                    Value::Bool(b) => pairs.push((key.as_str(), b.to_string())),
                    Value::Null => pairs.push((key.as_str(), String::new())),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(RequestError::bad_request(format!("{key}: expected a string, number, boolean or a list of them")));
                    }
                }
            }
        }
        Clauses::from_form(pairs)
    }

    /// Applies one form field or header (name case-insensitive). Unknown names are rejected;
    /// an empty value is ignored; errors read "field: what is wrong".
    pub fn apply(&mut self, key: &str, value: &str) -> Result<(), RequestError> {
        let name = key.trim().to_ascii_lowercase();
        let Some((_, set)) = FIELDS.iter().find(|(field, _)| *field == name) else {
            return Err(RequestError::bad_request(format!("Unknown field: {key}")));
        };
        let value = value.trim();
        if value.is_empty() {
            return Ok(());
        }
        set(self, value).map_err(|e| RequestError::bad_request(format!("{key}: {e}")))
    }

    /// Computes the window, checks the weight and builds the query, its id and the request.
    pub fn build(&self, settings: &RequestSettings, now: DateTime<Utc>) -> Result<Request, RequestError> {
        let tw = i128::from(settings.time_window.max(1)) * NS_PER_SEC;
        let win = |ns: i128| ns.div_euclid(tw) * tw;
        let qt = win(nanos(now));
        let ago = |d: &Duration| qt - d.as_nanos() as i128;

        let start = match (&self.after, &self.after_ago) {
            (Some(TimeSpec::At(t)), _) => win(nanos(*t)),
            (Some(TimeSpec::Ago(d)), _) | (None, Some(d)) => win(ago(d)),
            (None, None) => ago(&settings.long_ago),
        };
        let end = match (&self.before, &self.before_ago) {
            (Some(TimeSpec::At(t)), _) => win(nanos(*t)) + tw,
            (Some(TimeSpec::Ago(d)), _) => win(ago(d)) + tw,
            (None, Some(d)) => win(ago(d)),
            (None, None) => qt + DEFAULT_END.as_nanos() as i128,
        };
        if start >= end {
            return Err(RequestError::bad_request(format!("Empty time window: start {} is not before end {}", stamp(instant(start)?), stamp(instant(end)?))));
        }

        let mut clauses: Vec<String> = self.hosts.iter().map(|h| format!("host {h}")).collect();
        clauses.sort();
        clauses.dedup();
        let hosts = clauses.len();
        let mut nets: Vec<String> = self.nets.iter().map(Net::clause).collect();
        nets.sort();
        nets.dedup();
        let mut ports = self.ports.clone();
        ports.sort_unstable();
        ports.dedup();

        if let Some(weights) = settings.weight.as_ref().filter(|_| !self.ignore_weight) {
            let w = weights.weigh((end - start) as f64 / NS_PER_SEC as f64, hosts, nets.len(), ports.len());
            if w > weights.threshold as f64 {
                // Whole bytes, rounded up so that the message always shows w > threshold.
                return Err(RequestError::bad_request(format!("Request parameters exceed weight: {}/{}", w.ceil(), weights.threshold)));
            }
        }

        let padding = WINDOW_PADDING.as_nanos() as i128;
        let (start, end) = (instant(start - padding)?, instant(end + padding)?);
        clauses.extend(nets);
        clauses.extend(ports.iter().map(|p| format!("port {p}")));
        clauses.extend(self.proto.map(|p| format!("ip proto {p}")));
        clauses.extend(self.transport.map(|t| t.keyword().to_string()));
        clauses.push(format!("after {}", stamp(start)));
        clauses.push(format!("before {}", stamp(end)));
        let query = clauses.join(" and ");

        let mut sensors = Vec::new();
        for sensor in &self.sensors {
            if !sensors.contains(sensor) {
                sensors.push(sensor.clone());
            }
        }
        Ok(Request {
            id: query_id(&query),
            query,
            start,
            end,
            limit_packets: self.limit_packets,
            limit_bytes: self.limit_bytes,
            sensors,
            ignore_weight: self.ignore_weight,
        })
    }
}

/// Nanoseconds since the epoch.
fn nanos(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * NS_PER_SEC + i128::from(t.timestamp_subsec_nanos())
}

/// The earliest and latest second a query may name: RFC 3339 (and so Stenographer and
/// [`steno::parse`]) has four-digit years, 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
pub const QUERY_SECONDS: std::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

/// The instant `ns` nanoseconds after the epoch, floored to the second; refused outside
/// [`QUERY_SECONDS`] (the padded window must stay writable as an RFC 3339 time).
fn instant(ns: i128) -> Result<DateTime<Utc>, RequestError> {
    i64::try_from(ns.div_euclid(NS_PER_SEC))
        .ok()
        .filter(|secs| QUERY_SECONDS.contains(secs))
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or_else(|| {
            RequestError::bad_request(
                "The requested time window is outside the representable range of dates (0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z, including 120 s of padding)",
            )
        })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
