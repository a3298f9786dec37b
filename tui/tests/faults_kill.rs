//! Fault tests with real services: `kill -9` of a `vantage worker` (PostgreSQL + a Redis queue
//! of the test's own) in the middle of (a) the daily aggregation of a big day, (b) a resource
//! caching job, (c) the merge step of a capture job (the stand-in sensors, `merger =
//! "mergecap"` with a `mergecap` on the worker's PATH that writes part of its output and holds
//! until told). Every kill is synchronised on observable state (the job list, PostgreSQL's
//! `pg_stat_activity`, the job's status file), never on a fixed sleep. After a fresh worker:
//! no job lost, none left queued or running, none failed, the window aggregated once (its sums
//! equal the source's), every resource cached, no partial `merged.pcap` ever served.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::{Connection, PgConnection};
use vantage_tests::process::{self, Killed, RedisServer, free_port, http, ok, until};
use vantage_tests::steno_standin::{Standin, filter_pcap, issue, make_ca, pcap_dir, sensor_toml};

const NOW: &str = "2024-06-15T12:40:00Z";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A test database on the shared PostgreSQL, a redis-server of the test's own, the Sentinel
/// View test data ingested, and the flags naming them.
struct Deployment {
    pg: vantage_tests::TestPg,
    redis: RedisServer,
    dir: tempfile::TempDir,
    flags: Vec<String>,
}

impl Deployment {
    async fn new() -> Deployment {
        let pg = vantage_tests::TestPg::create().await;
        let redis = RedisServer::start(None);
        let dir = tempfile::tempdir().expect("dir");
        let flags = vec!["--data-dir".into(), dir.path().display().to_string(), "--database-url".into(), pg.url.clone(), "--redis-url".into(), redis.url(None)];
        let d = Deployment { pg, redis, dir, flags };
        let data = d.dir.path().join("sview.jsonl");
        std::fs::write(&data, vantage_tests::sview::testdata_jsonl()).expect("write");
        ok(&mut d.cmd(&["ingest", "sentinel", data.to_str().expect("utf8")]));
        d
    }

