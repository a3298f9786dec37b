//! The Flows view's storyboard editor: the selected IP's title and its text on several lines
//! (any characters), saved through the models (*Save storyboard*, the terminal's `b`), then
//! what the day's flows say about the address. What is typed is kept in the session's
//! [`Draft`] until another address or day is selected, so a frame redrawn meanwhile loses
//! nothing.

use eframe::egui::{self, RichText, TextEdit, Ui};
use vantage_views::keys::Action;
use vantage_views::panels::{Panel, Source};
use vantage_views::tabs::flows::story;

use super::pending;
use crate::draft::Draft;
use crate::session::Session;

/// Whether a text panel is the storyboard.
pub fn suits(p: &Panel) -> bool {
    p.source == Source::FlowsStoryboard
}

/// Draws the editor of the selected IP's storyboard (the models' lines until it arrived).
pub fn show(ui: &mut Ui, d: &mut Session, p: &Panel) {
    ui.strong(p.title.as_str());
    let Some(saved) = d.app.flows.storyboard(&d.app.ctx()).cloned() else {
        let lines = d.app.text(p);
        ui.weak(lines.first().map_or(pending(d, p), String::as_str));
        return;
    };
    let of = Some((saved.date, saved.ip));
    if d.story.of != of {
        d.story = Draft { of, title: saved.title.clone(), text: saved.text.clone() };
    }
    ui.weak(format!("{} on {}", saved.ip, saved.date));
    let label = ui.label("Storyboard title");
    ui.add(TextEdit::singleline(&mut d.story.title).id_salt("story title").desired_width(f32::INFINITY)).labelled_by(label.id);
    let label = ui.label("Storyboard text");
    ui.add(TextEdit::multiline(&mut d.story.text).id_salt("story text").desired_rows(4).desired_width(f32::INFINITY)).labelled_by(label.id);
    let changed = d.story.title != saved.title || d.story.text != saved.text;
    if ui.add_enabled(changed, egui::Button::new("Save storyboard")).on_hover_text("kept with the day's outputs (b)").clicked() {
        let (title, text) = (d.story.title.clone(), d.story.text.clone());
        d.apply(Action::SaveStoryboard { title, text });
    }
    for line in story::facts(&saved) {
        ui.label(RichText::new(line).monospace());
    }
}
