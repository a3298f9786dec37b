//! Validation of IntelMQ events: one flat JSON object per line with dotted keys, as IntelMQ's
//! file output bot writes them.
//!
//! Only the fields of [`Field::ALL`] are read; every other key (`extra.*`, `raw`, `comment`,
//! `source.url`, …) is ignored. A wrongly typed field rejects the whole line, reported with
//! the field and the reason.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::model::{Event, Field, Kind, Value};

/// Why one field of an event was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The IntelMQ field name (`source.ip`); `None` when the whole line is wrong.
    pub field: Option<String>,
    /// What rule it broke.
    pub reason: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// Parses one line of IntelMQ JSON Lines into an event, or every reason it is rejected.
pub fn parse_line(line: &str) -> Result<Event, Vec<FieldError>> {
    let whole = |reason: String| vec![FieldError { field: None, reason }];
    match serde_json::from_str::<Json>(line) {
        Ok(Json::Object(map)) => parse_object(&map),
        Ok(_) => Err(whole("not a JSON object".into())),
        Err(e) => Err(whole(format!("invalid JSON ({e})"))),
    }
}

/// Validates the fields of one event object.
pub fn parse_object(map: &Map<String, Json>) -> Result<Event, Vec<FieldError>> {
    let mut values = Vec::with_capacity(Field::ALL.len());
    let mut errors = Vec::new();
    for field in Field::ALL {
        match map.get(field.name()).map_or(Ok(Value::Null), |v| parse_value(field, v)) {
            Ok(v) => values.push(v),
            Err(reason) => errors.push(FieldError { field: Some(field.name().to_string()), reason }),
        }
    }
    if errors.is_empty() { Ok(Event { values }) } else { Err(errors) }
}

/// Validates one JSON value of `field`.
pub fn parse_value(field: Field, value: &Json) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    match field.kind() {
        Kind::Asn => {
            let n = integer(value, true)?;
            if !(1..=i64::from(i32::MAX)).contains(&n) {
                return Err(format!("ASN {n} is outside 1 … {} (IntelMQ's integer column)", i32::MAX));
            }
            Ok(Value::Int(n))
        }
        Kind::Port => {
            let n = integer(value, false)?;
            if !(0..=65535).contains(&n) {
                return Err(format!("port {n} is outside 0 … 65535"));
            }
            Ok(Value::Int(n))
        }
        kind => {
            let Json::String(text) = value else { return Err(format!("expected a string, got {}", json_kind(value))) };
            parse_text(kind, text)
        }
    }
}

/// The longest text value of a stored field, in bytes (UTF-8); fields Vantage does not store
/// (`raw`, `extra.*`, …) are not limited.
pub const MAX_TEXT_BYTES: usize = 4096;

/// Validates the text form of a value of `kind` (a JSON string).
fn parse_text(kind: Kind, text: &str) -> Result<Value, String> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(format!("longer than {MAX_TEXT_BYTES} bytes"));
    }
    if text.contains('\0') {
        return Err("contains a NUL character".into());
    }
    match kind {
        Kind::Time => parse_time(text).map(Value::Time),
        Kind::Ip => parse_ip(text).map(Value::Ip),
        Kind::Network => parse_network(text).map(|(ip, len)| Value::Network(ip, len)),
        Kind::Country => {
            if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(Value::Text(text.to_ascii_uppercase()))
            } else {
                Err(format!("`{}` is not a two-letter country code", shorten(text)))
            }
        }
        Kind::Text(Some(max)) if text.chars().count() > max => Err(format!("longer than {max} characters")),
        Kind::Text(_) => Ok(Value::Text(text.to_string())),
        Kind::Asn | Kind::Port => Err("expected an integer, got a string".into()),
    }
}

/// An integer from a JSON number, or (ASNs) a digit string with an optional `AS` prefix.
fn integer(value: &Json, asn: bool) -> Result<i64, String> {
    match value {
        Json::Number(n) => n.as_i64().ok_or_else(|| format!("{n} is not an integer")),
        Json::String(s) if asn => {
            let digits = s.strip_prefix("AS").or_else(|| s.strip_prefix("as")).unwrap_or(s);
            digits.parse().map_err(|_| format!("`{}` is not an integer", shorten(s)))
        }
        other => Err(format!("expected an integer, got {}", json_kind(other))),
    }
}

/// RFC 3339 (`2015-09-02T09:21:53+00:00`), PostgreSQL text (`2015-09-02 09:21:53+00`) or a
/// naive date-time taken as UTC; years 1 … 9999.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").map(|n| n.and_utc()));
    match parsed {
        Ok(t) if (1..=9999).contains(&chrono::Datelike::year(&t)) => Ok(t),
        _ => Err(format!("`{}` is not a date-time (RFC 3339, e.g. 2015-09-02T09:21:53+00:00)", shorten(text))),
    }
}

/// One address; a `/32` or `/128` suffix is accepted and dropped.
fn parse_ip(text: &str) -> Result<IpAddr, String> {
    let bad = || format!("`{}` is not an IP address", shorten(text));
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    match (len, ip) {
        (None, _) | (Some("32"), IpAddr::V4(_)) | (Some("128"), IpAddr::V6(_)) => Ok(ip),
        _ => Err(bad()),
    }
}

