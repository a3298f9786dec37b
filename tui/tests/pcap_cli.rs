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

/// An output that is one of the inputs — the same path, `./a.pcap`, a hard link or a symlink —
/// is refused with exit 1 and a one-line error, natively and with mergecap; the input stays.
#[test]
fn merge_refuses_an_output_that_is_an_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.pcap"), format!("{FIXTURES}/spb.pcapng"));
    std::fs::copy(format!("{FIXTURES}/sections.pcapng"), &a).expect("copy");
    let (hard, sym) = (dir.path().join("hard.pcap"), dir.path().join("sym.pcap"));
    std::fs::hard_link(&a, &hard).expect("hard link");
    std::os::unix::fs::symlink(&a, &sym).expect("symlink");
    let original = std::fs::read(&a).expect("a");
    for out in ["a.pcap", "./a.pcap", "hard.pcap", "sym.pcap"] {
        for extra in [None, Some("--mergecap")] {
            let mut args = vec!["pcap", "merge", "a.pcap", &b, "-o", out];
            args.extend(extra);
            let run = vantage(dir.path(), &args).current_dir(dir.path()).output().expect("runs");
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(1), "{out}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("error: ") && stderr.contains(&format!("{out}: the output is the input a.pcap")), "{stderr}");
            assert!(std::fs::read(&a).expect("a") == original, "{out}: the input is untouched");
        }
    }
    assert!(std::fs::symlink_metadata(&sym).expect("sym").file_type().is_symlink(), "the symlink stays a symlink");
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_asks_every_configured_sensor() {
    use vantage_tests::process::free_port;
    use vantage_tests::steno_standin::{Standin, issue, make_ca, pcap_dir};
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(dir.path(), "ca");
    let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
    let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
    let standin = Standin::start(&ca.cert, &server, &pcap_dir().join("android.pcap")).await;
    standin.set_current_reads(3);
    let sensor = |name: &str, port: u16| vantage_tests::steno_standin::sensor_toml(name, port, &ca.cert, &client);
    let config = dir.path().join("vantage.toml");
    std::fs::write(&config, format!("{}\n{}", sensor("alpha", standin.port), sensor("down", free_port()))).expect("config");
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

/// `vantage pcap query` against three stand-in sensors (normal, slow, failing): the job
/// completes with the two answers merged (by `mergecap`, as configured), a second run reuses
/// the job without asking again, `vantage pcap status` shows it, `fetch` copies it, `cleanup`
/// keeps it (fresh), a raw query is sent in canonical form, and a bad clause is a one-line error.
#[tokio::test(flavor = "multi_thread")]
async fn query_runs_the_pipeline_and_dedups() {
    use vantage_core::packets::reader::PacketReader;
    use vantage_tests::steno_standin::{Behaviour, Standin, filter_pcap, issue, make_ca, pcap_dir};
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(dir.path(), "ca");
    let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
    let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
    let capture = pcap_dir().join("android.pcap");
    let normal = Standin::start(&ca.cert, &server, &capture).await;
    let slow = Standin::start(&ca.cert, &server, &capture).await;
    slow.set_delay(std::time::Duration::from_secs(1));
    let failing = Standin::start(&ca.cert, &server, &capture).await;
    failing.set_behaviour(Behaviour::Error500);
    let sensor = |name: &str, port: u16| vantage_tests::steno_standin::sensor_toml(name, port, &ca.cert, &client);
    let config = dir.path().join("vantage.toml");
    // merged with mergecap here (the API test merges natively)
    let sensors = format!("{}\n{}\n{}", sensor("alpha", normal.port), sensor("slow", slow.port), sensor("broken", failing.port));
    std::fs::write(&config, format!("[pcap]\nmerger = \"mergecap\"\n{sensors}")).expect("config");
    let (cfg, data) = (config.to_str().expect("utf8").to_string(), dir.path().join("data"));
    let run = move |args: Vec<String>| {
        let mut all = vec!["--config".to_string(), cfg.clone()];
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        vantage(&data, &all).output().expect("runs")
    };
    let out_file = dir.path().join("copy.pcap");
    let query_args: Vec<String> =
        ["pcap", "query", "host", "192.168.2.1", "--json", "--out", out_file.to_str().expect("utf8")].iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking({
        let (run, a) = (run.clone(), query_args.clone());
        move || run(a)
    })
    .await
    .expect("joined");
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["state"], "Completed", "{v}");
    assert_eq!(v["requests"]["alpha"]["state"], "Request Complete", "{v}");
    assert_eq!(v["requests"]["slow"]["state"], "Request Complete", "{v}");
    assert_eq!(v["requests"]["broken"]["state"], "Error", "{v}");
    assert!(v["requests"]["broken"]["message"].as_str().is_some_and(|m| m.contains("500")), "{v}");
    assert_eq!(v["time"], "2024-06-15T12:40:00Z", "{v}");
    assert!(v["events"].as_array().expect("events").iter().any(|e| e["message"] == "merging 2 results (mergecap)"), "{v}");
    let id = v["id"].as_str().expect("id").to_string();
    let merged = std::path::PathBuf::from(v["merged"].as_str().expect("merged"));
    assert_eq!(merged, dir.path().join("data/pcap").join(&id).join("merged.pcap"));
    assert!(!merged.with_file_name("alpha.pcap").exists() && !merged.with_file_name("slow.pcap").exists(), "inputs deleted");
    let count = |path: &Path| {
        let mut reader = PacketReader::open(path).expect("open");
        let mut n = 0;
        while reader.next_packet().expect("packet").is_some() {
            n += 1;
        }
        n
    };
    let query = v["query"].as_str().expect("query");
    let expected = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(expected.path(), filter_pcap(&std::fs::read(&capture).expect("capture"), query).expect("filtered")).expect("write");
    let matching = count(expected.path());
    assert!(matching > 0);
    assert_eq!(count(&merged), 2 * matching);
    assert!(std::fs::read(&out_file).expect("copy") == std::fs::read(&merged).expect("merged"), "--out copies it");

    let asked = (normal.requests().len(), slow.requests().len(), failing.requests().len());
    let out = tokio::task::spawn_blocking({
        let (run, a) = (run.clone(), query_args.clone());
        move || run(a)
    })
    .await
    .expect("joined");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["state"], "Completed");
    assert_eq!((normal.requests().len(), slow.requests().len(), failing.requests().len()), asked, "dedup: nothing asked again");

    let out = tokio::task::spawn_blocking({
        let (run, id) = (run.clone(), id.clone());
        move || run(vec!["pcap".into(), "status".into(), id, "--json".into()])
    })
    .await
    .expect("joined");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status[id.as_str()]["state"], "Completed", "{status}");
    assert_eq!(status[id.as_str()]["requests"]["broken"]["state"], "Error", "{status}");

    // fetch copies the capture; an unknown job is exit 1; cleanup (forced) keeps fresh jobs
    let fetched = dir.path().join("fetched.pcap");
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let fetch = words(&["pcap", "fetch", &id, "-o", fetched.to_str().expect("utf8")]);
    let (unknown, cleanup) = (words(&["pcap", "fetch", &"0".repeat(32), "-o", "/dev/null"]), words(&["pcap", "cleanup", "--json"]));
    let raw = words(&["pcap", "query", "--json", "host 192.168.2.1 and (udp or icmp)"]);
    // the job's own capture as the output, by path or through a symlink, is refused
    let link = dir.path().join("link.pcap");
    std::os::unix::fs::symlink(&merged, &link).expect("symlink");
    let onto_itself = words(&["pcap", "fetch", &id, "-o", merged.to_str().expect("utf8")]);
    let onto_link = words(&["pcap", "fetch", &id, "-o", link.to_str().expect("utf8")]);
    let merged_bytes = std::fs::read(&merged).expect("merged");
    let outs = tokio::task::spawn_blocking({
        let run = run.clone();
        move || [onto_itself, onto_link, fetch, unknown, cleanup, raw].map(run)
    })
    .await
    .expect("joined");
    for refused in outs.iter().take(2) {
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("this is the job's own capture in the spool"), "{stderr}");
    }
    assert!(std::fs::read(&merged).expect("merged") == merged_bytes, "the capture is untouched");
    let outs = &outs[2..];
    assert!(outs[0].status.success(), "{}", String::from_utf8_lossy(&outs[0].stderr));
    assert!(std::fs::read(&fetched).expect("fetched") == std::fs::read(&merged).expect("merged"));
    assert_eq!(outs[1].status.code(), Some(1));
    assert!(String::from_utf8_lossy(&outs[1].stderr).contains("no pcap job 0000"), "{}", String::from_utf8_lossy(&outs[1].stderr));
    let report: serde_json::Value = serde_json::from_slice(&outs[2].stdout).expect("json");
    assert_eq!((report["ran"].as_bool(), report["expired"].as_array().map(Vec::len)), (Some(true), Some(0)), "{report}");
    assert!(merged.is_file(), "a fresh job survives the cleanup");
    // a raw query (and/or/parentheses) is validated and sent in canonical form; the stand-in
    // understands only "and", so every sensor answers 400 and the job ends in Error (exit 1)
    assert_eq!(outs[3].status.code(), Some(1));
    let raw: serde_json::Value = serde_json::from_slice(&outs[3].stdout).expect("json");
    assert_eq!(raw["query"], "host 192.168.2.1 and (udp or icmp)");
    assert_eq!(raw["state"], "Error", "{raw}");
    assert!(raw["requests"]["alpha"]["message"].as_str().is_some_and(|m| m.contains("400")), "{raw}");

    let out =
        tokio::task::spawn_blocking(move || run(vec!["pcap".into(), "query".into(), "host".into(), "10.0.0.1".into(), "bogus".into()])).await.expect("joined");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("Unrecognized clause in URI: bogus"), "{stderr}");
}
