//! The real `vantage` binary: demo on the embedded default with no server, imports with bad
//! lines, aggregation commands, one-line errors and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use vantage_tests::process::free_port;

const NOW: &str = "2024-06-15T12:40:00Z";

fn vantage(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vantage"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--now", NOW])
        .args(args)
        .env_remove("VANTAGE_DATABASE_URL")
        .env_remove("VANTAGE_REDIS_URL")
        .env_remove("VANTAGE_CONFIG")
        .current_dir(dir)
        .output()
        .expect("run vantage")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn demo_fills_the_embedded_store_deterministically() {
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let out_a = vantage(a.path(), &["demo", "--no-tui", "--seed", "5", "--scale", "0.02"]);
    assert!(out_a.status.success(), "{}", text(&out_a.stderr));
    assert!(a.path().join("vantage.db").is_file(), "SQLite file created on first use");
    let stdout_a = text(&out_a.stdout);
    assert!(stdout_a.contains("demo device token"), "{stdout_a}");
    let table = |s: &str| s.lines().skip_while(|l| !l.starts_with("table")).collect::<Vec<_>>().join("\n");
    let out_b = vantage(b.path(), &["demo", "--no-tui", "--seed", "5", "--scale", "0.02"]);
    assert_eq!(table(&stdout_a), table(&text(&out_b.stdout)), "same seed and --now, same data");
    let incidents_daily = table(&stdout_a).lines().find(|l| l.starts_with("incidents_daily")).map(str::to_string).expect("row");
    assert!(!incidents_daily.split_whitespace().any(|c| c == "0"), "daily table filled: {incidents_daily}");

    // a second demo on the same store does not double the data
    let again = vantage(a.path(), &["demo", "--no-tui"]);
    assert!(text(&again.stdout).contains("already holds"));
    assert_eq!(table(&text(&again.stdout)), table(&stdout_a));
}

