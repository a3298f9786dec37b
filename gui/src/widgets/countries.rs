//! Attack origins as a country bar chart: above a table of countries (a `*countries*` resource
//! list, or DynFW's blocked addresses per country: country, count), its largest rows as horizontal bars, longest on top, with the count
//! under the pointer. Drawn from the table as shown, so its filter applies to the bars too.

use eframe::egui::Ui;
use egui_plot::{Bar, BarChart, Plot};
use vantage_views::panels::{Panel, Source};

use crate::session::Session;

/// How many countries the chart shows.
pub const TOP: usize = 12;

/// Height of the chart.
const HEIGHT: f32 = 200.0;

/// Whether a table panel lists countries (and gets the chart).
pub fn suits(p: &Panel) -> bool {
    p.source == Source::DynfwCountries || p.resource_name().is_some_and(|name| name.contains("countries") && name.ends_with("_list"))
}

/// The chart's bars: (country, count) of the `TOP` largest rows, largest first. A row is a
/// country in its first column and a count in its last; rows without a count are skipped.
pub fn bars(header: &[String], rows: &[Vec<String>]) -> Vec<(String, f64)> {
    if header.len() < 2 {
        return Vec::new();
    }
    let mut bars: Vec<(String, f64)> =
        rows.iter().filter_map(|r| Some((r.first()?.clone(), r.last()?.replace(',', "").trim().parse::<f64>().ok()?))).collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    bars.truncate(TOP);
    bars
}

/// Draws the bar chart of a country table panel (nothing while it has no rows).
pub fn show(ui: &mut Ui, d: &Session, p: &Panel) {
    let Some(shown) = d.app.visible(p) else { return };
    let bars = bars(&shown.header, &shown.rows);
    if bars.is_empty() {
        return;
    }
    let names: Vec<String> = bars.iter().map(|(c, _)| c.clone()).collect();
    let n = bars.len();
    // the largest on top: bar i sits at y = n - 1 - i
    let chart = BarChart::new(
        shown.header.last().cloned().unwrap_or_default(),
        bars.iter().enumerate().map(|(i, (country, count))| Bar::new((n - 1 - i) as f64, *count).name(country).width(0.7)).collect(),
    )
    .horizontal();
    let label = move |y: f64| {
        let i = n as f64 - 1.0 - y.round();
        if y.fract() == 0.0 && i >= 0.0 { names.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
    };
    Plot::new(("countries", p.key()))
        .height(HEIGHT)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_x(0.0)
        .y_axis_formatter(move |mark, _| label(mark.value))
        .show(ui, |plot_ui| plot_ui.bar_chart(chart));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(c: &str, n: &str) -> Vec<String> {
        vec![c.to_string(), n.to_string()]
    }

    #[test]
    fn the_largest_countries_come_first_and_rows_without_a_count_are_skipped() {
        let header = vec!["country".to_string(), "count".to_string()];
        let rows = vec![row("CZ", "5"), row("CN", "1,204"), row("??", "n/a"), row("US", "77"), row("BR", "77")];
        assert_eq!(bars(&header, &rows), vec![("CN".into(), 1204.0), ("BR".into(), 77.0), ("US".into(), 77.0), ("CZ".into(), 5.0)]);
        let many: Vec<Vec<String>> = (0..30).map(|i| row(&format!("C{i:02}"), &i.to_string())).collect();
        let top = bars(&header, &many);
        assert_eq!((top.len(), top[0].0.as_str(), top[TOP - 1].1), (TOP, "C29", 18.0));
        assert!(bars(&header[..1], &rows).is_empty(), "one column: no counts");
    }
}
