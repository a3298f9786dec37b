//! `vantage pcap merge`

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use vantage_core::pcap::merge::{merge_files, merge_with_mergecap};

use crate::cli::PcapMergeArgs;

/// Merges the inputs (natively, or with `mergecap`) and prints a one-line summary; an error is
/// one line naming the file.
pub async fn merge(args: PcapMergeArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let output = args.output.clone();
    let report =
        tokio::task::spawn_blocking(
            move || if args.mergecap { merge_with_mergecap(&args.inputs, &args.output) } else { merge_files(&args.inputs, &args.output) },
        )
        .await
        .context("the merge task failed")?
        // the message already names the file and its cause; anyhow's chain would repeat the cause
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "merged {} inputs into {}: {} packets, {} bytes in {:.2} s",
        report.inputs,
        output.display(),
        report.packets,
        report.bytes,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
