//! Frame render time of the dashboard's Overview at 200×60 with demo data (quality.md: ≤ 5 ms).
//!
//! Fills a temporary SQLite store with the demo year (`--scale` from `BENCH_TUI_SCALE`,
//! default 1), computes the Overview's resources for 1d and 1w with the clock pinned, then draws
//! the Overview into ratatui's `TestBackend` repeatedly and prints a Markdown table of
//! per-frame times (layout, charts, tables and the buffer diff of `Terminal::draw`).

use std::sync::Arc;
use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use vantage_core::Clock;
use vantage_core::cache::memory::MemoryCache;
use vantage_core::engine::{Request, Update};
use vantage_core::jobs::memory::MemoryQueue;
use vantage_core::progress::NoProgress;
use vantage_core::statistics::demo;
use vantage_core::statistics::resources;
use vantage_core::statistics::service::{ResourceRead, Statistics};
use vantage_views::app::{App, Effect};
use vantage_views::keys::Action;
use vantage_tui::dashboard::view;

const FRAMES: usize = 2000;

#[tokio::main]
async fn main() {
    let scale: f64 = std::env::var("BENCH_TUI_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let now = chrono::DateTime::parse_from_rfc3339("2024-06-15T12:40:00Z").expect("time").to_utc();
    let dir = tempfile::tempdir().expect("dir");
    let config = vantage_core::Config::embedded(dir.path(), Clock::Fixed(now));
    let store = vantage_core::store::open(&config).await.expect("store");
    demo::run(store.as_ref(), 42, now, scale, Arc::new(NoProgress)).await.expect("demo");
    let stats = Statistics::new(vantage_core::backends::Backends { store, cache: Arc::new(MemoryCache::default()), queue: Arc::new(MemoryQueue::default()), clock: Clock::Fixed(now) });
    println!("| view | size | period | frames | mean ms | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    let mut app = App::new(Vec::new(), false);
    for (period_steps, label) in [(0, "1d"), (1, "1w")] {
        let effects = app.apply(Action::Period(period_steps));
        for effect in effects {
            if let Effect::Engine(Request::Resource { name, period, params }) = effect {
                let data = stats.compute_and_cache(resources::find(&name).expect("known"), period, &params, now).await.expect("computes");
                app.on_event(Update::Resource { name, period, params, read: ResourceRead { data: Some(data), computed_at: Some(now), refreshing: false } });
            }
        }
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
        let mut times: Vec<f64> = (0..FRAMES)
            .map(|i| {
                // alternate the focus so that every frame differs from the one before
                app.apply(Action::Focus(if i % 2 == 0 { 1 } else { -1 }));
                let start = Instant::now();
                terminal.draw(|f| view::draw(f, &app)).expect("draw");
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!("| Overview | 200×60 | {label} | {FRAMES} | {mean:.3} | {:.3} | {:.3} | {:.3} |", at(0.5), at(0.99), at(1.0));
    }
}
