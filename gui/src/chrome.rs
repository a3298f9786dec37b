//! The frame around the views: the sidebar (every tab, the palette and shortcuts), the period
//! bar (with an outage of the store or the cache while it lasts), the status line (store,
//! refreshing, data age, progress, notices and errors), the input window for what the models
//! ask to have typed (the command palette, a filter, a device token or a password — those two
//! masked —, a capture request), and the shortcuts.

use eframe::egui::{self, Color32, Key, RichText, TextEdit, Ui};
use vantage_core::statistics::periods::Period;
use vantage_views::keys::{Action, KEYS, Mode};
use vantage_views::panels::Tab;

use crate::session::Session;
use crate::views;

/// The colour of errors and outages.
const ERROR: Color32 = Color32::from_rgb(230, 80, 70);

/// The sidebar: a button per tab, then the palette, the shortcuts and the theme switch.
pub fn sidebar(ui: &mut Ui, d: &mut Session) {
    egui::Panel::left("sidebar").resizable(false).show(ui, |ui| {
        ui.add_space(6.0);
        ui.heading("Vantage");
        ui.separator();
        for tab in Tab::ALL {
            if ui.selectable_label(d.app.tab == tab && d.app.detail.is_none(), views::entry(tab)).clicked() {
                d.apply(Action::Tab(tab));
            }
        }
        ui.separator();
        if ui.button("Command palette").on_hover_text("Ctrl+K or :").clicked() {
            d.apply(Action::Palette);
        }
        if ui.button("Shortcuts").on_hover_text("?").clicked() {
            d.apply(Action::Help);
        }
        ui.separator();
        let (label, other) = match ui.ctx().theme() {
            egui::Theme::Dark => ("Light theme", egui::Theme::Light),
            egui::Theme::Light => ("Dark theme", egui::Theme::Dark),
        };
        if ui.button(label).on_hover_text("kept for the next run").clicked() {
            ui.ctx().set_theme(other);
        }
    });
}

/// The period bar: every period, the current one selected.
pub fn period_bar(ui: &mut Ui, d: &mut Session) {
    egui::Panel::top("periods").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label("Period");
            let current = Period::ALL.iter().position(|p| *p == d.app.period).unwrap_or(0) as i32;
            for (i, period) in Period::ALL.into_iter().enumerate() {
                if ui.selectable_label(period == d.app.period, period.to_string()).clicked() && period != d.app.period {
                    d.apply(Action::Period(i as i32 - current));
                }
            }
            if let Some(outage) = &d.app.outage {
                ui.separator();
                ui.label(RichText::new(format!("Unavailable: {outage}")).color(ERROR).strong())
                    .on_hover_text("what is shown stays; it reloads by itself once the store and the cache answer again");
            }
        });
    });
}

/// The status line.
pub fn status_line(ui: &mut Ui, d: &mut Session) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(d.app.backend.as_deref().unwrap_or("opening the store…"));
            if d.app.refreshing() {
                ui.weak("refreshing…");
            }
            if let Some(age) = d.app.data_age() {
                ui.weak(format!("data of {}", age.format("%Y-%m-%d %H:%M UTC")));
            }
            if let Some((label, done, total)) = &d.app.progress {
                let bar = match total {
                    Some(t) if *t > 0 => egui::ProgressBar::new(*done as f32 / *t as f32).text(format!("{label} {done}/{t}")),
                    _ => egui::ProgressBar::new(0.0).animate(true).text(format!("{label} {done}")),
                };
                ui.add(bar.desired_width(260.0));
                if d.app.working.is_some() && ui.button("Cancel").on_hover_text("stop it; what it finished stays (X)").clicked() {
                    d.apply(Action::CancelWork);
                }
            }
            if let Some(notice) = &d.app.notice {
                ui.label(notice.as_str());
            }
            if let Some(error) = &d.app.error {
                ui.label(RichText::new(error.as_str()).color(ERROR));
            }
        });
    });
}

