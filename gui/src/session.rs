//! What the views draw and act on: the dashboard models of `vantage_views` (the same
//! [`App`] the terminal draws) and the [`Bridge`] to the engine. Actions change the models;
//! their [`Effect`]s are carried out here: engine requests, saving device tokens, and exports,
//! which open the save dialog ([`FileDialog`]) and are written where it says, off the UI
//! thread, through [`vantage_views::export`] (the very files the terminal writes). The
//! chrome, views and widgets take a `&mut Session`; [`crate::desktop`] owns it and the window.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use eframe::egui;
use vantage_core::{Clock, Config, devices};
use vantage_views::app::{App, Effect, Export};
use vantage_views::export;
use vantage_views::keys::{Action, Mode};

use crate::bridge::{Bridge, Incoming};
use crate::demo::DemoOptions;
use crate::dialog::{Choice, FileDialog};
use crate::persist::Settings;
use crate::shown::ShownTables;
use crate::draft::Draft;

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
    /// Where the save dialog opens: `--export-dir`, else `<data_dir>/exports`.
    pub export_dir: PathBuf,
    /// The save dialog, while an export waits for its path or is being written.
    pub dialog: Option<FileDialog>,
    /// The tables as last shown (filtered, sorted), kept while the models do not change.
    pub shown: ShownTables,
    /// The storyboard being edited on the Flows view.
    pub story: Draft,
    bridge: Bridge,
    data_dir: PathBuf,
    clock: Clock,
    done: (mpsc::Sender<Done>, mpsc::Receiver<Done>),
    repaint: egui::Context,
}

/// What a helper thread reports.
enum Done {
    /// Saving the device tokens failed.
    DevicesFailed(String),
    /// An export was written to the path, or failed.
    Exported(Result<PathBuf, String>),
}

impl Session {
    /// Starts the engine (after the demo fill, with `demo`) and the DynFW feed (the demo's
    /// replay with `demo`, else the configured one), and asks for the data of the view
    /// and period kept in `settings`; `ctx` is woken for everything the engine sends.
    pub fn new(ctx: &egui::Context, config: Config, demo: Option<DemoOptions>, settings: &Settings) -> anyhow::Result<Session> {
        let (tokens, token_error) = match devices::load(&config.data_dir) {
            Ok(t) => (t, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let mut app = App::new(tokens, false);
        (app.tab, app.period) = (settings.tab, settings.period);
        app.error = token_error;
        if demo.is_some() {
            app.progress = Some(("generating the demo year".into(), 0, None));
        }
        // the DynFW feed runs with the engine: the demo's replay with --demo
        app.dynfw.demo = demo.is_some();
        let waker = ctx.clone();
        let (data_dir, clock) = (config.data_dir.clone(), config.clock);
        let bridge = Bridge::start(config, demo, move || waker.request_repaint())?;
        let mut session = Session {
            app,
            bars: Default::default(),
            demo: None,
            export_dir: data_dir.join("exports"),
            dialog: None,
            shown: ShownTables::default(),
            story: Draft::default(),
            bridge,
            data_dir,
            clock,
            done: mpsc::channel(),
            repaint: ctx.clone(),
        };
        let first = [session.app.start_feed(), session.app.requests()].concat();
        session.execute(first);
        Ok(session)
    }

    /// The data directory (settings, device tokens).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Applies an action to the models and carries out what it asks for. A capture to save
    /// needs no name typed first: the save dialog asks for it.
    pub fn apply(&mut self, action: Action) {
        let mut effects = self.app.apply(action);
        if self.app.mode == Mode::SaveCapture {
            effects.extend(self.app.apply(Action::Submit));
        }
        self.execute(effects);
    }

    /// Carries out effects: requests to the engine, device tokens saved off the UI thread, the
    /// save dialog for an export (also those the models ask for after an engine event).
    pub fn execute(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Engine(request) => self.bridge.send(request),
                Effect::Cancel(kind) => self.bridge.cancel(kind),
                Effect::Export(x) => self.ask_where(x),
                Effect::SaveDevices(tokens) => {
                    let dir = self.data_dir.clone();
                    self.in_background(move || devices::save(&dir, &tokens).err().map(|e| Done::DevicesFailed(e.to_string())));
                }
            }
        }
    }

    /// Opens the save dialog for `x` in the export directory (created), with the terminal's
    /// file name for it.
    fn ask_where(&mut self, x: Export) {
        if self.dialog.is_some() {
            self.app.notice = Some("the save dialog is open already".into());
            return;
        }
        let _ = std::fs::create_dir_all(&self.export_dir); // if this fails, the dialog says why
        let name = export::file_name(&export::stamp(self.clock.now()), &x);
        self.dialog = Some(FileDialog::new(self.export_dir.clone(), name, x));
    }

    /// Draws the save dialog while one is open, and writes the export where it says (on a
    /// helper thread; [`Session::drain`] takes the outcome).
    pub fn show_dialog(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.dialog.as_mut() else { return };
        match dialog.show(ctx) {
            Some(Choice::Save(path)) => {
                let x = dialog.export.clone();
                self.in_background(move || Some(Done::Exported(export::write_to(&path, &x).map(|()| path).map_err(|e| e.to_string()))));
            }
            Some(Choice::Cancel) => {
                self.dialog = None;
                self.app.notice = Some("export cancelled: nothing written".into());
            }
            None => {}
        }
    }

    /// Runs `work` on a helper thread; what it reports reaches [`Session::drain`], waking the UI.
    fn in_background(&self, work: impl FnOnce() -> Option<Done> + Send + 'static) {
        let (done, repaint) = (self.done.0.clone(), self.repaint.clone());
        std::thread::spawn(move || {
            if let Some(report) = work() {
                let _ = done.send(report);
                repaint.request_repaint();
            }
        });
    }

    /// Takes one message from the engine's side.
    fn take(&mut self, message: Incoming) {
        match message {
            Incoming::Update(update) => {
                let wanted = self.app.on_event(*update);
                self.execute(wanted);
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
        while let Ok(report) = self.done.1.try_recv() {
            match report {
                Done::DevicesFailed(e) => self.app.exported(Err(e)),
                Done::Exported(Ok(path)) => {
                    self.dialog = None;
                    self.app.exported(Ok(path.display().to_string()));
                }
                Done::Exported(Err(e)) => {
                    if let Some(dialog) = &mut self.dialog {
                        dialog.failed(e.clone());
                    }
                    self.app.exported(Err(e));
                }
            }
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
