//! `vantage-gui`: the Vantage desktop app (egui/eframe). It draws the dashboard models of
//! `vantage_views` — the very ones the terminal dashboard draws — and talks to the engine
//! only through `vantage_core::engine::Channel`, so it has no storage, cache or queue code.
//!
//! Layout: [`cli`] (the `vantage` global options and `--demo`), [`demo`] (the demo fill),
//! [`bridge`] (the engine's forwarding thread), [`session`] (the models, the engine's end,
//! actions and effects), [`shown`] (tables as shown, kept between frames), [`draft`] (what the
//! storyboard editor holds typed), [`dialog`] (the save dialog, drawn by egui), [`persist`] (theme,
//! view, period and window kept between runs), [`desktop`] (the [`eframe::App`]: keys,
//! ticks, the frame),
//! [`chrome`] (sidebar, period bar, status line, input and shortcut
//! windows), [`probe`] (what tests and benchmarks watch in the log), [`views`] (one module
//! per tab and the detail views), [`widgets`] (charts, tables, text). `src/main.rs` only calls [`main`].

pub mod bridge;
pub mod chrome;
pub mod cli;
pub mod demo;
pub mod desktop;
pub mod draft;
pub mod dialog;
pub mod persist;
pub mod session;
pub mod shown;
pub mod keys;
pub mod probe;
pub mod views;
pub mod widgets;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use eframe::egui;

use crate::cli::GuiCli;
use crate::desktop::Desktop;

/// The `vantage-gui` command line: parses arguments, sets up logging, opens the window.
pub fn main() -> ExitCode {
    let matches = GuiCli::command().about(env!("CARGO_PKG_DESCRIPTION")).get_matches();
    let cli = GuiCli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut GuiCli::command()).exit());
    init_tracing(cli.global.verbose);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the window (OpenGL through glow, on X11) and runs until it is closed.
pub fn run(cli: &GuiCli) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let config = cli.config()?;
    let demo = cli.demo()?;
    let (settings, _) = persist::load(&config.data_dir); // a warning is shown once the window is open
    let export_dir = cli.global.export_dir.clone();
    let viewport = egui::ViewportBuilder::default().with_title("Vantage").with_app_id("vantage-gui").with_inner_size([1280.0, 800.0]).with_min_inner_size([720.0, 480.0]);
    let options = eframe::NativeOptions {
        viewport: settings.viewport(viewport),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "vantage-gui",
        options,
        Box::new(move |cc| {
            let mut desktop = Desktop::new(&cc.egui_ctx, config, demo)?;
            if let Some(dir) = export_dir {
                desktop.session.export_dir = dir;
            }
            tracing::info!(setup_ms = started.elapsed().as_secs_f64() * 1000.0, "window open");
            Ok(Box::new(desktop))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

/// Logs go to stderr: warnings by default, `-v` info, `-vv` debug, or `RUST_LOG`.
fn init_tracing(verbose: u8) {
    let default = ["warn", "info,sqlx=warn", "debug,sqlx=info"][usize::from(verbose.min(2))];
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