    fn cmd(&self, extra: &[&str]) -> Command {
        let mut args: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &args)
    }

    /// A worker on `queues` with a 2 s lease, no scheduling, its log in `<dir>/<name>.log`.
    fn worker(&self, name: &str, queues: &str, concurrency: u32) -> Killed {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).expect("log");
        let c = concurrency.to_string();
        Killed(
            self.cmd(&["worker", "--queues", queues, "--concurrency", &c, "--no-schedule", "--lease-secs", "2"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        )
    }

    fn jobs(&self) -> Value {
        json(&ok(&mut self.cmd(&["view-jobs", "--json"])))
    }

    /// A raw Redis command on the test's own server.
    fn redis_cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli").args(["-p", &self.redis.port.to_string()]).args(args).output().expect("redis-cli");
        assert!(out.status.success(), "redis-cli {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// Every queued job (all queues) of a `view-jobs --json` answer.
fn queued(jobs: &Value) -> Vec<Value> {
    jobs["queued"].as_array().expect("queued").iter().flat_map(|q| q[1].as_array().cloned().unwrap_or_default()).collect()
}

/// Whether the job list holds no queued and no running job.
fn idle(jobs: &Value) -> bool {
    queued(jobs).is_empty() && jobs["running"].as_array().is_some_and(Vec::is_empty)
}

/// The key of the job worker `pid` is running, if any.
fn running_by(jobs: &Value, pid: u32) -> Option<String> {
    jobs["running"].as_array()?.iter().find(|r| r["worker"].as_str().is_some_and(|w| w.contains(&format!(":{pid}#")))).and_then(|r| r["job"]["key"].as_str().map(String::from))
}

fn sigkill(mut child: Killed) {
    child.0.kill().expect("kill -9");
    child.0.wait().expect("reaped");
}

fn sigterm(mut child: Killed) {
    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().expect("kill -TERM");
    let status = child.0.wait().expect("wait");
    assert!(status.success(), "worker exits cleanly on SIGTERM: {status:?}");
}

/// Statements of other sessions in database `db` that are running now and match `like`.
async fn active(conn: &mut PgConnection, db: &str, like: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE $2")
        .bind(db)
        .bind(like)
        .fetch_one(conn)
        .await
        .expect("pg_stat_activity")
}

/// (a) A big day of hourly rows (400,000 groups) is aggregated daily by worker A; it is
/// killed while its `INSERT … incidents_daily` runs. Nothing of it was committed; worker B
/// gets the job when A's lease expires and aggregates the day exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_daily_aggregation_of_a_big_day() {
    let d = Deployment::new().await;
    let mut conn = PgConnection::connect(&d.pg.url).await.expect("connect");
    const ROWS: i64 = 400_000;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO incidents_hourly (time, raw_count, identity_id, trap, action, ip, country)
         SELECT timestamptz '2024-06-14 00:00+00' + (g % 24) * interval '1 hour', 1 + g % 7, (SELECT min(id) FROM identity),
                'minipot_telnet', 'connect', inet '10.0.0.0' + g, 'CZ'
         FROM generate_series(0, {} - 1) g",
        ROWS
    )))
    .execute(&mut conn)
    .await
    .expect("a big day of hourly rows");
    // this window's quarterly and hourly runs count as done: the planner queues the daily one
    for p in ["quarterly", "hourly"] {
        d.redis_cli(&["SET", &format!("vantage:timeout:aggregation:{p}"), "1", "EX", "600"]);
    }
    let refresh = ok(&mut d.cmd(&["refresh", "--json"]));
    assert!(refresh.contains("\"key\":\"aggregation:daily\",\"queue\":\"aggregation\",\"outcome\":\"queued\""), "{refresh}");

    let a = d.worker("worker-a", "aggregation", 1);
    let a_pid = a.0.id();
    until(Duration::from_secs(30), "worker A inserting the daily aggregate", || {
        let inserting = futures_lite(active(&mut conn, &d.pg.name, "%insert%incidents_daily%"));
        (inserting > 0).then_some(())
    });
    assert_eq!(running_by(&d.jobs(), a_pid).as_deref(), Some("aggregation:daily"), "A holds the job while its statement runs");
    sigkill(a);
    let committed: i64 = sqlx::query_scalar("SELECT count(*) FROM vantage_aggregation_window WHERE precision = 'daily'").fetch_one(&mut conn).await.expect("q");
    assert_eq!(committed, 0, "the killed run committed nothing");

    // B also serves the cache queues: the 1h resources the refresh queued must complete too
    let b = d.worker("worker-b", "aggregation,quick-cache,slow-cache", 2);
    let jobs = until(Duration::from_secs(60), "the re-queued daily job (and every other) to complete", || Some(d.jobs()).filter(idle));
    assert_eq!(jobs["failed"].as_array().map(Vec::len), Some(0), "{jobs}");
    let (windows, runs, rec_rows, rec_sum): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(runs), 0)::bigint, coalesce(sum(incidents_rows), 0)::bigint, coalesce(sum(incidents_sum), 0)::bigint
         FROM vantage_aggregation_window WHERE precision = 'daily'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("windows");
    assert_eq!((windows, runs), (1, 1), "the day [06-14, 06-15) aggregated exactly once");
    let (src_rows, src_sum): (i64, i64) =
        sqlx::query_as("SELECT count(*), sum(raw_count)::bigint FROM incidents_hourly WHERE time >= '2024-06-14 00:00+00' AND time < '2024-06-15 00:00+00'")
            .fetch_one(&mut conn)
            .await
            .expect("source");
    let (rows, sum): (i64, i64) =
        sqlx::query_as("SELECT count(*), sum(raw_count)::bigint FROM incidents_daily WHERE time >= '2024-06-14 00:00+00' AND time < '2024-06-15 00:00+00'")
            .fetch_one(&mut conn)
            .await
            .expect("target");
    assert!(src_rows >= ROWS, "{src_rows}");
    assert_eq!((rec_rows, rec_sum), (src_rows, src_sum), "the recorded fingerprint is the source's");
    assert_eq!(sum, src_sum, "aggregated sum = raw sum (nothing counted twice or lost)");
    let groups: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT DISTINCT identity_id, trap, action, ip, country FROM incidents_hourly WHERE time >= '2024-06-14 00:00+00' AND time < '2024-06-15 00:00+00') g",
    )
    .fetch_one(&mut conn)
    .await
    .expect("groups");
    assert_eq!(rows, groups, "one daily row per group");
    let log = std::fs::read_to_string(d.dir.path().join("worker-b.log")).unwrap_or_default();
    assert!(log.contains("re-queued") || log.contains("requeued"), "worker B re-queued A's expired lease: {log}");
    sigterm(b);
    let _ = conn.close().await;
    d.pg.drop_db().await;
}

