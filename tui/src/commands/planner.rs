//! Planner, cache and queue commands: `refresh`, `cache-period`, `cache-resource`,
//! `view-jobs`, `view-timeouts`, `view-cache`, `clear-cache`, `clear-timeouts`, `worker`,
//! `serve` (these two also follow the `[dynfw]` feed when it is configured).
//!
//! With the in-process queue (no Redis configured) nothing outside this process could run a
//! queued job, so the planner commands run what they queued before exiting.

use std::process::ExitCode;
use std::time::Duration;

use vantage_core::Config;
use vantage_core::cache::keys;
use vantage_core::engine::Engine;
use vantage_core::engine::ops::{Plan, Planned};
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};
use vantage_core::statistics::service::Outcome;
use vantage_core::worker::WorkerOptions;

use super::open_engine;
use crate::cli::{CachePeriodArgs, CacheResourceArgs, ClearCacheArgs, ClearTimeoutsArgs, JsonArg, PlanArgs, WorkerArgs};
use crate::output::table;

/// Plans; not a dry run, it sees the plan done ([`vantage_core::engine::ops::OpsApi::settle`]:
/// on the in-process queue, running what it queued until a round queues nothing new); then
/// prints.
async fn plan_and_finish(config: &Config, args: &PlanArgs, plan: Plan) -> anyhow::Result<ExitCode> {
    let engine = open_engine(config).await?;
    let planned = if args.dry_run { engine.ops().plan(&plan, true).await.map(|suggestions| Planned { suggestions, ran: 0 }) } else { engine.ops().settle(&plan).await };
    engine.close().await;
    let Planned { suggestions, ran } = planned?;
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
    let ids: Vec<&str> = suggestions
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::Queued { job_id } => Some(job_id.as_str()),
            _ => None,
        })
        .collect();
    let jobs = ids.iter().collect::<std::collections::HashSet<_>>().len();
    let ran = if ran > 0 { format!(", {ran} run in this process (in-process queue)") } else { String::new() };
    // keys of one data type and level share a job (one scan of their table)
    println!("{} queued in {jobs} jobs{ran}", ids.len());
    Ok(ExitCode::SUCCESS)
}

/// `vantage refresh`
pub async fn refresh(config: &Config, args: PlanArgs) -> anyhow::Result<ExitCode> {
    plan_and_finish(config, &args, Plan::Refresh).await
}

/// `vantage cache-period`
pub async fn cache_period(config: &Config, args: CachePeriodArgs) -> anyhow::Result<ExitCode> {
    let period: Period = args.period.parse()?;
    plan_and_finish(config, &args.plan, Plan::Period(period)).await
}

/// `vantage cache-resource`
pub async fn cache_resource(config: &Config, args: CacheResourceArgs) -> anyhow::Result<ExitCode> {
    let resource = resources::find(&args.name)?;
    let period: Period = args.period.parse()?;
    let params = Params::for_resource(resource, args.params.ip.as_deref(), args.params.password.as_deref(), &args.params.device_token)?;
    plan_and_finish(config, &args.plan, Plan::Resource { resource, period, params }).await
}

/// `vantage view-jobs`
pub async fn view_jobs(config: &Config, args: JsonArg) -> anyhow::Result<ExitCode> {
    let engine = open_engine(config).await?;
    let snap = engine.ops().jobs().await;
    engine.close().await;
    let snap = snap?;
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
        engine.queue_kind()
    );
    Ok(ExitCode::SUCCESS)
}

