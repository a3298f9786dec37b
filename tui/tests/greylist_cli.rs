//! The real `vantage greylist export` and `vantage serve`'s `/greylist/…` on the embedded
//! default and on PostgreSQL, with sview's development data imported by `vantage ingest` and
//! the clock pinned: the files equal the rule applied by hand, each day gets its archive file,
//! `serve` answers the same bytes, traversals are 404s, a bad `[greylist]` section fails.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use vantage_tests::greylist::{expected_csv, intelmq_view};
use vantage_tests::process::{Killed, free_port, get, http, until, vantage};
use vantage_tests::sview::{DATA_NOW, testdata_jsonl};
use vantage_tests::{TestPg, t};

const NEXT_DAY: &str = "2024-06-16T08:00:00Z";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vantage")
}

/// `vantage` at `now` on `dir` (and `db`, a PostgreSQL URL, when given) with `args`.
fn command(dir: &Path, db: Option<&str>, now: &str, args: &[&str]) -> std::process::Command {
    let mut all = vec!["--data-dir", dir.to_str().expect("utf8"), "--config", "vantage.toml"];
    if let Some(url) = db {
        all.extend(["--database-url", url]);
    }
    all.extend_from_slice(args);
    let mut c = vantage(bin(), now, &all);
    c.current_dir(dir);
    c
}

fn run(dir: &Path, db: Option<&str>, now: &str, args: &[&str]) -> Output {
    command(dir, db, now, args).output().expect("run vantage")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Imports the data, exports on two days, serves the files.
fn greylist_end_to_end(db: Option<&str>) {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    std::fs::write(dir.join("vantage.toml"), "[greylist]\ndays = 7\nmin_incidents = 2\n").expect("config");
    std::fs::write(dir.join("sview.jsonl"), testdata_jsonl()).expect("data");
    assert_eq!(json(&run(dir, db, DATA_NOW, &["ingest", "sentinel", "--json", "sview.jsonl"]))["committed"], true);

    let report = json(&run(dir, db, DATA_NOW, &["greylist", "export", "--json"]));
    let first = expected_csv(t(DATA_NOW), 7, 2, |_| None);
    let (latest, archive) = (dir.join("greylist/greylist-latest.csv"), dir.join("greylist/archive/2024/greylist-2024-06-15.csv"));
    assert_eq!((report["date"].as_str(), report["addresses"].as_u64()), (Some("2024-06-15"), Some(first.lines().count() as u64 - 1)));
    assert_eq!(report["latest"].as_str(), latest.to_str());
    assert_eq!((read(&latest), read(&archive)), (first.clone(), first.clone()));
    let listed = intelmq_view(&first);
    assert!(listed.contains(&("192.0.2.1".to_string(), "ftp,port_scan".to_string())), "{listed:?}");

    // another day: its own archive file, elsewhere with --out
    let other = dir.join("elsewhere");
    let out = run(dir, db, NEXT_DAY, &["greylist", "export", "--out", other.to_str().expect("utf8")]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("greylist of 2024-06-16"), "{out:?}");
    let next = expected_csv(t(NEXT_DAY), 7, 2, |_| None);
    assert_eq!(read(&other.join("archive/2024/greylist-2024-06-16.csv")), next);
    assert_eq!(read(&latest), first, "--out leaves the default directory alone");
    assert!(run(dir, db, NEXT_DAY, &["greylist", "export"]).status.success());
    let mut days: Vec<String> = std::fs::read_dir(dir.join("greylist/archive/2024")).expect("archive").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    days.sort();
    assert_eq!(days, ["greylist-2024-06-15.csv", "greylist-2024-06-16.csv"]);
    assert_eq!((read(&latest), read(&archive)), (next.clone(), first.clone()));

    // serve: the same bytes; everything else a JSON 404
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Killed(command(dir, db, NEXT_DAY, &["serve", "--listen", &listen]).stderr(Stdio::null()).spawn().expect("serve"));
    until(Duration::from_secs(30), "server", || get(port, "/healthz").filter(|r| r.0 == 200));
    for (path, want) in [("/greylist/greylist-latest.csv", &next), ("/greylist/archive/2024/greylist-2024-06-15.csv", &first)] {
        let (status, head, body) = http(port, "GET", path, &[], b"").expect("answer");
        assert_eq!(status, 200, "{path}");
        assert!(head.contains("content-type: text/csv"), "{head}");
        assert_eq!(String::from_utf8(body).expect("utf-8"), *want, "{path}");
    }
    for path in ["/greylist/archive/2024/../../../vantage.toml", "/greylist/archive/2024/..%2F..%2F..%2Fvantage.toml", "/greylist/archive/2024/", "/greylist/archive/2024/greylist-2024-06-17.csv", "/greylist/vantage.db"] {
        let (status, head, body) = http(port, "GET", path, &[], b"").expect("answer");
        assert_eq!(status, 404, "{path}");
        assert!(head.contains("application/json") && String::from_utf8_lossy(&body).contains("\"error\""), "{path}: {head}");
    }

    // a bad section fails every command with the file's key
    std::fs::write(dir.join("vantage.toml"), "[greylist]\ndays = 0\n").expect("config");
    let out = run(dir, db, DATA_NOW, &["greylist", "export"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("greylist.days: 0 is not between 1 and 366"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn export_and_serve_on_the_embedded_default() {
    greylist_end_to_end(None);
}

#[test]
fn export_and_serve_on_postgresql() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pg = rt.block_on(TestPg::create());
    greylist_end_to_end(Some(&pg.url));
    rt.block_on(pg.drop_db());
}