/// Awaits `f` on the current runtime from synchronous code (the polling closures).
fn futures_lite<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// (b) `vantage refresh` queues the 1h resources (one shared job per data type); worker A
/// computes them one job at a time while the statistics tables are locked by the test, so its
/// job waits inside PostgreSQL; A is killed there. Worker B finishes every job: each queued resource is cached, none failed,
/// nothing left queued or running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_resource_caching() {
    let d = Deployment::new().await;
    ok(&mut d.cmd(&["clear-cache", "--all"]));
    let a = d.worker("worker-a", "quick-cache,slow-cache", 1);
    let a_pid = a.0.id();
    let a_log = d.dir.path().join("worker-a.log");
    until(Duration::from_secs(20), "worker A connected", || std::fs::read_to_string(&a_log).ok().filter(|l| l.contains("serving")));

    let mut locker = PgConnection::connect(&d.pg.url).await.expect("connect");
    sqlx::raw_sql("BEGIN; LOCK TABLE incidents, passwords, ports, incidents_quarterly, passwords_quarterly, ports_quarterly IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .expect("lock the statistics tables");
    let refresh = json(&ok(&mut d.cmd(&["refresh", "--json"])));
    let planned: Vec<Value> = refresh.as_array().cloned().unwrap_or_else(|| refresh["suggestions"].as_array().cloned().unwrap_or_default());
    let resources: Vec<String> = planned
        .iter()
        .filter(|s| s["outcome"] == "queued" && s["key"].as_str().is_some_and(|k| k.starts_with("resource:")))
        .map(|s| s["key"].as_str().expect("key").to_string())
        .collect();
    assert!(resources.len() >= 20, "the 1h resources are queued: {refresh}");

    let mut conn = PgConnection::connect(&d.pg.url).await.expect("connect");
    let victim = until(Duration::from_secs(30), "worker A's job waiting inside PostgreSQL", || {
        let waiting: i64 = futures_lite(
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND state = 'active'")
                .bind(&d.pg.name)
                .fetch_one(&mut conn),
        )
        .expect("pg_stat_activity");
        if waiting == 0 {
            return None;
        }
        running_by(&d.jobs(), a_pid)
    });
    // one shared job per data type computes the 1h resources of its table
    assert!(victim.starts_with("resources:") && victim.ends_with(":1h"), "{victim}");
    sigkill(a);
    sqlx::raw_sql("COMMIT").execute(&mut locker).await.expect("unlock");

    let b = d.worker("worker-b", "aggregation,quick-cache,slow-cache", 2);
    let jobs = until(Duration::from_secs(60), "every resource job to complete", || Some(d.jobs()).filter(idle));
    assert_eq!(jobs["failed"].as_array().map(Vec::len), Some(0), "{jobs}");
    let cache = json(&ok(&mut d.cmd(&["view-cache", "--json"])));
    let cached = cache.to_string();
    for key in &resources {
        let id = key.trim_start_matches("resource:");
        assert!(cached.contains(&format!("\"{id}\"")) || cached.contains(&format!("resource:{id}\"")), "{key} cached: {cache}");
    }
    // the resources of the job A died in, and every other, are cached with their data computed
    for key in &resources {
        let value = d.redis_cli(&["GET", &format!("vantage:{key}")]);
        assert!(!value.is_empty() && !value.contains("\"data\":null"), "{key} (A died in {victim}): {value}");
    }
    sigterm(b);
    let _ = locker.close().await;
    let _ = conn.close().await;
    d.pg.drop_db().await;
}

