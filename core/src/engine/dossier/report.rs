//! A dossier as tables (one per section — what the CSV files, the Markdown and HTML reports
//! and both front ends show), as one timeline chart of every source per day, and written to
//! files ([`write_all`]).

use std::path::{Path, PathBuf};

use chrono::Duration;

use super::{Dossier, Part};
use crate::export::{self, ChartData, ImageFormat, Series};
use crate::tally::{DayTally, Tally};

/// One section of a dossier as a table (or the reason it is absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// File-name key, e.g. `incidents`.
    pub key: &'static str,
    /// Heading, e.g. `Honeypot incidents`.
    pub title: &'static str,
    /// Column names.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
    /// Why the deployment has nothing here.
    pub absent: Option<String>,
}

/// The sections' keys and titles, in report order.
pub const SECTIONS: [(&str, &str); 12] = [
    ("summary", "Summary"),
    ("addresses", "Addresses and GeoIP"),
    ("incidents", "Honeypot and firewall incidents"),
    ("passwords", "Passwords and usernames tried"),
    ("events", "IntelMQ events"),
    ("peers", "Flow peers"),
    ("ports", "Ports it sent flows to"),
    ("suspicious", "Suspicious connections (OA)"),
    ("scored", "Analyst scores"),
    ("greylist", "Greylist"),
    ("dynfw", "DynFW"),
    ("captures", "Capture jobs"),
];

fn section(key: &'static str, header: &[&str], rows: Vec<Vec<String>>) -> Section {
    let title = SECTIONS.iter().find(|(k, _)| *k == key).map_or(key, |(_, t)| t);
    Section { key, title, header: header.iter().map(|h| h.to_string()).collect(), rows, absent: None }
}

fn part<T>(key: &'static str, header: &[&str], p: &Part<T>, rows: impl FnOnce(&T) -> Vec<Vec<String>>) -> Section {
    match p {
        Part::Present(t) => section(key, header, rows(t)),
        Part::Absent(why) => Section { absent: Some(why.clone()), ..section(key, header, Vec::new()) },
    }
}

