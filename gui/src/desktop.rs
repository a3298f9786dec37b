//! The desktop app: one [`eframe::App`] owning the [`Session`] (models and engine). Each
//! frame it takes what the engine sent, maps keys to the models' actions, keeps live views
//! ticking, and draws the sidebar, period bar, status line and the current view
//! ([`crate::views`]).

use std::time::Instant;

use eframe::egui;
use vantage_core::Config;
use vantage_views::app::Effect;
use vantage_views::keys::{Action, Mode, action_for};

use crate::demo::DemoOptions;
use crate::session::{Session, TICK};
use crate::probe::Probe;
use crate::{chrome, keys, views};

/// The desktop app.
pub struct Desktop {
    /// The models and the engine's end.
    pub session: Session,
    last_tick: Instant,
    /// When the app was made, until the first frame is drawn (logged for the benchmarks).
    unframed: Option<Instant>,
    /// What the end-to-end test and the benchmarks watch (frames, views ready).
    probe: Probe,
}

impl Desktop {
    /// Starts the engine (after the demo fill, with `demo`) and asks for the first view's data.
    pub fn new(ctx: &egui::Context, config: Config, demo: Option<DemoOptions>) -> anyhow::Result<Desktop> {
        Ok(Desktop { session: Session::new(ctx, config, demo)?, last_tick: Instant::now(), unframed: Some(Instant::now()), probe: Probe::new() })
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
        if ctx.text_edit_focused() || self.session.app.mode != Mode::Normal {
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
        if let Some(made) = self.unframed.take() {
            tracing::info!(first_frame_ms = made.elapsed().as_secs_f64() * 1000.0, "first frame drawn");
        }
        self.probe.frame(ui.ctx(), &self.session.app, frame.info());
    }
}
