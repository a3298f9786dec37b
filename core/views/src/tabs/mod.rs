//! One model per tab: its state, the engine requests its panels make, the engine events it
//! takes, its actions, and the tables, text and chart data it shows. [`crate::app::App`] owns
//! them and routes; a front end only draws what they give.
//!
//! Panels are answered by the model that owns their [`Source`]: statistics resources by
//! [`statistics::Statistics`] (shared by every tab that shows one — Overview, Ports and the
//! resource panels of Attackers, Passwords and My devices), the rest by their tab's model.

pub mod attackers;
pub mod devices;
pub mod dossier;
pub mod dynfw;
pub mod events;
pub mod flows;
pub mod operations;
pub mod passwords;
pub mod pcap;
pub mod statistics;

use std::collections::HashMap;

use vantage_core::engine::{Update, Request};
use vantage_core::export::ChartData;
use vantage_core::statistics::periods::Period;

use crate::effect::Effect;
use crate::keys::{Action, Mode};
use crate::panels::{Detail, Panel, Source, Tab};
use vantage_core::engine::RequestKind;
use crate::table::{TableData, TableState};

/// What a model sees of the dashboard around it.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The tab shown.
    pub tab: Tab,
    /// The period shown.
    pub period: Period,
    /// The open detail view, if any.
    pub detail: Option<&'a Detail>,
    /// The statistics resources read so far (shared by the statistics tabs).
    pub statistics: &'a statistics::Statistics,
    /// The store / cache description once the engine is ready.
    pub backend: Option<&'a str>,
    /// The focused panel.
    pub focused: Option<&'a Panel>,
    /// The selected row of the focused table, as shown.
    pub selected: Option<&'a [String]>,
    /// Every table's sort, filter and selection, by panel key.
    pub tables: &'a HashMap<String, TableState>,
}

/// What a model wants done after an action or an event; the router applies it.
#[derive(Debug, Default, PartialEq)]
pub struct Reply {
    /// Effects to carry out, before those of `goto` and `reload`.
    pub effects: Vec<Effect>,
    /// A message for the status line.
    pub notice: Option<String>,
    /// An error for the status line.
    pub error: Option<String>,
    /// Start typing in this mode, the input line holding this text.
    pub typing: Option<(Mode, String)>,
    /// Show this tab first.
    pub goto: Option<Tab>,
    /// Ask again for the data of the view.
    pub reload: bool,
    /// Select the first row of the table showing this source.
    pub reset_selection: Option<Source>,
    /// A long operation ended: its progress goes.
    pub finished: bool,
}

impl Reply {
    /// Only these effects.
    pub fn effects(effects: Vec<Effect>) -> Reply {
        Reply { effects, ..Reply::default() }
    }

    /// Only a message.
    pub fn notice(notice: impl Into<String>) -> Reply {
        Reply { notice: Some(notice.into()), ..Reply::default() }
    }

    /// Only an error.
    pub fn error(error: impl Into<String>) -> Reply {
        Reply { error: Some(error.into()), ..Reply::default() }
    }

    /// Start typing in `mode` with `text` already typed.
    pub fn typing(mode: Mode, text: impl Into<String>) -> Reply {
        Reply { typing: Some((mode, text.into())), ..Reply::default() }
    }

    /// Ask again for the view's data.
    pub fn reload() -> Reply {
        Reply { reload: true, ..Reply::default() }
    }
}

/// Whether a model took an engine event.
#[derive(Debug)]
pub enum Taken {
    /// It was the model's: what to show for it.
    Mine(Reply),
    /// Not the model's: the event, for the next model.
    NotMine(Update),
}

/// A tab's model. Everything has a default that does nothing, so a model implements only what
/// its tab has.
pub trait TabModel {
    /// The engine requests for one of its panels in the current view (empty: nothing to ask).
    fn requests(&self, ctx: &Ctx, source: &Source) -> Vec<Request> {
        let _ = (ctx, source);
        Vec::new()
    }

    /// What the view shows now and nobody asked for yet (the details of a new selection, say),
    /// asked after every action and event while its tab shows; by default nothing.
    fn wanted(&self, ctx: &Ctx) -> Vec<Request> {
        let _ = ctx;
        Vec::new()
    }

    /// Notes a request of its own that is being sent.
    fn sent(&mut self, request: &Request) {
        let _ = request;
    }

    /// Takes an engine event that is its to take (with what to show for it), or gives it back.
    fn take(&mut self, event: Update) -> Taken {
        Taken::NotMine(event)
    }

    /// A request of its own of `kind` failed (the router shows the error).
    fn failed(&mut self, kind: RequestKind) {
        let _ = kind;
    }

    /// One of its tab's actions (None: not one here; the router says where it works).
    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        let _ = (ctx, action);
        None
    }

    /// Typing in one of its modes finished with `input`.
    fn submit(&mut self, ctx: &Ctx, mode: Mode, input: String) -> Reply {
        let _ = (ctx, mode, input);
        Reply::default()
    }

    /// What to ask again on a tick (every 2 s) while its tab shows, given the view's requests;
    /// by default every minute.
    fn tick(&self, ticks: u64, requests: Vec<Request>) -> Vec<Request> {
        if ticks.is_multiple_of(30) { requests } else { Vec::new() }
    }

    /// A table panel's full data (None: not loaded yet).
    fn table(&self, ctx: &Ctx, panel: &Panel) -> Option<TableData> {
        let _ = (ctx, panel);
        None
    }

    /// Lines of a text panel.
    fn text(&self, ctx: &Ctx, panel: &Panel) -> Vec<String> {
        let _ = (ctx, panel);
        Vec::new()
    }

    /// A chart panel's data (None: not loaded yet).
    fn chart(&self, ctx: &Ctx, panel: &Panel) -> Option<ChartData> {
        let _ = (ctx, panel);
        None
    }
}
