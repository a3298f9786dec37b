//! `vantage flows …`: raw flow imports and status, the OA run of a date and the analyst's
//! reads of its outputs (flows.md).

use std::process::ExitCode;
use std::sync::Arc;

use vantage_core::Config;
use vantage_core::flows::import::{Captures, ImportReport, Input};
use vantage_core::flows::pcap::BuildSettings;
use vantage_core::engine::flows::Pattern;
use vantage_core::flows::oa::{OaOutputs, Scored, TIME, read_results};
use vantage_core::flows::score::{as_scored, write_results};

use super::{import_exit, on_store, open_inputs, report_rejections};
use crate::cli::{FlowsBeaconsArgs, FlowsChordsArgs, FlowsStoryboardArgs, FlowsCommand, FlowsEdgesArgs, FlowsImportArgs, FlowsOaArgs, FlowsScoreArgs, FlowsScoreConnectionArgs, FlowsSuspiciousArgs};
use crate::progress::Bars;

/// Runs one `vantage flows` command.
pub async fn run(config: &Config, command: FlowsCommand) -> anyhow::Result<ExitCode> {
    match command {
        FlowsCommand::Import(args) => import(config, args).await,
        FlowsCommand::Status(args) => {
            let status = on_store(config, async |e| e.flows().status().await).await?;
            if args.json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
                println!("{} flows, started {} … {}", status.flows, time(status.first), time(status.last));
            }
            Ok(ExitCode::SUCCESS)
        }
        FlowsCommand::Oa(args) => oa(config, args).await,
        FlowsCommand::Suspicious(args) => suspicious(config, args).await,
        FlowsCommand::Edges(args) => edges(config, args).await,
        FlowsCommand::Chords(args) => chords(config, args).await,
        FlowsCommand::Score(args) => score(config, args).await,
        FlowsCommand::Beacons(args) => beacons(config, args).await,
        FlowsCommand::Threat(args) => threat(config, args).await,
        FlowsCommand::Storyboard(args) => storyboard(config, args).await,
        FlowsCommand::Reset(args) => {
            let deleted = on_store(config, async |e| e.flows().reset(args.date).await).await?;
            println!("{}: {deleted} storyboards deleted (scores and feedback kept)", args.date);
            Ok(ExitCode::SUCCESS)
        }
        FlowsCommand::ScoreConnection(args) => score_connection(config, args).await,
        FlowsCommand::IngestSummary(args) => {
            let ingest = outputs(config, args.date).await?.ingest;
            let rows: Vec<Vec<String>> = ingest.iter().map(|m| vec![m.tdate.clone(), m.total.to_string()]).collect();
            show(serde_json::to_value(&ingest)?, args.json, &["tdate", "total"], &rows)
        }
    }
}

/// What the last OA run of `date` stored.
async fn outputs(config: &Config, date: chrono::NaiveDate) -> anyhow::Result<OaOutputs> {
    on_store(config, async |e| e.flows().outputs(date).await).await
}

