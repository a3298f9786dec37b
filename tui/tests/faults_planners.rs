//! Many planners and workers at once on one PostgreSQL database and one Redis (a redis-server
//! of the test's own, watched with `MONITOR` so every enqueue of every process is seen): three
//! `vantage refresh` and three scheduling `vantage worker`s started together. Each job key is
//! queued exactly once, exactly one worker wins the scheduler lock and plans, every job
//! completes and the aggregation window is written once.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::{Connection, PgConnection};
use vantage_tests::process::{self, Killed, RedisServer, ok, until};

const NOW: &str = "2024-06-15T12:40:00Z";

/// The `(id, key)` of every key pushed onto a queue (a shared job once per member), from
/// `redis-cli monitor` output: a push is `HSET vantage:jobs <id> <job JSON>` +
/// `LPUSH vantage:q:<queue> <id>` in one MULTI.
fn pushes(monitor: &str) -> Vec<(String, String)> {
    let mut keys: HashMap<String, Vec<String>> = HashMap::new();
    let mut pushed = Vec::new();
    for line in monitor.lines() {
        let Some(cmd) = line.split_once("] ").map(|(_, c)| c) else { continue };
        let args: Vec<&str> = cmd.split("\" \"").map(|a| a.trim_matches('"')).collect();
        match args.as_slice() {
            ["HSET", "vantage:jobs", id, job, ..] => {
                let record: Value = serde_json::from_str(&job.replace("\\\"", "\"")).unwrap_or_else(|e| panic!("job record ({e}): {job}"));
                keys.entry(id.to_string()).or_insert_with(|| bookkeeping_keys(&record));
            }
            ["LPUSH", q, id] if q.starts_with("vantage:q:") => pushed.push(id.to_string()),
            _ => {}
        }
    }
    pushed
        .into_iter()
        .flat_map(|id| {
            let of_job = keys.get(&id).cloned().unwrap_or_else(|| panic!("job {id} pushed without its record"));
            of_job.into_iter().map(move |k| (id.clone(), k))
        })
        .collect()
}

/// The keys a job record stands for: a `cache_resources` job's members (one scan computes
/// them all), else the job's own key.
fn bookkeeping_keys(record: &Value) -> Vec<String> {
    match record["task"]["members"].as_array() {
        Some(members) if record["task"]["type"] == "cache_resources" => members
            .iter()
            .map(|m| format!("resource:{}:{}", m["name"].as_str().expect("name"), m["period"].as_str().expect("period")))
            .collect(),
        _ => vec![record["key"].as_str().expect("key").to_string()],
    }
}