/// `address/prefix` (or a bare address: a host network); host bits are cleared, as Python's
/// `ip_network(…, strict=False)` does.
fn parse_network(text: &str) -> Result<(IpAddr, u8), String> {
    let bad = || format!("`{}` is not an IP network", shorten(text));
    let (addr, len) = text.split_once('/').unwrap_or((text, ""));
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = if len.is_empty() { max } else { len.parse().map_err(|_| bad())? };
    if len > max {
        return Err(bad());
    }
    let masked = match ip {
        IpAddr::V4(v4) => IpAddr::from((u32::from(v4) & u32::MAX.checked_shl(u32::from(32 - len)).unwrap_or(0)).to_be_bytes()),
        IpAddr::V6(v6) => IpAddr::from((u128::from(v6) & u128::MAX.checked_shl(u32::from(128 - len)).unwrap_or(0)).to_be_bytes()),
    };
    Ok((masked, len))
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// At most 40 characters of a rejected value, for messages.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 40 { text.to_string() } else { format!("{}…", text.chars().take(40).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(line: &str) -> Vec<String> {
        parse_line(line).expect_err("rejected").iter().map(ToString::to_string).collect()
    }

    #[test]
    fn valid_event_is_normalised() {
        let e = parse_line(
            r#"{"time.source":"2015-09-02T11:21:53+02:00","source.ip":"192.0.2.1/32","source.network":"192.0.2.77/24","source.asn":"AS64496",
                "source.port":0,"source.geolocation.cc":"cz","classification.taxonomy":"vulnerable","extra.tags":["x"],"raw":"eyJ9"}"#,
        )
        .expect("valid");
        assert_eq!(e.get(Field::TimeSource).text().as_deref(), Some("2015-09-02T09:21:53.000000Z"));
        assert_eq!(e.get(Field::SourceIp).text().as_deref(), Some("192.0.2.1"));
        assert_eq!(e.get(Field::SourceNetwork).text().as_deref(), Some("192.0.2.0/24"));
        assert_eq!(e.get(Field::SourceAsn), &Value::Int(64496));
        assert_eq!(e.get(Field::Country), &Value::Text("CZ".into()));
        assert_eq!(e.get(Field::Malware), &Value::Null);
        assert_eq!(e.day().map(|d| d.to_string()).as_deref(), Some("2015-09-02"));
        assert_eq!(parse_network("2001:db8::1/32"), Ok(("2001:db8::".parse().expect("ip"), 32)));
        assert_eq!(parse_network("0.0.0.0/0"), Ok(("0.0.0.0".parse().expect("ip"), 0)));
        assert_eq!(parse_time("2015-09-02 09:21:53.5+00").map(|t| t.to_rfc3339()), Ok("2015-09-02T09:21:53.500+00:00".into()));
    }

    #[test]
    fn wrongly_typed_fields_are_located() {
        assert_eq!(
            reasons(r#"{"source.ip":"300.1.1.1","source.asn":12.5,"source.port":70000,"time.source":"yesterday","source.geolocation.cc":"CZE"}"#),
            [
                "time.source: `yesterday` is not a date-time (RFC 3339, e.g. 2015-09-02T09:21:53+00:00)",
                "source.ip: `300.1.1.1` is not an IP address",
                "source.asn: 12.5 is not an integer",
                "source.port: port 70000 is outside 0 … 65535",
                "source.geolocation.cc: `CZE` is not a two-letter country code",
            ]
        );
        assert_eq!(
            reasons(r#"{"source.network":"10.0.0.0/33","source.asn":0}"#),
            ["source.network: `10.0.0.0/33` is not an IP network", "source.asn: ASN 0 is outside 1 … 2147483647 (IntelMQ's integer column)"]
        );
        assert_eq!(reasons(r#"{"classification.taxonomy":5}"#), ["classification.taxonomy: expected a string, got a number"]);
        assert_eq!(reasons(r#"{"protocol.transport":"abcdefghijkl"}"#), ["protocol.transport: longer than 11 characters"]);
        assert_eq!(reasons(r#"{"malware.name":"a\u0000b"}"#), ["malware.name: contains a NUL character"]);
        let long = |n: usize| format!(r#"{{"feed.name":"{}","raw":"{}"}}"#, "é".repeat(n / 2), "r".repeat(3 * MAX_TEXT_BYTES));
        assert_eq!(reasons(&long(MAX_TEXT_BYTES + 2)), [format!("feed.name: longer than {MAX_TEXT_BYTES} bytes")]);
        assert!(parse_line(&long(MAX_TEXT_BYTES)).is_ok(), "exactly the limit (in bytes), and fields not stored are not limited");
        assert_eq!(reasons("[1]"), ["not a JSON object"]);
        assert!(reasons("{\"a\":").first().is_some_and(|r| r.starts_with("invalid JSON")));
        assert_eq!(reasons(r#"{"source.port":"80"}"#), ["source.port: expected an integer, got a string"]);
    }
}
