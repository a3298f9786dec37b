//! How panels draw: a framed box with the panel's title around a chart ([`chart`]), a table
//! ([`table`], its rows' context menus in [`menu`]; above a table of countries its bar chart,
//! [`countries`]; above the suspicious connections their network graph, [`network`]; above
//! the selected IP's peers their chord diagram, [`chord`]) or lines of text ([`text`]; the
//! storyboard an editor, [`storyboard`]), the focused one outlined.

pub mod chart;
pub mod chord;
pub mod countries;
pub mod menu;
pub mod network;
pub mod storyboard;
pub mod table;
pub mod text;

use eframe::egui::{self, Ui};
use vantage_views::panels::{Panel, Shape};

use crate::session::Session;

/// Height of a chart or a table's scrolled rows.
pub const HEIGHT: f32 = 220.0;

/// Draws panel number `index` of the view.
pub fn panel(ui: &mut Ui, d: &mut Session, index: usize, p: &Panel) {
    let focused = d.app.focus == index;
    let stroke = if focused { ui.visuals().selection.stroke } else { ui.visuals().widgets.noninteractive.bg_stroke };
    egui::Frame::group(ui.style()).stroke(stroke).show(ui, |ui| {
        ui.set_min_width(ui.available_width());
        match p.shape {
            Shape::Chart => chart::show(ui, d, index, p),
            Shape::Table => {
                if countries::suits(p) {
                    countries::show(ui, d, p);
                }
                if network::suits(p) {
                    network::show(ui, d);
                }
                if chord::suits(p) {
                    chord::show(ui, d);
                }
                table::show(ui, d, index, p);
            }
            Shape::Text if storyboard::suits(p) => storyboard::show(ui, d, p),
            Shape::Text => text::show(ui, d, p),
        }
    });
}

/// What a panel without data says: still loading, being computed, or empty.
pub fn pending(d: &Session, p: &Panel) -> &'static str {
    if d.app.backend.is_none() {
        return "waiting for the store…";
    }
    if p.resource_name().is_none() {
        return "loading…";
    }
    match d.app.read(p) {
        None => "loading…",
        Some(r) if r.data.is_none() => "being computed…",
        Some(_) => "no data for this period",
    }
}