/// The `(job id, key)` of every key a `vantage refresh --json` says it queued.
fn queued_by(out: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("refresh --json ({e}): {out}"));
    let list = v.as_array().unwrap_or_else(|| panic!("suggestions: {out}"));
    list.iter()
        .filter(|s| s["outcome"] == "queued")
        .map(|s| (s["job_id"].as_str().expect("job_id").to_string(), s["key"].as_str().expect("key").to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_planners_and_three_workers_queue_each_job_once_under_one_scheduler() {
    let pg = vantage_tests::TestPg::create().await;
    let redis = RedisServer::start(None);
    let dir = tempfile::tempdir().expect("dir");
    let flags = ["--data-dir".to_string(), dir.path().display().to_string(), "--database-url".into(), pg.url.clone(), "--redis-url".into(), redis.url(None)];
    let cmd = |extra: &[&str]| -> Command {
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &args)
    };
    let data = dir.path().join("sview.jsonl");
    std::fs::write(&data, vantage_tests::sview::testdata_jsonl()).expect("write");
    ok(&mut cmd(&["ingest", "sentinel", data.to_str().expect("utf8")]));

    let monitor_out = dir.path().join("monitor.txt");
    let _monitor = Killed(
        Command::new("redis-cli")
            .args(["-p", &redis.port.to_string(), "monitor"])
            .stdout(std::fs::File::create(&monitor_out).expect("monitor file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli monitor"),
    );
    until(Duration::from_secs(10), "MONITOR on", || std::fs::read_to_string(&monitor_out).ok().filter(|t| t.starts_with("OK")));

    // all at once: three workers (scheduling) and three one-shot planners
    let mut workers = Vec::new();
    for i in 0..3 {
        let log = dir.path().join(format!("worker{i}.log"));
        let child = cmd(&["worker", "--concurrency", "2", "--lease-secs", "5"]).env("RUST_LOG", "vantage_core=info").stdout(Stdio::null()).stderr(std::fs::File::create(&log).expect("log")).spawn().expect("worker");
        workers.push((Killed(child), log));
    }
    let planners: Vec<_> = (0..3).map(|_| cmd(&["refresh", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("refresh")).collect();
    let outputs: Vec<String> = planners
        .into_iter()
        .map(|p| {
            let out = p.wait_with_output().expect("refresh");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect();

    // one scheduler: exactly one worker planned, and it is the one holding the lock
    let planned = until(Duration::from_secs(30), "a worker's scheduler to plan", || {
        let planned: Vec<usize> = (0..3).filter(|i| std::fs::read_to_string(&workers[*i].1).is_ok_and(|l| l.contains("refresh planned"))).collect();
        (!planned.is_empty()).then_some(planned)
    });
    let holder = Command::new("redis-cli").args(["-p", &redis.port.to_string(), "GET", "vantage:lock:scheduler"]).output().expect("redis-cli");
    let holder = String::from_utf8_lossy(&holder.stdout).trim().to_string();
    let holders: Vec<usize> = (0..3).filter(|i| holder.contains(&format!(":{}#", workers[*i].0.0.id())) || holder.ends_with(&format!(":{}", workers[*i].0.0.id()))).collect();
    assert_eq!(holders.len(), 1, "the lock names one of the workers: {holder:?}");

    let jobs = until(Duration::from_secs(60), "every job to complete", || {
        let v: Value = serde_json::from_str(&ok(&mut cmd(&["view-jobs", "--json"]))).ok()?;
        let queued = v["queued"].as_array()?.iter().any(|q| q[1].as_array().is_some_and(|a| !a.is_empty()));
        (!queued && v["running"].as_array()?.is_empty()).then_some(v)
    });
    assert_eq!(jobs["failed"].as_array().map(Vec::len), Some(0), "{jobs}");
    let planned_again: Vec<usize> = (0..3).filter(|i| std::fs::read_to_string(&workers[*i].1).is_ok_and(|l| l.contains("refresh planned"))).collect();
    assert_eq!(planned_again, planned, "still one planning worker");
    assert_eq!(planned, holders, "the worker that planned holds the scheduler lock");

    for (w, _) in &workers {
        Command::new("kill").args(["-TERM", &w.0.id().to_string()]).status().expect("kill -TERM");
    }
    for (w, _) in &mut workers {
        let status = w.0.wait().expect("wait");
        assert!(status.success(), "{status:?}");
    }
    std::thread::sleep(Duration::from_millis(200)); // MONITOR's last lines reach the file
    let monitor = std::fs::read_to_string(&monitor_out).expect("monitor");
    let locks = monitor.lines().filter(|l| l.contains("\"vantage:lock:scheduler\"") && l.contains("\"NX\"")).count();
    assert!(locks >= 3, "every worker tried the scheduler lock: {locks}");

    // no duplicate jobs: every key pushed once (a shared job's members each once), and every
    // planner's "queued" was a push
    let pushed = pushes(&monitor);
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    for (_, key) in &pushed {
        *per_key.entry(key.as_str()).or_default() += 1;
    }
    let dups: Vec<_> = per_key.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "keys queued more than once: {dups:?}");
    assert!(per_key.contains_key("aggregation:quarterly"), "{per_key:?}");
    assert!(pushed.len() >= 20, "the 1h resources and the aggregation were queued: {}", pushed.len());
    let claimed: Vec<(String, String)> = outputs.iter().flat_map(|o| queued_by(o)).collect();
    let mut keys: Vec<&str> = claimed.iter().map(|(_, k)| k.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), claimed.len(), "two planners both claim to have queued a key: {claimed:?}");
    assert!(!claimed.is_empty(), "the planners queued something: {outputs:?}");
    for job in &claimed {
        assert!(pushed.contains(job), "{job:?} said queued but never pushed");
    }

    let mut conn = PgConnection::connect(&pg.url).await.expect("connect");
    let (windows, runs): (i64, i64) =
        sqlx::query_as("SELECT count(*), coalesce(sum(runs), 0)::bigint FROM vantage_aggregation_window WHERE precision = 'quarterly'").fetch_one(&mut conn).await.expect("q");
    assert_eq!((windows, runs), (1, 1), "the quarterly window aggregated once");
    let _ = conn.close().await;
    pg.drop_db().await;
}
