//! Planner, cache and queue commands: `refresh`, `cache-period`, `cache-resource`,
//! `view-jobs`, `view-timeouts`, `view-cache`, `clear-cache`, `clear-timeouts`, `worker`.
//!
//! With the in-process queue (no Redis configured) nothing outside this process could run a
//! queued job, so the planner commands run what they queued before exiting.

use std::process::ExitCode;
use std::time::Duration;

use vantage_core::Config;
use vantage_core::cache::keys;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};
use vantage_core::deployment::Deployment;
use vantage_core::statistics::jobs::plan_to_fixed_point;
use vantage_core::statistics::service::{Outcome, Statistics, Suggestion};
use vantage_core::worker::WorkerOptions;

use super::open_deployment;
use crate::cli::{CachePeriodArgs, CacheResourceArgs, ClearCacheArgs, ClearTimeoutsArgs, JsonArg, PlanArgs, WorkerArgs};
use crate::output::table;

const LEASE: Duration = Duration::from_secs(60);

/// Runs `plan`; on the in-process queue (and not a dry run) to a fixed point, running what it
/// queued until a round queues nothing new ([`plan_to_fixed_point`]); then prints.
async fn plan_and_finish(stats: &Statistics, args: &PlanArgs, plan: impl AsyncFn() -> vantage_core::Result<Vec<Suggestion>>) -> anyhow::Result<ExitCode> {
    let (suggestions, ran) = if stats.queue.kind() == "memory" && !args.dry_run { plan_to_fixed_point(stats, LEASE, plan).await? } else { (plan().await?, 0) };
    stats.store.close().await;
    if args.json {
        println!("{}", serde_json::to_string(&suggestions)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = suggestions
        .iter()
        .map(|s| {
            let outcome = match &s.outcome {
                Outcome::Queued { job_id } => format!("queued {job_id}"),
                Outcome::WouldQueue => "would queue (dry run)".into(),
                Outcome::Pending => "already queued or running".into(),
                Outcome::UpToDate => "up to date (timeout pending)".into(),
                Outcome::Blocked { on } => format!("waits for {on} aggregation"),
                Outcome::NothingToDo => "nothing to do".into(),
            };
            vec![s.key.clone(), s.queue.clone(), outcome]
        })
        .collect();
    print!("{}", table(&["key", "queue", "outcome"], &rows));
    let queued = suggestions.iter().filter(|s| matches!(s.outcome, Outcome::Queued { .. })).count();
    println!("{queued} queued{}", if ran > 0 { format!(", {ran} run in this process (in-process queue)") } else { String::new() });
    Ok(ExitCode::SUCCESS)
}

/// `vantage refresh`
pub async fn refresh(config: &Config, args: PlanArgs) -> anyhow::Result<ExitCode> {
    let stats = open_deployment(config).await?.stats;
    plan_and_finish(&stats, &args, async || stats.refresh(args.dry_run).await).await
}

/// `vantage cache-period`
pub async fn cache_period(config: &Config, args: CachePeriodArgs) -> anyhow::Result<ExitCode> {
    let period: Period = args.period.parse()?;
    let stats = open_deployment(config).await?.stats;
    plan_and_finish(&stats, &args.plan, async || stats.cache_period(period, args.plan.dry_run).await).await
}

/// `vantage cache-resource`
pub async fn cache_resource(config: &Config, args: CacheResourceArgs) -> anyhow::Result<ExitCode> {
    let resource = resources::find(&args.name)?;
    let period: Period = args.period.parse()?;
    let params = Params::for_resource(resource, args.params.ip.as_deref(), args.params.password.as_deref(), &args.params.device_token)?;
    let stats = open_deployment(config).await?.stats;
    plan_and_finish(&stats, &args.plan, async || Ok(vec![stats.suggest_caching(resource, period, &params, args.plan.dry_run).await?])).await
}

/// `vantage view-jobs`
pub async fn view_jobs(config: &Config, args: JsonArg) -> anyhow::Result<ExitCode> {
    let stats = open_deployment(config).await?.stats;
    let snap = stats.queue.snapshot().await?;
    stats.store.close().await;
    if args.json {
        println!("{}", serde_json::to_string(&snap)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = Vec::new();
    for (q, jobs) in &snap.queued {
        for j in jobs {
            rows.push(vec!["queued".into(), q.clone(), j.id.clone(), j.key.clone(), j.enqueued_at.to_rfc3339(), String::new()]);
        }
    }
    for r in &snap.running {
        rows.push(vec!["running".into(), r.job.queue.clone(), r.job.id.clone(), r.job.key.clone(), r.worker.clone(), format!("lease {} ms", r.lease_left_ms)]);
    }
    for j in &snap.failed {
        rows.push(vec!["failed".into(), j.queue.clone(), j.id.clone(), j.key.clone(), j.enqueued_at.to_rfc3339(), j.error.clone().unwrap_or_default()]);
    }
    print!("{}", table(&["state", "queue", "id", "key", "when/worker", "detail"], &rows));
    println!(
        "{} queued, {} running, {} failed ({} queue)",
        snap.queued.iter().map(|(_, j)| j.len()).sum::<usize>(),
        snap.running.len(),
        snap.failed.len(),
        stats.queue.kind()
    );
    Ok(ExitCode::SUCCESS)
}

async fn print_entries(stats: &Statistics, prefix: &str, json: bool, what: &str) -> anyhow::Result<ExitCode> {
    let entries = stats.cache.scan(prefix).await?;
    stats.store.close().await;
    if json {
        println!("{}", serde_json::to_string(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> =
        entries.iter().map(|e| vec![e.key[prefix.len()..].to_string(), e.ttl_seconds.map_or("-".into(), |s| format!("{s} s")), e.size.to_string()]).collect();
    print!("{}", table(&[what, "ttl", "bytes"], &rows));
    println!("{} entries, {} bytes ({} cache)", entries.len(), entries.iter().map(|e| e.size).sum::<u64>(), stats.cache.kind());
    Ok(ExitCode::SUCCESS)
}

/// `vantage view-timeouts`
pub async fn view_timeouts(config: &Config, args: JsonArg) -> anyhow::Result<ExitCode> {
    let stats = open_deployment(config).await?.stats;
    print_entries(&stats, "vantage:timeout:", args.json, "timeout").await
}

/// `vantage view-cache`
pub async fn view_cache(config: &Config, args: JsonArg) -> anyhow::Result<ExitCode> {
    let stats = open_deployment(config).await?.stats;
    print_entries(&stats, &keys::resource(""), args.json, "resource").await
}

/// `vantage clear-cache`
pub async fn clear_cache(config: &Config, args: ClearCacheArgs) -> anyhow::Result<ExitCode> {
    let stats = open_deployment(config).await?.stats;
    let prefix = if args.all { keys::PREFIX.to_string() } else { keys::resource("") };
    let all: Vec<String> = stats.cache.scan(&prefix).await?.into_iter().map(|e| e.key).collect();
    let n = stats.cache.del(&all).await?;
    stats.store.close().await;
    println!("cleared {n} {}", if args.all { "keys" } else { "cached resources" });
    Ok(ExitCode::SUCCESS)
}

/// `vantage clear-timeouts`
pub async fn clear_timeouts(config: &Config, args: ClearTimeoutsArgs) -> anyhow::Result<ExitCode> {
    let stats = open_deployment(config).await?.stats;
    let n = stats.clear_timeouts(&args.kind, &args.period).await?;
    stats.store.close().await;
    println!("cleared {n} {} timeouts of {}", args.kind, args.period);
    Ok(ExitCode::SUCCESS)
}

/// A watch channel that turns true on SIGTERM or Ctrl-C.
fn shutdown_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        tracing::info!("stopping");
        let _ = tx.send(true);
    });
    rx
}

/// `vantage serve`: the HTTP API; with the in-process queue it also runs workers (and the
/// planner) inside the server process, since nothing else could run its jobs.
pub async fn serve(config: &Config, args: crate::cli::ServeArgs) -> anyhow::Result<ExitCode> {
    let deployment = open_deployment(config).await?;
    let stats = &deployment.backends;
    let rx = shutdown_signal();
    let embedded = stats.in_process();
    let workers = embedded.then(|| tokio::spawn(deployment.workers(WorkerOptions::default(), rx.clone())));
    let mut stop = rx.clone();
    let api = deployment.http_api(args.password_rate);
    eprintln!(
        "serving http://{} ({} store, {} cache{})",
        args.listen,
        stats.store.backend(),
        stats.cache.kind(),
        if embedded { ", in-process workers" } else { "" }
    );
    let options = vantage_core::http::ServeOptions {
        header_timeout: Duration::from_secs(args.header_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        allowed_hosts: args.allowed_hosts,
    };
    vantage_core::http::serve_with(args.listen, api.server, api.router, options, async move {
        let _ = stop.wait_for(|v| *v).await;
    })
    .await?;
    if let Some(w) = workers {
        let _ = w.await;
    }
    deployment.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `vantage worker` / `vantage --worker`
pub async fn worker(config: &Config, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let deployment: Deployment = open_deployment(config).await?;
    let mut options = WorkerOptions {
        concurrency: args.concurrency.max(1),
        schedule: !args.no_schedule,
        lease: Duration::from_secs(args.lease_secs.max(1)),
        ..WorkerOptions::default()
    };
    if !args.queues.is_empty() {
        options.queues = args.queues;
    }
    vantage_core::jobs::ordered(&options.queues)?;
    let rx = shutdown_signal();
    let stats = &deployment.backends;
    eprintln!(
        "worker {} serving {} with {} slots ({} queue, {} store)",
        options.name,
        options.queues.join(","),
        options.concurrency,
        stats.queue.kind(),
        stats.store.backend()
    );
    deployment.workers(options, rx).await?;
    deployment.close().await;
    Ok(ExitCode::SUCCESS)
}
