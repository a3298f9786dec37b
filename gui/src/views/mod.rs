//! One module per view: what a tab adds to the panels the models give (its actions as
//! toolbar buttons, how often its data is live, how its panels are laid out), and the drawing
//! of the current view. A later tab is a module here (as DynFW's is), an arm in [`of`] (which the
//! compiler asks for once the tab exists in `vantage_views::panels::Tab`) and, where its panels
//! need more than tables, charts and text, a widget in [`crate::widgets`] (as the Flows view's
//! network graph, chord diagram and storyboard editor are).

pub mod attackers;
pub mod detail;
pub mod devices;
pub mod dynfw;
pub mod events;
pub mod flows;
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
    /// How its panels are laid out.
    pub layout: Layout,
}

/// How a view's panels are laid out, in the models' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// This many panels per row.
    Columns(usize),
    /// Row by row, this many panels in each (the rest one per row).
    Rows(&'static [usize]),
}

impl Layout {
    /// The panels of each row, for `n` panels.
    pub fn rows(self, n: usize) -> Vec<std::ops::Range<usize>> {
        let mut sizes: Vec<usize> = match self {
            Layout::Columns(c) => vec![c.max(1); n.div_ceil(c.max(1))],
            Layout::Rows(rows) => rows.to_vec(),
        };
        let mut out = Vec::new();
        let mut at = 0;
        sizes.extend(std::iter::repeat_n(1, n));
        for size in sizes {
            if at >= n {
                break;
            }
            let end = (at + size.max(1)).min(n);
            out.push(at..end);
            at = end;
        }
        out
    }
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
        Tab::Flows => &flows::VIEW,
        Tab::Dynfw => &dynfw::VIEW,
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
    let layout = if detail.is_some() { Layout::Columns(2) } else { view.layout };
    egui::ScrollArea::vertical().id_salt("view").auto_shrink(false).show(ui, |ui| {
        for row in layout.rows(panels.len()) {
            ui.columns(row.len(), |cols| {
                for (col, i) in row.enumerate() {
                    widgets::panel(&mut cols[col], d, i, &panels[i]);
                }
            });
            ui.add_space(6.0);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_place_every_panel_once_in_order() {
        assert_eq!(Layout::Columns(2).rows(5), [0..2, 2..4, 4..5]);
        assert_eq!(Layout::Rows(&[1, 2]).rows(5), [0..1, 1..3, 3..4, 4..5], "the rest one per row");
        assert_eq!(Layout::Rows(&[3, 3]).rows(4), [0..3, 3..4]);
        assert!(Layout::Columns(1).rows(0).is_empty());
    }
}