async fn print_entries(engine: &Engine, prefix: &str, json: bool, what: &str) -> anyhow::Result<ExitCode> {
    let entries = engine.ops().entries(prefix).await;
    engine.close().await;
    let entries = entries?;
    if json {
        println!("{}", serde_json::to_string(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> =
        entries.iter().map(|e| vec![e.key[prefix.len()..].to_string(), e.ttl_seconds.map_or("-".into(), |s| format!("{s} s")), e.size.to_string()]).collect();
    print!("{}", table(&[what, "ttl", "bytes"], &rows));
    println!("{} entries, {} bytes ({} cache)", entries.len(), entries.iter().map(|e| e.size).sum::<u64>(), engine.cache_kind());
    Ok(ExitCode::SUCCESS)
}

/// `vantage view-timeouts`
pub async fn view_timeouts(config: &Config, args: JsonArg) -> anyhow::Result<ExitCode> {
    let engine = open_engine(config).await?;
    print_entries(&engine, "vantage:timeout:", args.json, "timeout").await
}

/// `vantage view-cache`
pub async fn view_cache(config: &Config, args: JsonArg) -> anyhow::Result<ExitCode> {
    let engine = open_engine(config).await?;
    print_entries(&engine, &keys::resource(""), args.json, "resource").await
}

/// `vantage clear-cache`
pub async fn clear_cache(config: &Config, args: ClearCacheArgs) -> anyhow::Result<ExitCode> {
    let engine = open_engine(config).await?;
    let n = engine.ops().clear_cache(args.all).await;
    engine.close().await;
    let n = n?;
    println!("cleared {n} {}", if args.all { "keys" } else { "cached resources" });
    Ok(ExitCode::SUCCESS)
}

/// `vantage clear-timeouts`
pub async fn clear_timeouts(config: &Config, args: ClearTimeoutsArgs) -> anyhow::Result<ExitCode> {
    let engine = open_engine(config).await?;
    let n = engine.ops().clear_timeouts(&args.kind, &args.period).await;
    engine.close().await;
    let n = n?;
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
    let loopback = args.listen.ip().is_loopback();
    if !loopback && !args.public {
        eprintln!(
            "error: --listen {} would serve the API to other machines; pass --public to mean it (and set [serve] tokens_file so that every route asks for a token)",
            args.listen
        );
        return Ok(ExitCode::from(2));
    }
    let tokens = vantage_core::http::tokens::ServeSettings::from_config(config)?
        .tokens_file
        .map(|path| vantage_core::http::tokens::Tokens::load(&path).map(|t| (path, t)))
        .transpose()?;
    match &tokens {
        Some((path, t)) if t.is_empty() => eprintln!("warning: {} holds no token: every route but /healthz answers 401 (vantage token add NAME)", path.display()),
        Some((path, t)) => eprintln!("API tokens required ({} in {})", t.len(), path.display()),
        None if !loopback => eprintln!("warning: serving {} beyond loopback WITHOUT API tokens: anyone who reaches it can read everything (set [serve] tokens_file)", args.listen),
        None => {}
    }
    if !loopback {
        eprintln!("warning: --public: the API listens on {} and is reachable from other machines", args.listen);
    }
    let engine = open_engine(config).await?;
    let rx = shutdown_signal();
    let embedded = engine.in_process_queue();
    let workers = embedded.then(|| {
        let (engine, rx) = (engine.clone(), rx.clone());
        tokio::spawn(async move { engine.ops().run_workers(WorkerOptions::default(), rx).await })
    });
    let mut stop = rx.clone();
    // before the API is built, so that it serves /dynfw/list.json and /dynfw/ws
    let dynfw = start_dynfw(&engine)?;
    let api = engine.http_api(args.password_rate);
    eprintln!(
        "serving http://{} ({} store, {} cache{})",
        args.listen,
        engine.store_backend(),
        engine.cache_kind(),
        if embedded { ", in-process workers" } else { "" }
    );
    let options = vantage_core::http::ServeOptions {
        header_timeout: Duration::from_secs(args.header_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        allowed_hosts: args.allowed_hosts,
        tokens: tokens.map(|(_, t)| std::sync::Arc::new(t)),
    };
    vantage_core::http::serve_with(args.listen, api.server, api.router, options, async move {
        let _ = stop.wait_for(|v| *v).await;
    })
    .await?;
    if let Some(w) = workers {
        let _ = w.await;
    }
    stop_dynfw(dynfw);
    engine.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Starts the `[dynfw]` feed when the section is there (none: no feed).
fn start_dynfw(engine: &Engine) -> anyhow::Result<Option<vantage_core::dynfw::service::FeedHandle>> {
    let feed = engine.dynfw().start()?;
    if let (Some(_), Some(config)) = (&feed, engine.dynfw().config()) {
        eprintln!("following DynFW {} (state in {})", config.endpoint, config.dir.display());
    }
    Ok(feed)
}

/// Stops the feed [`start_dynfw`] started and saves its state.
fn stop_dynfw(feed: Option<vantage_core::dynfw::service::FeedHandle>) {
    if let Some(feed) = feed {
        feed.stop();
        if let Err(e) = feed.save(chrono::Utc::now()) {
            tracing::warn!("dynfw: could not save the state: {e}");
        }
    }
}

/// `vantage worker` / `vantage --worker`
pub async fn worker(config: &Config, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let engine = open_engine(config).await?;
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
    eprintln!(
        "worker {} serving {} with {} slots ({} queue, {} store)",
        options.name,
        options.queues.join(","),
        options.concurrency,
        engine.queue_kind(),
        engine.store_backend()
    );
    // the worker keeps the feed's saved state current for the other front ends
    let dynfw = start_dynfw(&engine)?;
    let ran = engine.ops().run_workers(options, rx).await;
    stop_dynfw(dynfw);
    ran?;
    engine.close().await;
    Ok(ExitCode::SUCCESS)
}
