//! What the end-to-end test (`gui/tests/xvfb.rs`) and `scripts/bench.sh gui` watch the
//! running app through, on stderr: a debug line per frame drawn (`frame drawn frame=N`), an
//! info line once the shown view has all its data on screen (`view ready tab=Overview
//! detail=-`), and, with [`BENCH_FRAMES`] set, the frame times of the first ready view.

use std::time::Instant;

use eframe::egui;
use vantage_core::statistics::periods::Period;
use vantage_views::app::App;
use vantage_views::panels::{Detail, Shape, Tab};

/// `VANTAGE_GUI_BENCH_FRAMES=N`: once the first view is ready, draw N frames in a row on it,
/// log their times, then go idle again.
pub const BENCH_FRAMES: &str = "VANTAGE_GUI_BENCH_FRAMES";

/// Which view is shown: tab, detail view and period.
type Shown = (Tab, Option<Detail>, Period);

/// Watches the desktop app's frames.
#[derive(Debug, Default)]
pub struct Probe {
    frames: u64,
    /// The view last drawn with all its data, not announced yet (it is, a frame later:
    /// when that frame starts, the one before it is on the screen).
    drawn: Option<Shown>,
    announced: Option<Shown>,
    bench: Option<FrameBench>,
}

impl Probe {
    /// A probe, benchmarking frames when [`BENCH_FRAMES`] asks for it.
    pub fn new() -> Probe {
        Probe { bench: FrameBench::from_env(), ..Probe::default() }
    }

    /// Called at the end of every frame the app draws.
    pub fn frame(&mut self, ctx: &egui::Context, app: &App, info: &eframe::IntegrationInfo) {
        self.frames += 1;
        tracing::debug!(frame = self.frames, "frame drawn");
        let shown = (app.tab, app.detail.clone(), app.period);
        if self.announced.as_ref() != Some(&shown) {
            if !complete(app) {
                self.drawn = None;
            } else if self.drawn.as_ref() == Some(&shown) {
                tracing::info!(tab = ?app.tab, detail = %app.detail.as_ref().map_or("-", kind), period = %app.period, "view ready");
                self.announced = Some(shown);
            } else {
                self.drawn = Some(shown);
                ctx.request_repaint();
            }
        }
        if self.announced.is_some()
            && let Some(bench) = &mut self.bench
            && bench.frame(ctx, info)
        {
            self.bench = None;
        }
    }
}

/// The engine is open, the demo fill over, and every panel of the shown view has its data.
fn complete(app: &App) -> bool {
    app.backend.is_some()
        && app.progress.is_none()
        && !app.refreshing()
        && app.panels().iter().all(|p| match p.shape {
            Shape::Chart => app.chart(p).is_some(),
            Shape::Table => app.table(p).is_some(),
            Shape::Text => !app.text(p).is_empty(),
        })
}

/// A detail view's kind, for the log (never a password).
fn kind(detail: &Detail) -> &'static str {
    match detail {
        Detail::Attacker { .. } => "attacker",
        Detail::Password { .. } => "password",
        Detail::EventsAsn { .. } => "asn",
        Detail::Capture { .. } => "capture",
        Detail::Resource { .. } => "resource",
        Detail::Dossier { .. } => "dossier",
    }
}

/// Frames drawn back to back, timed: eframe's own count of each frame's work (the app's
/// `ui`, tessellation, painting and the buffer swap) and the time from one frame's start to
/// the next's. Logged as `frame bench` with medians and 99th percentiles in milliseconds.
#[derive(Debug)]
pub struct FrameBench {
    wanted: usize,
    /// Frames still to draw before measuring (fonts, textures and caches settle).
    warm_up: usize,
    last: Option<Instant>,
    work_ms: Vec<f64>,
    interval_ms: Vec<f64>,
}

impl FrameBench {
    /// Frames drawn and not measured first.
    const WARM_UP: usize = 10;

    /// The benchmark [`BENCH_FRAMES`] asks for, if it does (a positive number).
    pub fn from_env() -> Option<FrameBench> {
        let wanted = std::env::var(BENCH_FRAMES).ok()?.trim().parse::<usize>().ok().filter(|n| *n > 0)?;
        Some(FrameBench { wanted, warm_up: Self::WARM_UP, last: None, work_ms: Vec::new(), interval_ms: Vec::new() })
    }

    /// Called at the end of a frame: asks for the next one until enough are measured, then
    /// logs the figures and returns true.
    pub fn frame(&mut self, ctx: &egui::Context, info: &eframe::IntegrationInfo) -> bool {
        let now = Instant::now();
        if self.warm_up > 0 {
            self.warm_up -= 1;
        } else {
            if let Some(last) = self.last {
                self.interval_ms.push((now - last).as_secs_f64() * 1000.0);
            }
            // eframe reports the previous frame's work
            if let Some(seconds) = info.cpu_usage {
                self.work_ms.push(f64::from(seconds) * 1000.0);
            }
        }
        self.last = Some(now);
        if self.interval_ms.len() < self.wanted {
            ctx.request_repaint();
            return false;
        }
        let size = ctx.content_rect().size() * ctx.pixels_per_point();
        tracing::info!(
            frames = self.interval_ms.len(),
            size = %format!("{}x{}", size.x.round(), size.y.round()),
            work_p50_ms = %format!("{:.2}", quantile(&mut self.work_ms, 0.5)),
            work_p99_ms = %format!("{:.2}", quantile(&mut self.work_ms, 0.99)),
            interval_p50_ms = %format!("{:.2}", quantile(&mut self.interval_ms, 0.5)),
            interval_p99_ms = %format!("{:.2}", quantile(&mut self.interval_ms, 0.99)),
            "frame bench"
        );
        true
    }
}

/// The `q` quantile (nearest rank) of `values`, sorting them; 0 for none.
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let Some(last) = values.len().checked_sub(1) else { return 0.0 };
    values[((last as f64) * q).round() as usize]
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_ranks_of_the_sorted_values() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(quantile(&mut v, 0.5), 51.0);
        assert_eq!(quantile(&mut v, 0.99), 99.0);
        assert_eq!(quantile(&mut v, 1.0), 100.0);
        assert_eq!(quantile(&mut [], 0.5), 0.0);
    }
}
