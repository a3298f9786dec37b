//! `vantage resource <name> <period>`: compute and print one statistics resource, and write it
//! as CSV / PNG / SVG.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vantage_core::Config;
use vantage_core::export::{ChartData, per_duration};
use vantage_core::statistics::model::DataType;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::query::Measure;
use vantage_core::statistics::resources::{self, Kind, Params, Resource};

use super::{export, open_deployment};
use crate::cli::ResourceArgs;
use crate::output::table;

/// Computes the resource at `--now` and prints it (a table, or the API's JSON with `--json`);
/// `--csv` writes the printed table, `--png` / `--svg` draw a graph resource.
pub async fn run(config: &Config, args: ResourceArgs) -> anyhow::Result<ExitCode> {
    let resource = resources::find(&args.name)?;
    let period: Period = args.period.parse()?;
    let params = Params::for_resource(resource, args.params.ip.as_deref(), args.params.password.as_deref(), &args.params.device_token)?;
    let stats = open_deployment(config).await?.stats;
    let cached = if args.wait { None } else { stats.read(resource, period, &params, None).await?.data };
    let value = match cached {
        Some(v) => v,
        None => stats.compute_and_cache(resource, period, &params, config.clock.now()).await?,
    };
    stats.store.close().await;
    if args.json {
        println!("{}", serde_json::json!({"resource_name": resource.name, "data": value}));
    } else {
        print!("{}", render(&value));
    }
    let (header, rows) = table_of(&value).unwrap_or_default();
    export::write(&args.export, &header, &rows, chart(resource, period, config.clock.now(), &value), resource.name)?;
    Ok(ExitCode::SUCCESS)
}

/// What a resource counts, for its y axis: incidents, usages, scans or attackers.
fn counted(resource: &Resource) -> &'static str {
    let measure = match resource.kind {
        Kind::Graph { measure, .. } | Kind::Multiline { measure, .. } | Kind::List { measure, .. } | Kind::Map { measure, .. } => measure,
    };
    match (measure, resource.data) {
        (Measure::DistinctIp, _) => "attackers",
        (Measure::Sum, DataType::Incidents) => "incidents",
        (Measure::Sum, DataType::Passwords) => "usages",
        (Measure::Sum, DataType::Ports) => "scans",
    }
}

/// A graph resource as a chart titled with its period and window
/// (`top traps by incidents, 1y: 2023-06-03 00:00 – 2024-06-15 00:00 UTC`), y axis
/// `<counted> / <bucket width>`. None for lists, maps and graphs without points.
fn chart(resource: &Resource, period: Period, now: DateTime<Utc>, value: &Value) -> Option<ChartData> {
    let name = resource.name.trim_end_matches("_graph").replace('_', " ");
    let window = period.window(now);
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let chart = ChartData::from_resource(&name, value)?;
    Some(ChartData {
        title: format!("{name}, {}: {} – {} UTC", period.as_str(), time(window.start), time(window.finish)),
        y_axis: format!("{} / {}", counted(resource), per_duration(period.bucket())),
        ..chart
    })
}

/// A JSON value as a table cell: strings as they are, anything else as JSON.
fn raw(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A resource value as a table (header, rows; strings unescaped): lists and graphs by their
/// keys (count last), multi-line graphs with one column per series (its label), maps as
/// `country, count` largest first. None for other values and values without data.
pub fn table_of(value: &Value) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    match value {
        Value::Array(items) => {
            let Some(Value::Object(first)) = items.first() else { return None };
            let mut header: Vec<String> = first.keys().filter(|k| *k != "count").cloned().collect();
            header.push("count".to_string());
            let rows = items.iter().map(|i| header.iter().map(|h| i.get(h).map(raw).unwrap_or_default()).collect()).collect();
            Some((header, rows))
        }
        Value::Object(o) if o.contains_key("labels") => {
            let labels: Vec<String> = o["labels"].as_array().map(|l| l.iter().map(raw).collect()).unwrap_or_default();
            if labels.is_empty() {
                return None;
            }
            let keys: Vec<String> = o.get("ykeys").and_then(Value::as_array).map(|k| k.iter().map(raw).collect()).unwrap_or_default();
            let header = std::iter::once("bucket".to_string()).chain(labels).collect();
            let rows = o["data"]
                .as_array()
                .map(|d| {
                    let row = |p: &Value| std::iter::once("bucket").chain(keys.iter().map(String::as_str)).map(|k| p.get(k).map(raw).unwrap_or_default()).collect();
                    d.iter().map(row).collect()
                })
                .unwrap_or_default();
            Some((header, rows))
        }
        Value::Object(o) => {
            if o.is_empty() {
                return None;
            }
            let mut rows: Vec<Vec<String>> = o.iter().map(|(k, v)| vec![k.clone(), raw(v)]).collect();
            rows.sort_by(|a, b| b[1].parse::<i64>().unwrap_or(0).cmp(&a[1].parse::<i64>().unwrap_or(0)).then(a[0].cmp(&b[0])));
            Some((vec!["country".to_string(), "count".to_string()], rows))
        }
        _ => None,
    }
}

/// A resource value as a text table ([`table_of`], strings escaped for the terminal).
pub fn render(value: &Value) -> String {
    match (value, table_of(value)) {
        (_, Some((header, rows))) => {
            let escape = |s: &String| s.escape_debug().to_string();
            let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(escape).collect()).collect();
            let header: Vec<String> = header.iter().map(escape).collect();
            table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows)
        }
        (Value::Array(_) | Value::Object(_), None) => "(no data)\n".to_string(),
        (other, None) => format!("{other}\n"),
    }
}
