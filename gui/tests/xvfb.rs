//! The real `vantage-gui` binary on an X server of its own (Xvfb, software OpenGL) on a small
//! demo year with the clock pinned: its window is found by its title, placed full screen and
//! focused as a window manager would, every view is opened with the dashboard's keys (XTEST)
//! and photographed once the app says its data is on screen, each screenshot must not be
//! blank, and closing the window the way a window manager does must end the process with
//! success.
//!
//! `VANTAGE_GUI_SCREENSHOTS=<dir>`: write the screenshots there as `gui-<view>.png` (on a
//! larger demo year, so that they look real: the committed `docs/img/gui-*.png`); otherwise
//! they go to the test's temporary directory. `VANTAGE_GUI_BIN=<path>`: test that binary (e.g.
//! a release build) instead of the one cargo built for the test.

#[path = "support/x11.rs"]
mod x11;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use x11::{ESCAPE, RETURN, Shot, X, Xvfb};

/// The pinned clock of every GUI test.
const NOW: &str = "2024-06-15T12:40:00Z";

/// The screen, and the window placed on all of it.
const SCREEN: (u32, u32) = (1920, 1080);

/// How long the app may take for anything the test waits for (the demo fill included).
const PATIENCE: Duration = Duration::from_secs(240);

/// How long the app may take to exit once its window is closed.
const EXIT: Duration = Duration::from_secs(30);

/// The sidebar's width in pixels (at least: the column the test looks for text in).
const SIDEBAR: u32 = 180;

/// The running app and its log (stderr, line by line); killed on drop if still running.
struct App {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl App {
    /// Starts `vantage-gui --demo` on the display, with a fresh store and config in `dir`.
    fn start(display: &str, dir: &Path, scale: f64) -> App {
        let config = dir.join("vantage.toml");
        std::fs::write(&config, "").expect("config file");
        let binary = std::env::var_os("VANTAGE_GUI_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_vantage-gui").into());
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--now", NOW, "--demo", "--scale", &scale.to_string(), "-v"])
            .env("DISPLAY", display)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("NO_COLOR", "1")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vantage-gui");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        App { child, lines, seen: Vec::new() }
    }

    /// Waits for a log line containing `text` (after those already taken).
    fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    assert!(!line.contains("panicked"), "vantage-gui panicked:\n{}", self.tail());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("no log line {text:?} within {PATIENCE:?}; the log ends:\n{}", self.tail()),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("vantage-gui ended ({:?}) before logging {text:?}:\n{}", self.child.try_wait(), self.tail())
                }
            }
        }
    }

    /// The last lines of the log.
    fn tail(&self) -> String {
        self.seen[self.seen.len().saturating_sub(40)..].join("\n")
    }

    /// Waits for the process to end.
    fn exit(&mut self, patience: Duration) -> ExitStatus {
        let deadline = Instant::now() + patience;
        loop {
            // the log ends with the process: read it meanwhile (also for the failure message)
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    if let Some(status) = self.child.try_wait().expect("try_wait") {
                        return status;
                    }
                }
            }
            assert!(Instant::now() < deadline, "vantage-gui still runs {patience:?} after its window was closed:\n{}", self.tail());
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The screenshot is not blank: many colours, and text in the sidebar.
fn assert_drawn(shot: &Shot, view: &str) {
    assert_eq!((shot.width, shot.height), SCREEN, "{view}: the window's size");
    let (colours, _) = shot.variety(0, shot.width);
    assert!(colours >= 16, "{view}: only {colours} colours on the screen");
    let (colours, ink) = shot.variety(0, SIDEBAR);
    assert!(colours >= 8 && ink >= 0.01, "{view}: the sidebar has {colours} colours, {:.2} % of it not background", ink * 100.0);
}

/// Where the screenshots go, and the demo's volume (larger for the documentation's).
fn screenshots(tmp: &Path) -> (PathBuf, f64) {
    match std::env::var_os("VANTAGE_GUI_SCREENSHOTS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).expect("screenshot directory");
            (dir, 0.3)
        }
        None => (tmp.join("shots"), 0.02),
    }
}

#[test]
fn the_real_app_under_xvfb_draws_every_view_and_exits_cleanly_when_its_window_is_closed() {
    let xvfb = Xvfb::start(SCREEN.0, SCREEN.1);
    let dir = tempfile::tempdir().expect("tempdir");
    let (shots, scale) = screenshots(dir.path());
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let mut app = App::start(&xvfb.display, dir.path(), scale);
    let x: X = xvfb.connect();
    let window = x.window_titled("Vantage", PATIENCE);
    x.place_and_focus(window, SCREEN.0, SCREEN.1);
    app.wait_for("first frame drawn");

    // (keys, the view that opens, its screenshot)
    let views: [(&[u32], &str, &str); 13] = [
        (&[], "tab=Overview detail=-", "overview"),
        (&['2' as u32], "tab=Attackers detail=-", "attackers"),
        // focus the Top attackers table, open its first row
        (&['l' as u32, RETURN], "tab=Attackers detail=attacker", "attacker-detail"),
        // the attacker's IP dossier
        (&['d' as u32], "tab=Attackers detail=dossier", "dossier"),
        (&[ESCAPE, '3' as u32], "tab=Passwords detail=-", "passwords"),
        (&['4' as u32], "tab=Ports detail=-", "ports"),
        (&['5' as u32], "tab=Devices detail=-", "devices"),
        (&['6' as u32], "tab=Events detail=-", "events"),
        (&['7' as u32], "tab=Pcap detail=-", "pcap"),
        (&['8' as u32], "tab=Flows detail=-", "flows"),
        // the demo's replayed DynFW feed, labelled as demo
        (&['9' as u32], "tab=Dynfw detail=-", "dynfw"),
        (&['0' as u32], "tab=Operations detail=-", "operations"),
        (&['1' as u32], "tab=Overview detail=-", "overview"),
    ];
    for (keys, view, name) in views {
        for key in keys {
            x.key(*key);
        }
        app.wait_for(&format!("view ready {view} "));
        let shot = x.screenshot(window);
        assert_drawn(&shot, view);
        shot.save_png(&shots.join(format!("gui-{name}.png")));
    }

    x.close(window);
    let status = app.exit(EXIT);
    assert!(status.success(), "vantage-gui exited with {status} after its window was closed:\n{}", app.tail());
}
