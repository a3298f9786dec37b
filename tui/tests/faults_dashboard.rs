//! The dashboard in a real terminal (tmux) on a PostgreSQL cluster and a Redis of the test's
//! own (never the shared ones), with a `vantage worker` computing what it asks for: stopping
//! Redis, later PostgreSQL, puts the outage in the header within seconds while what was loaded
//! stays on the screen; once the service is back the header clears by itself and the views load
//! again — the same dashboard process, never restarted.

use std::process::{Command, Stdio};
use std::time::Duration;

use vantage_tests::process::{self, Killed, PgCluster, RedisServer, ok};
use vantage_tests::tmux::{self, Session};

const NOW: &str = "2024-06-15T12:40:00Z";

/// How long the header may take to show a change: the engine probes every 2 s and each probe
/// waits at most 1 s; generous, a guard against a hang (not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

fn command(flags: &[String], extra: &[&str]) -> Command {
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &args)
}

/// The overview with its data and nothing unavailable.
fn overview_loaded(s: &str) -> bool {
    s.contains("Top countries") && s.contains("total ") && s.contains("up to date") && !s.contains("loading") && !s.contains("UNAVAILABLE")
}

#[test]
fn the_dashboard_header_reports_redis_and_postgres_outages_while_they_last_and_recovers_by_itself() {
    let mut pg = PgCluster::start();
    pg.create_db("vantage");
    let mut redis = RedisServer::start(None);
    let dir = tempfile::tempdir().expect("dir");
    let flags = vec!["--data-dir".to_string(), dir.path().display().to_string(), "--database-url".into(), pg.url("vantage"), "--redis-url".into(), redis.url(None)];
    let data = dir.path().join("sview.jsonl");
    std::fs::write(&data, vantage_tests::sview::testdata_jsonl()).expect("write");
    ok(&mut command(&flags, &["ingest", "sentinel", data.to_str().expect("utf8")]));
    for precision in ["quarterly", "hourly"] {
        ok(&mut command(&flags, &["migrate-period", precision, "--days", "2"]));
    }
    // computes what the dashboard asks for; no planner, so the screen changes only for the test
    let _worker = Killed(command(&flags, &["worker", "--concurrency", "1", "--no-schedule", "--lease-secs", "2"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("worker"));

    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let s = Session::start("outage", &tmux::dashboard_command(env!("CARGO_BIN_EXE_vantage"), NOW, &args), 160, 40);
    let before = s.wait_for("the overview computed by the worker", overview_loaded);
    assert!(before.contains("postgres + redis"), "{before}");

    // Redis stops: the header says so; what was loaded stays on the screen
    redis.stop();
    let down = s.wait_for_within("the header naming the cache", PATIENCE, |s| s.contains("UNAVAILABLE: cache unavailable"));
    assert!(down.contains("Top countries") && down.contains("total ") && down.contains("showing what was loaded"), "{down}");
    assert!(!down.contains("up to date"), "{down}");
    // a period asked during the outage: the dashboard still answers keys
    s.keys(&["."]);
    s.wait_for_within("the period changed during the outage", PATIENCE, |s| s.contains("period 1w (Week)") && s.contains("UNAVAILABLE"));
    s.keys(&[","]);
    // back: the header clears and the overview loads again, nothing restarted
    redis.restart(None);
    let back = s.wait_for_within("the overview after Redis returned", PATIENCE, overview_loaded);
    assert!(back.contains("period 1d (Day)"), "{back}");

    // PostgreSQL stops: the header names the store; Redis still answers what it holds
    pg.stop();
    let down = s.wait_for_within("the header naming the store", PATIENCE, |s| s.contains("UNAVAILABLE: store unavailable"));
    assert!(down.contains("Top countries") && down.contains("total "), "{down}");
    assert!(!down.contains("cache unavailable"), "only the store is out: {down}");
    pg.restart();
    s.wait_for_within("the overview after PostgreSQL returned", PATIENCE, overview_loaded);
    // a tab never loaded before comes from the recovered store and cache
    s.keys(&["2"]);
    s.wait_for_within("top attackers after the outages", PATIENCE, |s| s.contains("Top attackers") && s.contains("│ip ") && s.contains("up to date"));
    s.quit_cleanly("Top attackers");
}