/// Certificates, two stand-in sensors and a `mergecap` that holds mid-write.
struct Capture {
    dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
    _sensors: Vec<Standin>,
    config: PathBuf,
    _redis: RedisServer,
    bin: PathBuf,
}

impl Capture {
    fn new() -> Capture {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = make_ca(dir.path(), "ca");
        let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
        let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let sensors: Vec<Standin> = (0..2).map(|_| rt.block_on(Standin::start(&ca.cert, &server, &pcap_dir().join("android.pcap")))).collect();
        let redis = RedisServer::start(None);
        let config = dir.path().join("vantage.toml");
        let mut text = format!("redis_url = \"{}\"\n[pcap]\nidle_sleep = \"100ms\"\nmerger = \"mergecap\"\n", redis.url(None));
        for (name, s) in ["alpha", "beta"].iter().zip(&sensors) {
            text.push_str(&sensor_toml(name, s.port, &ca.cert, &client));
        }
        std::fs::write(&config, text).expect("config");
        // `mergecap` for the workers: unless `go` exists, writes the first 100 bytes of an
        // input as its output, records its pid and waits for `go`; then runs the real one
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin");
        let real = Command::new("sh").args(["-c", "command -v mergecap"]).output().expect("sh");
        let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
        assert!(!real.is_empty(), "mergecap (wireshark-common) is required");
        let ctl = dir.path();
        let script = format!(
            "#!/bin/sh\nif [ ! -e '{c}/go' ]; then\n  head -c 100 \"$5\" > \"$4\"\n  echo $$ > '{c}/holding.pid'\n  while [ ! -e '{c}/go' ]; do sleep 0.05; done\nfi\nexec '{real}' \"$@\"\n",
            c = ctl.display()
        );
        std::fs::write(bin.join("mergecap"), script).expect("script");
        Command::new("chmod").args(["+x"]).arg(bin.join("mergecap")).status().expect("chmod");
        Capture { dir, _rt: rt, _sensors: sensors, config, _redis: redis, bin }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let data = self.data();
        let mut all = vec!["--config", self.config.to_str().expect("utf8"), "--data-dir", data.to_str().expect("utf8")];
        all.extend_from_slice(args);
        let mut c = process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &all);
        c.env("PATH", format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap_or_default()));
        c
    }

    fn worker(&self, name: &str) -> Killed {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).expect("log");
        Killed(
            self.cmd(&["worker", "--queues", "pcap-query,pcap-io", "--lease-secs", "1", "--no-schedule"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        )
    }

    fn status(&self, id: &str) -> Option<Value> {
        serde_json::from_slice(&std::fs::read(self.data().join("pcap").join(id).join("status.json")).ok()?).ok()
    }
}

/// A GET of the capture: 404/409 (not there yet) or 200 with its bytes.
fn fetch(port: u16, id: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = http(port, "GET", &format!("/results/{id}/merged.pcap"), &[], b"").expect("answer");
    assert!([200, 404, 409].contains(&status), "GET merged.pcap: {status} {}", String::from_utf8_lossy(&body));
    (status, body)
}