/// What the input window asks for in a mode, and whether the text is masked.
fn prompt(mode: Mode) -> (&'static str, &'static str, bool) {
    match mode {
        Mode::Palette => ("Command", "a vantage command, e.g. migrate-period daily --days 30, refresh, resource … 1w --ip …", false),
        Mode::Filter => ("Filter", "text a row of the focused table must contain", false),
        Mode::AddToken => ("Device token", "the token of one of your devices (shown masked)", true),
        Mode::CheckPassword => ("Password", "checked against the leaked-password store (shown masked)", true),
        Mode::PcapQuery => ("Capture request", "e.g. host 203.0.113.5 and tcp port 22, last 1h", false),
        Mode::SaveCapture => ("Save capture as", "file name (relative: in the export directory)", false),
        Mode::EventsAsns => ("ASNs", "comma-separated AS numbers (empty: all)", false),
        Mode::FlowsIp => ("IP address", "only the connections from or to it (empty: all)", false),
        Mode::FlowsScore => ("Severity", "1 high, 2 medium, 3 low (benign): one key scores the selected connection", false),
        Mode::StoryTitle => ("Storyboard title", "the title of the selected IP's storyboard", false),
        Mode::StoryText => ("Storyboard text", "on one line, \\n for a new line (the Storyboard panel edits it on several)", false),
        Mode::DynfwIp => ("Address", "an IPv4 or IPv6 address: blocked by DynFW? on the greylist? (empty: no search)", false),
        Mode::Normal => ("", "", false),
    }
}

/// The input window, while the models want something typed. Typing goes through the models'
/// own input actions, so a filter applies as it is typed, as in the terminal.
pub fn input_window(ctx: &egui::Context, d: &mut Session) {
    if d.app.mode == Mode::Normal {
        return;
    }
    let (title, hint, masked) = prompt(d.app.mode);
    let mut text = d.app.input.clone();
    let (mut submit, mut cancel) = (false, false);
    egui::Window::new(title).collapsible(false).resizable(false).anchor(egui::Align2::CENTER_TOP, [0.0, 60.0]).show(ctx, |ui| {
        ui.weak(hint);
        let label = ui.label(title);
        let edit = ui.add(TextEdit::singleline(&mut text).id_salt("input line").password(masked).desired_width(480.0)).labelled_by(label.id);
        submit = edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
        cancel = ui.input(|i| i.key_pressed(Key::Escape));
        if !edit.has_focus() && !submit && !cancel {
            edit.request_focus();
        }
        ui.horizontal(|ui| {
            submit |= ui.button("Run").clicked();
            cancel |= ui.button("Cancel").clicked();
        });
    });
    if text != d.app.input {
        retype(d, &text);
    }
    if submit {
        d.apply(Action::Submit);
    } else if cancel {
        d.apply(Action::Cancel);
    }
}

/// Makes the models' input line `text`, through their erase and input actions.
fn retype(d: &mut Session, text: &str) {
    let kept = d.app.input.chars().zip(text.chars()).take_while(|(a, b)| a == b).count();
    while d.app.input.chars().count() > kept {
        d.apply(Action::Erase);
    }
    for c in text.chars().skip(kept) {
        d.apply(Action::Input(c));
    }
}

/// Desktop gestures beside the terminal's keys.
const GESTURES: &[(&str, &str)] = &[
    ("Ctrl+K", "command palette (as :)"),
    ("click a header", "sort by that column; again: the other way"),
    ("double-click a row", "open its detail (as Enter)"),
    ("drag, scroll, double-click a chart", "pan, zoom, reset"),
];

/// The shortcuts window (`?`), listing the terminal's keys, which work here too.
pub fn shortcuts_window(ctx: &egui::Context, d: &mut Session) {
    let mut open = d.app.help;
    if !open {
        return;
    }
    egui::Window::new("Shortcuts").open(&mut open).collapsible(false).default_width(520.0).show(ctx, |ui| {
        egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
            for (keys, what) in GESTURES.iter().chain(KEYS) {
                ui.label(RichText::new(*keys).monospace());
                ui.label(*what);
                ui.end_row();
            }
        });
    });
    if !open {
        d.app.help = false;
    }
}
