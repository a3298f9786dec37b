//! The real `vantage events` commands on the embedded default and on PostgreSQL: imports with
//! located rejections and exit codes, aggregation, the questions with the clock pinned, CSV /
//! PNG / SVG exports, the Grafana dashboard, one-line errors.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use vantage_tests::TestPg;
use vantage_tests::events::{event, fixture};
use vantage_tests::process::vantage;

const NOW: &str = "2010-03-01T12:00:00Z";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vantage")
}

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    vantage(bin(), NOW, &[&["--data-dir", dir.to_str().expect("utf8")], args].concat()).current_dir(dir).output().expect("run vantage")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", text(&out.stdout)))
}

#[test]
fn import_reports_rejections_and_questions_answer_with_exports() {
    let dir = tempfile::tempdir().expect("dir");
    let fixture = fixture();
    let out = run(dir.path(), &["events", "import", "--json", fixture.to_str().expect("utf8")]);
    let report = json(&out);
    assert_eq!((report["imported"].as_u64(), report["without_time_source"].as_u64()), (Some(409), Some(37)));
    assert_eq!(report["aggregation"]["days"].as_array().map(Vec::len), Some(90));

    // bad lines: located, the rest stored, exit 3; --strict: nothing, exit 1
    let bad = dir.path().join("bad.jsonl");
    let good = event("2010-02-11T08:00:00Z", "192.0.2.1", 64512, "vulnerable", "vulnerable-service", "shadowserver");
    std::fs::write(&bad, format!("{good}\n{{\"source.port\": -1}}\n")).expect("write");
    let strict = run(dir.path(), &["events", "import", "--strict", bad.to_str().expect("utf8")]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    assert!(text(&strict.stdout).contains("nothing imported"));
    let out = run(dir.path(), &["events", "import", bad.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim(), "bad.jsonl:2: source.port: port -1 is outside 0 … 65535".replace("bad.jsonl", bad.to_str().expect("utf8")));
    assert!(text(&out.stdout).contains("imported 1 events"), "{}", text(&out.stdout));

    // stdin
    let mut child = vantage(bin(), NOW, &["--data-dir", dir.path().to_str().expect("utf8"), "events", "import", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(good.replace("08:00", "09:00").as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(json(&out)["imported"], 1);

    // default range: the 30 days up to --now's day (2010-01-31 … 2010-03-01)
    let per_day = json(&run(dir.path(), &["events", "per-day", "--json"]));
    let rows = per_day["rows"].as_array().expect("rows");
    assert_eq!(rows.first().map(|r| r[0].clone()), Some(serde_json::json!("2010-02-10")));
    assert_eq!(rows.iter().map(|r| r[1].as_i64().unwrap_or(0)).sum::<i64>(), 125 + 2);

    let csv = dir.path().join("t.csv");
    let png = dir.path().join("t.png");
    let svg = dir.path().join("t.svg");
    let out = run(
        dir.path(),
        &[
            "events",
            "per-day",
            "--by",
            "taxonomy",
            "--csv",
            csv.to_str().expect("utf8"),
            "--png",
            png.to_str().expect("utf8"),
            "--svg",
            svg.to_str().expect("utf8"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2010-02-10  vulnerable"), "{}", text(&out.stdout));
    let mut reader = csv::Reader::from_path(&csv).expect("csv");
    assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), ["date", "classification.taxonomy", "events"]);
    assert!(reader.records().count() >= 3);
    assert_eq!(std::fs::read(&png).expect("png")[..8], [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']);
    assert!(std::fs::read_to_string(&svg).expect("svg").contains("<svg"));

    let values = json(&run(dir.path(), &["events", "values", "taxonomy", "--json"]));
    assert_eq!(values["rows"][0], serde_json::json!(["vulnerable", 164]));
    let top = json(&run(dir.path(), &["events", "top-asns", "--from", "2000-01-01", "--taxonomy", "vulnerable", "--limit", "1", "--json"]));
    assert_eq!(top["rows"], serde_json::json!([["vulnerable", 1, "64512", 103]]));
    let ips = json(&run(dir.path(), &["events", "distinct-ips", "--from", "2000-01-01", "--to", "2030-01-01", "--json"]));
    assert!(ips["facts"][0][1].as_i64().is_some_and(|n| n > 100), "{ips}");

    for (args, expected) in [
        (&["events", "per-day", "--by", "colour"][..], "unknown dimension `colour`"),
        (&["events", "top-problems"][..], "--country CC"),
        (&["events", "operator"][..], "--asn"),
        (&["events", "asn-feeds", "--png", "x.png"][..], "not a per-day series"),
        (&["events", "per-day", "--from", "2010-02-10", "--to", "2010-02-01"][..], "is after"),
    ] {
        let out = run(dir.path(), args);
        let err = text(&out.stderr);
        assert_eq!((out.status.code(), err.trim().lines().count()), (Some(1), 1), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn aggregate_status_and_grafana_on_postgres() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pg = rt.block_on(TestPg::create());
    let dir = tempfile::tempdir().expect("dir");
    let db = ["--database-url", pg.url.as_str()];
    let fixture = fixture();
    let out = run(dir.path(), &[&db[..], &["events", "import", "--no-aggregate", "--json", fixture.to_str().expect("utf8")]].concat());
    assert_eq!(json(&out)["aggregation"], serde_json::Value::Null);
    let status = json(&run(dir.path(), &[&db[..], &["events", "status", "--json"]].concat()));
    assert_eq!((status["events"].as_i64(), status["pending_days"].as_array().map(Vec::len)), (Some(409), Some(90)));
    let full = json(&run(dir.path(), &[&db[..], &["events", "aggregate", "--full", "--json"]].concat()));
    assert_eq!((full["full"].as_bool(), full["without_time_source"].as_i64()), (Some(true), Some(37)));
    let pending = json(&run(dir.path(), &[&db[..], &["events", "aggregate", "--json"]].concat()));
    assert_eq!(pending["days"].as_array().map(Vec::len), Some(0), "the full rebuild cleared the marks");
    let out = run(dir.path(), &[&db[..], &["events", "status"]].concat());
    assert!(text(&out.stdout).contains("0 days waiting"), "{}", text(&out.stdout));

    let file = dir.path().join("dashboard.json");
    let out = run(dir.path(), &["events", "grafana", "--out", file.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("valid JSON");
    assert_eq!(dashboard["panels"].as_array().map(Vec::len), Some(10));

    // --eventdb-url reads IntelMQ's table (here: the events table Vantage just filled, same columns)
    let other = tempfile::tempdir().expect("dir");
    let out = Command::new(bin())
        .args(["--data-dir", other.path().to_str().expect("utf8"), "events", "import", "--json"])
        .env("VANTAGE_EVENTDB_URL", &pg.url)
        .env_remove("VANTAGE_DATABASE_URL")
        .output()
        .expect("run");
    assert_eq!(json(&out)["imported"], 409);
    rt.block_on(pg.drop_db());
}

#[test]
fn an_over_long_text_value_is_a_located_error_and_the_other_lines_import() {
    let dir = tempfile::tempdir().expect("dir");
    let good = event("2010-02-11T08:00:00Z", "192.0.2.1", 64512, "vulnerable", "vulnerable-service", "shadowserver");
    let long = good.replace("\"shadowserver feed\"", &format!("\"{}\"", "f".repeat(50 << 20)));
    assert_ne!(good, long, "the feed name is replaced");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{good}\n{long}\n")).expect("write");
    let out = run(dir.path(), &["events", "import", "bad.jsonl"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim(), "bad.jsonl:2: feed.name: longer than 4096 bytes");
    assert!(text(&out.stdout).contains("imported 1 events"), "{}", text(&out.stdout));
}
