//! A text panel: its lines in monospace, scrolled when long (DynFW's demo label in orange).

use eframe::egui::{self, Color32, RichText, Ui};
use vantage_views::panels::Panel;
use vantage_views::tabs::dynfw::DEMO_LABEL;

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
            // the demo's feed must not pass for Sentinel's list
            let demo = line == DEMO_LABEL;
            let text = RichText::new(line).monospace();
            ui.label(if demo { text.strong().color(Color32::from_rgb(240, 140, 30)) } else { text });
        }
    });
}
