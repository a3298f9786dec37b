//! The 29 statistics resources: named graphs, lists and maps per display period, with
//! Sentinel View's exact semantics (statistics.md, "Resources").
//!
//! Notation: N = `SUM(raw_count)`, D = `COUNT(DISTINCT ip)`; W = `start ≤ time < finish`,
//! W5 = `… < finish − 5 min` (see [`super::periods`]). Graph points carry their bucket's END
//! time as label. Ungrouped graphs are always filled with zeros; grouped (multi-line) graphs
//! fill zeros only for the groups present, so with no data they have no labels and no points.
//! Ties in top lists are broken by the key in byte order, the same on both backends.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::model::DataType;
use super::periods::{DisplayWindow, Period};
use super::query::{Col, Filter, Measure, StatQuery, StatRow};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::statistics::scan::Scan;
use crate::timebucket::label;

/// Short and long list limits, and the number of series of a multi-line graph.
pub const SHORT: usize = 15;
/// Long list limit.
pub const LONG: usize = 30;
/// Series of a multi-line graph.
pub const TOP_SERIES: usize = 7;

/// The parameter a resource needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `ip` — an attacker address.
    Ip,
    /// `password` — an attempted password.
    Password,
    /// The user's device tokens (the `my_*` resources).
    Devices,
}

/// How a resource is computed and shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `[{bucket, count}]` filled with zeros.
    Graph {
        /// N or D.
        measure: Measure,
        /// W5 (true) or W.
        cut: bool,
    },
    /// `{labels, ykeys, data}`: top series by the measure, then one series per group.
    Multiline {
        /// Grouping column(s) of a series.
        group: &'static [Col],
        /// N or D (both for choosing the top series and for their values).
        measure: Measure,
        /// W5 (true) or W.
        cut: bool,
    },
    /// `[{<keys…>, count}]` top N.
    List {
        /// Grouping columns.
        group: &'static [Col],
        /// Output names of the grouping columns.
        keys: &'static [&'static str],
        /// N or D.
        measure: Measure,
        /// List length.
        limit: usize,
    },
    /// `{CC: value}` of every country.
    Map {
        /// N or D.
        measure: Measure,
        /// W5 (true) or W.
        cut: bool,
    },
}

/// A resource definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// Its name, e.g. `all_incidents_graph`.
    pub name: &'static str,
    /// Which data it reads.
    pub data: DataType,
    /// How it is computed.
    pub kind: Kind,
    /// Columns that must be valid (not NULL, not '', not a newline).
    pub valid: &'static [Col],
    /// Columns that must not be NULL.
    pub not_null: &'static [Col],
    /// The parameter it needs, if any (parametrised resources are not precached).
    pub param: Option<Param>,
}

use Col::*;
use DataType::{Incidents, Passwords, Ports};
use Measure::{DistinctIp, Sum};

const fn r(name: &'static str, data: DataType, kind: Kind) -> Resource {
    Resource { name, data, kind, valid: &[], not_null: &[], param: None }
}

const fn graph(measure: Measure, cut: bool) -> Kind {
    Kind::Graph { measure, cut }
}

