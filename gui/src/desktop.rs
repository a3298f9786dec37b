//! The desktop app: one [`eframe::App`] owning the [`Session`] (models and engine). Each
//! frame it takes what the engine sent, maps keys to the models' actions, keeps live views
//! ticking, and draws the sidebar, period bar, status line, the current view
//! ([`crate::views`]) and the save dialog. It starts with the theme, view, period kept by the
//! last run ([`crate::persist`]) and keeps them, with the window's geometry, when dropped.

use std::time::Instant;

use eframe::egui;
use vantage_core::Config;
use vantage_views::app::Effect;
use vantage_views::keys::{Action, Mode, action_for};

use crate::demo::DemoOptions;
use crate::persist::{self, Settings};
use crate::probe::Probe;
use crate::session::{Session, TICK};
use crate::{chrome, keys, views};

/// The desktop app.
pub struct Desktop {
    /// The models and the engine's end.
    pub session: Session,
    last_tick: Instant,
    /// When the app was made, until the first frame is drawn (logged for the benchmarks).
    unframed: Option<Instant>,
    /// What is kept for the next run, as of the last frame.
    settings: Settings,
    /// The kept theme, until the first frame applies it (after whoever made the context set
    /// its own, as a test harness does).
    unthemed: Option<egui::Theme>,
    /// What the end-to-end test and the benchmarks watch (frames, views ready).
    probe: Probe,
}

impl Desktop {
    /// Starts the engine (after the demo fill, with `demo`) on the theme, view and period
    /// kept in the data directory, and asks for that view's data.
    pub fn new(ctx: &egui::Context, config: Config, demo: Option<DemoOptions>) -> anyhow::Result<Desktop> {
        let (settings, warning) = persist::load(&config.data_dir);
        let mut session = Session::new(ctx, config, demo, &settings)?;
        session.app.notice = warning;
        Ok(Desktop { session, last_tick: Instant::now(), unframed: Some(Instant::now()), settings, unthemed: Some(settings.theme), probe: Probe::new() })
    }

    /// What to keep as of this frame: the theme, view, period, and the window once known.
    fn remember(&mut self, ctx: &egui::Context) {
        if let Some(theme) = self.unthemed.take() {
            ctx.set_theme(theme);
        }
        let (inner, outer) = ctx.input(|i| (i.viewport().inner_rect, i.viewport().outer_rect));
        let s = &mut self.settings;
        (s.theme, s.tab, s.period) = (ctx.theme(), self.session.app.tab, self.session.app.period);
        if let (Some(inner), Some(outer)) = (inner, outer) {
            s.window = Some(persist::Geometry { x: outer.min.x, y: outer.min.y, width: inner.width(), height: inner.height() });
        }
    }

    /// Lets time pass for the models (every [`TICK`], however late the frame), and asks for a
    /// frame when the shown view next needs one: no frames while nothing changes.
    fn tick(&mut self, ctx: &egui::Context) {
        let due = (self.last_tick.elapsed().as_millis() / TICK.as_millis()) as u32;
        if due > 0 {
            self.last_tick += TICK * due;
            let mut effects: Vec<Effect> = Vec::new();
            for _ in 0..due.min(30) {
                for e in self.session.app.apply(Action::Tick) {
                    if !effects.contains(&e) {
                        effects.push(e);
                    }
                }
            }
            self.session.execute(effects);
        }
        ctx.request_repaint_after(views::of(self.session.app.tab).refresh.saturating_sub(self.last_tick.elapsed()));
    }

    /// Keys typed outside text fields, through the dashboard's own key map (Ctrl+K: the palette).
    fn keys(&mut self, ctx: &egui::Context) {
        if ctx.text_edit_focused() || self.session.app.mode != Mode::Normal || self.session.dialog.is_some() {
            return;
        }
        for key in ctx.input(keys::pressed) {
            let action = if key == keys::PALETTE { Some(Action::Palette) } else { action_for(key, Mode::Normal) };
            if let Some(action) = action {
                self.session.apply(action);
            }
        }
    }
}

impl eframe::App for Desktop {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.session.drain();
        self.keys(ctx);
        self.tick(ctx);
        self.remember(ctx);
        if self.session.app.quit {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        chrome::sidebar(ui, &mut self.session);
        chrome::period_bar(ui, &mut self.session);
        chrome::status_line(ui, &mut self.session);
        egui::CentralPanel::default().show(ui, |ui| views::show(ui, &mut self.session));
        chrome::input_window(ui.ctx(), &mut self.session);
        chrome::shortcuts_window(ui.ctx(), &mut self.session);
        self.session.show_dialog(ui.ctx());
        if let Some(made) = self.unframed.take() {
            tracing::info!(first_frame_ms = made.elapsed().as_secs_f64() * 1000.0, "first frame drawn");
        }
        self.probe.frame(ui.ctx(), &self.session.app, frame.info());
    }
}

impl Drop for Desktop {
    /// Keeps the settings for the next run (a failure is logged: nothing else to do at exit).
    fn drop(&mut self) {
        if let Err(e) = persist::save(self.session.data_dir(), &self.settings) {
            tracing::warn!("cannot keep the window settings: {e:#}");
        }
    }
}
