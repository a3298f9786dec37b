//! `vantage pcap merge`, `stats`, `query`, `status`, `cancel`, `fetch` and `cleanup`

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use vantage_core::Config;
use vantage_core::engine::pcap::PcapApi;
use vantage_core::pcap::merge::{merge_files, merge_with_mergecap, same_file};
use vantage_core::pcap::pipeline::{JobState, JobStatus};

use crate::cli::{JsonArg, PcapCancelArgs, PcapFetchArgs, PcapMergeArgs, PcapQueryArgs, PcapStatsArgs, PcapStatusArgs};

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

fn no_sensors(pcap: &PcapApi) -> anyhow::Result<()> {
    if pcap.settings().sensors.is_empty() {
        anyhow::bail!("no Stenographer sensors configured: add [[pcap.sensors]] (name, host, port, ca, cert, key) to vantage.toml");
    }
    Ok(())
}

/// The spool and sensors alone, for commands that use no queue (stats, status, fetch, cleanup).
fn offline(config: &Config) -> anyhow::Result<PcapApi> {
    PcapApi::offline(config).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Asks the configured sensors (all, or the named ones) for `/debug/stats`, concurrently; a
/// sensor that cannot be asked is reported with its error (exit 1 when any failed).
pub async fn stats(config: &Config, args: PcapStatsArgs) -> anyhow::Result<ExitCode> {
    let pcap = offline(config)?;
    no_sensors(&pcap)?;
    let answers = pcap.sensors(&args.sensors).await.map_err(|e| anyhow::anyhow!("{e}"))?;
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

/// Prints a job status: id, state, per-sensor results and the merged capture.
fn print_status(status: &JobStatus) {
    println!("{}  {}  {}", status.id, status.state, status.query);
    for (sensor, r) in &status.requests {
        println!("  {sensor}: {} ({})", r.state, r.message);
    }
    match &status.merged {
        Some(path) => println!("  merged: {} ({} bytes)", path.display(), status.bytes),
        None => println!("  merged: -"),
    }
}

/// Builds the request (URL form clauses, or a raw query), submits it and — with the
/// in-process queue, or `--wait` — runs or awaits it; prints the job (exit 0 when Completed
/// or, without waiting, accepted; 1 otherwise).
pub async fn query(config: &Config, args: PcapQueryArgs) -> anyhow::Result<ExitCode> {
    use vantage_core::pcap::request::Request;
    let settings = offline(config)?;
    no_sensors(&settings)?;
    let query_timeout = settings.settings().query_timeout;
    let (now, settings, text) = (config.clock.now(), settings.settings().request_settings(), args.clauses.join(" "));
    let mut request =
        if args.raw { Request::raw(&text, &settings, now) } else { Request::from_text(&text, &settings, now) }.map_err(|e| anyhow::anyhow!("{e}"))?;
    for name in args.sensors {
        if !request.sensors.contains(&name) {
            request.sensors.push(name);
        }
    }
    let engine = super::open_engine(config).await?;
    let pcap = engine.pcap();
    let mut status = pcap.submit(&request).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let wait = args.wait || engine.in_process_queue();
    if engine.in_process_queue() {
        engine.ops().run_queued().await?;
    }
    engine.close().await;
    if wait {
        status = until_final(&pcap, &request.id, query_timeout * 2 + Duration::from_secs(60)).await?;
    }
    if let (Some(out), Some(merged)) = (&args.out, &status.merged) {
        copy_capture(merged, out)?;
    }
    show_status(&status, args.json)?;
    Ok(if status.state == JobState::Completed || (!wait && !status.state.is_final()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Reads job `id`'s status (as the worker, maybe another process, writes it) until it is final
/// or `limit` has passed.
async fn until_final(pcap: &PcapApi, id: &str, limit: Duration) -> anyhow::Result<JobStatus> {
    let deadline = Instant::now() + limit;
    loop {
        let status = pcap.status(id).map_err(|e| anyhow::anyhow!("{e}"))?.context("the job disappeared from the spool")?;
        if status.state.is_final() || Instant::now() > deadline {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints a job status as JSON or as text.
fn show_status(status: &JobStatus, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(status).context("encoding the status")?);
    } else {
        print_status(status);
    }
    Ok(())
}

/// Cancels a job that has not completed (exit 1 when unknown or already final); with
/// `--wait`, until its worker has stopped it.
pub async fn cancel(config: &Config, args: PcapCancelArgs) -> anyhow::Result<ExitCode> {
    let pcap = offline(config)?;
    let id = known(&pcap, &args.id)?.id;
    let mut status = pcap.cancel(&id).map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.wait {
        status = until_final(&pcap, &id, Duration::from_secs(30)).await?;
    }
    show_status(&status, args.json)?;
    Ok(if status.state == JobState::Cancelled || (!args.wait && !status.state.is_final()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Prints the status of one job (exit 1 when unknown) or of all jobs in the spool directory.
pub fn status(config: &Config, args: PcapStatusArgs) -> anyhow::Result<ExitCode> {
    let pcap = offline(config)?;
    let jobs = match &args.id {
        Some(id) => vec![known(&pcap, id)?],
        None => pcap.statuses().map_err(|e| anyhow::anyhow!("{e}"))?,
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

fn known(pcap: &PcapApi, id: &str) -> anyhow::Result<JobStatus> {
    let id = id.trim().to_ascii_lowercase();
    pcap.status(&id).map_err(|e| anyhow::anyhow!("{e}"))?.with_context(|| format!("no pcap job {id} in {}", pcap.settings().spool_dir.display()))
}

/// Copies a completed job's capture to `--out` (exit 1 when the job has none).
pub fn fetch(config: &Config, args: PcapFetchArgs) -> anyhow::Result<ExitCode> {
    let status = known(&offline(config)?, &args.id)?;
    let Some(merged) = status.merged.filter(|_| status.state == JobState::Completed) else {
        anyhow::bail!("job {} has no capture (state {})", status.id, status.state);
    };
    let bytes = copy_capture(&merged, &args.out)?;
    println!("{}: {bytes} bytes written to {}", status.id, args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Copies a job's capture to `out`, refusing an `out` that is the capture itself (copying a
/// file onto itself would empty it).
fn copy_capture(merged: &std::path::Path, out: &std::path::Path) -> anyhow::Result<u64> {
    if same_file(merged, out) {
        anyhow::bail!("{}: this is the job's own capture in the spool; write the copy to another file", out.display());
    }
    std::fs::copy(merged, out).with_context(|| format!("copying {} to {}", merged.display(), out.display()))
}

/// Runs a forced cleanup and prints what it deleted.
pub fn cleanup(config: &Config, args: JsonArg) -> anyhow::Result<ExitCode> {
    let report = offline(config)?.cleanup(true).map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "deleted {} expired and {} jobs for space; {} busy; {} bytes free",
            report.expired.len(),
            report.for_space.len(),
            report.busy.len(),
            report.space.map_or(0, |s| s.free_bytes)
        );
    }
    Ok(ExitCode::SUCCESS)
}
