//! `vantage serve` and `vantage worker` on PostgreSQL + a redis-server of the test's own (never
//! the shared one): during an outage /healthz answers 503 at once, /api/resource answers from
//! the store marked degraded, /api/jobs/ 503 JSON, CLI commands fail naming Redis; after
//! Redis returns — also after a detour through another password — everything works again
//! without restarting the processes.

use std::process::{Command, Stdio};
use std::time::Duration;

use vantage_tests::process::{self, Killed, RedisServer, free_port, get, get_within, ok, until};

const NOW: &str = "2024-06-15T12:40:00Z";
const PASSWORD: &str = "s3cret-redis";
const GRAPH: &str = "/api/resource?name=all_incidents_graph&period=1h";

fn vantage(args: &[&str]) -> Command {
    process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, args)
}

/// PostgreSQL with the Sentinel View test data, Redis with a password, and the common flags.
struct Deployment {
    pg: vantage_tests::TestPg,
    redis: RedisServer,
    flags: Vec<String>,
    dir: tempfile::TempDir,
}

impl Deployment {
    async fn new() -> Deployment {
        let pg = vantage_tests::TestPg::create().await;
        let redis = RedisServer::start(Some(PASSWORD));
        let dir = tempfile::tempdir().expect("dir");
        let flags = vec!["--data-dir".into(), dir.path().display().to_string(), "--database-url".into(), pg.url.clone(), "--redis-url".into(), redis.url(Some(PASSWORD))];
        let d = Deployment { pg, redis, flags, dir };
        let data = d.dir.path().join("sview.jsonl");
        std::fs::write(&data, vantage_tests::sview::testdata_jsonl()).expect("write");
        ok(&mut d.cmd(&["ingest", "sentinel", data.to_str().expect("utf8")]));
        d
    }

    fn cmd(&self, extra: &[&str]) -> Command {
        let mut args: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        vantage(&args)
    }

    fn serve(&self, port: u16) -> Killed {
        let server = Killed(self.cmd(&["serve", "--listen", &format!("127.0.0.1:{port}")]).stderr(Stdio::null()).spawn().expect("serve"));
        let (status, _, body) = until(Duration::from_secs(20), "server", || get(port, "/healthz"));
        assert_eq!(status, 200, "{body}");
        server
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn a_redis_outage_degrades_the_server_and_it_recovers_by_itself() {
    let mut d = Deployment::new().await;
    let port = free_port();
    let _server = d.serve(port);
    let (status, _, body) = get(port, GRAPH).expect("answer");
    assert_eq!(status, 200, "{body}");
    assert!(json(&body).get("degraded").is_none(), "{body}");

    d.redis.stop();
    // the probe gives up after its 1 s timeout, a refused connection at once; the client allows
    // 5 s so a server stuck in Redis reconnect attempts (formerly ~9.4 s) fails the test
    let (status, _, body) = get_within(port, "/healthz", Some(Duration::from_secs(5))).expect("/healthz answers 503 within 5 s");
    assert_eq!(status, 503, "{body}");
    let health = json(&body);
    assert_eq!(health["status"], "degraded", "{body}");
    assert_eq!(health["store"], "postgres", "{body}");
    assert!(health["reason"].as_str().is_some_and(|r| r.contains("cache unavailable")), "{body}");
    assert!(!body.contains(PASSWORD), "{body}");

    // resources come straight from the store, marked degraded
    let (status, headers, body) = get_within(port, GRAPH, Some(Duration::from_secs(5))).expect("resource answers within 5 s");
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains("x-vantage-degraded: cache unavailable"), "{headers}");
    let v = json(&body);
    assert_eq!(v["degraded"], true, "{body}");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(55), "{body}");
    assert_eq!(v["data"][54], serde_json::json!({"bucket": "2024-06-15 12:35", "count": 4}));

    // other Redis users: 503 with a JSON error, not 500
    let (status, _, body) = get(port, "/api/jobs/").expect("answer");
    assert_eq!(status, 503, "{body}");
    assert!(json(&body)["error"].as_str().is_some_and(|e| e.contains("redis")), "{body}");

    // a CLI command fails naming Redis with the password masked
    let out = d.cmd(&["view-jobs"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("redis: redis://:***@127.0.0.1:{}", d.redis.port)) && !err.contains(PASSWORD), "{err}");

    // Redis is back: the very next request is served from the cache path again
    d.redis.restart(Some(PASSWORD));
    let (status, headers, body) = get(port, GRAPH).expect("answer");
    assert_eq!(status, 200, "{body}");
    assert!(json(&body).get("degraded").is_none() && !headers.contains("x-vantage-degraded"), "{headers}\n{body}");
    let (status, _, body) = get(port, "/healthz").expect("answer");
    assert_eq!(status, 200, "{body}");
    d.pg.drop_db().await;
}

#[tokio::test]
async fn serve_and_worker_recover_after_redis_restarts_with_another_password() {
    let mut d = Deployment::new().await;
    let port = free_port();
    let _server = d.serve(port);
    let log = d.dir.path().join("worker.log");
    let log_file = std::fs::File::create(&log).expect("worker log");
    let _worker = Killed(d.cmd(&["worker", "--concurrency", "1", "--no-schedule"]).stderr(log_file).spawn().expect("worker"));
    // connected (it prints its banner after opening store, cache and queue)
    until(Duration::from_secs(20), "the worker connected", || std::fs::read_to_string(&log).ok().filter(|l| l.contains("serving")));

    // another password: authentication fails
    d.redis.restart(Some("another-password"));
    let body = until(Duration::from_secs(30), "/healthz reporting the authentication failure", || {
        get(port, "/healthz").filter(|(s, _, b)| *s == 503 && b.to_lowercase().contains("authentication")).map(|r| r.2)
    });
    assert!(!body.contains(PASSWORD), "{body}");

    // the right password again: both processes work again without a restart — the server
    // answers from the cache path and queues the computation, the worker computes it
    d.redis.restart(Some(PASSWORD));
    until(Duration::from_secs(30), "/healthz ok again", || get(port, "/healthz").filter(|(s, _, _)| *s == 200));
    let (_, _, body) = until(Duration::from_secs(40), "the resource computed by the worker", || {
        get(port, GRAPH).filter(|(s, _, b)| *s == 200 && !b.contains("\"data\":null") && !b.contains("degraded"))
    });
    assert_eq!(json(&body)["data"].as_array().map(Vec::len), Some(55), "{body}");
    d.pg.drop_db().await;
}
