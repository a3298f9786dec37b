//! `vantage pcap merge` as a user runs it: the native merge and `--mergecap` write the same
//! file and print a one-line summary; a bad input is exit 1 with a one-line error naming it
//! and no output file.

use std::path::Path;
use std::process::Command;

use vantage_tests::process::{self, ok};

const NOW: &str = "2024-06-15T12:40:00Z";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/pcaps");

fn vantage(dir: &Path, args: &[&str]) -> Command {
    let mut command = process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &["--data-dir", dir.to_str().expect("utf8")]);
    command.args(args);
    command
}

#[test]
fn merge_natively_and_with_mergecap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sections, spb) = (format!("{FIXTURES}/sections.pcapng"), format!("{FIXTURES}/spb.pcapng"));
    let native = dir.path().join("native.pcap");
    let reference = dir.path().join("mergecap.pcap");
    for (out, extra) in [(&native, None), (&reference, Some("--mergecap"))] {
        let mut args = vec!["pcap", "merge", &sections, &spb, "-o", out.to_str().expect("utf8")];
        args.extend(extra);
        let summary = ok(&mut vantage(dir.path(), &args));
        assert_eq!(summary.lines().count(), 1, "{summary}");
        let expected = format!("merged 2 inputs into {}: 7 packets, 573 bytes in ", out.display());
        assert!(summary.starts_with(&expected) && summary.trim_end().ends_with(" s"), "{summary}");
    }
    assert!(std::fs::read(&native).expect("native") == std::fs::read(&reference).expect("mergecap"), "same bytes");
}

#[test]
fn a_bad_input_is_exit_1_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // cut in the middle of its first packet block
    let bad = dir.path().join("cut-short.pcapng");
    std::fs::write(&bad, &std::fs::read(format!("{FIXTURES}/spb.pcapng")).expect("fixture")[..100]).expect("write");
    let out = dir.path().join("out.pcap");
    for extra in [None, Some("--mergecap")] {
        let mut args = vec!["pcap", "merge", bad.to_str().expect("utf8"), "-o", out.to_str().expect("utf8")];
        args.extend(extra);
        let run = vantage(dir.path(), &args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains("cut-short.pcapng"), "{stderr}");
        assert!(!out.exists());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_asks_every_configured_sensor() {
    use vantage_tests::steno_standin::{Standin, issue, make_ca, pcap_dir, unused_port};
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(dir.path(), "ca");
    let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
    let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
    let standin = Standin::start(&ca.cert, &server, &pcap_dir().join("android.pcap")).await;
    standin.set_current_reads(3);
    let sensor = |name: &str, port: u16| {
        format!(
            "[[pcap.sensors]]\nname = \"{name}\"\nhost = \"localhost\"\nport = {port}\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n",
            ca.cert.display(),
            client.cert.display(),
            client.key.display()
        )
    };
    let config = dir.path().join("vantage.toml");
    std::fs::write(&config, format!("{}\n{}", sensor("alpha", standin.port), sensor("down", unused_port()))).expect("config");
    let cfg = config.to_str().expect("utf8").to_string();
    let run = move |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend_from_slice(args);
        vantage(Path::new("/nonexistent"), &all).output().expect("runs")
    };
    let out = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["pcap", "stats", "--json"])
    })
    .await
    .expect("joined");
    assert_eq!(out.status.code(), Some(1), "one sensor is down");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["alpha"]["indexfile_current_reads"], "3", "{v}");
    assert!(v["down"]["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");

    let out = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["pcap", "stats", "alpha"])
    })
    .await
    .expect("joined");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("indexfile_current_reads") && table.lines().any(|l| l.starts_with("alpha") && l.contains(" 3 ")), "{table}");

    let out = tokio::task::spawn_blocking(move || run(&["pcap", "stats", "gamma"])).await.expect("joined");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown sensor `gamma`; configured: alpha, down"));
}
