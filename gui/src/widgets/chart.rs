//! A chart panel with egui_plot: one line (or stacked bars) per series with a legend, the
//! buckets on the x axis, the value under the pointer, zoom and pan (double-click resets);
//! the charts of a view share their x axis and cursor; *PNG* and *SVG* save the chart through
//! the save dialog (as the terminal's p and P).

use eframe::egui::{self, Ui};
use egui_plot::{Bar, BarChart, HoverPosition, Legend, Line, Plot, PlotPoints};
use vantage_core::export::{ChartData, ImageFormat};
use vantage_views::keys::Action;
use vantage_views::panels::Panel;

use super::{HEIGHT, pending};
use crate::session::Session;

/// Draws chart panel number `index`.
pub fn show(ui: &mut Ui, d: &mut Session, index: usize, p: &Panel) {
    let key = p.key();
    let mut bars = d.bars.contains(&key);
    let chart = d.app.chart(p);
    let loaded = chart.as_ref().is_some_and(|c| !c.x_labels.is_empty());
    let mut save = None;
    ui.horizontal(|ui| {
        ui.strong(p.title.as_str());
        if ui.toggle_value(&mut bars, "Bars").on_hover_text("stacked bars instead of lines").changed() {
            if bars {
                d.bars.insert(key.clone());
            } else {
                d.bars.remove(&key);
            }
        }
        for (label, format) in [("PNG", ImageFormat::Png), ("SVG", ImageFormat::Svg)] {
            if ui.add_enabled(loaded, egui::Button::new(label)).on_hover_text(format!("save the chart as {label} (p / P)")).clicked() {
                save = Some(format);
            }
        }
    });
    if let Some(format) = save {
        d.app.focus = index;
        d.apply(Action::ExportChart(format));
    }
    let Some(chart) = chart else {
        ui.weak(pending(d, p));
        return;
    };
    if chart.x_labels.is_empty() {
        ui.weak("no data for this period");
        return;
    }
    plot(ui, &key, d.app.tab.name(), chart, bars);
}

/// The x label under a position (the nearest bucket).
fn bucket(labels: &[String], x: f64) -> Option<&String> {
    let i = x.round();
    (i >= 0.0).then(|| labels.get(i as usize)).flatten()
}

fn plot(ui: &mut Ui, key: &str, group: &str, chart: ChartData, bars: bool) {
    let ChartData { x_labels, series, y_axis, .. } = chart;
    let axis_labels = x_labels.clone();
    let hover_labels = x_labels;
    let link = egui::Id::unique(("charts of", group));
    Plot::new(("chart", key))
        .height(HEIGHT)
        .legend(Legend::default())
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .y_axis_label(y_axis)
        .include_y(0.0)
        .x_axis_formatter(move |mark, _| {
            if mark.value.fract() == 0.0 { bucket(&axis_labels, mark.value).cloned().unwrap_or_default() } else { String::new() }
        })
        .label_formatter(move |at| {
            let (name, position) = match at {
                HoverPosition::NearDataPoint { plot_name, position, .. } => (*plot_name, position),
                HoverPosition::Elsewhere { .. } => return None,
            };
            Some(format!("{name}\n{}\n{}", bucket(&hover_labels, position.x)?, position.y))
        })
        .show(ui, |plot_ui| {
            if bars {
                let mut below: Vec<BarChart> = Vec::new();
                for s in series {
                    let chart = BarChart::new(s.label, s.values.iter().enumerate().map(|(i, v)| Bar::new(i as f64, *v).width(0.8)).collect())
                        .stack_on(&below.iter().collect::<Vec<_>>());
                    below.push(chart);
                }
                for chart in below {
                    plot_ui.bar_chart(chart);
                }
            } else {
                for s in series {
                    let points: PlotPoints = s.values.iter().enumerate().map(|(i, v)| [i as f64, *v]).collect();
                    plot_ui.line(Line::new(s.label, points));
                }
            }
        });
}
