//! `vantage ip <addr|cidr|ASN>`: the IP dossier, as text (one table per section), as JSON, and
//! written as files (`--out`).

use std::process::ExitCode;

use vantage_core::Config;
use vantage_core::engine::dossier::{DossierApi, Range, report};

use super::open_store;
use crate::cli::IpArgs;
use crate::output::table;

/// Exit status of a target or range that does not parse.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Runs `vantage ip`.
pub async fn run(config: &Config, args: IpArgs) -> anyhow::Result<ExitCode> {
    let target = match DossierApi::target(&args.target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let engine = open_store(config).await?;
    let range = match Range::days(args.from, args.to, engine.now()) {
        Ok(r) => r,
        Err(e) => {
            engine.close().await;
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let dossier = engine.dossier().of(target, range).await;
    engine.close().await;
    let dossier = dossier?;
    if args.json {
        println!("{}", serde_json::to_string(&dossier)?);
    } else {
        for s in report::sections(&dossier) {
            println!("== {}", s.title);
            match (&s.absent, s.rows.is_empty()) {
                (Some(why), _) => println!("absent: {why}\n"),
                (None, true) => println!("nothing\n"),
                (None, false) => println!("{}", table(&s.header.iter().map(String::as_str).collect::<Vec<_>>(), &s.rows)),
            }
        }
    }
    if let Some(dir) = &args.out {
        for path in report::write_all(&dossier, dir)? {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