const fn list(group: &'static [Col], keys: &'static [&'static str], measure: Measure, limit: usize) -> Kind {
    Kind::List { group, keys, measure, limit }
}

const fn multi(group: &'static [Col], cut: bool) -> Kind {
    Kind::Multiline { group, measure: Sum, cut }
}

const COUNTRY: &[Col] = &[Country];

/// All 29 resources.
pub const RESOURCES: &[Resource] = &[
    r("all_incidents_graph", Incidents, graph(Sum, true)),
    Resource { param: Some(Param::Devices), ..r("my_all_incidents_graph", Incidents, graph(Sum, true)) },
    r("all_attackers_graph", Incidents, graph(DistinctIp, true)),
    Resource { param: Some(Param::Ip), ..r("selected_attacker_incidents_graph", Incidents, graph(Sum, true)) },
    r("top_incident_types_by_incidents_list", Incidents, list(&[Trap, Action], &["source", "action"], Sum, SHORT)),
    r("top_attackers_by_incidents_list_long", Incidents, list(&[Ip], &["ip"], Sum, LONG)),
    Resource { not_null: COUNTRY, ..r("top_countries_by_incidents_list", Incidents, list(COUNTRY, &["country"], Sum, SHORT)) },
    Resource { not_null: COUNTRY, ..r("top_countries_by_incidents_list_long", Incidents, list(COUNTRY, &["country"], Sum, LONG)) },
    Resource { not_null: COUNTRY, ..r("top_countries_by_attackers_list", Incidents, list(COUNTRY, &["country"], DistinctIp, SHORT)) },
    Resource { not_null: COUNTRY, ..r("top_countries_by_attackers_list_long", Incidents, list(COUNTRY, &["country"], DistinctIp, LONG)) },
    Resource { not_null: COUNTRY, ..r("all_countries_by_incidents_list", Incidents, Kind::Map { measure: Sum, cut: false }) },
    Resource { not_null: &[Country, Ip], ..r("all_countries_by_attackers_list", Incidents, Kind::Map { measure: DistinctIp, cut: true }) },
    Resource { not_null: COUNTRY, ..r("top_countries_by_incidents_graph", Incidents, multi(COUNTRY, true)) },
    Resource { not_null: COUNTRY, ..r("top_countries_by_attackers_graph", Incidents, Kind::Multiline { group: COUNTRY, measure: DistinctIp, cut: true }) },
    r("top_traps_by_incidents_graph", Incidents, multi(&[Trap], true)),
    r("top_actions_by_incidents_graph", Incidents, multi(&[Action], true)),
    Resource { not_null: COUNTRY, param: Some(Param::Devices), ..r("my_top_countries_by_incidents_graph", Incidents, multi(COUNTRY, true)) },
    Resource { param: Some(Param::Devices), ..r("my_top_traps_by_incidents_graph", Incidents, multi(&[Trap], true)) },
    Resource { valid: &[Password], ..r("top_passwords_by_usages_list", Passwords, list(&[Password], &["password"], Sum, SHORT)) },
    Resource { valid: &[Password], ..r("top_passwords_by_usages_list_long", Passwords, list(&[Password], &["password"], Sum, LONG)) },
    Resource { valid: &[Username], ..r("top_usernames_by_usages_list", Passwords, list(&[Username], &["username"], Sum, SHORT)) },
    Resource { valid: &[Username], ..r("top_usernames_by_usages_list_long", Passwords, list(&[Username], &["username"], Sum, LONG)) },
    Resource {
        valid: &[Username, Password],
        ..r("top_combinations_by_usages_list_long", Passwords, list(&[Username, Password], &["username", "password"], Sum, LONG))
    },
    Resource { valid: &[Password], ..r("top_passwords_by_usages_graph", Passwords, multi(&[Password], true)) },
    Resource { param: Some(Param::Password), ..r("selected_password_by_usages_graph", Passwords, graph(Sum, true)) },
    Resource { param: Some(Param::Password), ..r("logins_of_password_by_usages_list", Passwords, list(&[Username], &["username"], Sum, LONG)) },
    r("all_ports_by_scans_graph", Ports, graph(Sum, false)),
    r("top_ports_by_scans_list_long", Ports, list(&[Port, Protocol], &["port"], Sum, LONG)),
    r("top_ports_by_scans_graph", Ports, multi(&[Port, Protocol], false)),
];

/// Looks a resource up by name; the error lists the valid names.
pub fn find(name: &str) -> Result<&'static Resource> {
    RESOURCES.iter().find(|r| r.name == name).ok_or_else(|| {
        let names: Vec<&str> = RESOURCES.iter().map(|r| r.name).collect();
        Error::InvalidArgument(format!("unknown resource `{name}`; valid: {}", names.join(", ")))
    })
}

/// The 23 resources precached for every period (no parameter).
pub fn precached() -> impl Iterator<Item = &'static Resource> {
    RESOURCES.iter().filter(|r| r.param.is_none())
}

/// Parameters of a computation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Params {
    /// Attacker IP (canonical text).
    pub ip: Option<String>,
    /// Attempted password.
    pub password: Option<String>,
    /// Device tokens, sorted and deduplicated.
    #[serde(default, deserialize_with = "list_or_empty_object")]
    pub device_tokens: Vec<String>,
}

