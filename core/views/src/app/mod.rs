//! The dashboard: navigation (tab, period, detail view, focus), the input line, the status
//! line and the tables' sort/filter/selection, and the tab models it routes to. Keys map to
//! [`Action`]s; an action changes the state and returns [`Effect`]s (engine requests, exports,
//! saving device tokens) that the front end's loop carries out; engine events fill the models.
//! Nothing here touches a screen, files or the network, so every transition is testable.
//! Engine events come in through [`events`]; what the views read is in [`reads`].

mod events;
mod reads;

use std::collections::HashMap;

use vantage_core::engine::Request;
use vantage_core::statistics::periods::Period;

pub use crate::effect::{Effect, Export};
use crate::keys::{Action, Mode};
use crate::palette::{self, Outcome};
use crate::panels::{self, Detail, Opens, Panel, Shape, Source, Tab};
use vantage_core::engine::RequestKind;
pub use crate::table::{TableData, TableState};
use crate::tabs::attackers::Attackers;
use crate::tabs::devices::Devices;
use crate::tabs::dossier::{self, Dossier};
use crate::tabs::dynfw::Dynfw;
use crate::tabs::events::Events;
use crate::tabs::flows::Flows;
use crate::tabs::operations::Operations;
use crate::tabs::passwords::Passwords;
use crate::tabs::pcap::Pcap;
use crate::tabs::statistics::Statistics;
use crate::tabs::{Ctx, Reply, TabModel};

/// Dashboard state: what is shown and typed, and the tab models.
#[derive(Debug)]
pub struct App {
    /// Current tab.
    pub tab: Tab,
    /// Current period.
    pub period: Period,
    /// Open detail view, if any.
    pub detail: Option<Detail>,
    /// Focused panel (index into [`App::panels`]).
    pub focus: usize,
    focus_before_detail: usize,
    /// What keys type into.
    pub mode: Mode,
    /// The input line (filter, command or token being typed).
    pub input: String,
    /// Help overlay shown.
    pub help: bool,
    /// Set when the user quits.
    pub quit: bool,
    /// Plain-ASCII drawing (no braille, no box-drawing characters).
    pub ascii: bool,
    /// Store / cache description once ready.
    pub backend: Option<String>,
    /// What of the deployment does not answer now (the store, the cache, and why), for the
    /// header while it lasts; None when everything answers.
    pub outage: Option<String>,
    /// Last message for the status line.
    pub notice: Option<String>,
    /// Last error, one line.
    pub error: Option<String>,
    /// The last error of a request that found the store or the cache unavailable (cleared
    /// from the status line when they answer again, unlike any other error).
    unavailable_error: Option<String>,
    /// Progress of a long operation: label, done, total.
    pub progress: Option<(String, u64, Option<u64>)>,
    /// The long request running (a back-fill or an aggregation), which
    /// [`Action::CancelWork`] cancels.
    pub working: Option<RequestKind>,
    /// Table states by panel key.
    pub tables: HashMap<String, TableState>,
    /// Statistics resources (Overview, Ports, and every tab's resource panels).
    pub statistics: Statistics,
    /// The Attackers tab.
    pub attackers: Attackers,
    /// The Passwords tab.
    pub passwords: Passwords,
    /// The My devices tab.
    pub devices: Devices,
    /// The Events tab.
    pub events: Events,
    /// The PCAP tab.
    pub pcap: Pcap,
    /// The Flows tab.
    pub flows: Flows,
    /// The DynFW tab.
    pub dynfw: Dynfw,
    /// The Operations tab.
    pub operations: Operations,
    /// The IP dossier (a detail view opened from any tab).
    pub dossier: Dossier,
    ticks: u64,
    /// Counts the actions and events handled: what a table shows can only have changed when it
    /// did ([`App::revision`]).
    revision: u64,
}

/// The [`Ctx`] models see, borrowing only the fields it needs (so that a model can be borrowed
/// mutably beside it).
macro_rules! ctx {
    ($app:expr, $focused:expr, $selected:expr) => {
        Ctx {
            tab: $app.tab,
            period: $app.period,
            detail: $app.detail.as_ref(),
            statistics: &$app.statistics,
            backend: $app.backend.as_deref(),
            focused: $focused,
            selected: $selected,
            tables: &$app.tables,
        }
    };
}