fn packets(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().expect("4 bytes")) as usize;
        assert!(off + 16 + incl <= bytes.len(), "truncated packet record at {off}");
        off += 16 + incl;
        n += 1;
    }
    assert_eq!(off, bytes.len(), "trailing bytes");
    n
}

/// (c) Two sensors answer; the merge (`pcap-io`) runs in worker A, whose mergecap has written
/// part of `merged.pcap.tmp` when A is killed (and its mergecap with it). While it is written,
/// after the kill and until worker B completes the job, every GET of the capture is 404 or the
/// whole merged file; the job ends Completed with both answers merged and nothing else left.
#[test]
fn worker_killed_mid_merge_never_serves_a_partial_capture() {
    let c = Capture::new();
    let port = free_port();
    let _server = Killed(c.cmd(&["serve", "--listen", &format!("127.0.0.1:{port}")]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("serve"));
    until(Duration::from_secs(30), "vantage serve", || process::get(port, "/healthz").filter(|(s, _, _)| *s == 200));
    let (status, _, body) = http(port, "GET", "/api/uri/host/192.168.2.1", &[], b"").expect("answer");
    assert_eq!(status, 302, "{}", String::from_utf8_lossy(&body));
    let job = json(&String::from_utf8_lossy(&body));
    let id = job["id"].as_str().expect("id").to_string();
    let query = job["query"].as_str().expect("query").to_string();
    let job_dir = c.data().join("pcap").join(&id);

    let a = c.worker("worker-a");
    let holding = c.dir.path().join("holding.pid");
    until(Duration::from_secs(30), "worker A's mergecap writing merged.pcap.tmp", || {
        (holding.is_file() && job_dir.join("merged.pcap.tmp").is_file() && c.status(&id)?["state"] == "Merging").then_some(())
    });
    assert_eq!(fetch(port, &id).0, 404, "nothing served while the merge writes");
    sigkill(a);
    let pid = std::fs::read_to_string(&holding).expect("pid").trim().to_string();
    let _ = Command::new("kill").args(["-KILL", &pid]).status();
    assert_eq!(fetch(port, &id).0, 404, "nothing served after the merging worker died");
    assert_eq!(c.status(&id).expect("status")["state"], "Merging", "the job is left mid-merge");

    std::fs::write(c.dir.path().join("go"), "").expect("go");
    let _b = c.worker("worker-b");
    let mut served = Vec::new();
    let done = until(Duration::from_secs(60), "worker B to complete the job", || {
        let (status, body) = fetch(port, &id);
        if status == 200 {
            served.push(body);
        }
        let s = c.status(&id)?;
        ["Completed", "Failed", "Error", "Cancelled"].contains(&s["state"].as_str().unwrap_or("")).then_some(s)
    });
    assert_eq!(done["state"], "Completed", "{done}");
    assert_eq!(done["successes"], serde_json::json!(["alpha", "beta"]), "{done}");
    let spooled = std::fs::read(job_dir.join("merged.pcap")).expect("merged.pcap");
    let (status, body) = fetch(port, &id);
    assert_eq!(status, 200);
    assert_eq!(body, spooled);
    let expected = filter_pcap(&std::fs::read(pcap_dir().join("android.pcap")).expect("capture"), &query).expect("filtered");
    assert!(packets(&expected) > 0);
    assert_eq!(packets(&spooled), 2 * packets(&expected), "both answers merged completely");
    assert_eq!(done["bytes"].as_u64(), Some(spooled.len() as u64), "{done}");
    for earlier in &served {
        assert_eq!(earlier, &spooled, "a capture served while the job ran is the complete one");
    }
    let mut left: Vec<String> = std::fs::read_dir(&job_dir).expect("job dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, [".lock", "merged.pcap", "query.json", "status.json"], "no answer or partial output left");
    let jobs = json(&ok(&mut c.cmd(&["view-jobs", "--json"])));
    assert!(idle(&jobs) && jobs["failed"].as_array().is_some_and(Vec::is_empty), "{jobs}");
}