/// Accepts `[..]`, `null` or `{}` (Lua's cjson writes an empty array as `{}` when the Redis
/// queue rewrites a job).
fn list_or_empty_object<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    use serde::Deserialize as _;
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Object(o) if o.is_empty() => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| serde::de::Error::custom("device token must be a string")))
            .collect(),
        _ => Err(serde::de::Error::custom("device_tokens must be a list")),
    }
}

impl Params {
    /// Validates raw parameters for `resource`: the one it needs must be present and valid,
    /// others must be absent. Device tokens are 64 characters of `[a-z0-9]`; a password must
    /// not contain a NUL byte.
    pub fn for_resource(resource: &Resource, ip: Option<&str>, password: Option<&str>, tokens: &[String]) -> Result<Params> {
        let bad = |what: &str| Error::InvalidArgument(format!("resource `{}` {what}", resource.name));
        let mut p = Params::default();
        match resource.param {
            Some(Param::Ip) => {
                let ip = ip.ok_or_else(|| bad("needs --ip"))?;
                let parsed: IpAddr = ip.trim().parse().map_err(|_| Error::InvalidArgument(format!("ip `{ip}` is not an IPv4 or IPv6 address")))?;
                p.ip = Some(parsed.to_string());
            }
            Some(Param::Password) => {
                let password = password.ok_or_else(|| bad("needs --password"))?;
                // PostgreSQL text cannot hold NUL; never echo the password itself
                if password.contains('\0') {
                    return Err(Error::InvalidArgument("password: must not contain a NUL byte".into()));
                }
                p.password = Some(password.to_string());
            }
            Some(Param::Devices) => {
                for t in tokens {
                    if !crate::devices::is_valid(t) {
                        return Err(Error::InvalidArgument("a device token is 64 characters of [a-z0-9]".into()));
                    }
                }
                let mut t = tokens.to_vec();
                t.sort();
                t.dedup();
                p.device_tokens = t;
            }
            None => {}
        }
        if resource.param != Some(Param::Ip) && ip.is_some() {
            return Err(bad("takes no ip parameter"));
        }
        if resource.param != Some(Param::Password) && password.is_some() {
            return Err(bad("takes no password parameter"));
        }
        if resource.param != Some(Param::Devices) && !tokens.is_empty() {
            return Err(bad("takes no device tokens"));
        }
        Ok(p)
    }
}

/// The value of a resource with no data: `[]`, `{}` or an empty multi-line graph.
pub fn empty_value(resource: &Resource) -> Value {
    match resource.kind {
        Kind::Graph { .. } | Kind::List { .. } => json!([]),
        Kind::Map { .. } => json!({}),
        Kind::Multiline { .. } => json!({"labels": [], "ykeys": [], "data": []}),
    }
}

/// Where a computation's queries are answered: the store, one statement each, or a scan of
/// the table read once.
#[derive(Clone, Copy)]
enum Rows<'a> {
    Store(&'a dyn Store),
    Scan(&'a Scan),
}

impl Rows<'_> {
    async fn query(self, q: &StatQuery) -> Result<Vec<StatRow>> {
        match self {
            Rows::Store(store) => store.stat_query(q).await,
            Rows::Scan(scan) => scan.query(q),
        }
    }
}

/// Computes `resource` for `period` at `now` on `store`, one statement per query.
pub async fn compute(store: &dyn Store, resource: &Resource, period: Period, params: &Params, now: DateTime<Utc>) -> Result<Value> {
    compute_from(Rows::Store(store), resource, period, params, now).await
}

/// Computes precached resources of one data type, for periods that read the same level, at
/// `now` from one scan of that level's table over the union of their windows: one read
/// instead of one or two statements per resource, the same values as [`compute`]. The values
/// come in `members` order; a parametrised resource, or members of different data types or
/// levels, are an invalid argument.
pub async fn compute_shared(store: &dyn Store, members: &[(&Resource, Period)], now: DateTime<Utc>) -> Result<Vec<Value>> {
    let Some((first, first_period)) = members.first() else { return Ok(Vec::new()) };
    let (data, level) = (first.data, first_period.source());
    if let Some((r, p)) = members.iter().find(|(r, p)| r.param.is_some() || r.data != data || p.source() != level) {
        return Err(Error::InvalidArgument(format!(
            "{}:{p} cannot share a scan of {} ({}) with {}:{first_period}",
            r.name,
            level.table(data),
            if r.param.is_some() { "it takes a parameter" } else { "it reads another table" },
            first.name
        )));
    }
    let windows = members.iter().map(|(_, p)| p.window(now));
    let from = windows.clone().map(|w| w.start).min().unwrap_or(now);
    let to = windows.map(|w| w.finish).max().unwrap_or(now);
    let started = std::time::Instant::now();
    let scan = store.stat_scan(data, level, from, to).await?;
    let read = started.elapsed();
    let out = shape_shared(&scan, members, now)?;
    tracing::debug!(table = level.table(data), rows = scan.len(), read_ms = read.as_millis(), shaped_ms = (started.elapsed() - read).as_millis(), resources = members.len(), "shared scan");
    Ok(out)
}