/// Where a tab's action works, said when it is used elsewhere.
fn elsewhere(action: &Action) -> &'static str {
    match action {
        Action::AddToken => "a adds a device token on My devices (5)",
        Action::CopyReport => "y writes the report of an open dossier (d on an address opens one)",
        Action::RemoveToken => "x removes the selected token on My devices (5)",
        Action::CheckPassword => "c checks a password on the Passwords tab (3)",
        Action::NewCapture => "n requests a capture on the PCAP tab (7), an attacker's detail or the Flows tab (8)",
        Action::SaveCapture => "w saves a completed capture: open one on the PCAP tab (7)",
        Action::FilterAsns => "f filters the Events tab (6) by ASNs",
        Action::NextTaxonomy | Action::NextCountry => "t g f filter the Events tab (6)",
        Action::Day(_) | Action::FilterIp | Action::StartScoring | Action::ScoreFlow(_) | Action::EditStoryboard | Action::SaveStoryboard { .. } => {
            "[ ] i v b act on the Flows tab (8)"
        }
        _ => "F A M C act on the Operations tab (0)",
    }
}

impl App {
    /// A dashboard on the Overview for the last day, with the registered `tokens`.
    pub fn new(tokens: Vec<String>, ascii: bool) -> App {
        App {
            tab: Tab::Overview,
            period: Period::Day,
            detail: None,
            focus: 0,
            focus_before_detail: 0,
            mode: Mode::Normal,
            input: String::new(),
            help: false,
            quit: false,
            ascii,
            backend: None,
            outage: None,
            notice: None,
            unavailable_error: None,
            error: None,
            progress: None,
            working: None,
            tables: HashMap::new(),
            statistics: Statistics::default(),
            attackers: Attackers::default(),
            passwords: Passwords::default(),
            devices: Devices { tokens },
            events: Events::default(),
            pcap: Pcap::default(),
            flows: Flows::default(),
            dynfw: Dynfw::default(),
            operations: Operations::default(),
            dossier: Dossier::default(),
            ticks: 0,
            revision: 0,
        }
    }

