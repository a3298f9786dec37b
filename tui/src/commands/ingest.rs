//! `vantage ingest sentinel`

use std::process::ExitCode;
use std::sync::Arc;

use vantage_core::statistics::ingest::{Format, IngestOptions, Source};

use super::{import_exit, open_store};
use crate::cli::IngestSentinelArgs;
use crate::progress::Bars;
use vantage_core::Config;

/// Imports the files; valid lines are stored (all or none with `--strict`), every bad line is
/// reported on stderr as `file:line: reason`.
pub async fn sentinel(config: &Config, args: IngestSentinelArgs) -> anyhow::Result<ExitCode> {
    let format = args.format.as_deref().map(str::parse::<Format>).transpose().map_err(anyhow::Error::msg)?;
    for f in args.files.iter().filter(|f| *f != "-") {
        if !std::path::Path::new(f).exists() {
            anyhow::bail!("{f}: no such file");
        }
        // a directory (or an unreadable file) is refused before anything is opened
        vantage_core::error::open_file(std::path::Path::new(f))?;
    }
    let engine = open_store(config).await?;
    let sources = args.files.iter().map(|f| Source::from_arg(f)).collect();
    let started = std::time::Instant::now();
    let report = engine.statistics().ingest(sources, IngestOptions { strict: args.strict, format }, Arc::new(Bars::default())).await?;
    let secs = started.elapsed().as_secs_f64();
    engine.close().await;
    for r in &report.rejected {
        eprintln!("{r}");
    }
    if report.rejected_total > report.rejected.len() as u64 {
        eprintln!("… and {} more rejected lines", report.rejected_total - report.rejected.len() as u64);
    }
    if args.json {
        let value = serde_json::json!({
            "committed": report.committed,
            "rows": report.rows,
            "identities_created": report.identities_created,
            "rejected": report.rejected_total,
            "seconds": secs,
        });
        println!("{value}");
    } else if report.committed {
        println!(
            "imported {} rows ({} incidents, {} passwords, {} ports) in {:.2} s, {} new identities, {} rejected lines",
            report.rows.total(),
            report.rows.incidents,
            report.rows.passwords,
            report.rows.ports,
            secs,
            report.identities_created,
            report.rejected_total
        );
    } else {
        println!("nothing imported: {} rejected lines (--strict)", report.rejected_total);
    }
    Ok(import_exit(report.committed, report.rejected_total))
}
