//! The real dashboard in a real terminal: a tmux session running a command, its screen
//! (`capture-pane`), keys sent to it (`send-keys`), and waiting until the screen shows
//! something (polling the screen, never a sleep as synchronisation).

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `tmux` with `args` and returns its standard output.
fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux is installed by scripts/test.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tmux session running the dashboard; killed when dropped.
pub struct Session(String);

impl Session {
    /// A detached session `vantage-<name>-<pid>` of `width` × `height` cells running `cmd`.
    pub fn start(name: &str, cmd: &str, width: u16, height: u16) -> Session {
        let session = format!("vantage-{name}-{}", std::process::id());
        tmux(&["new-session", "-d", "-s", &session, "-x", &width.to_string(), "-y", &height.to_string(), cmd]);
        Session(session)
    }

    /// What the terminal shows now.
    pub fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.0])
    }

    /// Sends each of `keys` (tmux key names: `Enter`, `Tab`, `q`, …).
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            tmux(&["send-keys", "-t", &self.0, k]);
        }
    }

    /// The screen once `ok` holds for it (at most two minutes, then the test fails showing it).
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(what, Duration::from_secs(120), ok)
    }

    /// [`Session::wait_for`] with another failure guard (not a timing assertion).
    pub fn wait_for_within(&self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(start.elapsed() < limit, "timed out waiting for {what}:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Quits with `q` and asserts a clean exit that left the alternate screen (`gone`, text of
    /// the dashboard, is no longer shown). Needs the command of [`dashboard_command`].
    pub fn quit_cleanly(&self, gone: &str) {
        self.keys(&["q"]);
        let s = self.wait_for("exit", |s| s.contains("EXITED"));
        assert!(s.contains("EXITED 0"), "{s}");
        assert!(!s.contains(gone), "alternate screen left, terminal restored: {s}");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.0]);
    }
}

/// The shell command running the dashboard `bin` with `args` and the clock at `now`, in a
/// UTF-8 locale without the deployment variables of the test's environment; it prints
/// `EXITED <status>` when the dashboard ends and stays a minute so the screen can be read.
pub fn dashboard_command(bin: &str, now: &str, args: &[&str]) -> String {
    format!("env -u VANTAGE_DATABASE_URL -u VANTAGE_REDIS_URL -u VANTAGE_CONFIG LANG=C.UTF-8 {bin} --now {now} {}; echo EXITED $?; sleep 60", args.join(" "))
}
