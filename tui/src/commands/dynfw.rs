//! `vantage dynfw status` and `vantage dynfw export`: the `[dynfw]` feed followed for a while
//! by this process (its subscriber, its state file), then reported or written.

use std::process::ExitCode;

use anyhow::Context as _;
use vantage_core::Config;
use vantage_core::dynfw::feed::Phase;
use vantage_core::engine::Engine;
use vantage_core::engine::dynfw::FollowReport;

use super::open_store;
use crate::cli::{DynfwCommand, DynfwExportArgs, DynfwStatusArgs};
use crate::output::table;

/// Exit status when there is no `[dynfw]` section to follow (a configuration error).
pub const EXIT_NOT_CONFIGURED: u8 = 2;

/// How many countries `dynfw status` lists.
const TOP_COUNTRIES: usize = 10;

/// Runs a `vantage dynfw …` command.
pub async fn run(config: &Config, command: DynfwCommand) -> anyhow::Result<ExitCode> {
    let engine = open_store(config).await?;
    let result = match engine.dynfw().config() {
        None => {
            eprintln!("error: no [dynfw] section in the configuration: set endpoint (e.g. tcp://sentinel.turris.cz:7087) and server_key (the server's public key file, e.g. dynfw.pub)");
            Ok(ExitCode::from(EXIT_NOT_CONFIGURED))
        }
        Some(_) => match command {
            DynfwCommand::Status(args) => status(&engine, args).await,
            DynfwCommand::Export(args) => export(&engine, args).await,
        },
    };
    if let Some(feed) = engine.dynfw().feed() {
        feed.stop();
        if let Err(e) = feed.save(chrono::Utc::now()) {
            tracing::warn!("dynfw: could not save the state: {e}");
        }
    }
    engine.close().await;
    result
}

/// `vantage dynfw status`
async fn status(engine: &Engine, args: DynfwStatusArgs) -> anyhow::Result<ExitCode> {
    let report = engine.dynfw().follow(args.follow_for).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", describe(engine, &report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as text: the summary lines, the countries, the set.
fn describe(engine: &Engine, report: &FollowReport) -> String {
    let s = &report.status;
    let h = &s.health;
    let endpoint = engine.dynfw().config().map(|c| c.endpoint.clone()).unwrap_or_default();
    let phase = match s.phase {
        Phase::WaitingForList => "waiting for the first list",
        Phase::Synced => "synced",
        Phase::Resyncing => "re-syncing (waiting for the next list; the old set is shown)",
    };
    let serial = s.serial.map_or_else(|| "none".to_string(), |n| n.to_string());
    let mut out = format!("DynFW {endpoint}: serial {serial}, {} addresses, {phase}\n", s.size);
    out += &format!("re-syncs {}; lists {}, deltas {}, events {}\n", s.resyncs, h.lists, h.deltas, h.events);
    out += &format!(
        "health: gaps {}, duplicates {}, before the first list {}, dropped while re-syncing {}, malformed {}, bad frames {}, unknown topics {}\n",
        h.gaps, h.duplicates, h.before_first_list, h.dropped_while_resyncing, h.malformed, h.bad_frames, h.unknown_topics
    );
    let l = &s.link;
    out += &format!(
        "link: {}, {} connection(s), {} disconnection(s), {} CURVE handshake(s), {} failed\n",
        if l.up { "up" } else { "down" },
        l.connects,
        l.disconnects,
        l.handshakes,
        l.handshake_failures
    );
    if let Some(secs) = s.since_last_list_secs {
        out += &format!("last list {secs} s ago\n");
    }
    if let Some(at) = s.restored_at {
        out += &format!("started from the state saved at {}\n", at.to_rfc3339());
    }
    if !s.per_country.is_empty() {
        let top: Vec<String> = s.per_country.iter().take(TOP_COUNTRIES).map(|c| format!("{} {}", if c.country.is_empty() { "??" } else { &c.country }, c.count)).collect();
        out += &format!("per country: {}\n", top.join(", "));
    }
    let feed = engine.dynfw().feed();
    let rows: Vec<Vec<String>> = report
        .blocked
        .iter()
        .map(|ip| vec![ip.to_string(), feed.as_ref().and_then(|f| f.lookup(*ip)).unwrap_or_default()])
        .collect();
    out += &table(&["address", "country"], &rows);
    out
}

/// `vantage dynfw export`: as soon as a list is there (at most `--follow-for`).
async fn export(engine: &Engine, args: DynfwExportArgs) -> anyhow::Result<ExitCode> {
    let dynfw = engine.dynfw();
    let feed = dynfw.start()?.context("no [dynfw] section")?;
    // the first list ends the wait; without one, `follow` ends with its explanation
    tokio::select! {
        followed = dynfw.follow(args.follow_for) => { followed?; }
        true = feed.wait_for_list(args.follow_for) => {}
    }
    let (serial, blocked) = feed.blocked();
    let text = vantage_core::dynfw::export::render(args.format, serial, &blocked);
    let mut temp = args.out.clone().into_os_string();
    temp.push(".tmp");
    let temp = std::path::PathBuf::from(temp);
    std::fs::write(&temp, &text).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, &args.out).with_context(|| format!("renaming {} to {}", temp.display(), args.out.display()))?;
    let serial = serial.map_or_else(|| "none".to_string(), |n| n.to_string());
    println!("DynFW list at serial {serial}: {} addresses → {}", blocked.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}
