//! What the views draw and act on: the dashboard models of `vantage_views` (the same
//! [`App`] the terminal draws) and the [`Bridge`] to the engine. Actions change the models;
//! their [`Effect`]s are carried out here (engine requests, saving device tokens). The
//! chrome, views and widgets take a `&mut Session`; [`crate::desktop`] owns it and the window.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use eframe::egui;
use vantage_core::{Config, devices};
use vantage_views::app::{App, Effect};
use vantage_views::keys::Action;

use crate::bridge::{Bridge, Incoming};
use crate::demo::DemoOptions;

/// How often time passes for the models (they re-ask live data on ticks).
pub const TICK: Duration = Duration::from_secs(2);

/// The models, the engine's end and what the desktop keeps beside them.
pub struct Session {
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
}

impl Session {
    /// Starts the engine (after the demo fill, with `demo`) and asks for the first view's data;
    /// `ctx` is woken for everything the engine sends.
    pub fn new(ctx: &egui::Context, config: Config, demo: Option<DemoOptions>) -> anyhow::Result<Session> {
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
        let mut session = Session { app, bars: Default::default(), demo: None, bridge, data_dir, failed_saves: mpsc::channel(), repaint: ctx.clone() };
        let first = session.app.requests();
        session.execute(first);
        Ok(session)
    }

    /// Applies an action to the models and carries out what it asks for.
    pub fn apply(&mut self, action: Action) {
        let effects = self.app.apply(action);
        self.execute(effects);
    }

    /// Carries out effects: requests to the engine, device tokens saved off the UI thread.
    pub fn execute(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Engine(request) => self.bridge.send(request),
                Effect::Cancel(kind) => self.bridge.cancel(kind),
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
    pub fn drain(&mut self) {
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

}
