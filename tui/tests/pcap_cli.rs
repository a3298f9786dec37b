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
