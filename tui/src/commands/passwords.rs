//! `vantage passwords import` and `vantage passwords check`

use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::sync::Arc;

use vantage_core::Config;
use vantage_core::engine::Engine;
use vantage_core::passwords::import::{self, Format};
use vantage_core::passwords::remote::Remote;
use vantage_core::passwords::{self, PwnedHash, Source};
use vantage_core::progress::Progress as _;

use super::{EXIT_REJECTED_LINES, open_store};
use crate::cli::{PasswordsCheckArgs, PasswordsImportArgs};
use crate::progress::Bars;

fn open_input(file: &str) -> anyhow::Result<Box<dyn BufRead + Send>> {
    if file == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let f = vantage_core::error::open_file(std::path::Path::new(file))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
}

/// Imports a list; bad lines are reported as `file:line: reason` (exit 3), the rest stored.
pub async fn import(config: &Config, args: PasswordsImportArgs) -> anyhow::Result<ExitCode> {
    let source: Option<Source> = args.source.as_deref().map(str::parse).transpose()?;
    let (report, what) = match &args.file {
        Some(file) => {
            let mut input = open_input(file)?;
            let format = match args.format.as_deref() {
                Some(f) => f.parse::<Format>()?,
                None => import::detect(std::str::from_utf8(input.fill_buf()?.split(|b| *b == b'\n').next().unwrap_or_default()).unwrap_or("")),
            };
            let engine = open_store(config).await?;
            let report = engine.passwords().import(input, format, source, Arc::new(Bars::default())).await;
            engine.close().await;
            (report?, format!("{format:?}").to_lowercase())
        }
        None => {
            let engine = open_store(config).await?;
            let report = match &args.from_passy {
                Some(url) => engine.passwords().import_passy(&vantage_core::config::SecretUrl::new(url.clone()), Arc::new(Bars::default())).await,
                None => engine.passwords().import_statistics(Arc::new(Bars::default())).await,
            };
            engine.close().await;
            (report?, if args.from_passy.is_some() { "passy" } else { "statistics" }.to_string())
        }
    };
    for e in report.errors.iter().take(100) {
        eprintln!("{}:{}: {}", args.file.as_deref().unwrap_or(if args.from_passy.is_some() { "passy" } else { "statistics" }), e.line, e.reason);
    }
    if report.errors.len() > 100 {
        eprintln!("… and {} more rejected lines", report.errors.len() - 100);
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "imported {} lines as {} hashes ({}) in {:.2} s; {} rejected; {} hashes stored",
            report.lines,
            report.hashes,
            what,
            report.seconds,
            report.errors.len(),
            report.total
        );
    }
    Ok(if report.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REJECTED_LINES) })
}

fn times(n: i64) -> String {
    if n == 1 { "once".into() } else { format!("{n} times") }
}

fn describe(found: &Option<PwnedHash>) -> String {
    match found {
        Some(h) if h.sources.is_empty() => format!("LEAKED, seen {}", times(h.count)),
        Some(h) => format!("LEAKED, seen {} via {}", times(h.count), h.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
        None => "not found".into(),
    }
}

/// Where answers come from: the local store (through the engine) or a remote range API.
enum Checker {
    Local(Engine),
    Remote(Remote),
}

impl Checker {
    /// The entry of a SHA-1 (40 hex digits).
    async fn find(&self, hash: &str) -> anyhow::Result<Option<PwnedHash>> {
        Ok(match self {
            Checker::Local(engine) => engine.passwords().check_hash(hash).await?,
            Checker::Remote(remote) => remote.count(hash).await?.map(|count| PwnedHash { hash: hash.to_ascii_lowercase(), count, sources: Vec::new() }),
        })
    }

    async fn close(self) {
        if let Checker::Local(engine) = self {
            engine.close().await;
        }
    }
}

/// Checks one password or hash, or every line of stdin / a file (with a summary).
pub async fn check(config: &Config, args: PasswordsCheckArgs) -> anyhow::Result<ExitCode> {
    let checker = match &args.remote {
        Some(url) => Checker::Remote(Remote::new(url)?),
        None => Checker::Local(open_store(config).await?),
    };
    let hash_of = |line: &str| if args.hashes { line.trim().to_string() } else { passwords::sha1_hex(line) };
    let single = match (&args.password, &args.sha1) {
        (Some(p), _) => Some(passwords::sha1_hex(p)),
        (None, Some(h)) => Some(h.clone()),
        _ => None,
    };
    if let Some(hash) = single {
        let found = checker.find(&hash).await?;
        if args.json {
            println!("{}", serde_json::json!({"leaked": found.is_some(), "count": found.as_ref().map_or(0, |h| h.count), "sources": found.as_ref().map(|h| h.sources.clone()).unwrap_or_default()}));
        } else {
            println!("{}", describe(&found));
        }
        checker.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let input = match (&args.file, args.stdin) {
        (Some(f), _) => open_input(f)?,
        (None, true) => open_input("-")?,
        _ => anyhow::bail!("nothing to check: give a PASSWORD, --sha1 HASH, --stdin or --file FILE"),
    };
    let bars = Bars::default();
    bars.phase("checking", None);
    let (mut checked, mut leaked, mut rejected) = (0u64, 0u64, 0u64);
    for (i, line) in input.split(b'\n').enumerate() {
        let line = line?;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.is_empty() {
            continue;
        }
        checked += 1;
        bars.advance(1);
        let Ok(line) = std::str::from_utf8(line) else {
            eprintln!("line {}: not UTF-8", i + 1);
            rejected += 1;
            continue;
        };
        let found = match checker.find(&hash_of(line)).await {
            Ok(f) => f,
            Err(e) => {
                eprintln!("line {}: {e}", i + 1);
                rejected += 1;
                continue;
            }
        };
        leaked += u64::from(found.is_some());
        if args.json {
            println!("{}", serde_json::json!({"line": i + 1, "leaked": found.is_some(), "count": found.as_ref().map_or(0, |h| h.count)}));
        } else if found.is_some() {
            println!("line {}: {}", i + 1, describe(&found));
        }
    }
    bars.finish();
    checker.close().await;
    eprintln!("{checked} checked, {leaked} leaked, {rejected} rejected");
    Ok(if rejected == 0 { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REJECTED_LINES) })
}
