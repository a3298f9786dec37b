//! PostgreSQL restarted under a running `vantage serve` and `vantage worker` (a cluster of the
//! test's own on a spare port, Redis of its own too): during the outage `/healthz` answers 503
//! naming the store, cached resources are still answered from Redis, a computation asked for
//! during the outage is queued and taken by the worker; after PostgreSQL is back (within the
//! store pool's 10 s acquire timeout) both processes recover by themselves (same pids, no
//! restart) and the queued job is completed, none failed.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use vantage_tests::process::{self, Killed, PgCluster, RedisServer, free_port, get, get_within, ok, until};

const NOW: &str = "2024-06-15T12:40:00Z";
const GRAPH: &str = "/api/resource?name=all_incidents_graph&period=1h";

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn alive(child: &mut Killed) -> bool {
    matches!(child.0.try_wait(), Ok(None))
}

/// A deployment on a PostgreSQL cluster and a Redis of the test's own: sview's development
/// data ingested, `serve` answering and one worker (`--no-schedule`, 2 s leases) logging to
/// `log`.
struct Deployment {
    pg: PgCluster,
    redis: RedisServer,
    _dir: tempfile::TempDir,
    flags: Vec<String>,
    server: Killed,
    worker: Killed,
    port: u16,
    log: std::path::PathBuf,
}

impl Deployment {
    fn start() -> Deployment {
        let pg = PgCluster::start();
        pg.create_db("vantage");
        let redis = RedisServer::start(None);
        let dir = tempfile::tempdir().expect("dir");
        let flags = vec!["--data-dir".to_string(), dir.path().display().to_string(), "--database-url".into(), pg.url("vantage"), "--redis-url".into(), redis.url(None)];
        let cmd = |extra: &[&str]| command(&flags, extra);
        let data = dir.path().join("sview.jsonl");
        std::fs::write(&data, vantage_tests::sview::testdata_jsonl()).expect("write");
        ok(&mut cmd(&["ingest", "sentinel", data.to_str().expect("utf8")]));
        let port = free_port();
        let server = Killed(cmd(&["serve", "--listen", &format!("127.0.0.1:{port}")]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("serve"));
        until(Duration::from_secs(20), "serve", || get(port, "/healthz").filter(|(s, _, _)| *s == 200));
        let log = dir.path().join("worker.log");
        let worker = Killed(
            cmd(&["worker", "--concurrency", "1", "--no-schedule", "--lease-secs", "2"])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log"))
                .spawn()
                .expect("worker"),
        );
        Deployment { pg, redis, _dir: dir, flags, server, worker, port, log }
    }

    /// `vantage` with this deployment's flags and `extra`.
    fn cmd(&self, extra: &[&str]) -> Command {
        command(&self.flags, extra)
    }
}

fn command(flags: &[String], extra: &[&str]) -> Command {
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &args)
}

