//! A table panel with egui_extras: its title, a filter box and *CSV* (the table as shown, through
//! the save dialog), headers that sort when clicked (again: the other way), virtualised rows
//! (only the visible ones are laid out), a click (or a right click) selects a row and a double-click (or Open)
//! opens its detail; a right click on a cell opens its context menu ([`super::menu`]). Sort,
//! filter and selection live in the models' table state, so keys and clicks change the same
//! thing.

use eframe::egui::{self, Label, Sense, TextEdit, Ui};
use egui_extras::{Column, TableBuilder};
use vantage_views::app::TableState;
use vantage_views::keys::Action;
use vantage_views::panels::Panel;

use super::menu;
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

/// Draws table panel number `index`.
pub fn show(ui: &mut Ui, d: &mut Session, index: usize, p: &Panel) {
    let Some(full) = d.app.table(p) else {
        ui.strong(p.title.as_str());
        ui.weak(pending(d, p));
        return;
    };
    let key = p.key();
    let mut state: TableState = d.app.tables.get(&key).cloned().unwrap_or_default();
    let total = full.rows.len();
    let (mut open, mut csv) = (false, false);
    let shown = ui
        .horizontal(|ui| {
            // the title labels the filter box (so a test finds the box by the table's name)
            let title = ui.strong(p.title.as_str());
            let edit = TextEdit::singleline(&mut state.filter).id_salt(("filter", &key)).hint_text("filter").desired_width(140.0);
            if ui.add(edit).labelled_by(title.id).changed() {
                state.selected = 0;
                d.app.focus = index;
            }
            let shown = full.shown(&state);
            ui.weak(format!("{} of {total} rows", shown.rows.len()));
            if p.opens.is_some() && ui.add_enabled(!shown.rows.is_empty(), egui::Button::new("Open")).on_hover_text("the selected row's detail (Enter)").clicked() {
                open = true;
            }
            csv = ui.add_enabled(!shown.rows.is_empty(), egui::Button::new("CSV")).on_hover_text("save the table as shown (e)").clicked();
            shown
        })
        .inner;
    let columns = shown.header.len().max(1);
    let (mut sort, mut clicked, mut double, mut picked) = (None, None, false, None);
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
                        sort = Some(c);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(ROW, shown.rows.len(), |mut row| {
                let i = row.index();
                row.set_selected(i == state.selected);
                for (c, cell) in shown.rows[i].iter().enumerate() {
                    let (_, response) = row.col(|ui| {
                        ui.add(Label::new(cell.as_str()).selectable(false).truncate());
                    });
                    response.context_menu(|ui| {
                        if let Some(pick) = menu::show(ui, p, &shown, i, c) {
                            picked = Some((i, pick));
                        }
                    });
                }
                let response = row.response();
                if response.clicked() || response.double_clicked() || response.secondary_clicked() {
                    clicked = Some(i);
                    double |= response.double_clicked();
                }
            });
        });
    if let Some(c) = sort {
        state.sort = sorted_by(state.sort, c);
        state.selected = 0;
        d.app.focus = index;
    }
    if let Some(i) = clicked {
        state.selected = i;
        d.app.focus = index;
    }
    if let Some((i, _)) = picked {
        state.selected = i;
        d.app.focus = index;
    }
    d.app.tables.insert(key, state);
    if csv {
        d.app.focus = index;
        d.apply(Action::ExportCsv);
    }
    if let Some((i, pick)) = picked {
        menu::apply(d, p, &shown, i, pick);
    }
    if open || (double && p.opens.is_some()) {
        d.app.focus = index;
        d.apply(Action::Open);
    }
}
