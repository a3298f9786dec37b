//! `scripts/bench.sh gui`, tables: the desktop's table panel ([`table::draw`] over the kept
//! rows of [`ShownTables`], the code path of every table of the app) with 100 rows — the
//! baseline — and with 100,000, in egui_kittest's headless harness (egui's layout and
//! tessellation on one core; no GPU, so no pixels). It times the first frame (rows built and
//! laid out), 200 frames scrolling with the mouse wheel, the two frames of a click on a header
//! (the click, then every row sorted) and 50 more scrolling frames, and prints one line per size:
//! `table rows=N first_ms=… scroll_p50_ms=… scroll_p99_ms=… sort_ms=…`.

use std::time::Instant;

use eframe::egui::{self, Event, MouseWheelUnit, Pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vantage_gui::shown::ShownTables;
use vantage_gui::widgets::table::{self, sorted_by};
use vantage_views::app::{TableData, TableState};
use vantage_views::panels::{Panel, Shape, Source};

/// What the harness draws: one table and what it keeps.
struct Bench {
    panel: Panel,
    data: TableData,
    state: TableState,
    shown: ShownTables,
}

/// `n` rows like the attackers tables': address, count, country, ASN, first and last seen.
fn rows(n: usize) -> TableData {
    let rows = (0..n)
        .map(|i| {
            let count = (i * 7919) % 100_003;
            vec![
                format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
                count.to_string(),
                ["CN", "US", "RU", "BR", "DE"][i % 5].to_string(),
                format!("AS{}", 1000 + i % 977),
                format!("2024-06-{:02} {:02}:{:02}", 1 + i % 14, i % 24, i % 60),
                format!("2024-06-15 {:02}:{:02}", i % 12, i % 60),
            ]
        })
        .collect();
    TableData::new(&["address", "count", "country", "asn", "first seen", "last seen"], rows)
}

fn frame(ui: &mut egui::Ui, b: &mut Bench) {
    let Bench { panel, data, state, shown } = b;
    let Some((total, kept)) = shown.get(&panel.key(), 0, state, || Some(data.clone())) else { return };
    let drawn = table::draw(ui, panel, state, total, &kept);
    if let Some(c) = drawn.sort {
        state.sort = sorted_by(state.sort, c);
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn scroll(h: &mut Harness<'_, Bench>, frames: usize, times: &mut Vec<f64>) {
    for _ in 0..frames {
        h.event(Event::PointerMoved(Pos2::new(300.0, 150.0)));
        h.event(Event::MouseWheel { unit: MouseWheelUnit::Point, delta: vec2(0.0, -90.0), modifiers: egui::Modifiers::NONE, phase: egui::TouchPhase::Move, source: egui::MouseWheelSource::Wheel });
        let t = Instant::now();
        h.step();
        times.push(ms(t));
    }
}

fn main() {
    for n in [100, 100_000] {
        let bench = Bench { panel: Panel { title: "Attackers".into(), source: Source::Jobs, shape: Shape::Table, opens: None }, data: rows(n), state: TableState::default(), shown: ShownTables::default() };
        // the harness draws its first frame as it is built
        let t = Instant::now();
        let mut h = Harness::builder().with_size([1280.0, 800.0]).build_ui_state(frame, bench);
        let first = ms(t);
        let mut times = Vec::new();
        scroll(&mut h, 200, &mut times);
        // the click's frame sets the sort; the next one sorts every row and draws the first ones
        h.get_by_label("count").click();
        let t = Instant::now();
        h.step();
        h.step();
        let sort = ms(t);
        assert_eq!(h.state().state.sort, Some((1, false)), "the click sorted the table");
        scroll(&mut h, 50, &mut times);
        times.sort_by(f64::total_cmp);
        println!(
            "table rows={n} first_ms={first:.2} scroll_p50_ms={:.3} scroll_p99_ms={:.3} sort_ms={sort:.2}",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
}
