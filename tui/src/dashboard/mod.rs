//! The terminal dashboard (`vantage` without a subcommand, or `vantage demo`).
//!
//! Structure (ratatui component style): the UI-free models live in [`vantage_views`] (the
//! [`App`] router and its tab models, the panels of each view, the `:` palette, the key →
//! action map), shared with the desktop app; here [`keys`] turns crossterm's keys into the
//! views' keys and [`view`] draws. This module is the only part that does I/O: terminal
//! events and engine events in, engine requests and export files out, a redraw only when
//! something changed. The engine does its work on its own threads and exports are written on
//! a helper thread, so the loop never blocks.

pub mod dynfw;
pub mod keys;
mod style;
pub mod view;

#[cfg(test)]
mod dossier_tests;
#[cfg(test)]
mod dynfw_tests;
#[cfg(test)]
mod flows_tests;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use vantage_core::Config;
use vantage_core::devices;
use vantage_core::engine::Channel;

use vantage_views::app::{App, Effect};
use vantage_views::export::{self, write_export};
use vantage_views::keys::Action;

use self::keys::action_for;

/// Dashboard options beyond the configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// Draw with plain ASCII only.
    pub ascii: bool,
    /// Where `e` / `p` / `P` write their files.
    pub export_dir: PathBuf,
    /// Start the demo's replayed DynFW feed (`vantage demo`) instead of the configured one.
    pub demo_feed: bool,
}

impl Options {
    /// ASCII when asked for, or when the locale is set and names no UTF-8 encoding; exports
    /// to `export_dir` or `<data_dir>/exports`; the configured DynFW feed (if any).
    pub fn new(config: &Config, ascii: bool, export_dir: Option<PathBuf>) -> Options {
        let locale: Vec<String> = ["LC_ALL", "LC_CTYPE", "LANG"].iter().filter_map(|v| std::env::var(v).ok()).filter(|v| !v.is_empty()).collect();
        let utf8 = locale.is_empty() || locale.iter().any(|l| l.to_lowercase().replace('-', "").contains("utf8"));
        Options { ascii: ascii || !utf8, export_dir: export_dir.unwrap_or_else(|| config.data_dir.join("exports")), demo_feed: false }
    }
}

/// How often Operations data is re-read while it is shown.
const TICK: Duration = Duration::from_secs(2);

/// Runs the dashboard until the user quits. `ratatui::init` restores the terminal on panic.
/// The DynFW feed (the configured one, or with [`Options::demo_feed`] the demo's replay) is
/// started at once and runs with the engine until the dashboard ends.
pub fn run(config: Config, options: Options, started: Instant) -> anyhow::Result<()> {
    let (tokens, token_error) = match devices::load(&config.data_dir) {
        Ok(t) => (t, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let engine = Channel::start(config.clone())?;
    let mut app = App::new(tokens, options.ascii);
    app.error = token_error;
    app.dynfw.demo = options.demo_feed;
    let (done_tx, done_rx) = mpsc::channel::<Result<String, String>>();
    let io = Io { engine: &engine, done: done_tx, config: &config, options: &options };
    io.execute(app.start_feed());
    io.execute(app.requests());
    let mut terminal = ratatui::init();
    let result = (|| -> anyhow::Result<()> {
        let (mut dirty, mut first, mut last_tick) = (true, true, Instant::now());
        while !app.quit {
            if dirty {
                terminal.draw(|f| view::draw(f, &app))?;
                dirty = false;
                if std::mem::take(&mut first) {
                    tracing::info!(first_frame_ms = started.elapsed().as_secs_f64() * 1000.0, "first frame drawn");
                }
            }
            if event::poll(Duration::from_millis(100))? {
                match event::read()? {
                    TermEvent::Key(k) if k.kind == KeyEventKind::Press => {
                        if let Some(action) = action_for(k, app.mode) {
                            io.execute(app.apply(action));
                            dirty = true;
                        }
                    }
                    TermEvent::Resize(..) => dirty = true,
                    _ => {}
                }
            }
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                io.execute(app.apply(Action::Tick));
            }
            while let Some(e) = engine.try_recv() {
                io.execute(app.on_event(e));
                dirty = true;
            }
            while let Ok(r) = done_rx.try_recv() {
                app.exported(r);
                dirty = true;
            }
        }
        Ok(())
    })();
    ratatui::restore();
    engine.shutdown();
    result
}

/// Carries out effects: requests to the engine, files on a helper thread.
struct Io<'a> {
    engine: &'a Channel,
    done: mpsc::Sender<Result<String, String>>,
    config: &'a Config,
    options: &'a Options,
}

impl Io<'_> {
    fn execute(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Engine(r) => {
                    self.engine.send(r);
                }
                Effect::Cancel(kind) => {
                    self.engine.cancel(kind);
                }
                Effect::Export(x) => {
                    let (dir, done) = (self.options.export_dir.clone(), self.done.clone());
                    let stamp = export::stamp(self.config.clock.now());
                    std::thread::spawn(move || {
                        let _ = done.send(write_export(&dir, &stamp, &x).map(|p| p.display().to_string()).map_err(|e| e.to_string()));
                    });
                }
                Effect::SaveDevices(tokens) => {
                    let (dir, done) = (self.config.data_dir.clone(), self.done.clone());
                    std::thread::spawn(move || {
                        if let Err(e) = devices::save(&dir, &tokens) {
                            let _ = done.send(Err(e.to_string()));
                        }
                    });
                }
            }
        }
    }
}