/// Prints `value` as JSON, or `rows` as a table under `header`.
fn show(value: serde_json::Value, json: bool, header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<ExitCode> {
    if json {
        println!("{value}");
    } else {
        print!("{}", crate::output::table(header, rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// `vantage flows oa`: a bad results line stores nothing (exit 1, `file:line: field: reason`).
async fn oa(config: &Config, args: FlowsOaArgs) -> anyhow::Result<ExitCode> {
    let rows = match &args.results {
        Some(path) => Some(read_results(&path.display().to_string(), std::io::BufReader::new(vantage_core::error::open_file(path)?), args.limit)?),
        None => None,
    };
    let report = on_store(config, async |e| e.flows().oa(args.date, rows, args.limit).await).await?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{}: {} suspicious connections and {} beacons, {} edges, {} chords, {} minutes of flows in {:.2} s",
            report.date, report.scores, report.beacons, report.edges, report.chords, report.minutes, report.seconds
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `vantage flows score`: the most suspicious flows of the date; `--out` writes them all.
async fn score(config: &Config, args: FlowsScoreArgs) -> anyhow::Result<ExitCode> {
    let scored = on_store(config, async |e| e.flows().score(args.date, args.window_days).await).await?;
    if let Some(path) = &args.out {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?);
        write_results(&mut out, &scored)?;
        std::io::Write::flush(&mut out).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        eprintln!("{} scored flows written to {}", scored.len(), path.display());
    }
    let top: Vec<Scored> = scored.iter().take(args.limit).map(as_scored).collect();
    let rows: Vec<Vec<String>> = top
        .iter()
        .map(|s| vec![format!("{:.3e}", s.score), s.tstart.format(TIME).to_string(), s.sip.to_string(), s.dip.to_string(), format!("{}→{}", s.sport, s.dport), s.proto.clone(), s.ibyt.to_string()])
        .collect();
    show(serde_json::to_value(&top)?, args.json, &["score", "tstart", "sip", "dip", "ports", "proto", "ibyt"], &rows)
}

/// `vantage flows beacons`: the flagged pairs (all with `--all`), long connections, strobes.
async fn beacons(config: &Config, args: FlowsBeaconsArgs) -> anyhow::Result<ExitCode> {
    let report = on_store(config, async |e| e.flows().beacons(args.date).await).await?;
    let report = if args.all { report } else { report.flagged() };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = report
        .beacons
        .iter()
        .map(|b| {
            let parts = [b.score, b.ts, b.ds, b.dur, b.hist].map(|x| format!("{x:.3}"));
            [vec![b.src.to_string(), b.dst.to_string(), b.connections.to_string(), b.level.to_string()], parts.to_vec()].concat()
        })
        .collect();
    print!("{}", crate::output::table(&["src", "dst", "connections", "level", "score", "ts", "ds", "dur", "hist"], &rows));
    for l in &report.long_connections {
        println!("long connection ({} h): {} → {}:{} {} from {}, {:.0} s", l.hours, l.src, l.dst, l.dport, l.proto, l.start.format(TIME), l.duration);
    }
    for (src, dst, n) in &report.strobes {
        println!("strobe: {src} → {dst}, {n} connections");
    }
    Ok(ExitCode::SUCCESS)
}

/// `vantage flows score-connection`: the rows scored (none matching is exit 1).
async fn score_connection(config: &Config, args: FlowsScoreConnectionArgs) -> anyhow::Result<ExitCode> {
    let pattern = Pattern { src: args.src, dst: args.dst, sport: args.sport, dport: args.dport };
    let rows = on_store(config, async |e| e.flows().score_connection(args.date, args.sev, &pattern).await).await?;
    if args.json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        println!("{} connections of {} scored {}", rows.len(), args.date, args.sev);
    }
    Ok(if rows.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `vantage flows suspicious`: by rank, optionally only those of one address.
async fn suspicious(config: &Config, args: FlowsSuspiciousArgs) -> anyhow::Result<ExitCode> {
    let scores = on_store(config, async |e| e.flows().suspicious(args.date, args.ip).await).await?;
    let rows: Vec<Vec<String>> = scores
        .iter()
        .map(|s| {
            let mark = |internal: i32| if internal == 1 { " (internal)" } else { "" };
            vec![
                s.rank.to_string(),
                s.tstart.clone(),
                format!("{}{}", s.srcip, mark(s.srcip_internal)),
                format!("{}{}", s.dstip, mark(s.dstip_internal)),
                format!("{}→{}", s.sport, s.dport),
                s.proto.clone(),
                s.ibyt.to_string(),
                format!("{:.3e}", s.score),
                s.src_rep.clone(),
                s.dst_rep.clone(),
            ]
        })
        .collect();
    show(serde_json::to_value(&scores)?, args.json, &["rank", "tstart", "srcip", "dstip", "ports", "proto", "ibyt", "score", "src_rep", "dst_rep"], &rows)
}

/// `vantage flows edges`: the stored edges of the connection's date in its minute, either way.
async fn edges(config: &Config, args: FlowsEdgesArgs) -> anyhow::Result<ExitCode> {
    let edges = on_store(config, async |e| e.flows().edges(&args.tstart, args.src, args.dst).await).await?;
    let rows: Vec<Vec<String>> = edges
        .iter()
        .map(|e| vec![e.tstart.clone(), e.srcip.clone(), e.dstip.clone(), e.sport.to_string(), e.dport.to_string(), e.proto.clone(), e.flags.clone(), e.ibyt.to_string(), e.ipkt.to_string()])
        .collect();
    show(serde_json::to_value(&edges)?, args.json, &["tstart", "srcip", "dstip", "sport", "dport", "proto", "flags", "ibyt", "ipkt"], &rows)
}

/// `vantage flows threat`: the address's connections, peers and tops.
async fn threat(config: &Config, args: FlowsChordsArgs) -> anyhow::Result<ExitCode> {
    let t = on_store(config, async |e| e.flows().threat(args.date, args.ip).await).await?;
    if args.json {
        println!("{}", serde_json::to_string(&t)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = t
        .connections
        .iter()
        .map(|c| {
            let (first, last) = (c.first_seen.clone(), c.last_seen.clone());
            vec![c.sip.to_string(), c.dip.to_string(), c.sport.to_string(), c.dport.to_string(), first, last, c.count.to_string(), c.max_bytes.to_string(), format!("{:.0}", c.avg_bytes)]
        })
        .collect();
    print!("{}", crate::output::table(&["sip", "dip", "sport", "dport", "first seen", "last seen", "flows", "max bytes", "avg bytes"], &rows));
    let list = |v: &[std::net::IpAddr]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    println!("inbound only: {}\noutbound only: {}\ntwo-way: {}", list(&t.inbound_only), list(&t.outbound_only), list(&t.two_way));
    Ok(ExitCode::SUCCESS)
}

/// `vantage flows storyboard`: saves the title and text when given, prints the storyboard.
async fn storyboard(config: &Config, args: FlowsStoryboardArgs) -> anyhow::Result<ExitCode> {
    let text = match args.text_file.as_deref() {
        None => String::new(),
        Some("-") => std::io::read_to_string(std::io::stdin()).map_err(|e| anyhow::anyhow!("standard input: {e}"))?,
        Some(path) => std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?,
    };
    let write = args.title.as_deref().map(|title| (title, text.as_str()));
    let b = on_store(config, async |e| e.flows().storyboard(args.date, args.ip, write).await).await?;
    if args.json {
        println!("{}", serde_json::to_string(&b)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} on {}: {}", b.ip, b.date, if b.title.is_empty() { "(no title)" } else { &b.title });
    if !b.text.is_empty() {
        println!("{}", b.text);
    }
    for (direction, i) in &b.impact {
        let classes: Vec<String> = i.classes.iter().map(|(class, n)| format!("{n} {class}")).collect();
        println!("{direction}: {} internal, {} external peers; context: {}", i.internal, i.external, classes.join(", "));
    }
    for c in &b.progression {
        let network = if c.network.is_empty() { String::new() } else { format!(", {}", c.network) };
        println!("{}  {} ({}, {}{network})", c.first_seen, c.ip, c.direction, c.context);
    }
    println!("{} connections on the timeline, {} peers on the map", b.timeline.len(), b.map.len());
    Ok(ExitCode::SUCCESS)
}

/// `vantage flows chords`: the threat's rows.
async fn chords(config: &Config, args: FlowsChordsArgs) -> anyhow::Result<ExitCode> {
    let chords = on_store(config, async |e| e.flows().chords(args.date, args.ip).await).await?;
    let rows: Vec<Vec<String>> = chords.iter().map(|c| vec![c.srcip.clone(), c.dstip.clone(), c.ibyt.to_string(), c.ipkt.to_string()]).collect();
    show(serde_json::to_value(&chords)?, args.json, &["srcip", "dstip", "ibyt", "ipkt"], &rows)
}

/// `vantage flows import`: bad lines are reported as `file:line: field: reason` (exit 3);
/// with `--strict` nothing is stored then (exit 1).
async fn import(config: &Config, args: FlowsImportArgs) -> anyhow::Result<ExitCode> {
    let inputs = open_inputs(&args.files)?.into_iter().map(|(name, reader)| Input { name, reader }).collect();
    let captures = Captures { paths: args.pcap, settings: BuildSettings { active: args.active, idle: args.idle, biflow: args.biflow } };
    let report = on_store(config, async |e| e.flows().import_with_captures(inputs, captures, &args.job, args.strict, Arc::new(Bars::default())).await).await?;
    for c in &report.captures {
        eprintln!("{}: {} packets, {} flows, {} packets in no flow", c.source, c.packets, c.flows, c.skipped);
    }
    report_rejections(&report.rejected, report.rejected_records);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_import(&report);
    }
    Ok(import_exit(report.committed, report.rejected_records))
}

fn print_import(report: &ImportReport) {
    if report.committed {
        println!("imported {} flows of {} records in {:.2} s; {} rejected", report.imported, report.records, report.seconds, report.rejected_records);
    } else {
        println!("nothing imported: {} rejected records (--strict)", report.rejected_records);
    }
}