/// At most this many threads shape the members of one scan.
const SHAPERS: usize = 4;

/// The members' values from `scan`, in `members` order, shaped on up to [`SHAPERS`] threads
/// (one per core): the scan is read-only and answers in memory, so each member's computation
/// is ready at once and the members share out between threads.
fn shape_shared(scan: &Scan, members: &[(&Resource, Period)], now: DateTime<Utc>) -> Result<Vec<Value>> {
    use futures::FutureExt as _;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, SHAPERS).min(members.len().max(1));
    let shape = |first: usize| -> Result<Vec<(usize, Value)>> {
        members
            .iter()
            .enumerate()
            .skip(first)
            .step_by(threads)
            .map(|(i, (resource, period))| {
                let value = compute_from(Rows::Scan(scan), resource, *period, &Params::default(), now)
                    .now_or_never()
                    .ok_or_else(|| Error::InvalidArgument(format!("{}:{period} waited on a scan held in memory", resource.name)))??;
                Ok((i, value))
            })
            .collect()
    };
    let parts = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|first| s.spawn(move || shape(first))).collect();
        let mut parts = vec![shape(0)];
        parts.extend(others.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))));
        parts
    });
    let mut values: Vec<(usize, Value)> = Vec::with_capacity(members.len());
    for part in parts {
        values.extend(part?);
    }
    values.sort_unstable_by_key(|(i, _)| *i);
    Ok(values.into_iter().map(|(_, v)| v).collect())
}

async fn compute_from(rows: Rows<'_>, resource: &Resource, period: Period, params: &Params, now: DateTime<Utc>) -> Result<Value> {
    if resource.param == Some(Param::Devices) && params.device_tokens.is_empty() {
        return Ok(empty_value(resource));
    }
    let window = period.window(now);
    let mut filters: Vec<Filter> = resource.valid.iter().map(|c| Filter::Valid(*c)).collect();
    filters.extend(resource.not_null.iter().map(|c| Filter::NotNull(*c)));
    match resource.param {
        Some(Param::Ip) => filters.push(Filter::Eq(Ip, params.ip.clone().unwrap_or_default())),
        Some(Param::Password) => filters.push(Filter::Eq(Password, params.password.clone().unwrap_or_default())),
        Some(Param::Devices) => filters.push(Filter::Devices(params.device_tokens.clone())),
        None => {}
    }
    let base = |cut: bool| StatQuery {
        data: resource.data,
        level: period.source(),
        from: window.start,
        to: window.upper(cut),
        bucket: None,
        group: Vec::new(),
        measure: Sum,
        filters: filters.clone(),
        limit: None,
    };
    Ok(match resource.kind {
        Kind::Graph { measure, cut } => {
            let rows = rows.query(&StatQuery { bucket: Some(period.bucket()), measure, ..base(cut) }).await?;
            graph_value(period, &window, cut, &rows)
        }
        Kind::List { group, keys, measure, limit } => {
            let rows = rows.query(&StatQuery { group: group.to_vec(), measure, limit: Some(limit), ..base(false) }).await?;
            list_value(group, keys, &rows)
        }
        Kind::Map { measure, cut } => {
            let rows = rows.query(&StatQuery { group: vec![Country], measure, ..base(cut) }).await?;
            let map: Map<String, Value> = rows.into_iter().map(|r| (key_text(&r.keys[0]), json!(r.value))).collect();
            Value::Object(map)
        }
        Kind::Multiline { group, measure, cut } => {
            let top = rows
                .query(&StatQuery { group: group.to_vec(), measure, limit: Some(TOP_SERIES), ..base(cut) })
                .await?;
            if top.is_empty() {
                return Ok(empty_value(resource));
            }
            let mut q = StatQuery { bucket: Some(period.bucket()), group: group.to_vec(), measure, ..base(cut) };
            q.filters.push(if group == [Port, Protocol] {
                Filter::PortOneOf(top.iter().map(|r| (key_text(&r.keys[0]).parse().unwrap_or(-1), key_text(&r.keys[1]))).collect())
            } else {
                Filter::OneOf(group[0], top.iter().map(|r| key_text(&r.keys[0])).collect())
            });
            let series = rows.query(&q).await?;
            multiline_value(period, &window, cut, group, &top, &series)
        }
    })
}

