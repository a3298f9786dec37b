//! The baseline of `scripts/bench.sh refresh`'s side-by-side line: the SQL Sentinel View runs
//! for a full refresh, written from statistics.md ("Resources"), to be run with `psql` on the
//! database Vantage refreshes. One statement per graph, list and map, as sview's Flask
//! resources issue them; a multi-line graph's top-7 choice and its series in one statement
//! (sview sends them one after the other). Windows are literals of the pinned `now`, buckets
//! `date_bin` on the TimescaleDB origin, the source table the period's precision.

use chrono::{DateTime, SecondsFormat, Utc};
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::query::{Col, Measure};
use vantage_core::statistics::resources::{self, Kind, Resource};

/// The statement of one resource and period.
fn statement(r: &Resource, period: Period, now: DateTime<Utc>) -> String {
    let table = period.source().table(r.data);
    let w = period.window(now);
    let range = |cut: bool| {
        let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut conds = vec![format!("time >= '{}' AND time < '{}'", at(w.start), at(w.upper(cut)))];
        conds.extend(r.valid.iter().map(|c| format!("{0} IS NOT NULL AND {0} <> '' AND {0} <> E'\\n'", c.name())));
        conds.extend(r.not_null.iter().map(|c| format!("{} IS NOT NULL", c.name())));
        conds.join(" AND ")
    };
    let bucket = format!("date_bin('{} seconds', time, TIMESTAMPTZ '2000-01-03 00:00:00+00')", period.bucket().num_seconds());
    let value = |m: Measure| match m {
        Measure::Sum => "sum(raw_count)",
        Measure::DistinctIp => "count(DISTINCT ip)",
    };
    let cols = |group: &[Col]| group.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ");
    let shown = |group: &[Col]| group.iter().map(|c| if *c == Col::Ip { "host(ip)" } else { c.name() }).collect::<Vec<_>>().join(", ");
    match r.kind {
        Kind::Graph { measure, cut } => {
            format!("SELECT {bucket} AS bucket, {} FROM {table} WHERE {} GROUP BY 1 ORDER BY 1", value(measure), range(cut))
        }
        Kind::List { group, measure, limit, .. } => format!(
            "SELECT {}, {} AS count FROM {table} WHERE {} GROUP BY {} ORDER BY count DESC LIMIT {limit}",
            shown(group),
            value(measure),
            range(false),
            cols(group)
        ),
        Kind::Map { measure, cut } => format!("SELECT country, {} FROM {table} WHERE {} GROUP BY country", value(measure), range(cut)),
        Kind::Multiline { group, measure, cut } => {
            let (g, m, w) = (cols(group), value(measure), range(cut));
            format!(
                "WITH top AS (SELECT {g} FROM {table} WHERE {w} GROUP BY {g} ORDER BY {m} DESC LIMIT 7) \
                 SELECT {bucket} AS bucket, {g}, {m} FROM {table} WHERE {w} AND ({g}) IN (SELECT {g} FROM top) GROUP BY 1, {g} ORDER BY 1"
            )
        }
    }
}

/// The psql script of a full refresh at `now`: the 23 precached resources × 7 periods.
pub fn sview_sql(now: DateTime<Utc>) -> String {
    let mut out = String::from("-- Sentinel View's resource SQL for a full refresh (statistics.md), one statement per resource\n");
    for period in Period::ALL {
        for r in resources::precached() {
            out.push_str(&format!("-- {}:{period}\n{};\n", r.name, statement(r, period, now)));
        }
    }
    out
}