#[test]
fn postgres_restart_degrades_serve_and_worker_and_both_recover_by_themselves() {
    let mut d = Deployment::start();
    let port = d.port;
    // the server queues the computation, the worker fills the cache
    let (_, _, cached) = until(Duration::from_secs(30), "the graph computed by the worker", || {
        get(port, GRAPH).filter(|(s, _, b)| *s == 200 && !b.contains("\"data\":null"))
    });
    assert_eq!(json(&cached)["data"].as_array().map(Vec::len), Some(55), "{cached}");

    d.pg.stop();
    assert!(!d.pg.listening(), "PostgreSQL is down");
    let (status, _, body) = get_within(port, "/healthz", Some(Duration::from_secs(5))).expect("/healthz answers within 5 s");
    assert_eq!(status, 503, "{body}");
    let health = json(&body);
    assert_eq!(health["status"], "degraded", "{body}");
    assert!(health["reason"].as_str().is_some_and(|r| r.contains("store unavailable")), "{body}");
    assert!(health["store"].as_str().is_some_and(|r| r.contains("store unavailable")), "{body}");
    assert_eq!(health["cache"], "redis", "the cache is fine: {body}");

    // what Redis holds is still answered: the cached graph, unchanged, and the job list
    let (status, _, body) = get_within(port, GRAPH, Some(Duration::from_secs(5))).expect("cached resource answers within 5 s");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["data"], json(&cached)["data"], "{body}");
    let (status, _, body) = get_within(port, "/api/jobs/", Some(Duration::from_secs(5))).expect("jobs answer");
    assert_eq!(status, 200, "{body}");

    // a computation asked for during the outage is queued (data null for now) and taken by
    // the worker, which waits for a store connection (the pool's 10 s acquire timeout)
    let asked = "/api/resource?name=selected_attacker_incidents_graph&period=1h&ip=192.0.2.1";
    let (status, _, body) = get_within(port, asked, Some(Duration::from_secs(5))).expect("answer");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"data\":null"), "not computed yet: {body}");
    until(Duration::from_secs(5), "the worker holding the job during the outage", || {
        let out = Command::new("redis-cli").args(["-p", &d.redis.port.to_string(), "HVALS", "vantage:running:worker"]).output().ok()?;
        (!String::from_utf8_lossy(&out.stdout).trim().is_empty()).then_some(())
    });
    assert!(alive(&mut d.worker) && alive(&mut d.server), "both processes keep running during the outage");

    d.pg.restart();
    let (_, _, body) = until(Duration::from_secs(30), "/healthz ok again", || get(port, "/healthz").filter(|(s, _, _)| *s == 200));
    assert_eq!(json(&body)["store"], "postgres", "{body}");
    let (_, _, body) = until(Duration::from_secs(30), "the job queued during the outage completed", || {
        get(port, asked).filter(|(s, _, b)| *s == 200 && !b.contains("\"data\":null"))
    });
    assert!(json(&body)["data"].is_array(), "{body}");
    // and new work still flows through the same worker after the outage
    let fresh = "/api/resource?name=all_attackers_graph&period=1h";
    until(Duration::from_secs(30), "a job queued after the outage completed", || get(port, fresh).filter(|(s, _, b)| *s == 200 && !b.contains("\"data\":null")));
    let jobs = json(&ok(&mut d.cmd(&["view-jobs", "--json"])));
    assert_eq!(jobs["failed"].as_array().map(Vec::len), Some(0), "no job failed: {jobs}");
    assert!(alive(&mut d.worker) && alive(&mut d.server), "no restart of the Vantage processes");
}

/// An outage longer than the store pool's acquire timeout (10 s): the job a worker takes during
/// it finds the store unavailable and is put back in its queue (not failed, its attempts
/// unchanged); after PostgreSQL returns it is completed and none is left failed.
#[test]
fn a_job_taken_during_a_long_postgres_outage_is_completed_after_it() {
    let mut d = Deployment::start();
    let port = d.port;
    until(Duration::from_secs(20), "the worker connected", || std::fs::read_to_string(&d.log).ok().filter(|l| l.contains("serving")));
    d.pg.stop();
    let asked = "/api/resource?name=selected_attacker_incidents_graph&period=1h&ip=192.0.2.1";
    let (status, _, body) = get_within(port, asked, Some(Duration::from_secs(5))).expect("answer");
    assert_eq!(status, 200, "{body}");
    // the outage lasts until the worker has given up on its store connection
    until(Duration::from_secs(30), "the worker giving up on the store", || std::fs::read_to_string(&d.log).ok().filter(|l| l.contains("pool timed out")));
    let put_back = std::fs::read_to_string(&d.log).expect("log");
    assert!(put_back.contains("job put back"), "{put_back}");
    d.pg.restart();
    until(Duration::from_secs(30), "/healthz ok again", || get(port, "/healthz").filter(|(s, _, _)| *s == 200));
    until(Duration::from_secs(40), "the job taken during the outage completed", || get(port, asked).filter(|(s, _, b)| *s == 200 && !b.contains("\"data\":null")));
    let jobs = json(&ok(&mut d.cmd(&["view-jobs", "--json"])));
    assert_eq!(jobs["failed"].as_array().map(Vec::len), Some(0), "a job taken during the outage was failed, not retried: {jobs}");
}
