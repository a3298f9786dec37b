//! A text panel: its lines in monospace, scrolled when long.

use eframe::egui::{self, RichText, Ui};
use vantage_views::panels::Panel;

use super::{HEIGHT, pending};
use crate::session::Session;

/// Draws a text panel.
pub fn show(ui: &mut Ui, d: &mut Session, p: &Panel) {
    ui.strong(p.title.as_str());
    let lines = d.app.text(p);
    if lines.is_empty() {
        ui.weak(pending(d, p));
        return;
    }
    egui::ScrollArea::vertical().id_salt(("text", p.key())).max_height(HEIGHT).auto_shrink([false, true]).show(ui, |ui| {
        for line in lines {
            ui.label(RichText::new(line).monospace());
        }
    });
}