    /// Changes with every action applied and every engine event taken (and only then), so a
    /// front end may keep what it derived from the models — a sorted 100k-row table, say —
    /// while the revision stays the same.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// What the models see when they only answer (also for a front end asking a model for
    /// more than a panel's table, text or chart, e.g. the Flows pictures).
    pub fn ctx(&self) -> Ctx<'_> {
        ctx!(self, None, None)
    }

    /// The model that answers a panel source.
    fn owner(&self, source: &Source) -> &dyn TabModel {
        match source {
            Source::Resource { .. } => &self.statistics,
            Source::AttackerInfo => &self.attackers,
            Source::LeakCheck | Source::LeakedTop => &self.passwords,
            Source::Devices => &self.devices,
            Source::Events(_) | Source::EventsFilters => &self.events,
            Source::PcapRequest
            | Source::PcapJobs
            | Source::PcapSensors
            | Source::CaptureInfo
            | Source::CaptureTalkers
            | Source::CapturePorts
            | Source::CapturePackets => &self.pcap,
            Source::FlowsDay
            | Source::FlowsSuspicious
            | Source::FlowsEdges
            | Source::FlowsChord
            | Source::FlowsIngest
            | Source::FlowsBeacons
            | Source::FlowsStoryboard => &self.flows,
            Source::DynfwFeed | Source::DynfwRecent | Source::DynfwSizes | Source::DynfwCountries => &self.dynfw,
            Source::Jobs | Source::Timeouts | Source::Cache | Source::Deployment => &self.operations,
            Source::DossierSummary | Source::DossierTimeline | Source::DossierSection(_) => &self.dossier,
        }
    }

    /// The model of a tab.
    fn tab_model(&self, tab: Tab) -> &dyn TabModel {
        match tab {
            Tab::Overview | Tab::Ports => &self.statistics,
            Tab::Attackers => &self.attackers,
            Tab::Passwords => &self.passwords,
            Tab::Devices => &self.devices,
            Tab::Events => &self.events,
            Tab::Pcap => &self.pcap,
            Tab::Flows => &self.flows,
            Tab::Dynfw => &self.dynfw,
            Tab::Operations => &self.operations,
        }
    }

    /// The model that makes requests of `kind`.
    fn requester(&mut self, kind: RequestKind) -> &mut dyn TabModel {
        use RequestKind as K;
        match kind {
            K::Resource => &mut self.statistics,
            K::Refresh | K::Jobs | K::Entries | K::Migrate | K::Aggregate | K::Import | K::ClearCache | K::ClearTimeouts => &mut self.operations,
            K::Geo | K::DynfwMembership => &mut self.attackers,
            K::DynfwStart | K::DynfwStatus | K::DynfwLookup => &mut self.dynfw,
            K::CheckHash | K::LeakedTop => &mut self.passwords,
            K::PcapSubmit | K::PcapCancel | K::PcapJobs | K::PcapSensors | K::PcapSummary => &mut self.pcap,
            K::Events => &mut self.events,
            K::FlowsLatestDay
            | K::FlowsSuspicious
            | K::FlowsEdges
            | K::FlowsChords
            | K::FlowsIngest
            | K::FlowsBeacons
            | K::FlowsScore
            | K::FlowsStoryboard => &mut self.flows,
            K::Dossier => &mut self.dossier,
        }
    }

    /// The panels of the current view.
    pub fn panels(&self) -> Vec<Panel> {
        match &self.detail {
            Some(d) => panels::detail_panels(d),
            None => panels::tab_panels(self.tab, &self.devices.tokens),
        }
    }

    /// The focused panel.
    pub fn focused(&self) -> Option<Panel> {
        self.panels().into_iter().nth(self.focus)
    }

    fn view_requests(&self) -> Vec<Request> {
        let ctx = self.ctx();
        let mut out: Vec<Request> = Vec::new();
        for p in self.panels() {
            for request in self.owner(&p.source).requests(&ctx, &p.source) {
                if !out.contains(&request) {
                    out.push(request);
                }
            }
        }
        out
    }

    /// Starts the DynFW feed (the demo's replay when [`Dynfw::demo`] is set): what a front end
    /// sends once, at start, so that the feed runs as long as it does.
    pub fn start_feed(&mut self) -> Vec<Effect> {
        let effects = vec![Effect::Engine(self.dynfw.start())];
        self.note_sent(&effects);
        effects
    }

    /// Requests for the data of the current view.
    pub fn requests(&self) -> Vec<Effect> {
        self.view_requests().into_iter().map(Effect::Engine).collect()
    }

    /// Applies an action; returns what the loop must do.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        self.revision += 1;
        let mut effects = self.act(action);
        self.note_sent(&effects);
        let more = self.wanted(&effects);
        effects.extend(more);
        effects
    }

    /// Tells the models which of their requests are being sent; a long one can be cancelled.
    fn note_sent(&mut self, effects: &[Effect]) {
        for e in effects {
            if let Effect::Engine(request) = e {
                let kind = request.kind();
                if matches!(kind, RequestKind::Migrate | RequestKind::Aggregate | RequestKind::Import) {
                    self.working = Some(kind);
                }
                self.requester(kind).sent(request);
            }
        }
    }

    /// The requests the shown tab's model wants beyond `effects` (already being carried out),
    /// noted as sent.
    fn wanted(&mut self, effects: &[Effect]) -> Vec<Effect> {
        let ctx = self.ctx();
        let more: Vec<Effect> = self.tab_model(self.tab).wanted(&ctx).into_iter().map(Effect::Engine).filter(|e| !effects.contains(e)).collect();
        self.note_sent(&more);
        more
    }

    fn act(&mut self, action: Action) -> Vec<Effect> {
        if !matches!(action, Action::Tick | Action::Input(_) | Action::Erase) {
            self.error = None;
            self.notice = None;
        }
        match action {
            Action::Tab(t) => {
                self.tab = t;
                self.detail = None;
                self.focus = 0;
                self.requests()
            }
            Action::Period(step) => {
                let i = Period::ALL.iter().position(|p| *p == self.period).unwrap_or(0) as i32;
                let n = Period::ALL.len() as i32;
                self.period = Period::ALL[((i + step).rem_euclid(n)) as usize];
                self.requests()
            }
            Action::Help => {
                self.help = !self.help;
                Vec::new()
            }
            Action::Refresh => {
                self.events.forget_pick_lists();
                self.requests()
            }
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Focus(step) => {
                let n = self.panels().len().max(1) as i32;
                self.focus = ((self.focus as i32 + step).rem_euclid(n)) as usize;
                Vec::new()
            }
            Action::Move(step) => {
                if let Some((key, len)) = self.focused_table_len() {
                    let state = self.tables.entry(key).or_default();
                    state.selected = (state.selected as i64 + step as i64).clamp(0, len.saturating_sub(1) as i64) as usize;
                }
                Vec::new()
            }
            Action::Sort | Action::Reverse => {
                if let Some(p) = self.focused().filter(|p| p.shape == Shape::Table) {
                    let columns = self.table(&p).map_or(1, |t| t.header.len().max(1));
                    let state = self.tables.entry(p.key()).or_default();
                    state.sort = match (action, state.sort) {
                        (Action::Sort, None) => Some((0, false)),
                        (Action::Sort, Some((c, d))) if c + 1 < columns => Some((c + 1, d)),
                        (Action::Sort, Some(_)) => None,
                        (_, None) => Some((columns - 1, false)),
                        (_, Some((c, d))) => Some((c, !d)),
                    };
                    state.selected = 0;
                }
                Vec::new()
            }
            Action::Open => self.open(),
            Action::Dossier => self.open_dossier(),
            Action::StartScoring | Action::EditStoryboard if matches!(self.detail, Some(Detail::Dossier { .. })) => self.flows_pivot(),
            Action::Back => {
                if self.help {
                    self.help = false;
                } else if self.detail.take().is_some() {
                    self.focus = self.focus_before_detail;
                    return self.requests();
                }
                Vec::new()
            }
            Action::Filter => {
                match self.focused().filter(|p| p.shape == Shape::Table) {
                    Some(p) => {
                        self.input = self.tables.get(&p.key()).map(|s| s.filter.clone()).unwrap_or_default();
                        self.mode = Mode::Filter;
                    }
                    None => self.notice = Some("/ filters a table: focus one with Tab".into()),
                }
                Vec::new()
            }
            Action::Palette => {
                self.input.clear();
                self.mode = Mode::Palette;
                Vec::new()
            }
            Action::AddToken
            | Action::RemoveToken
            | Action::CheckPassword
            | Action::NewCapture
            | Action::SaveCapture
            | Action::NextTaxonomy
            | Action::NextCountry
            | Action::FilterAsns
            | Action::Day(_)
            | Action::FilterIp
            | Action::StartScoring
            | Action::ScoreFlow(_)
            | Action::EditStoryboard
            | Action::SaveStoryboard { .. }
            | Action::RunPlanner
            | Action::AggregateNow
            | Action::Migrate
            | Action::ClearCache
            | Action::CopyReport => self.tab_action(action),
            Action::Input(c) => {
                self.input.push(c);
                if self.mode.one_key() {
                    return self.submit();
                }
                self.sync_filter();
                Vec::new()
            }
            Action::Erase => {
                self.input.pop();
                self.sync_filter();
                Vec::new()
            }
            Action::Submit => self.submit(),
            // on the PCAP tab, the selected (or open) capture job when it is still running
            Action::CancelWork if self.tab == Tab::Pcap && self.working.is_none() => self.tab_action(action),
            Action::CancelWork => match self.working {
                Some(kind) => {
                    self.notice = Some("cancelling…".into());
                    vec![Effect::Cancel(kind)]
                }
                None => {
                    self.notice = Some("nothing to cancel".into());
                    Vec::new()
                }
            },
            Action::Cancel => {
                if self.mode == Mode::Filter {
                    self.input.clear();
                    self.sync_filter();
                }
                self.input.clear();
                self.mode = Mode::Normal;
                Vec::new()
            }
            Action::ExportCsv => match self.focused().filter(|p| p.shape == Shape::Table).and_then(|p| Some((self.visible(&p)?, p))) {
                Some((t, p)) => vec![Effect::Export(Export::Csv { stem: self.stem(&p), header: t.header, rows: t.rows })],
                None => {
                    self.notice = Some("e exports a table with data: focus one with Tab".into());
                    Vec::new()
                }
            },
            Action::ExportChart(format) => {
                let panels = self.panels();
                let chosen = self.focused().filter(|p| p.shape == Shape::Chart).or_else(|| panels.into_iter().find(|p| p.shape == Shape::Chart));
                match chosen.and_then(|p| Some((self.chart(&p)?, p))) {
                    Some((chart, p)) => vec![Effect::Export(Export::Chart { stem: self.stem(&p), chart, format })],
                    None => {
                        self.notice = Some("p / P export a chart with data: this view has none yet".into());
                        Vec::new()
                    }
                }
            }
            Action::Tick => {
                self.ticks += 1;
                let model = self.tab_model(self.tab);
                model.tick(self.ticks, self.view_requests()).into_iter().map(Effect::Engine).collect()
            }
        }
    }

    /// An action of the shown tab's model; where it works when that model has no such action.
    fn tab_action(&mut self, action: Action) -> Vec<Effect> {
        let focused = self.focused();
        let selected = focused.as_ref().filter(|p| p.shape == Shape::Table).and_then(|p| {
            let row = self.tables.get(&p.key()).map_or(0, |s| s.selected);
            self.visible(p).and_then(|t| t.rows.into_iter().nth(row))
        });
        let ctx = ctx!(self, focused.as_ref(), selected.as_deref());
        let in_dossier = matches!(self.detail, Some(Detail::Dossier { .. }));
        let reply = match self.tab {
            _ if in_dossier && matches!(action, Action::NewCapture | Action::CopyReport) => self.dossier.act(&ctx, &action),
            Tab::Overview | Tab::Ports => None,
            Tab::Attackers => self.attackers.act(&ctx, &action),
            Tab::Passwords => self.passwords.act(&ctx, &action),
            Tab::Devices => self.devices.act(&ctx, &action),
            Tab::Events => self.events.act(&ctx, &action),
            Tab::Pcap => self.pcap.act(&ctx, &action),
            Tab::Flows => self.flows.act(&ctx, &action),
            Tab::Dynfw => self.dynfw.act(&ctx, &action),
            Tab::Operations => self.operations.act(&ctx, &action),
        };
        match reply {
            Some(reply) => self.follow(reply),
            None => {
                self.notice = Some(elsewhere(&action).to_string());
                Vec::new()
            }
        }
    }

    /// Carries out a model's reply.
    fn follow(&mut self, reply: Reply) -> Vec<Effect> {
        let mut effects = reply.effects;
        if let Some(tab) = reply.goto {
            effects.extend(self.act(Action::Tab(tab)));
        }
        if reply.notice.is_some() {
            self.notice = reply.notice;
        }
        if reply.error.is_some() {
            self.error = reply.error;
        }
        if let Some((mode, text)) = reply.typing {
            self.mode = mode;
            self.input = text;
        }
        if let Some(source) = reply.reset_selection {
            self.tables.entry(Panel::key_of(&source)).or_default().selected = 0;
        }
        if reply.finished {
            self.progress = None;
        }
        if reply.reload {
            effects.extend(self.requests());
        }
        effects
    }

    fn open(&mut self) -> Vec<Effect> {
        let Some(p) = self.focused() else { return Vec::new() };
        let Some(opens) = p.opens else {
            self.notice = Some("Enter opens attackers and passwords; d opens the dossier of a row's address".into());
            return Vec::new();
        };
        if opens == Opens::Dossier {
            return self.open_dossier();
        }
        let column = match opens {
            Opens::Attacker => "ip",
            Opens::Password => "password",
            Opens::Capture => "id",
            Opens::Asn => "source.asn",
            Opens::Dossier => return Vec::new(),
        };
        let Some(t) = self.visible(&p) else { return Vec::new() };
        let selected = self.tables.get(&p.key()).map_or(0, |s| s.selected);
        let (Some(c), Some(row)) = (t.header.iter().position(|h| h == column), t.rows.get(selected)) else { return Vec::new() };
        let value = self.statistics.raw_cell(self.period, &p, &t, selected, c).unwrap_or_else(|| row[c].clone());
        self.detail = Some(match opens {
            Opens::Attacker => Detail::Attacker { ip: value },
            Opens::Password => Detail::Password { password: value },
            Opens::Asn => match value.trim_start_matches("AS").parse() {
                Ok(asn) => Detail::EventsAsn { asn },
                Err(_) => return Vec::new(),
            },
            Opens::Capture => Detail::Capture { id: self.pcap.full_id(&value).unwrap_or(value) },
            Opens::Dossier => return Vec::new(),
        });
        self.focus_before_detail = self.focus;
        self.focus = 0;
        self.requests()
    }

    /// Opens the dossier of the address (or ASN) the focused table's selected row names, else
    /// of the open attacker or dossier address.
    fn open_dossier(&mut self) -> Vec<Effect> {
        let from_row = self.focused().filter(|p| p.shape == Shape::Table).and_then(|p| {
            let t = self.visible(&p)?;
            let row = t.rows.get(self.tables.get(&p.key()).map_or(0, |s| s.selected))?;
            dossier::address_in(&t.header, row)
        });
        let target = from_row.or_else(|| match &self.detail {
            Some(Detail::Attacker { ip }) => Some(ip.clone()),
            _ => None,
        });
        let Some(target) = target else {
            self.notice = Some("d opens the dossier of the selected row's address: focus a table with one (Tab)".into());
            return Vec::new();
        };
        if !matches!(self.detail, Some(Detail::Dossier { .. })) {
            self.focus_before_detail = self.focus;
        }
        self.detail = Some(Detail::Dossier { target });
        self.focus = 0;
        self.requests()
    }

    /// From a dossier of one address: the Flows tab filtered to it, to score its connections
    /// (`v`) or write its storyboard (`b`).
    fn flows_pivot(&mut self) -> Vec<Effect> {
        let ip = match &self.detail {
            Some(Detail::Dossier { target }) => target.parse().ok(),
            _ => None,
        };
        let Some(ip) = ip else {
            self.notice = Some("v and b work on one address's dossier, not a network's or an ASN's".into());
            return Vec::new();
        };
        self.flows.ip = Some(ip);
        let reply = dossier::flows_pivot(ip);
        self.follow(reply)
    }

    fn sync_filter(&mut self) {
        if self.mode != Mode::Filter {
            return;
        }
        if let Some(p) = self.focused() {
            let state = self.tables.entry(p.key()).or_default();
            state.filter = self.input.clone();
            state.selected = 0;
        }
    }

    fn submit(&mut self) -> Vec<Effect> {
        let mode = std::mem::replace(&mut self.mode, Mode::Normal);
        let input = std::mem::take(&mut self.input);
        match mode {
            Mode::Normal | Mode::Filter => return Vec::new(),
            Mode::Palette => return self.run_palette(input),
            _ => {}
        }
        let ctx = ctx!(self, None, None);
        let reply = match mode {
            Mode::AddToken => self.devices.submit(&ctx, mode, input),
            Mode::CheckPassword => self.passwords.submit(&ctx, mode, input),
            Mode::EventsAsns => self.events.submit(&ctx, mode, input),
            Mode::FlowsIp | Mode::FlowsScore | Mode::StoryTitle | Mode::StoryText => self.flows.submit(&ctx, mode, input),
            Mode::DynfwIp => self.dynfw.submit(&ctx, mode, input),
            _ => self.pcap.submit(&ctx, mode, input),
        };
        self.follow(reply)
    }

    fn run_palette(&mut self, input: String) -> Vec<Effect> {
        let outcomes = match palette::parse(&input) {
            Ok(o) => o,
            Err(e) => {
                self.error = Some(format!(":{input}: {e}"));
                return Vec::new();
            }
        };
        let mut effects = Vec::new();
        for o in outcomes {
            match o {
                Outcome::Request(r) => effects.push(Effect::Engine(r)),
                Outcome::Tab(t) => effects.extend(self.apply(Action::Tab(t))),
                Outcome::Quit => self.quit = true,
                Outcome::Open(detail) => {
                    if self.detail.is_none() {
                        self.focus_before_detail = self.focus;
                    }
                    self.detail = Some(detail);
                    self.focus = 0;
                    effects.extend(self.requests());
                }
                Outcome::Resource { period, detail } => {
                    self.period = period;
                    self.detail = Some(detail);
                    self.focus = 0;
                    effects.extend(self.requests());
                }
            }
        }
        if !self.quit {
            self.notice = Some(format!(":{input}"));
        }
        effects
    }
}
