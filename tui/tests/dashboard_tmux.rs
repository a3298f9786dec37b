//! The real dashboard in a real terminal (tmux): opens on a fresh demo store with no
//! server, shows data, switches tabs and periods, quits with exit 0 and the terminal restored.

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux is installed by scripts/test.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

fn wait_for(session: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let s = screen(session);
        if ok(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}:\n{s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn dashboard_in_tmux_visits_tabs_and_quits_cleanly() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    let bin = env!("CARGO_BIN_EXE_vantage");
    let fill = Command::new(bin).args(["--data-dir", d, "--now", "2024-06-15T12:40:00Z", "demo", "--no-tui", "--scale", "0.05"]).env_remove("VANTAGE_DATABASE_URL").env_remove("VANTAGE_REDIS_URL").output().expect("demo");
    assert!(fill.status.success(), "{}", String::from_utf8_lossy(&fill.stderr));

    let session = format!("vantage-test-{}", std::process::id());
    let cmd = format!("env -u VANTAGE_DATABASE_URL -u VANTAGE_REDIS_URL {bin} --data-dir {d} --now 2024-06-15T12:40:00Z; echo EXITED $?; sleep 60");
    tmux(&["new-session", "-d", "-s", &session, "-x", "80", "-y", "24", &cmd]);
    let s = wait_for(&session, "overview with data", |s| s.contains("Top countries") && s.contains("total ") && s.contains("up to date"));
    assert!(s.contains("1 Overview") && s.contains("0 Operations"), "{s}");

    for (key, expect) in [("2", "Top attackers"), ("3", "Combinations"), ("4", "Top ports"), ("0", "running"), ("1", "Top passwords")] {
        tmux(&["send-keys", "-t", &session, key]);
        wait_for(&session, expect, |s| s.contains(expect));
    }
    tmux(&["send-keys", "-t", &session, "."]);
    wait_for(&session, "period 1w", |s| s.contains("period 1w (Week)") && s.contains("up to date"));
    tmux(&["send-keys", "-t", &session, "?"]);
    wait_for(&session, "help", |s| s.contains("previous / next period"));
    tmux(&["send-keys", "-t", &session, "q"]);
    let s = wait_for(&session, "exit", |s| s.contains("EXITED"));
    tmux(&["kill-session", "-t", &session]);
    assert!(s.contains("EXITED 0"), "{s}");
    assert!(!s.contains("Top countries"), "alternate screen left, terminal restored: {s}");
    assert!(!std::fs::read_to_string(dir.path().join("vantage.log")).unwrap_or_default().contains("panicked"));
}
