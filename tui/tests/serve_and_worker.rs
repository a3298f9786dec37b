//! The real binary as a server and as workers: the HTTP resource API on the embedded default,
//! and a Redis-queue worker killed with SIGKILL mid-job whose job another worker finishes once.

use std::process::{Command, Stdio};
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use vantage_tests::process::{self, Killed, free_port, get, ok, until};

const NOW: &str = "2024-06-15T12:40:00Z";

fn vantage(args: &[&str]) -> Command {
    process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, args)
}

fn sview_jsonl(dir: &std::path::Path) -> std::path::PathBuf {
    let f = dir.join("sview.jsonl");
    std::fs::write(&f, vantage_tests::sview::testdata_jsonl()).expect("write");
    f
}

#[test]
fn http_resource_api_on_the_embedded_default() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    let data = sview_jsonl(dir.path());
    ok(&mut vantage(&["--data-dir", d, "ingest", "sentinel", data.to_str().expect("utf8")]));
    let port = free_port();
    let _server = Killed(vantage(&["--data-dir", d, "serve", "--listen", &format!("127.0.0.1:{port}")]).stderr(Stdio::null()).spawn().expect("serve"));
    let (status, _, body) = until(Duration::from_secs(20), "server", || get(port, "/healthz"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"store\":\"sqlite\""), "{body}");

    // the first request queues the computation (data null), the in-process worker fills it
    let path = "/api/resource?name=all_incidents_graph&period=1h";
    let (status, headers, body) = until(Duration::from_secs(20), "computed resource", || {
        get(port, path).filter(|(_, _, b)| !b.contains("\"data\":null"))
    });
    assert_eq!(status, 200);
    assert!(headers.contains("cache-control: max-age=30"), "{headers}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["resource_name"], "all_incidents_graph");
    assert_eq!(json["data"].as_array().map(Vec::len), Some(55));
    assert_eq!(json["data"][54], serde_json::json!({"bucket": "2024-06-15 12:35", "count": 4}));

    for (bad, expect) in [
        ("/api/resource?name=nope&period=1h", "valid: all_incidents_graph"),
        ("/api/resource?name=all_incidents_graph&period=2h", "valid: 1h, 6h"),
        ("/api/resource?name=all_incidents_graph&period=1h&color=red", "unknown parameter `color`"),
        ("/api/resource?name=selected_attacker_incidents_graph&period=1h&ip=not-an-ip", "not an IPv4"),
        ("/api/resource?period=1h", "missing parameter `name`"),
    ] {
        let (status, _, body) = get(port, bad).expect("answer");
        assert_eq!(status, 400, "{bad}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON error body");
        assert!(json["error"].as_str().is_some_and(|e| e.contains(expect)), "{bad}: {body}");
    }
    let (status, _, body) = get(port, "/metrics").expect("metrics");
    assert_eq!(status, 200);
    assert!(body.contains("vantage_resource_client_errors_total 5"), "{body}");
    assert_eq!(get(port, "/nothing-here").map(|r| r.0), Some(404));

    // on-demand computations are rate-limited per client: 30 a minute, then 429 with
    // Retry-After (the 1h graph above counted unless the server's own planner queued it first)
    let mut statuses = Vec::new();
    for i in 1..=32 {
        let (status, headers, _) = get(port, &format!("/api/resource?name=selected_attacker_incidents_graph&period=1h&ip=192.0.2.{i}")).expect("answer");
        statuses.push(status);
        if status == 429 {
            assert!(headers.contains("retry-after: 60"), "{headers}");
        }
    }
    let allowed = statuses.iter().take_while(|s| **s == 200).count();
    assert!(allowed == 29 || allowed == 30, "{statuses:?}");
    assert!(statuses[allowed..].iter().all(|s| *s == 429), "{statuses:?}");
    // reading an already computed value is not a computation
    assert_eq!(get(port, path).map(|r| r.0), Some(200));
}

#[tokio::test]
async fn redis_worker_killed_mid_job_is_replaced_and_the_job_completes_once() {
    let pg = vantage_tests::TestPg::create().await;
    let redis = vantage_tests::redis_url();
    let dir = tempfile::tempdir().expect("dir");
    let data = sview_jsonl(dir.path());
    let common = ["--database-url", pg.url.as_str(), "--redis-url", redis.as_str()];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend_from_slice(extra);
        vantage(&args)
    };
    ok(&mut with(&["clear-cache", "--all"]));
    ok(&mut with(&["ingest", "sentinel", data.to_str().expect("utf8")]));

    // hold the quarterly aggregation lock so the job blocks mid-run in worker A
    let mut holder = PgConnection::connect(&pg.url).await.expect("connect");
    sqlx::query("SELECT pg_advisory_lock($1)").bind(0x5641_4e54_0000_i64).execute(&mut holder).await.expect("lock");
    let refresh = ok(&mut with(&["refresh", "--json"]));
    assert!(refresh.contains("\"key\":\"aggregation:quarterly\",\"queue\":\"aggregation\",\"outcome\":\"queued\""), "{refresh}");

    let a = Killed(with(&["worker", "--queues", "aggregation", "--concurrency", "1", "--no-schedule", "--lease-secs", "2"]).stderr(Stdio::null()).spawn().expect("worker A"));
    let a_pid = a.0.id();
    until(Duration::from_secs(20), "worker A running the aggregation", || {
        let jobs = ok(&mut with(&["view-jobs", "--json"]));
        let v: serde_json::Value = serde_json::from_str(&jobs).ok()?;
        v["running"].as_array()?.iter().any(|r| r["job"]["key"] == "aggregation:quarterly" && r["worker"].as_str().is_some_and(|w| w.contains(&format!(":{a_pid}#")))).then_some(())
    });
    // SIGKILL: no chance to clean up
    let mut a = a;
    a.0.kill().expect("kill -9");
    a.0.wait().expect("reaped");
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(0x5641_4e54_0000_i64).execute(&mut holder).await.expect("unlock");

    let mut b = Killed(with(&["worker", "--queues", "aggregation", "--concurrency", "1", "--no-schedule", "--lease-secs", "2"]).stderr(Stdio::null()).spawn().expect("worker B"));
    until(Duration::from_secs(40), "the re-queued job to complete", || {
        let jobs = ok(&mut with(&["view-jobs", "--json"]));
        let v: serde_json::Value = serde_json::from_str(&jobs).ok()?;
        let busy = v["running"].as_array()?.iter().chain(v["queued"][0][1].as_array()?).any(|r| r.to_string().contains("aggregation:quarterly"));
        (!busy).then_some(v)
    });
    let jobs: serde_json::Value = serde_json::from_str(&ok(&mut with(&["view-jobs", "--json"]))).expect("json");
    assert_eq!(jobs["failed"].as_array().map(Vec::len), Some(0), "{jobs}");
    let (windows, runs, rows): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(runs), 0)::bigint, (SELECT count(*) FROM incidents_quarterly) FROM vantage_aggregation_window WHERE precision = 'quarterly'",
    )
    .fetch_one(&mut holder)
    .await
    .expect("query");
    assert_eq!((windows, runs), (1, 1), "the window [12:15, 12:30) aggregated exactly once");
    assert_eq!(rows, 2, "12:29:56 telnet + 12:24:56 http");

    // graceful stop on SIGTERM
    let pid = b.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
    let status = b.0.wait().expect("wait");
    assert!(status.success(), "worker exits cleanly on SIGTERM: {status:?}");
    let _ = holder.close().await;
    ok(&mut with(&["clear-cache", "--all"]));
    pg.drop_db().await;
}
