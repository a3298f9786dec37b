//! The desktop app: one [`eframe::App`] owning the dashboard models of `vantage_views` (the
//! same [`App`] the terminal draws) and the [`Bridge`] to the engine. Each frame it takes what
//! the engine sent, maps keys to the models' actions, keeps live views ticking, and draws the
//! sidebar, period bar, status line and the current view ([`crate::views`]). Actions change
//! the models; their [`Effect`]s are carried out here (engine requests, saving device tokens).

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eframe::egui;
use vantage_core::{Config, devices};
use vantage_views::app::{App, Effect};
use vantage_views::keys::{Action, Mode, action_for};

use crate::bridge::{Bridge, Incoming};
use crate::demo::DemoOptions;
use crate::{chrome, keys, views};

/// How often time passes for the models (they re-ask live data on ticks).
pub const TICK: Duration = Duration::from_secs(2);

/// The desktop app.
pub struct Desktop {
    /// The dashboard models: tab, period, detail, tables' sort / filter / selection, data.
    pub app: App,
    /// Charts drawn as stacked bars, by panel key (the others are lines).
    pub bars: std::collections::HashSet<String>,
    /// What the demo fill reported, once it ended.
    pub demo: Option<String>,
    bridge: Bridge,
    data_dir: PathBuf,
    failed_saves: (mpsc::Sender<String>, mpsc::Receiver<String>),
    repaint: egui::Context,
    last_tick: Instant,
    /// When the app was made, until the first frame is drawn (logged for the benchmarks).
    unframed: Option<Instant>,
}

impl Desktop {
    /// Starts the engine (after the demo fill, with `demo`) and asks for the first view's data.
    pub fn new(ctx: &egui::Context, config: Config, demo: Option<DemoOptions>) -> anyhow::Result<Desktop> {
        let (tokens, token_error) = match devices::load(&config.data_dir) {
            Ok(t) => (t, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let mut app = App::new(tokens, false);
        app.error = token_error;
        if demo.is_some() {
            app.progress = Some(("generating the demo year".into(), 0, None));
        }
        let waker = ctx.clone();
        let data_dir = config.data_dir.clone();
        let bridge = Bridge::start(config, demo, move || waker.request_repaint())?;
        let mut desktop = Desktop {
            app,
            bars: Default::default(),
            demo: None,
            bridge,
            data_dir,
            failed_saves: mpsc::channel(),
            repaint: ctx.clone(),
            last_tick: Instant::now(),
            unframed: Some(Instant::now()),
        };
        let first = desktop.app.requests();
        desktop.execute(first);
        Ok(desktop)
    }

    /// Applies an action to the models and carries out what it asks for.
    pub fn apply(&mut self, action: Action) {
        let effects = self.app.apply(action);
        self.execute(effects);
    }

    /// Carries out effects: requests to the engine, device tokens saved off the UI thread.
    fn execute(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Engine(request) => self.bridge.send(request),
                Effect::Export(_) => {
                    self.app.exported(Err("exports come to the desktop app with its file dialog: the terminal dashboard writes them (e, p, P, w)".into()));
                }
                Effect::SaveDevices(tokens) => {
                    let (dir, failed, repaint) = (self.data_dir.clone(), self.failed_saves.0.clone(), self.repaint.clone());
                    std::thread::spawn(move || {
                        if let Err(e) = devices::save(&dir, &tokens) {
                            let _ = failed.send(e.to_string());
                            repaint.request_repaint();
                        }
                    });
                }
            }
        }
    }

    /// Takes one message from the engine's side.
    fn take(&mut self, message: Incoming) {
        match message {
            Incoming::Update(update) => {
                self.app.on_event(update);
            }
            Incoming::Demo(Ok(filled)) => {
                self.app.progress = None;
                if let Some(token) = filled.token
                    && !self.app.devices.tokens.contains(&token)
                {
                    self.app.devices.tokens.push(token);
                    let requests = self.app.requests();
                    self.execute(requests);
                }
                self.app.notice = Some(filled.summary.clone());
                self.demo = Some(filled.summary);
            }
            Incoming::Demo(Err(e)) => {
                self.app.progress = None;
                self.app.error = Some(e);
            }
        }
    }

    /// Takes everything that has arrived.
    fn drain(&mut self) {
        while let Some(message) = self.bridge.try_recv() {
            self.take(message);
        }
        while let Ok(e) = self.failed_saves.1.try_recv() {
            self.app.exported(Err(e));
        }
    }

    /// Waits up to `timeout` for the engine's next message and takes it and all behind it;
    /// false when none came. Tests wait on the engine with it, as the UI is woken for it.
    pub fn wait_for_engine(&mut self, timeout: Duration) -> bool {
        let Some(message) = self.bridge.recv_timeout(timeout) else { return false };
        self.take(message);
        self.drain();
        true
    }

    /// Lets time pass for the models (every [`TICK`], however late the frame), and asks for a
    /// frame when the shown view next needs one: no frames while nothing changes.
    fn tick(&mut self, ctx: &egui::Context) {
        let due = (self.last_tick.elapsed().as_millis() / TICK.as_millis()) as u32;
        if due > 0 {
            self.last_tick += TICK * due;
            let mut effects: Vec<Effect> = Vec::new();
            for _ in 0..due.min(30) {
                for e in self.app.apply(Action::Tick) {
                    if !effects.contains(&e) {
                        effects.push(e);
                    }
                }
            }
            self.execute(effects);
        }
        ctx.request_repaint_after(views::of(self.app.tab).refresh.saturating_sub(self.last_tick.elapsed()));
    }

    /// Keys typed outside text fields, through the dashboard's own key map (Ctrl+K: the palette).
    fn keys(&mut self, ctx: &egui::Context) {
        if ctx.text_edit_focused() || self.app.mode != Mode::Normal {
            return;
        }
        for key in ctx.input(keys::pressed) {
            let action = if key == keys::PALETTE { Some(Action::Palette) } else { action_for(key, Mode::Normal) };
            if let Some(action) = action {
                self.apply(action);
            }
        }
    }
}

impl eframe::App for Desktop {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain();
        self.keys(ctx);
        self.tick(ctx);
        if self.app.quit {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        chrome::sidebar(ui, self);
        chrome::period_bar(ui, self);
        chrome::status_line(ui, self);
        egui::CentralPanel::default().show(ui, |ui| views::show(ui, self));
        chrome::input_window(ui.ctx(), self);
        chrome::shortcuts_window(ui.ctx(), self);
        if let Some(made) = self.unframed.take() {
            tracing::info!(first_frame_ms = made.elapsed().as_secs_f64() * 1000.0, "first frame drawn");
        }
    }
}
