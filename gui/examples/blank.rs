//! The baseline of `scripts/bench.sh gui`: an eframe window like vantage-gui's (glow on X11,
//! the embedded fonts) at 1920×1080 with one label in it, so the figures of the app show what
//! it adds to what eframe itself costs. It logs its first frame (from the start of `main`) and, with
//! `VANTAGE_GUI_BENCH_FRAMES=N`, times N frames from the start ([`FrameBench`]). Logs go
//! to stderr, filtered by `RUST_LOG`.

use std::time::Instant;

use eframe::egui;
use vantage_gui::probe::FrameBench;

/// The window: a label, and the benchmark while it runs.
struct Blank {
    unframed: Option<Instant>,
    bench: Option<FrameBench>,
}

impl eframe::App for Blank {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| ui.label("eframe baseline"));
        if let Some(made) = self.unframed.take() {
            tracing::info!(first_frame_ms = made.elapsed().as_secs_f64() * 1000.0, "first frame drawn");
        }
        if let Some(bench) = &mut self.bench
            && bench.frame(ui.ctx(), frame.info())
        {
            self.bench = None;
        }
    }
}

fn main() -> eframe::Result {
    let started = Instant::now();
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("Vantage baseline").with_inner_size([1920.0, 1080.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native("vantage-gui-baseline", options, Box::new(|_| Ok(Box::new(Blank { unframed: Some(started), bench: FrameBench::from_env() }))))
}