#[test]
fn ingest_reports_bad_lines_with_file_and_line() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("reports.csv");
    std::fs::write(&file, "time,sn,device_token,trap,action,ip,country\n2024-06-15T12:00:00Z,S1,tok,minipot_ftp,connect,192.0.2.1,CZ\n2024-06-15T12:01:00Z,S1,tok,minipot_ftp,knock,192.0.2.1,CZ\n").expect("write");
    let out = vantage(dir.path(), &["ingest", "sentinel", file.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3), "valid rows stored, bad ones reported: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("reports.csv:3: action: `knock` is not a valid action"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 1 rows"), "{}", text(&out.stdout));

    let strict = vantage(dir.path(), &["ingest", "sentinel", "--strict", file.to_str().expect("utf8")]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(text(&strict.stdout).contains("nothing imported"));

    // stdin, JSON Lines sniffed from the first byte
    let mut child = Command::new(env!("CARGO_BIN_EXE_vantage"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["ingest", "sentinel", "--json", "-"])
        .env_remove("VANTAGE_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"time\":\"2024-06-15T12:02:00Z\",\"port\":23,\"protocol\":\"TCP\"}\n")
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(json["rows"]["ports"], 1);
    assert_eq!(json["committed"], true);
}

#[test]
fn aggregation_commands_and_one_line_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("p.jsonl");
    std::fs::write(&file, "{\"time\":\"2024-06-15T12:20:00Z\",\"username\":\"root\",\"password\":\"admin\",\"raw_count\":4}\n").expect("write");
    assert!(vantage(dir.path(), &["ingest", "sentinel", file.to_str().expect("utf8")]).status.success());

    let dry = vantage(dir.path(), &["aggregate-period", "quarterly", "-d"]);
    assert!(text(&dry.stdout).contains("[2024-06-15 12:15, 2024-06-15 12:30)"), "{}", text(&dry.stdout));
    let run = vantage(dir.path(), &["aggregate-period", "quarterly", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    assert_eq!((json["inserted"].as_u64(), json["rows_written"].as_u64()), (Some(1), Some(1)));
    let rerun = vantage(dir.path(), &["aggregate-period", "quarterly", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&rerun.stdout).expect("json");
    assert_eq!((json["inserted"].as_u64(), json["skipped"].as_u64()), (Some(0), Some(3)), "exactly once");

    let migrate = vantage(dir.path(), &["migrate-period", "hourly", "--days", "2", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&migrate.stdout).expect("json");
    assert_eq!(json["windows"].as_u64(), Some(48));

    let bad = vantage(dir.path(), &["aggregate-period", "weekly"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = text(&bad.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("valid: quarterly, hourly, daily"), "{err}");

    for (args, expected) in [
        (&["resource", "nope", "1h"][..], "valid: all_incidents_graph"),
        (&["resource", "all_incidents_graph", "2h"][..], "valid: 1h, 6h, 1d, 1w, 1m, 3m, 1y"),
        (&["resource", "all_incidents_graph", "1h", "--ip", "192.0.2.1"][..], "takes no ip parameter"),
        (&["clear-timeouts", "everything", "1h"][..], "valid: aggregation, resource"),
        (&["worker", "--queues", "fast"][..], "valid: aggregation, quick-cache, slow-cache"),
    ] {
        let out = vantage(dir.path(), args);
        let err = text(&out.stderr);
        assert_eq!((out.status.code(), err.trim().lines().count()), (Some(1), 1), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }

    let bad_now = Command::new(env!("CARGO_BIN_EXE_vantage")).args(["--now", "tomorrow", "migrate-period", "daily"]).output().expect("run");
    assert!(text(&bad_now.stderr).contains("not an RFC 3339 date-time"), "{}", text(&bad_now.stderr));
}

#[test]
fn database_passwords_are_never_printed() {
    let dir = tempfile::tempdir().expect("dir");
    let out = vantage(dir.path(), &["--database-url", "postgres://vantage:s3cr3t-pw@127.0.0.1:1/sview", "migrate-period", "daily"]);
    assert!(!out.status.success());
    let all = text(&out.stderr) + &text(&out.stdout);
    assert!(!all.contains("s3cr3t-pw"), "{all}");
    assert!(all.contains("postgres://vantage:***@127.0.0.1:1/sview"), "{all}");
}

/// Issue 12 item 8: on the in-process queue a one-shot `refresh` plans again after running
/// what it queued, so the 6h … 1y resources (which wait for the quarterly aggregation) are
/// computed in the same run instead of being blocked in every run.
#[test]
fn one_shot_refresh_on_the_embedded_queue_runs_to_a_fixed_point() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = vantage(dir.path(), &["demo", "--no-tui", "--seed", "3", "--scale", "0.01"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let out = vantage(dir.path(), &["refresh", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let suggestions = json.as_array().expect("array");
    for period in ["1h", "6h", "1d", "1w", "1m", "3m", "1y"] {
        let of_period: Vec<&serde_json::Value> =
            suggestions.iter().filter(|s| s["key"].as_str().is_some_and(|k| k.starts_with("resource:") && k.ends_with(&format!(":{period}")))).collect();
        assert!(!of_period.is_empty(), "{period}: planned: {json}");
        for s in of_period {
            assert_eq!(s["outcome"], "queued", "{period}: every resource queued (and run) in this one run: {s}");
        }
    }
    for p in ["quarterly", "hourly", "daily"] {
        let agg = suggestions.iter().find(|s| s["key"] == format!("aggregation:{p}")).expect("aggregation planned");
        assert_eq!(agg["outcome"], "queued", "{agg}");
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains("blocked"), "nothing left waiting: {json}");
}

#[test]
fn directories_out_of_range_counts_and_huge_values_are_refused_with_located_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let sub = dir.path().join("reports");
    std::fs::create_dir(&sub).expect("mkdir");
    let sub = sub.to_str().expect("utf8");
    for command in [&["ingest", "sentinel"][..], &["passwords", "import"], &["events", "import"]] {
        let out = vantage(dir.path(), &[command, &[sub]].concat());
        let err = text(&out.stderr);
        assert_eq!((out.status.code(), err.trim().lines().count()), (Some(1), 1), "{command:?}: {err}");
        assert!(err.contains(&format!("{sub}: is a directory, expected a file")) && !err.contains("os error"), "{command:?}: {err}");
    }

    let file = dir.path().join("p.jsonl");
    let row = |count: i64, user: &str, password: &str| format!("{{\"time\":\"2024-06-15T12:20:00Z\",\"raw_count\":{count},\"username\":\"{user}\",\"password\":\"{password}\"}}\n");
    let long = "é".repeat(513);
    std::fs::write(&file, [row(1_000_000_000, "root", "admin"), row(1_000_000_001, "root", "admin"), row(0, "root", "admin"), row(1, "root", &long), row(1, &long, "admin")].concat()).expect("write");
    let out = vantage(dir.path(), &["ingest", "sentinel", "p.jsonl"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).lines().collect::<Vec<_>>(),
        [
            "p.jsonl:2: raw_count: must be between 1 and 1000000000 (got 1000000001)",
            "p.jsonl:3: raw_count: must be between 1 and 1000000000 (got 0)",
            "p.jsonl:4: password: longer than 1024 bytes",
            "p.jsonl:5: username: longer than 1024 bytes",
        ]
    );
    assert!(text(&out.stdout).contains("imported 1 rows"), "{}", text(&out.stdout));
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, format!("time,raw_count,username,password\n2024-06-15T12:21:00Z,2,root,admin2\n2024-06-15T12:22:00Z,1,root,{long}\n")).expect("write");
    let out = vantage(dir.path(), &["ingest", "sentinel", "p.csv"]);
    assert_eq!((out.status.code(), text(&out.stderr).trim()), (Some(3), "p.csv:3: password: longer than 1024 bytes"));
    let run = vantage(dir.path(), &["aggregate-period", "quarterly", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    assert_eq!(json["rows_written"].as_u64(), Some(2), "both imports kept their valid rows: {json}");
}

#[test]
fn an_overflowing_window_is_reported_once_and_later_windows_are_still_aggregated() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("p.jsonl");
    std::fs::write(&file, "{\"time\":\"2024-06-15T11:05:00Z\",\"username\":\"root\",\"password\":\"admin\",\"raw_count\":2}\n").expect("write");
    assert!(vantage(dir.path(), &["ingest", "sentinel", "p.jsonl"]).status.success());
    // rows no import accepts (raw SQL): their sum overflows 64 bits in the quarter 10:30
    let micros = |at: &str| chrono::DateTime::parse_from_rfc3339(at).expect("time").timestamp_micros();
    let sql = format!(
        "INSERT INTO passwords (time, raw_count, username, password) VALUES ({}, 1, 'root', 'a'), ({}, {}, 'root', 'b')",
        micros("2024-06-15T10:35:00Z"),
        micros("2024-06-15T10:40:00Z"),
        i64::MAX
    );
    let db = dir.path().join("vantage.db");
    tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", db.display())).await.expect("open");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("insert");
    });

    let out = vantage(dir.path(), &["migrate-period", "quarterly", "--days", "1", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a failed window makes the run fail");
    let err = text(&out.stderr);
    assert_eq!(err.trim(), "error: quarterly window [2024-06-15 10:30, 2024-06-15 10:45): table passwords: integer overflow", "named once: {err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["failed"].as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!((json["windows"].as_u64(), json["inserted"].as_u64()), (Some(95), Some(1)), "the later window 11:00 was aggregated: {json}");
    let hourly = vantage(dir.path(), &["migrate-period", "hourly", "--days", "1", "--json"]);
    assert!(hourly.status.success(), "{}", text(&hourly.stderr));
}

#[test]
fn config_parse_errors_name_file_line_and_key_but_not_the_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("vantage.toml"), "now = \"2024-06-15T12:40:00Z\"\ndatabse_url = \"postgres://u:s3cret@host/db\"\n").expect("write");
    let out = vantage(dir.path(), &["migrate-period", "daily"]);
    let err = text(&out.stderr);
    assert_eq!((out.status.code(), err.trim().lines().count()), (Some(1), 1), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains("vantage.toml:2:1: unknown field `databse_url`"), "{err}");

    // a value quoted back by the parser is masked as well
    std::fs::write(dir.path().join("vantage.toml"), "pcap = \"postgres://u:s3cret@host/db\"\n").expect("write");
    let err = text(&vantage(dir.path(), &["migrate-period", "daily"]).stderr);
    assert!(!err.contains("s3cret") && err.contains("vantage.toml:1:8: "), "{err}");
}

#[test]
fn urls_that_do_not_parse_are_still_redacted() {
    let dir = tempfile::tempdir().expect("dir");
    for (flag, url, shown) in [
        ("--database-url", "postgres:/u:s3cret@host/x", "postgres:/u:***@host/x"),
        ("--database-url", "mysql://u:s3cret@host:99999/x", "mysql://u:***@host:99999/x"),
        ("--redis-url", "redis://u:s3cret@[::1/0", "redis://u:***@[::1/0"),
    ] {
        let out = vantage(dir.path(), &[flag, url, "view-jobs"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(!err.contains("s3cret"), "{url}: {err}");
        assert!(err.contains(shown), "{url}: {err}");
    }
}

#[test]
fn connection_errors_name_the_redacted_url_and_each_cause_once() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let redis = format!("redis://:s3cret@127.0.0.1:{port}");
    let out = vantage(dir.path(), &["--redis-url", &redis, "view-jobs"]);
    let err = text(&out.stderr);
    assert_eq!((out.status.code(), err.trim().lines().count()), (Some(1), 1), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains(&format!("redis: redis://:***@127.0.0.1:{port}")), "{err}");
    assert_eq!(err.to_lowercase().matches("connection refused").count(), 1, "{err}");

    let pg = format!("postgres://postgres:s3cret@127.0.0.1:{port}/x");
    let out = vantage(dir.path(), &["--database-url", &pg, "migrate-period", "daily"]);
    let err = text(&out.stderr);
    assert!(!err.contains("s3cret") && err.contains(&format!("postgres://postgres:***@127.0.0.1:{port}/x")), "{err}");

    // an error repeating its source in its own message: the cause is printed once
    let missing = dir.path().join("missing.toml");
    let out = vantage(dir.path(), &["--config", missing.to_str().expect("utf8"), "view-jobs"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("missing.toml: "), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "the cause once: {err}");

    // the eventDB and passy sources: same masking
    for args in [&["events", "import", "--eventdb-url", pg.as_str()][..], &["passwords", "import", "--from-passy", pg.as_str()][..]] {
        let out = vantage(dir.path(), args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(!err.contains("s3cret"), "{args:?}: {err}");
    }
}

#[test]
fn remote_password_checks_show_neither_the_password_nor_the_hash_prefix() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let remote = format!("http://u:s3cret@127.0.0.1:{port}");
    // SHA-1 of "password" starts with 5BAA6: that prefix is what would be sent
    let out = vantage(dir.path(), &["passwords", "check", "--remote", &remote, "password"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(!err.to_uppercase().contains("5BAA6"), "{err}");
    assert!(err.contains(&format!("http://u:***@127.0.0.1:{port}/range/…")), "{err}");
    assert!(err.to_lowercase().contains("connect"), "the cause is shown: {err}");

    let out = vantage(dir.path(), &["passwords", "check", "--remote", "ftp://u:s3cret@host", "password"]);
    let err = text(&out.stderr);
    assert!(!err.contains("s3cret") && err.contains("ftp://u:***@host"), "{err}");
}
