//! One module per view: what a tab adds to the panels the models give (its actions as
//! toolbar buttons, how often its data is live, how many panels per row), and the drawing of
//! the current view. A later tab (Flows, DynFW) is a module here, an arm in [`of`] (which the
//! compiler asks for once the tab exists in `vantage_views::panels::Tab`) and, where its panels
//! need more than tables, charts and text, a widget in [`crate::widgets`].

pub mod attackers;
pub mod detail;
pub mod devices;
pub mod events;
pub mod operations;
pub mod overview;
pub mod passwords;
pub mod pcap;
pub mod ports;

use std::time::Duration;

use eframe::egui::{self, Ui};
use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use crate::session::{Session, TICK};
use crate::widgets;

/// What the desktop adds to a tab.
#[derive(Debug)]
pub struct View {
    /// The tab.
    pub tab: Tab,
    /// Its own actions, as toolbar buttons (label, action).
    pub actions: &'static [(&'static str, Action)],
    /// How often a frame comes while it is shown, for the models to re-ask live data.
    pub refresh: Duration,
    /// Panels per row.
    pub columns: usize,
}

/// Views whose models re-ask their data on every tick (job and capture states).
pub const LIVE: Duration = TICK;

/// Views whose models re-ask their data every minute.
pub const MINUTELY: Duration = Duration::from_secs(60);

/// The view of a tab.
pub fn of(tab: Tab) -> &'static View {
    match tab {
        Tab::Overview => &overview::VIEW,
        Tab::Attackers => &attackers::VIEW,
        Tab::Passwords => &passwords::VIEW,
        Tab::Ports => &ports::VIEW,
        Tab::Devices => &devices::VIEW,
        Tab::Events => &events::VIEW,
        Tab::Pcap => &pcap::VIEW,
        Tab::Operations => &operations::VIEW,
    }
}

/// The sidebar's entry for a tab: its key and name, e.g. `2  Attackers`.
pub fn entry(tab: Tab) -> String {
    format!("{}  {}", tab.key(), tab.name())
}

/// Draws the current view: its title and actions, then its panels row by row.
pub fn show(ui: &mut Ui, d: &mut Session) {
    let view = of(d.app.tab);
    let detail = d.app.detail.clone();
    let actions = detail.as_ref().map_or(view.actions, detail::actions);
    ui.horizontal(|ui| {
        if let Some(detail) = &detail {
            if ui.button("< Back").clicked() {
                d.apply(Action::Back);
            }
            ui.heading(detail::title(detail));
        } else {
            ui.heading(view.tab.name());
        }
        ui.add_space(12.0);
        for (label, action) in actions {
            if ui.button(*label).clicked() {
                d.apply(action.clone());
            }
        }
        if ui.button("Refresh").on_hover_text("ask again for this view's data (r)").clicked() {
            d.apply(Action::Refresh);
        }
    });
    ui.separator();
    let panels = d.app.panels();
    let columns = if detail.is_some() { 2 } else { view.columns }.max(1);
    egui::ScrollArea::vertical().id_salt("view").auto_shrink(false).show(ui, |ui| {
        for (row, chunk) in panels.chunks(columns).enumerate() {
            ui.columns(columns, |cols| {
                for (i, panel) in chunk.iter().enumerate() {
                    widgets::panel(&mut cols[i], d, row * columns + i, panel);
                }
            });
            ui.add_space(6.0);
        }
    });
}
