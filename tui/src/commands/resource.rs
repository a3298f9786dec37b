//! `vantage resource <name> <period>`: compute and print one statistics resource.

use std::process::ExitCode;

use serde_json::Value;
use vantage_core::Config;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};

use super::open_statistics;
use crate::cli::ResourceArgs;
use crate::output::table;

/// Computes the resource at `--now` and prints it (a table, or the API's JSON with `--json`).
pub async fn run(config: &Config, args: ResourceArgs) -> anyhow::Result<ExitCode> {
    let resource = resources::find(&args.name)?;
    let period: Period = args.period.parse()?;
    let params = Params::for_resource(resource, args.params.ip.as_deref(), args.params.password.as_deref(), &args.params.device_token)?;
    let stats = open_statistics(config).await?;
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
    Ok(ExitCode::SUCCESS)
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.escape_debug().to_string(),
        other => other.to_string(),
    }
}

/// A resource value as a text table: lists and graphs by their keys, maps as two columns,
/// multi-line graphs with one column per series.
pub fn render(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let Some(Value::Object(first)) = items.first() else { return "(no data)\n".to_string() };
            let mut header: Vec<String> = first.keys().filter(|k| *k != "count").cloned().collect();
            header.push("count".to_string());
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|i| header.iter().map(|h| i.get(h).map(cell).unwrap_or_default()).collect())
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            table(&header, &rows)
        }
        Value::Object(o) if o.contains_key("labels") => {
            let labels: Vec<String> = o["labels"].as_array().map(|l| l.iter().map(cell).collect()).unwrap_or_default();
            if labels.is_empty() {
                return "(no data)\n".to_string();
            }
            let mut header = vec!["bucket".to_string()];
            header.extend(labels.iter().cloned());
            let rows: Vec<Vec<String>> = o["data"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .map(|p| {
                            let mut row = vec![p.get("bucket").map(cell).unwrap_or_default()];
                            row.extend((0..labels.len()).map(|i| p.get(i.to_string()).map(cell).unwrap_or_default()));
                            row
                        })
                        .collect()
                })
                .unwrap_or_default();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            table(&header, &rows)
        }
        Value::Object(o) => {
            if o.is_empty() {
                return "(no data)\n".to_string();
            }
            let mut rows: Vec<Vec<String>> = o.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect();
            rows.sort_by(|a, b| b[1].parse::<i64>().unwrap_or(0).cmp(&a[1].parse::<i64>().unwrap_or(0)).then(a[0].cmp(&b[0])));
            table(&["country", "count"], &rows)
        }
        other => format!("{other}\n"),
    }
}
