//! A table panel with egui_extras: its title, a filter box and *CSV* (the table as shown, through
//! the save dialog), headers that sort when clicked (again: the other way), virtualised rows
//! (only the visible ones are laid out), a click (or a right click) selects a row and a double-click (or Open)
//! opens its detail; a right click on a cell opens its context menu ([`super::menu`]). Sort,
//! filter and selection live in the models' table state, so keys and clicks change the same
//! thing. The rows as shown (filtered, sorted) are kept between frames ([`crate::shown`]):
//! [`draw`] lays out only the visible ones, so a frame of a 100k-row table costs what one of
//! 100 rows does (`scripts/bench.sh gui`). A table with a `rep` column (the Flows view's
//! suspicious connections) colours each row by its reputation level.

use eframe::egui::{self, Color32, Label, RichText, Sense, TextEdit, Ui};
use egui_extras::{Column, TableBuilder};
use vantage_views::app::{TableData, TableState};
use vantage_views::keys::Action;
use vantage_views::panels::Panel;
use vantage_views::tabs::flows::tables::{REP, reputation_of_cell};

use super::menu::{self, Pick};
use super::{HEIGHT, pending};
use crate::session::Session;

/// Height of a row.
const ROW: f32 = 18.0;

/// The sort after a click on column `c`: ascending first, then the other way.
pub fn sorted_by(sort: Option<(usize, bool)>, c: usize) -> Option<(usize, bool)> {
    match sort {
        Some((s, descending)) if s == c => Some((c, !descending)),
        _ => Some((c, false)),
    }
}

/// The colour of a row with reputation `level`: high red, medium orange, low amber, unknown
/// grey (None: the theme's).
pub fn reputation_colour(level: Option<i32>) -> Option<Color32> {
    match level? {
        3.. => Some(Color32::from_rgb(230, 80, 70)),
        2 => Some(Color32::from_rgb(235, 140, 40)),
        1 => Some(Color32::from_rgb(200, 165, 0)),
        0 => None,
        _ => Some(Color32::GRAY),
    }
}

/// What the analyst did to a table in one frame.
#[derive(Debug, Default)]
pub struct Drawn {
    /// The filter text was edited (the state has the new text).
    pub filtered: bool,
    /// A header was clicked: sort by this column.
    pub sort: Option<usize>,
    /// A row was clicked (or right-clicked).
    pub clicked: Option<usize>,
    /// … twice.
    pub double: bool,
    /// A context-menu entry was picked on this row.
    pub picked: Option<(usize, Pick)>,
    /// *Open* was pressed.
    pub open: bool,
    /// *CSV* was pressed.
    pub csv: bool,
}

/// Draws table panel `p` with `shown` (its rows as `state` shows them, `total` before the
/// filter); the filter box edits `state.filter`.
pub fn draw(ui: &mut Ui, p: &Panel, state: &mut TableState, total: usize, shown: &TableData) -> Drawn {
    let key = p.key();
    let mut drawn = Drawn::default();
    ui.horizontal(|ui| {
        // the title labels the filter box (so a test finds the box by the table's name)
        let title = ui.strong(p.title.as_str());
        let edit = TextEdit::singleline(&mut state.filter).id_salt(("filter", &key)).hint_text("filter").desired_width(140.0);
        drawn.filtered = ui.add(edit).labelled_by(title.id).changed();
        ui.weak(format!("{} of {total} rows", shown.rows.len()));
        if p.opens.is_some() && ui.add_enabled(!shown.rows.is_empty(), egui::Button::new("Open")).on_hover_text("the selected row's detail (Enter)").clicked() {
            drawn.open = true;
        }
        drawn.csv = ui.add_enabled(!shown.rows.is_empty(), egui::Button::new("CSV")).on_hover_text("save the table as shown (e)").clicked();
    });
    let columns = shown.header.len().max(1);
    let rep = shown.header.iter().position(|h| h == REP);
    TableBuilder::new(ui)
        .id_salt(("table", &key))
        .striped(true)
        .sense(Sense::click())
        .max_scroll_height(HEIGHT)
        .columns(Column::auto().at_least(40.0).resizable(true).clip(true), columns - 1)
        .column(Column::remainder().at_least(40.0).clip(true))
        .header(ROW + 4.0, |mut header| {
            for (c, name) in shown.header.iter().enumerate() {
                let arrow = match state.sort {
                    Some((s, false)) if s == c => " ^",
                    Some((s, true)) if s == c => " v",
                    _ => "",
                };
                header.col(|ui| {
                    if ui.add(egui::Button::new(format!("{name}{arrow}")).frame(false)).on_hover_text("sort by this column").clicked() {
                        drawn.sort = Some(c);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(ROW, shown.rows.len(), |mut row| {
                let i = row.index();
                row.set_selected(i == state.selected);
                let colour = reputation_colour(rep.and_then(|c| reputation_of_cell(shown.rows[i].get(c)?)));
                for (c, cell) in shown.rows[i].iter().enumerate() {
                    let (_, response) = row.col(|ui| {
                        let text = colour.map_or_else(|| RichText::new(cell.as_str()), |colour| RichText::new(cell.as_str()).color(colour));
                        ui.add(Label::new(text).selectable(false).truncate());
                    });
                    response.context_menu(|ui| {
                        if let Some(pick) = menu::show(ui, p, shown, i, c) {
                            drawn.picked = Some((i, pick));
                        }
                    });
                }
                let response = row.response();
                if response.clicked() || response.double_clicked() || response.secondary_clicked() {
                    drawn.clicked = Some(i);
                    drawn.double |= response.double_clicked();
                }
            });
        });
    drawn
}

/// Draws table panel number `index` and carries out what was done to it.
pub fn show(ui: &mut Ui, d: &mut Session, index: usize, p: &Panel) {
    let key = p.key();
    let mut state: TableState = d.app.tables.get(&key).cloned().unwrap_or_default();
    let Some((total, shown)) = d.shown.get(&key, d.app.revision(), &state, || d.app.table(p)) else {
        ui.strong(p.title.as_str());
        ui.weak(pending(d, p));
        return;
    };
    let drawn = draw(ui, p, &mut state, total, &shown);
    if drawn.filtered {
        state.selected = 0;
        d.app.focus = index;
        ui.ctx().request_repaint(); // the rows of the new filter, next frame
    }
    if let Some(c) = drawn.sort {
        state.sort = sorted_by(state.sort, c);
        state.selected = 0;
        d.app.focus = index;
    }
    if let Some(i) = drawn.clicked.or(drawn.picked.as_ref().map(|(i, _)| *i)) {
        state.selected = i;
        d.app.focus = index;
    }
    d.app.tables.insert(key, state);
    if drawn.csv {
        d.app.focus = index;
        d.apply(Action::ExportCsv);
    }
    if let Some((i, pick)) = drawn.picked {
        menu::apply(d, p, &shown, i, pick);
    }
    if drawn.open || (drawn.double && p.opens.is_some()) {
        d.app.focus = index;
        d.apply(Action::Open);
    }
}