fn key_text(k: &Option<String>) -> String {
    k.clone().unwrap_or_default()
}

/// `PROTO/port` for port groups, the key itself otherwise.
fn series_label(group: &[Col], keys: &[Option<String>]) -> String {
    if group == [Port, Protocol] {
        format!("{}/{}", key_text(&keys[1]), key_text(&keys[0]))
    } else {
        key_text(&keys[0])
    }
}

fn graph_value(period: Period, window: &DisplayWindow, cut: bool, rows: &[StatRow]) -> Value {
    let points: Vec<Value> = period
        .buckets(window, cut)
        .into_iter()
        .map(|b| {
            let v = rows.iter().find(|r| r.bucket == Some(b)).map_or(0, |r| r.value);
            json!({"bucket": label(b + period.bucket()), "count": v})
        })
        .collect();
    Value::Array(points)
}

fn list_value(group: &[Col], keys: &[&str], rows: &[StatRow]) -> Value {
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("count".into(), json!(r.value));
            if group == [Port, Protocol] {
                o.insert("port".into(), json!(series_label(group, &r.keys)));
            } else {
                for (k, v) in keys.iter().zip(&r.keys) {
                    o.insert((*k).to_string(), json!(key_text(v)));
                }
            }
            Value::Object(o)
        })
        .collect();
    Value::Array(items)
}

fn multiline_value(period: Period, window: &DisplayWindow, cut: bool, group: &[Col], top: &[StatRow], series: &[StatRow]) -> Value {
    let labels: Vec<String> = top.iter().map(|r| series_label(group, &r.keys)).collect();
    let values: std::collections::HashMap<(Option<DateTime<Utc>>, String), i64> =
        series.iter().map(|r| ((r.bucket, series_label(group, &r.keys)), r.value)).collect();
    let data: Vec<Value> = period
        .buckets(window, cut)
        .into_iter()
        .map(|b| {
            let mut o = Map::new();
            o.insert("bucket".into(), json!(label(b + period.bucket())));
            for (i, l) in labels.iter().enumerate() {
                let v = values.get(&(Some(b), l.clone())).copied().unwrap_or(0);
                o.insert(i.to_string(), json!(v));
            }
            Value::Object(o)
        })
        .collect();
    json!({"labels": labels, "ykeys": (0..labels.len()).collect::<Vec<_>>(), "data": data})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_nine_resources_twenty_three_precached() {
        assert_eq!(RESOURCES.len(), 29);
        assert_eq!(precached().count(), 23);
        let mut names: Vec<&str> = RESOURCES.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 29);
        let err = find("all_incident_graph").expect_err("typo").to_string();
        assert!(err.contains("valid: all_incidents_graph, my_all_incidents_graph"), "{err}");
    }

    #[test]
    fn params_are_validated() {
        let sel = find("selected_attacker_incidents_graph").expect("exists");
        assert_eq!(Params::for_resource(sel, Some("192.0.2.1"), None, &[]).expect("ok").ip.as_deref(), Some("192.0.2.1"));
        assert!(Params::for_resource(sel, None, None, &[]).is_err());
        assert!(Params::for_resource(sel, Some("999.1.1.1"), None, &[]).is_err());
        let all = find("all_incidents_graph").expect("exists");
        assert!(Params::for_resource(all, Some("192.0.2.1"), None, &[]).is_err());
        let my = find("my_all_incidents_graph").expect("exists");
        assert!(Params::for_resource(my, None, None, &["short".into()]).is_err());
    }
}
