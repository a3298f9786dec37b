//! `vantage pcap merge`, `stats`, `query` and `status`

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use vantage_core::pcap::merge::{merge_files, merge_with_mergecap};

use crate::cli::{PcapMergeArgs, PcapQueryArgs, PcapStatsArgs, PcapStatusArgs};

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

/// The counters shown in the table (the JSON has all of them).
const SHOWN: &[&str] = &["indexfile_current_reads", "oldest_timestamp", "current_files", "aged_files", "packets_read"];

/// Asks the configured sensors (all, or the named ones) for `/debug/stats`, concurrently; a
/// sensor that cannot be asked is reported with its error (exit 1 when any failed).
pub async fn stats(config: &vantage_core::Config, args: PcapStatsArgs) -> anyhow::Result<ExitCode> {
    let sensors = &config.pcap.sensors;
    if sensors.is_empty() {
        anyhow::bail!("no Stenographer sensors configured: add [[pcap.sensors]] (name, host, port, ca, cert, key) to vantage.toml");
    }
    if let Some(unknown) = args.sensors.iter().find(|n| !sensors.iter().any(|s| &s.name == *n)) {
        let known: Vec<&str> = sensors.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!("unknown sensor `{unknown}`; configured: {}", known.join(", "));
    }
    let chosen: Vec<_> = sensors.iter().filter(|s| args.sensors.is_empty() || args.sensors.contains(&s.name)).collect();
    let answers = futures::future::join_all(chosen.iter().map(|s| async move {
        let result = async { vantage_core::pcap::client::StenoClient::new(s)?.stats().await }.await;
        (s.name.clone(), result.map_err(|e| e.to_string()))
    }))
    .await;
    let failed = answers.iter().filter(|(_, r)| r.is_err()).count();
    if args.json {
        let map: serde_json::Map<String, serde_json::Value> = answers
            .iter()
            .map(|(name, r)| (name.clone(), r.as_ref().map_or_else(|e| serde_json::json!({"error": e}), |stats| serde_json::json!(stats))))
            .collect();
        println!("{}", serde_json::Value::Object(map));
    } else {
        let mut header = vec!["sensor"];
        header.extend(SHOWN);
        let rows: Vec<Vec<String>> = answers
            .iter()
            .map(|(name, r)| match r {
                Ok(stats) => std::iter::once(name.clone()).chain(SHOWN.iter().map(|k| stats.get(*k).cloned().unwrap_or_else(|| "-".into()))).collect(),
                Err(e) => vec![name.clone(), format!("error: {e}")],
            })
            .collect();
        print!("{}", crate::output::table(&header, &rows));
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The URL form path of the clause words: joined with `/`, a leading `/api/uri/` dropped.
fn uri_path(clauses: &[String]) -> String {
    let joined = clauses.join("/");
    let trimmed = joined.trim_start_matches('/');
    trimmed.strip_prefix("api/uri/").or_else(|| trimmed.strip_prefix("uri/")).unwrap_or(trimmed).to_string()
}

/// Prints a job status: id, state, per-sensor results and the merged capture.
fn print_status(status: &vantage_core::pcap::pipeline::JobStatus) {
    println!("{}  {}  {}", status.id, status.state, status.query);
    for (sensor, r) in &status.requests {
        println!("  {sensor}: {} ({})", r.state, r.message);
    }
    match &status.merged {
        Some(path) => println!("  merged: {} ({} bytes)", path.display(), status.bytes),
        None => println!("  merged: -"),
    }
}

/// Builds the request from the URL form clauses, runs the pipeline inline and prints the job
/// (exit 0 when Completed, 1 otherwise).
pub async fn query(config: &vantage_core::Config, args: PcapQueryArgs) -> anyhow::Result<ExitCode> {
    use vantage_core::pcap::pipeline::{JobState, PipelineOptions, run};
    use vantage_core::pcap::query::{Clauses, RequestSettings};
    let sensors = &config.pcap.sensors;
    if sensors.is_empty() {
        anyhow::bail!("no Stenographer sensors configured: add [[pcap.sensors]] (name, host, port, ca, cert, key) to vantage.toml");
    }
    let now = config.clock.now();
    let clauses = Clauses::from_uri(&uri_path(&args.clauses)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut request = clauses.build(&RequestSettings::default(), now).map_err(|e| anyhow::anyhow!("{e}"))?;
    for name in args.sensors {
        if !request.sensors.contains(&name) {
            request.sensors.push(name);
        }
    }
    let status = run(&request, sensors, &config.pcap.spool_dir, &PipelineOptions::default(), now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if let (Some(out), Some(merged)) = (&args.out, &status.merged) {
        std::fs::copy(merged, out).with_context(|| format!("copying {} to {}", merged.display(), out.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&status).context("encoding the status")?);
    } else {
        print_status(&status);
    }
    Ok(if status.state == JobState::Completed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Prints the status of one job (exit 1 when unknown) or of all jobs in the spool directory.
pub fn status(config: &vantage_core::Config, args: PcapStatusArgs) -> anyhow::Result<ExitCode> {
    use vantage_core::pcap::pipeline;
    let spool = &config.pcap.spool_dir;
    let jobs = match &args.id {
        Some(id) => {
            let id = id.trim().to_ascii_lowercase();
            match pipeline::status(spool, &id).map_err(|e| anyhow::anyhow!("{e}"))? {
                Some(s) => vec![s],
                None => anyhow::bail!("no pcap job {id} in {}", spool.display()),
            }
        }
        None => pipeline::statuses(spool).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    if args.json {
        let map: serde_json::Map<String, serde_json::Value> =
            jobs.iter().map(|s| Ok((s.id.clone(), serde_json::to_value(s)?))).collect::<serde_json::Result<_>>().context("encoding the status")?;
        println!("{}", serde_json::Value::Object(map));
    } else {
        for s in &jobs {
            print_status(s);
        }
    }
    Ok(ExitCode::SUCCESS)
}