fn tallies(groups: &[(&str, &[Tally])]) -> Vec<Vec<String>> {
    groups.iter().flat_map(|(by, ts)| ts.iter().map(move |t| vec![by.to_string(), t.key.clone(), t.count.to_string()])).collect()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `no`, `yes` (one address) or how many of a network's or ASN's addresses.
fn yes_or_count(n: usize, kind: &str) -> String {
    match (n, kind) {
        (0, _) => "no".into(),
        (_, "address") => "yes".into(),
        (n, _) => format!("{n} addresses"),
    }
}

/// The summary's `field, value` rows.
fn summary(d: &Dossier) -> Vec<Vec<String>> {
    let (first, last) = d.range.day_span();
    let mut rows = vec![
        ["target", d.target.as_str()].map(String::from).to_vec(),
        vec!["kind".into(), d.kind.clone()],
        vec!["range".into(), format!("{first} – {last} (UTC)")],
        vec!["addresses".into(), format!("{}{}", d.addresses.len(), if d.addresses_left_out > 0 { format!(" (+{} left out)", d.addresses_left_out) } else { String::new() })],
    ];
    if let Some(g) = d.geo.first().filter(|_| d.kind == "address") {
        rows.push(vec!["country".into(), opt(g.info.country.clone())]);
        rows.push(vec!["asn".into(), g.info.asn.map(|a| format!("AS{a} {}", g.info.as_org.clone().unwrap_or_default()).trim().to_string()).unwrap_or_default()]);
    }
    let mut add = |k: &str, v: String| rows.push(vec![k.into(), v]);
    if let Part::Present(i) = &d.incidents {
        add("incidents", format!("{} (from the {} table)", i.incidents, i.table));
        add("first seen", opt(i.first_seen));
        add("last seen", opt(i.last_seen));
    }
    if let Part::Present(e) = &d.events {
        add("events", e.events.to_string());
    }
    if let Part::Present(f) = &d.flows {
        add("flows", f.flows.to_string());
    }
    if let Part::Present(g) = &d.greylist {
        add("greylisted", yes_or_count(g.len(), &d.kind));
    }
    if let Part::Present(b) = &d.dynfw {
        add("dynfw blocked", yes_or_count(b.blocked.len(), &d.kind));
    }
    if let Part::Present(c) = &d.captures {
        add("captures", c.len().to_string());
    }
    rows
}

/// Every section, in report order.
pub fn sections(d: &Dossier) -> Vec<Section> {
    vec![
        section("summary", &["field", "value"], summary(d)),
        section("addresses",
            &["ip", "country", "city", "asn", "as_org"],
            d.geo.iter().map(|g| vec![g.ip.to_string(), opt(g.info.country.clone()), opt(g.info.city.clone()), opt(g.info.asn), opt(g.info.as_org.clone())]).collect(),
        ),
        part("incidents", &["by", "key", "incidents"], &d.incidents, |i| tallies(&[("trap", &i.by_trap), ("action", &i.by_action), ("country", &i.by_country)])),
        part("passwords", &["username", "password", "count"], &d.passwords, |_| Vec::new()),
        part("events", &["by", "key", "events"], &d.events, |e| tallies(&[("taxonomy", &e.by_taxonomy), ("type", &e.by_type), ("feed", &e.by_feed), ("asn", &e.by_asn)])),
        part("peers", &["peer", "direction"], &d.flows, |f| {
            let dir = |ips: &[std::net::IpAddr], d: &str| ips.iter().map(|ip| vec![ip.to_string(), d.to_string()]).collect::<Vec<_>>();
            [dir(&f.outbound_only, "outbound"), dir(&f.inbound_only, "inbound"), dir(&f.two_way, "two-way")].concat()
        }),
        part("ports", &["port", "flows"], &d.flows, |f| f.ports.iter().map(|t| vec![t.key.clone(), t.count.to_string()]).collect()),
        part("suspicious", &["tstart", "srcip", "dstip", "sport", "dport", "proto", "score", "rank"], &d.flows, |f| {
            f.suspicious.iter().map(|s| vec![s.tstart.clone(), s.srcip.clone(), s.dstip.clone(), s.sport.to_string(), s.dport.to_string(), s.proto.clone(), format!("{:.6}", s.score), s.rank.to_string()]).collect()
        }),
        part("scored", &["date", "tstart", "srcip", "dstip", "dport", "sev"], &d.flows, |f| {
            f.scored.iter().map(|s| vec![s.date.clone(), s.tstart.clone(), s.srcip.clone(), s.dstip.clone(), s.dport.to_string(), s.sev.to_string()]).collect()
        }),
        part("greylist", &["address", "tags", "country", "first_seen", "last_seen", "count"], &d.greylist, |g| {
            g.iter().map(|e| vec![e.address.to_string(), e.tags.join(" "), opt(e.country.clone()), e.first_seen.to_rfc3339(), e.last_seen.to_rfc3339(), e.count.to_string()]).collect()
        }),
        part("dynfw", &["address", "what", "serial", "at"], &d.dynfw, |f| {
            let now = f.blocked.iter().map(|(ip, c)| vec![ip.to_string(), format!("blocked now{}", if c.is_empty() { String::new() } else { format!(" ({c})") }), String::new(), String::new()]);
            let history = f.history.iter().map(|c| vec![c.ip.to_string(), if c.added { "added" } else { "removed" }.into(), c.serial.to_string(), c.at.to_rfc3339()]);
            now.chain(history).collect()
        }),
        part("captures", &["id", "state", "time", "query"], &d.captures, |c| c.iter().map(|j| vec![j.id.clone(), j.state.clone(), j.time.to_rfc3339(), j.query.clone()]).collect()),
    ]
}

/// Every source per UTC day of the range on one time axis: incidents, events, flows and
/// DynFW changes.
pub fn timeline(d: &Dossier) -> ChartData {
    let (first, last) = d.range.day_span();
    let days: Vec<_> = std::iter::successors(Some(first), |day| Some(*day + Duration::days(1)).filter(|n| *n <= last)).collect();
    let per_day = |counts: Option<&[DayTally]>| -> Vec<f64> {
        let map: std::collections::HashMap<_, _> = counts.unwrap_or_default().iter().map(|t| (t.day, t.count)).collect();
        days.iter().map(|day| map.get(day).copied().unwrap_or(0) as f64).collect()
    };
    let changes: Vec<DayTally> = d.dynfw.present().map(|f| crate::tally::by_day(f.history.iter().map(|c| (c.at.date_naive(), 1)))).unwrap_or_default();
    let mut series = vec![Series { label: "incidents".into(), values: per_day(d.incidents.present().map(|i| i.per_day.as_slice())) }];
    if let Part::Present(e) = &d.events {
        series.push(Series { label: "events".into(), values: per_day(Some(&e.per_day)) });
    }
    if let Part::Present(f) = &d.flows {
        series.push(Series { label: "flows".into(), values: per_day(Some(&f.per_day)) });
    }
    if d.dynfw.present().is_some() {
        series.push(Series { label: "DynFW changes".into(), values: per_day(Some(&changes)) });
    }
    ChartData {
        title: format!("{} — every source, {first} – {last}", d.target),
        x_axis: "UTC date".into(),
        y_axis: "count / day".into(),
        x_labels: days.iter().map(|d| d.to_string()).collect(),
        series,
    }
}

/// The report as Markdown (for a ticket).
pub fn markdown(d: &Dossier) -> String {
    let mut out = format!("# Dossier of {}\n\n", d.target);
    for s in sections(d) {
        out.push_str(&format!("## {}\n\n", s.title));
        if let Some(why) = &s.absent {
            out.push_str(&format!("_Absent: {why}._\n\n"));
            continue;
        }
        if s.rows.is_empty() {
            out.push_str("_Nothing._\n\n");
            continue;
        }
        let cell = |c: &str| c.replace('|', "\\|");
        out.push_str(&format!("| {} |\n|{}\n", s.header.join(" | "), " --- |".repeat(s.header.len())));
        for row in &s.rows {
            out.push_str(&format!("| {} |\n", row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")));
        }
        out.push('\n');
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The report as one self-contained HTML page (`chart_svg`: the timeline drawn inline).
pub fn html(d: &Dossier, chart_svg: Option<&str>) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Dossier of {t}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:2px 6px;text-align:left}}</style>\
         </head><body>\n<h1>Dossier of {t}</h1>\n",
        t = escape(&d.target)
    );
    if let Some(svg) = chart_svg {
        out.push_str(&format!("<figure>{}</figure>\n", &svg[svg.find("<svg").unwrap_or(0)..]));
    }
    for s in sections(d) {
        out.push_str(&format!("<h2>{}</h2>\n", escape(s.title)));
        match (&s.absent, s.rows.is_empty()) {
            (Some(why), _) => out.push_str(&format!("<p><em>Absent: {}.</em></p>\n", escape(why))),
            (None, true) => out.push_str("<p><em>Nothing.</em></p>\n"),
            (None, false) => {
                let cells = |tag: &str, row: &[String]| row.iter().map(|c| format!("<{tag}>{}</{tag}>", escape(c))).collect::<String>();
                out.push_str(&format!("<table><tr>{}</tr>\n", cells("th", &s.header)));
                for row in &s.rows {
                    out.push_str(&format!("<tr>{}</tr>\n", cells("td", row)));
                }
                out.push_str("</table>\n");
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}

/// The file-name stem of a dossier: `dossier-192.0.2.0_24`.
pub fn stem(d: &Dossier) -> String {
    format!("dossier-{}", d.target.replace(['/', ':'], "_"))
}

/// Writes the dossier under `dir`: one CSV per present section, the timeline as PNG and SVG,
/// the Markdown and the HTML report. Returns the files written.
pub fn write_all(d: &Dossier, dir: &Path) -> crate::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
    let stem = stem(d);
    let mut written = Vec::new();
    for s in sections(d).into_iter().filter(|s| s.absent.is_none()) {
        let path = dir.join(format!("{stem}-{}.csv", s.key));
        export::write_csv(&s.header, &s.rows, &path)?;
        written.push(path);
    }
    let chart = timeline(d);
    let mut svg = None;
    for format in [ImageFormat::Png, ImageFormat::Svg] {
        let path = dir.join(format!("{stem}-timeline.{}", format.extension()));
        export::write_chart(&chart, format, &path, 1200, 500)?;
        if format == ImageFormat::Svg {
            svg = std::fs::read_to_string(&path).ok();
        }
        written.push(path);
    }
    for (ext, text) in [("md", markdown(d)), ("html", html(d, svg.as_deref()))] {
        let path = dir.join(format!("{stem}-report.{ext}"));
        std::fs::write(&path, text).map_err(|e| crate::Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
