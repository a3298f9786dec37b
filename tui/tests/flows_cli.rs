//! The real `vantage flows` commands on the embedded default and on PostgreSQL: imports of the
//! shared nfdump and Zeek samples (files and standard input), located rejections and exit
//! codes, `--strict`, status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use vantage_tests::TestPg;
use vantage_tests::process::vantage;

const NOW: &str = "2024-06-15T12:40:00Z";

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flows").join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", text(&out.stdout)))
}

/// Runs the import checks against the store `store_args` names.
fn imports_and_status(dir: &Path, store_args: &[&str]) {
    let run = |args: &[&str]| vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &[store_args, args].concat()).current_dir(dir).output().expect("run vantage");
    let scan = sample("synscan-nfdump.csv");
    let zeek = sample("zeek-conn.log");
    let records = std::fs::read_to_string(&scan).expect("sample").lines().count() as u64 - 4;
    let zeek_records = std::fs::read_to_string(&zeek).expect("sample").lines().filter(|l| !l.starts_with('#')).count() as u64;
    let report = json(&run(&["flows", "import", "--json", scan.to_str().expect("utf8"), zeek.to_str().expect("utf8")]));
    assert_eq!((report["imported"].as_u64(), report["rejected_records"].as_u64()), (Some(records + zeek_records), Some(0)), "{report}");

    // a bad line: located, the rest stored, exit 3; --strict: nothing, exit 1
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "ts,td,sa,da,sp,dp,pr,ipkt,ibyt\n2024-06-15 12:00:00,0.5,10.0.0.1,10.0.0.2,1234,53,UDP,1,80\n2024-06-15 12:00:01,0.5,10.0.0.1,10.0.0.2,1234,99999,UDP,1,80\n").expect("write");
    let strict = run(&["flows", "import", "--strict", bad.to_str().expect("utf8")]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    assert!(text(&strict.stdout).contains("nothing imported: 1 rejected records (--strict)"), "{}", text(&strict.stdout));
    let out = run(&["flows", "import", bad.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim(), format!("{}:3: dp: not a port: \"99999\"", bad.display()));
    assert!(text(&out.stdout).starts_with("imported 1 flows of 2 records"), "{}", text(&out.stdout));

    // standard input (Zeek JSON lines)
    let mut child = vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &[store_args, &["flows", "import", "--json", "-"]].concat())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = std::fs::read(sample("zeek-conn.json.log")).expect("sample");
    child.stdin.take().expect("stdin").write_all(&lines).expect("write");
    let stdin = json(&child.wait_with_output().expect("wait"));
    let json_records = text(&lines).lines().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!(stdin["imported"].as_u64(), Some(json_records));

    let status = json(&run(&["flows", "status", "--json"]));
    assert_eq!(status["flows"].as_u64(), Some(records + zeek_records + 1 + json_records), "{status}");
    assert_eq!(status["first"].as_str(), Some("2010-07-04T20:24:16Z"), "the syn scan is the oldest");
    let missing = run(&["flows", "import", "no-such-file.csv"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no-such-file.csv"), "{}", text(&missing.stderr));
}

#[test]
fn flows_import_and_status_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("dir");
    imports_and_status(dir.path(), &["--data-dir", dir.path().to_str().expect("utf8")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn flows_import_and_status_on_postgresql() {
    let dir = tempfile::tempdir().expect("dir");
    let pg = TestPg::create().await;
    let url = pg.url.clone();
    let path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || imports_and_status(&path, &["--data-dir", path.to_str().expect("utf8"), "--database-url", &url])).await.expect("checks");
    pg.drop_db().await;
}
