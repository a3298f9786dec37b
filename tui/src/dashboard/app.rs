//! Dashboard state and its pure transitions: keys map to [`Action`]s, actions change
//! [`App`] and return [`Effect`]s (engine requests, exports, saving device tokens) that the
//! loop in [`super`] carries out; engine events fill the state. Nothing here touches the
//! terminal, files or the network, so every transition is testable.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use vantage_core::cache::{EntryInfo, keys};
use vantage_core::devices;
use vantage_core::engine::{Event, Request};
use vantage_core::events::model::Field;
use vantage_core::events::query::{Filter as EventsFilter, Taxonomy};
use vantage_core::events::questions::View;
use vantage_core::events::table::Table as EventsTable;
use vantage_core::export::{ChartData, ImageFormat};
use vantage_core::geo::GeoInfo;
use vantage_core::jobs::Snapshot;
use vantage_core::passwords::{self, PwnedHash};
use vantage_core::pcap::pipeline::{JobState, JobStatus};
use vantage_core::pcap::service::SensorStats;
use vantage_core::pcap::summary::CaptureSummary;
use vantage_core::statistics::aggregation::Precision;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Kind, Params};
use vantage_core::statistics::service::{self, ResourceRead};

use super::keys::{Action, Mode};
use super::palette::{self, Outcome};
use super::panels::{self, Detail, Opens, Panel, Shape, Source, Tab};

/// Something the loop must do for the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a request to the engine.
    Engine(Request),
    /// Write an export file (off the UI thread).
    Export(Export),
    /// Store the device tokens (0600).
    SaveDevices(Vec<String>),
}

/// A file to write: its name stem (the loop adds directory, time and extension) and content.
#[derive(Debug, Clone, PartialEq)]
pub enum Export {
    /// The focused table as shown (filtered and sorted).
    Csv {
        /// File name stem.
        stem: String,
        /// Column names.
        header: Vec<String>,
        /// Rows.
        rows: Vec<Vec<String>>,
    },
    /// A capture copied to a file (a relative name goes to the export directory).
    Pcap {
        /// The merged capture.
        from: std::path::PathBuf,
        /// The file name typed.
        to: String,
    },
    /// A chart.
    Chart {
        /// File name stem.
        stem: String,
        /// The data.
        chart: ChartData,
        /// PNG or SVG.
        format: ImageFormat,
    },
}

/// A table's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableData {
    /// Column names.
    pub header: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

/// Sort, filter and selection of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableState {
    /// Selected row among the visible ones.
    pub selected: usize,
    /// Sort column and descending flag; None: the source order.
    pub sort: Option<(usize, bool)>,
    /// Case-insensitive text a row must contain.
    pub filter: String,
}

/// Dashboard state.
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
    /// Latest value of each (resource, period, parameters).
    pub data: HashMap<(String, Period, Params), ResourceRead>,
    /// Store / cache description once ready.
    pub backend: Option<String>,
    /// Last message for the status line.
    pub notice: Option<String>,
    /// Last error, one line.
    pub error: Option<String>,
    /// Progress of a long operation: label, done, total.
    pub progress: Option<(String, u64, Option<u64>)>,
    /// Queue contents (Operations).
    pub jobs: Option<Snapshot>,
    /// Cache entries by key prefix (Operations).
    pub entries: HashMap<String, Vec<EntryInfo>>,
    /// GeoIP answers and the databases consulted.
    pub geo: HashMap<IpAddr, (GeoInfo, Vec<String>)>,
    /// Registered device tokens.
    pub tokens: Vec<String>,
    /// Table states by panel key.
    pub tables: HashMap<String, TableState>,
    /// SHA-1 of the password being checked (the password itself is not kept).
    leak_pending: Option<String>,
    /// Length of the last checked password and its answer (None while checking).
    pub leak: Option<(usize, Option<Option<PwnedHash>>)>,
    /// The most often seen leaked-password hashes.
    pub leaked_top: Option<Vec<PwnedHash>>,
    /// Packet-capture jobs (PCAP), oldest first.
    pub pcap_jobs: Option<Vec<JobStatus>>,
    /// Sensors' counters or errors, and the spool's free bytes (PCAP).
    pub pcap_sensors: Option<(Vec<SensorStats>, Option<u64>)>,
    /// Summaries of completed captures by job id.
    pub captures: HashMap<String, CaptureSummary>,
    /// The capture whose summary is being computed.
    summary_pending: Option<String>,
    /// The Events tab's filters (`from`/`to` follow the period).
    pub events_filter: EventsFilter,
    /// Events answers by question, with the filter and days they were asked with.
    events: HashMap<View, (EventsFilter, u32, EventsTable)>,
    /// Pick-lists from the data (taxonomies, countries), largest first.
    pub pick: HashMap<Field, Vec<String>>,
    ticks: u64,
}

fn timeout_prefix() -> String {
    format!("{}timeout:", keys::PREFIX)
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
            data: HashMap::new(),
            backend: None,
            notice: None,
            error: None,
            progress: None,
            jobs: None,
            entries: HashMap::new(),
            geo: HashMap::new(),
            tokens,
            tables: HashMap::new(),
            leak_pending: None,
            leak: None,
            leaked_top: None,
            pcap_jobs: None,
            pcap_sensors: None,
            captures: HashMap::new(),
            summary_pending: None,
            events_filter: EventsFilter { taxonomy: Taxonomy::AllButTest, ..EventsFilter::default() },
            events: HashMap::new(),
            pick: HashMap::new(),
            ticks: 0,
        }
    }

    /// The panels of the current view.
    pub fn panels(&self) -> Vec<Panel> {
        match &self.detail {
            Some(d) => panels::detail_panels(d),
            None => panels::tab_panels(self.tab, &self.tokens),
        }
    }

    /// The focused panel.
    pub fn focused(&self) -> Option<Panel> {
        self.panels().into_iter().nth(self.focus)
    }

    /// Requests for the data of the current view.
    pub fn requests(&self) -> Vec<Effect> {
        let mut out: Vec<Request> = Vec::new();
        for p in self.panels() {
            let request = match p.source {
                Source::Resource { name, params } => Request::Resource { name: name.to_string(), period: self.period, params },
                Source::Jobs => Request::Jobs,
                Source::Timeouts => Request::Entries { prefix: timeout_prefix() },
                Source::Cache => Request::Entries { prefix: keys::resource("") },
                Source::AttackerInfo => match self.attacker_ip() {
                    Some(ip) => Request::Geo { ip },
                    None => continue,
                },
                Source::LeakedTop => Request::LeakedTop { limit: 30 },
                Source::PcapJobs | Source::CaptureInfo => Request::PcapJobs,
                Source::PcapSensors => Request::PcapSensors,
                Source::CaptureTalkers | Source::CapturePorts | Source::CapturePackets => match self.capture_to_summarize() {
                    Some(id) => Request::PcapSummary { id },
                    None => continue,
                },
                Source::Events(View::TopProblems) if self.events_filter.country.is_none() => continue,
                Source::Events(view) => self.events_request(view),
                Source::EventsFilters => {
                    for field in [Field::Taxonomy, Field::Country] {
                        let request = self.events_request(View::Values(field));
                        if !self.pick.contains_key(&field) && !out.contains(&request) {
                            out.push(request);
                        }
                    }
                    self.events_request(View::DistinctIps)
                }
                Source::Devices | Source::Deployment | Source::LeakCheck | Source::PcapRequest => continue,
            };
            if !out.contains(&request) {
                out.push(request);
            }
        }
        out.into_iter().map(Effect::Engine).collect()
    }

    /// Days the Events tab covers: the period's, at least a week (the data is daily).
    pub fn events_days(&self) -> u32 {
        self.period.range().num_days().max(7) as u32
    }

    /// The filter a question is asked with: the tab's, the open ASN's in its detail, none for
    /// pick-lists (every value of the range, `test` included).
    fn events_filter_for(&self, view: View) -> EventsFilter {
        match (view, &self.detail) {
            (View::Values(_), _) => EventsFilter::default(),
            (_, Some(Detail::EventsAsn { asn })) => EventsFilter { asns: vec![*asn], ..self.events_filter.clone() },
            _ => self.events_filter.clone(),
        }
    }

    fn events_request(&self, view: View) -> Request {
        Request::Events { view, filter: self.events_filter_for(view), days: self.events_days() }
    }

    /// The answer to `view` for the current filters and period, once it arrived.
    pub fn events_table(&self, view: View) -> Option<&EventsTable> {
        let (filter, days, table) = self.events.get(&view)?;
        (*filter == self.events_filter_for(view) && *days == self.events_days()).then_some(table)
    }

    /// Steps a pick-list filter to its next value and asks again.
    fn next_pick(&mut self, field: Field) -> Vec<Effect> {
        if self.tab != Tab::Events || self.detail.is_some() {
            self.notice = Some("t g f filter the Events tab (6)".into());
            return Vec::new();
        }
        let values = self.pick.get(&field).cloned().unwrap_or_default();
        if field == Field::Taxonomy {
            let mut options = vec![Taxonomy::AllButTest, Taxonomy::Any];
            options.extend(values.into_iter().map(Taxonomy::Is));
            let at = options.iter().position(|t| *t == self.events_filter.taxonomy).map_or(0, |i| i + 1);
            self.events_filter.taxonomy = options[at % options.len()].clone();
        } else {
            let mut options = vec![None];
            options.extend(values.into_iter().map(Some));
            let at = options.iter().position(|c| *c == self.events_filter.country).map_or(0, |i| i + 1);
            self.events_filter.country = options[at % options.len()].clone();
        }
        self.requests()
    }

    /// The open capture's job when it is completed with a capture whose summary is neither
    /// known nor being computed.
    fn capture_to_summarize(&self) -> Option<String> {
        let job = self.capture_job()?;
        let wanted = job.state == JobState::Completed && job.merged.is_some() && !self.captures.contains_key(&job.id);
        (wanted && self.summary_pending.as_deref() != Some(job.id.as_str())).then(|| job.id.clone())
    }

    /// The job of the open capture detail, once the job list is loaded.
    pub fn capture_job(&self) -> Option<&JobStatus> {
        let Some(Detail::Capture { id }) = &self.detail else { return None };
        self.pcap_jobs.as_ref()?.iter().find(|j| &j.id == id)
    }

    fn attacker_ip(&self) -> Option<IpAddr> {
        match &self.detail {
            Some(Detail::Attacker { ip }) => ip.parse().ok(),
            _ => None,
        }
    }

    /// Applies an action; returns what the loop must do.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        let effects = self.act(action);
        for e in &effects {
            if let Effect::Engine(Request::PcapSummary { id }) = e {
                self.summary_pending = Some(id.clone());
            }
        }
        effects
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
                // pick-lists are read once; r reads them again (e.g. after an import)
                self.pick.clear();
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
            Action::AddToken => self.start_input(Tab::Devices, Mode::AddToken, "a adds a device token on My devices (5)"),
            Action::RemoveToken => self.remove_token(),
            Action::CheckPassword => self.start_input(Tab::Passwords, Mode::CheckPassword, "c checks a password on the Passwords tab (3)"),
            Action::NewCapture => match self.attacker_ip() {
                Some(ip) => {
                    self.input = format!("host {ip} ");
                    self.mode = Mode::PcapQuery;
                    Vec::new()
                }
                None => self.start_input(Tab::Pcap, Mode::PcapQuery, "n requests a capture on the PCAP tab (7) or an attacker's detail"),
            },
            Action::NextTaxonomy => self.next_pick(Field::Taxonomy),
            Action::NextCountry => self.next_pick(Field::Country),
            Action::FilterAsns => {
                let effects = self.start_input(Tab::Events, Mode::EventsAsns, "f filters the Events tab (6) by ASNs");
                if self.mode == Mode::EventsAsns {
                    self.input = self.events_filter.asns.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
                }
                effects
            }
            Action::SaveCapture => {
                match self.capture_job().filter(|j| j.merged.is_some()) {
                    Some(job) => {
                        self.input = format!("{}.pcap", job.id);
                        self.mode = Mode::SaveCapture;
                    }
                    None => self.notice = Some("w saves a completed capture: open one on the PCAP tab (7)".into()),
                }
                Vec::new()
            }
            Action::Input(c) => {
                self.input.push(c);
                self.sync_filter();
                Vec::new()
            }
            Action::Erase => {
                self.input.pop();
                self.sync_filter();
                Vec::new()
            }
            Action::Submit => self.submit(),
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
            Action::RunPlanner | Action::AggregateNow | Action::Migrate | Action::ClearCache if self.tab != Tab::Operations => {
                self.notice = Some("F A M C act on the Operations tab (0)".into());
                Vec::new()
            }
            Action::RunPlanner => vec![Effect::Engine(Request::Refresh)],
            Action::AggregateNow => Precision::ALL.iter().map(|p| Effect::Engine(Request::Aggregate { precision: *p })).collect(),
            Action::Migrate => Precision::ALL.iter().map(|p| Effect::Engine(Request::Migrate { precision: *p, days: p.default_backfill_days() })).collect(),
            Action::ClearCache => vec![Effect::Engine(Request::ClearCache { all: false })],
            Action::Tick => {
                self.ticks += 1;
                match self.tab {
                    // sensors are asked every 5th tick; jobs (live per-sensor state) every tick
                    Tab::Pcap if !self.ticks.is_multiple_of(5) => self.requests().into_iter().filter(|e| *e != Effect::Engine(Request::PcapSensors)).collect(),
                    Tab::Operations | Tab::Pcap => self.requests(),
                    _ if self.ticks.is_multiple_of(30) => self.requests(),
                    _ => Vec::new(),
                }
            }
        }
    }

    /// Starts typing in `mode` when `tab` is shown (not a detail view); otherwise says where it works.
    fn start_input(&mut self, tab: Tab, mode: Mode, elsewhere: &str) -> Vec<Effect> {
        if self.tab == tab && self.detail.is_none() {
            self.input.clear();
            self.mode = mode;
        } else {
            self.notice = Some(elsewhere.to_string());
        }
        Vec::new()
    }

    fn open(&mut self) -> Vec<Effect> {
        let Some(p) = self.focused() else { return Vec::new() };
        let Some(opens) = p.opens else {
            self.notice = Some("Enter opens attackers and passwords".into());
            return Vec::new();
        };
        let column = match opens {
            Opens::Attacker => "ip",
            Opens::Password => "password",
            Opens::Capture => "id",
            Opens::Asn => "source.asn",
        };
        let Some(t) = self.visible(&p) else { return Vec::new() };
        let selected = self.tables.get(&p.key()).map_or(0, |s| s.selected);
        let (Some(c), Some(row)) = (t.header.iter().position(|h| h == column), t.rows.get(selected)) else { return Vec::new() };
        let value = self.raw_cell(&p, &t, selected, c).unwrap_or_else(|| row[c].clone());
        self.detail = Some(match opens {
            Opens::Attacker => Detail::Attacker { ip: value },
            Opens::Password => Detail::Password { password: value },
            Opens::Asn => match value.trim_start_matches("AS").parse() {
                Ok(asn) => Detail::EventsAsn { asn },
                Err(_) => return Vec::new(),
            },
            Opens::Capture => {
                // the table shows a prefix of the id
                let full = self.pcap_jobs.iter().flatten().find(|j| j.id.starts_with(&value)).map(|j| j.id.clone());
                Detail::Capture { id: full.unwrap_or(value) }
            }
        });
        self.focus_before_detail = self.focus;
        self.focus = 0;
        self.requests()
    }

    /// The unescaped cell value (tables show `\n` escaped; a detail needs the real text).
    fn raw_cell(&self, p: &Panel, t: &TableData, row: usize, column: usize) -> Option<String> {
        let key = t.header.get(column)?;
        let shown = t.rows.get(row)?.get(column)?;
        let items = self.resource_value(p).and_then(|v| v.as_array())?;
        items.iter().filter_map(|i| i[key.as_str()].as_str()).find(|s| s.escape_debug().to_string() == *shown).map(str::to_string)
    }

    fn remove_token(&mut self) -> Vec<Effect> {
        let Some(p) = self.focused().filter(|p| p.source == Source::Devices && self.detail.is_none()) else {
            self.notice = Some("x removes the selected token on My devices (5)".into());
            return Vec::new();
        };
        let selected = self.tables.get(&p.key()).map_or(0, |s| s.selected);
        let Some(index) = self.visible(&p).and_then(|t| t.rows.get(selected).and_then(|r| r[0].parse::<usize>().ok())) else { return Vec::new() };
        self.tokens.remove(index - 1);
        self.tables.entry(p.key()).or_default().selected = 0;
        self.notice = Some("device token removed".into());
        let mut effects = vec![Effect::SaveDevices(self.tokens.clone())];
        effects.extend(self.requests());
        effects
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
            Mode::Normal | Mode::Filter => Vec::new(),
            Mode::AddToken => {
                let token = input.trim().to_lowercase();
                if !devices::is_valid(&token) {
                    self.error = Some(format!("device token of {} characters: a token is 64 characters of [a-z0-9]", token.chars().count()));
                    return Vec::new();
                }
                if !self.tokens.contains(&token) {
                    self.tokens.push(token);
                }
                self.notice = Some(format!("{} device token(s) registered", self.tokens.len()));
                let mut effects = vec![Effect::SaveDevices(self.tokens.clone())];
                effects.extend(self.requests());
                effects
            }
            Mode::EventsAsns => {
                let parsed: Result<Vec<i64>, _> = input
                    .split([' ', ',', ';'])
                    .filter(|w| !w.is_empty())
                    .map(|w| w.trim_start_matches("AS").trim_start_matches("as").parse::<i64>())
                    .collect();
                match parsed {
                    Ok(asns) => {
                        self.events_filter.asns = asns;
                        self.requests()
                    }
                    Err(_) => {
                        self.error = Some(format!("ASNs are numbers separated by spaces or commas, not `{}`", input.trim()));
                        Vec::new()
                    }
                }
            }
            Mode::PcapQuery => {
                let mut effects = if self.tab != Tab::Pcap || self.detail.is_some() { self.act(Action::Tab(Tab::Pcap)) } else { Vec::new() };
                self.notice = Some(format!("requesting a capture: {}", input.trim()));
                effects.insert(0, Effect::Engine(Request::PcapSubmit { text: input }));
                effects
            }
            Mode::SaveCapture => match self.capture_job().and_then(|j| j.merged.clone()) {
                Some(from) if !input.trim().is_empty() => vec![Effect::Export(Export::Pcap { from, to: input.trim().to_string() })],
                _ => Vec::new(),
            },
            Mode::CheckPassword => {
                // hashed here: the engine and the store only ever see the SHA-1
                let sha1 = passwords::sha1_hex(&input);
                self.leak = Some((input.chars().count(), None));
                self.leak_pending = Some(sha1.clone());
                vec![Effect::Engine(Request::CheckHash { sha1 })]
            }
            Mode::Palette => match palette::parse(&input) {
                Err(e) => {
                    self.error = Some(format!(":{input}: {e}"));
                    Vec::new()
                }
                Ok(outcomes) => {
                    let mut effects = Vec::new();
                    for o in outcomes {
                        match o {
                            Outcome::Request(r) => effects.push(Effect::Engine(r)),
                            Outcome::Tab(t) => effects.extend(self.apply(Action::Tab(t))),
                            Outcome::Quit => self.quit = true,
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
            },
        }
    }

    /// Takes an engine event; true when the screen must be redrawn.
    pub fn on_event(&mut self, event: Event) -> bool {
        match event {
            Event::Ready { store, cache } => self.backend = Some(format!("{store} + {cache}")),
            Event::Resource { name, period, params, read } => {
                self.data.insert((name, period, params), read);
            }
            Event::Jobs(s) => self.jobs = Some(s),
            Event::Entries { prefix, mut entries } => {
                entries.sort_by(|a, b| a.key.cmp(&b.key));
                self.entries.insert(prefix, entries);
            }
            Event::Planned(s) => {
                let queued = s.iter().filter(|s| matches!(s.outcome, service::Outcome::Queued { .. })).count();
                self.notice = Some(format!("planner: {} decisions, {queued} jobs queued", s.len()));
            }
            Event::Migrated(r) => {
                self.progress = None;
                let precision = r.precision.map(|p| p.to_string()).unwrap_or_default();
                self.notice = Some(format!("{precision}: {} windows — {} written, {} replaced, {} already done", r.windows, r.inserted, r.replaced, r.skipped));
            }
            Event::Cleared { what, count } => self.notice = Some(format!("cleared {count} keys ({what})")),
            Event::Geo { ip, info, sources } => {
                self.geo.insert(ip, (info, sources));
            }
            Event::Leak { sha1, found } => {
                if self.leak_pending.as_deref() == Some(sha1.as_str()) {
                    self.leak_pending = None;
                    if let Some((_, answer)) = &mut self.leak {
                        *answer = Some(found);
                    }
                }
            }
            Event::LeakedTop(top) => self.leaked_top = Some(top),
            Event::PcapSubmitted(job) => {
                self.notice = Some(format!("capture job {} {} — Enter on it for details", &job.id[..12], job.state));
                let jobs = self.pcap_jobs.get_or_insert_with(Vec::new);
                match jobs.iter_mut().find(|j| j.id == job.id) {
                    Some(known) => *known = job,
                    None => jobs.push(job),
                }
            }
            Event::PcapJobs(jobs) => self.pcap_jobs = Some(jobs),
            Event::Events { view: View::Values(field), table, .. } => {
                let values = table.rows.iter().filter_map(|r| r.first().map(|c| c.display())).filter(|v| !v.is_empty()).collect();
                self.pick.insert(field, values);
            }
            Event::Events { view, filter, days, table } => {
                self.events.insert(view, (filter, days, table));
            }
            Event::PcapSensors(sensors, free) => self.pcap_sensors = Some((sensors, free)),
            Event::PcapSummary { id, summary } => {
                if self.summary_pending.as_deref() == Some(id.as_str()) {
                    self.summary_pending = None;
                }
                self.captures.insert(id, summary);
            }
            Event::Progress { label, done, total } => self.progress = Some((label, done, total)),
            Event::Error { request, message } => {
                if request.starts_with("PcapSummary") {
                    self.summary_pending = None;
                }
                self.error = Some(message);
            }
        }
        true
    }

    /// Reports the outcome of an export.
    pub fn exported(&mut self, result: Result<String, String>) {
        match result {
            Ok(path) => self.notice = Some(format!("exported {path}")),
            Err(e) => self.error = Some(format!("export failed: {e}")),
        }
    }

    /// The latest read of a resource panel for the current period.
    pub fn read(&self, p: &Panel) -> Option<&ResourceRead> {
        match &p.source {
            Source::Resource { name, params } => self.data.get(&((*name).to_string(), self.period, params.clone())),
            _ => None,
        }
    }

    fn resource_value(&self, p: &Panel) -> Option<&serde_json::Value> {
        self.read(p)?.data.as_ref()
    }

    /// True while any resource of the view is missing or being refreshed.
    pub fn refreshing(&self) -> bool {
        self.panels().iter().filter(|p| p.resource_name().is_some()).any(|p| self.read(p).is_none_or(|r| r.refreshing || r.data.is_none()))
    }

    /// When the oldest shown resource was computed.
    pub fn data_age(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.panels().iter().filter_map(|p| self.read(p).and_then(|r| r.computed_at)).min()
    }

    /// A chart panel's data (None: not loaded yet).
    pub fn chart(&self, p: &Panel) -> Option<ChartData> {
        if let Source::Events(view) = p.source {
            return self.events_table(view)?.chart().map(|c| ChartData { title: p.title.clone(), ..c });
        }
        ChartData::from_resource(&p.title, self.resource_value(p)?)
    }

    /// A table panel's full data (None: not loaded yet).
    pub fn table(&self, p: &Panel) -> Option<TableData> {
        let cells = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match &p.source {
            Source::Resource { name, .. } => {
                let value = self.resource_value(p)?;
                match resources::find(name).ok()?.kind {
                    Kind::List { keys, .. } => {
                        let mut header = cells(keys);
                        header.push("count".into());
                        let rows = value
                            .as_array()?
                            .iter()
                            .map(|i| {
                                let mut row: Vec<String> = keys.iter().map(|k| i[*k].as_str().unwrap_or("").escape_debug().to_string()).collect();
                                row.push(i["count"].to_string());
                                row
                            })
                            .collect();
                        Some(TableData { header, rows })
                    }
                    _ => {
                        let mut rows: Vec<Vec<String>> = value.as_object()?.iter().map(|(k, v)| vec![k.clone(), v.to_string()]).collect();
                        rows.sort_by_key(|r| std::cmp::Reverse(r[1].parse::<i64>().unwrap_or(0)));
                        Some(TableData { header: cells(&["country", "count"]), rows })
                    }
                }
            }
            Source::Jobs => {
                let s = self.jobs.as_ref()?;
                let mut rows: Vec<Vec<String>> = Vec::new();
                for r in &s.running {
                    rows.push(vec![
                        "running".into(),
                        r.job.queue.clone(),
                        r.job.key.clone(),
                        format!("{} lease {:.0}s", r.worker, r.lease_left_ms as f64 / 1000.0),
                    ]);
                }
                for (queue, jobs) in &s.queued {
                    rows.extend(jobs.iter().map(|j| vec!["queued".into(), queue.clone(), j.key.clone(), j.enqueued_at.format("since %H:%M:%S").to_string()]));
                }
                rows.extend(s.failed.iter().map(|j| vec!["failed".into(), j.queue.clone(), j.key.clone(), j.error.clone().unwrap_or_default()]));
                Some(TableData { header: cells(&["state", "queue", "job", "worker / error"]), rows })
            }
            Source::Timeouts | Source::Cache => {
                let prefix = if p.source == Source::Timeouts { timeout_prefix() } else { keys::resource("") };
                let entries = self.entries.get(&prefix)?;
                let rows = entries
                    .iter()
                    .map(|e| {
                        vec![e.key.trim_start_matches(prefix.as_str()).to_string(), e.ttl_seconds.map_or("∞".into(), |s| format!("{s}s")), e.size.to_string()]
                    })
                    .collect();
                Some(TableData { header: cells(&["key", "ttl", "bytes"]), rows })
            }
            Source::Devices => Some(TableData {
                header: cells(&["#", "token"]),
                rows: self.tokens.iter().enumerate().map(|(i, t)| vec![(i + 1).to_string(), mask(t)]).collect(),
            }),
            Source::LeakedTop => Some(TableData {
                header: cells(&["sha1", "count", "sources"]),
                rows: self
                    .leaked_top
                    .as_ref()?
                    .iter()
                    .map(|h| vec![h.hash[..16].to_string(), h.count.to_string(), h.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")])
                    .collect(),
            }),
            Source::Events(View::TopProblems) if self.events_filter.country.is_none() => {
                Some(TableData { header: cells(&["classification.type", "classification.identifier", "events"]), rows: Vec::new() })
            }
            Source::Events(view) => {
                let t = self.events_table(*view)?;
                Some(TableData { header: t.columns.clone(), rows: t.text_rows() })
            }
            Source::PcapJobs => Some(TableData {
                header: cells(&["id", "job state", "sensors", "size", "time", "query"]),
                rows: self
                    .pcap_jobs
                    .as_ref()?
                    .iter()
                    .rev()
                    .map(|j| {
                        let answered = j.requests.values().filter(|r| r.state != JobState::Error).count();
                        vec![
                            j.id[..12].to_string(),
                            j.state.to_string(),
                            format!("{answered}/{} ok", j.requests.len()),
                            j.bytes.to_string(),
                            j.time.format("%Y-%m-%d %H:%M").to_string(),
                            j.query.clone(),
                        ]
                    })
                    .collect(),
            }),
            Source::PcapSensors => {
                let (sensors, _) = self.pcap_sensors.as_ref()?;
                let rows = sensors
                    .iter()
                    .map(|(name, r)| match r {
                        Ok(c) => {
                            let reads = c.get("indexfile_current_reads").map_or("-", String::as_str);
                            let oldest = c
                                .get("oldest_timestamp")
                                .and_then(|ns| ns.parse::<i64>().ok())
                                .map(chrono::DateTime::from_timestamp_nanos)
                                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string());
                            let state = if reads == "0" { "idle".to_string() } else { format!("busy ({reads} reads)") };
                            vec![name.clone(), state, oldest]
                        }
                        Err(e) => vec![name.clone(), format!("error: {e}"), "-".into()],
                    })
                    .collect();
                Some(TableData { header: cells(&["sensor", "health", "oldest packet"]), rows })
            }
            Source::CaptureTalkers => {
                let s = self.capture_job().and_then(|j| self.captures.get(&j.id))?;
                let rows = s.talkers.iter().map(|c| vec![c.key.clone(), c.packets.to_string(), c.bytes.to_string()]).collect();
                Some(TableData { header: cells(&["address", "packets", "bytes"]), rows })
            }
            Source::CapturePorts => {
                let s = self.capture_job().and_then(|j| self.captures.get(&j.id))?;
                Some(TableData { header: cells(&["port", "packets"]), rows: s.ports.iter().map(|c| vec![c.key.clone(), c.packets.to_string()]).collect() })
            }
            Source::CapturePackets => {
                let s = self.capture_job().and_then(|j| self.captures.get(&j.id))?;
                Some(TableData {
                    header: cells(&["time", "source", "destination", "protocol", "length"]),
                    rows: s
                        .preview
                        .iter()
                        .map(|l| {
                            let time = l.time.map_or("-".into(), |t| t.format("%H:%M:%S%.6f").to_string());
                            vec![time, l.source.clone(), l.destination.clone(), l.protocol.clone(), l.length.to_string()]
                        })
                        .collect(),
                })
            }
            Source::AttackerInfo | Source::Deployment | Source::LeakCheck | Source::PcapRequest | Source::CaptureInfo | Source::EventsFilters => None,
        }
    }

    /// A table as shown: filtered, then sorted.
    pub fn visible(&self, p: &Panel) -> Option<TableData> {
        let mut t = self.table(p)?;
        let state = self.tables.get(&p.key()).cloned().unwrap_or_default();
        if !state.filter.is_empty() {
            let needle = state.filter.to_lowercase();
            t.rows.retain(|r| r.iter().any(|c| c.to_lowercase().contains(&needle)));
        }
        if let Some((c, desc)) = state.sort {
            t.rows.sort_by(|a, b| {
                let (x, y) = (a.get(c).map_or("", String::as_str), b.get(c).map_or("", String::as_str));
                let order = match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => x.cmp(y),
                };
                if desc { order.reverse() } else { order }
            });
        }
        Some(t)
    }

    fn focused_table_len(&self) -> Option<(String, usize)> {
        let p = self.focused().filter(|p| p.shape == Shape::Table)?;
        Some((p.key(), self.visible(&p)?.rows.len()))
    }

    /// Lines of a text panel.
    pub fn text(&self, p: &Panel) -> Vec<String> {
        match p.source {
            Source::AttackerInfo => self.attacker_lines(),
            Source::Deployment => {
                let workers: BTreeSet<&str> = self.jobs.iter().flat_map(|s| s.running.iter().map(|r| r.worker.as_str())).collect();
                let (queued, running, failed) =
                    self.jobs.as_ref().map_or((0, 0, 0), |s| (s.queued.iter().map(|(_, j)| j.len()).sum(), s.running.len(), s.failed.len()));
                vec![
                    format!("backend  {}", self.backend.as_deref().unwrap_or("opening")),
                    format!("jobs     {queued} queued, {running} running"),
                    format!("failed   {failed}"),
                    format!("workers  {}", if workers.is_empty() { "none busy".to_string() } else { workers.into_iter().collect::<Vec<_>>().join(", ") }),
                    "F planner   A aggregate".into(),
                    "M migrate   C clear cache".into(),
                    ":clear-timeouts resource 1d".into(),
                ]
            }
            Source::LeakCheck => {
                let mut lines = match &self.leak {
                    None => vec!["press c, type a password, Enter".to_string()],
                    Some((n, None)) => vec![format!("checking ({n} characters)")],
                    Some((n, Some(None))) => vec![format!("not leaked ({n} characters)")],
                    Some((n, Some(Some(h)))) => {
                        let mut l = vec![format!("LEAKED ({n} characters)"), format!("seen {} times", h.count)];
                        if !h.sources.is_empty() {
                            l.push(format!("via {}", h.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
                        }
                        l
                    }
                };
                lines.extend([String::new(), "Only the SHA-1 is looked up;".into(), "the password is not kept.".into()]);
                lines
            }
            Source::PcapRequest => self.pcap_request_lines(),
            Source::EventsFilters => self.events_filter_lines(),
            Source::CaptureInfo => self.capture_lines(),
            _ => Vec::new(),
        }
    }

    fn events_filter_lines(&self) -> Vec<String> {
        let f = &self.events_filter;
        let taxonomy = match &f.taxonomy {
            Taxonomy::AllButTest => "all (but test)".to_string(),
            Taxonomy::Any => "any (test too)".to_string(),
            Taxonomy::Is(t) => t.clone(),
        };
        let asns = if f.asns.is_empty() { "all".to_string() } else { f.asns.iter().map(|a| format!("AS{a}")).collect::<Vec<_>>().join(" ") };
        let distinct = self.events_table(View::DistinctIps).and_then(|t| t.facts.first()).map_or("…".to_string(), |(_, v)| v.display());
        vec![
            format!("range     last {} days ({})", self.events_days(), self.period),
            format!("taxonomy  {taxonomy} (t)"),
            format!("country   {} (g)", f.country.as_deref().unwrap_or("all")),
            format!("ASNs      {asns} (f)"),
            format!("distinct source IPs  {distinct}"),
            "Enter on an ASN: its operator view".into(),
        ]
    }

    fn pcap_request_lines(&self) -> Vec<String> {
        let mut lines = vec![
            "n  request a capture, e.g.".to_string(),
            "   host 10.0.0.1 port 80".into(),
            "   net 10.0.0.0 24 after 2h ago".into(),
            "   host 10.0.0.1 and (port 53 or".into(),
            "   icmp)".into(),
            "Enter: a job's sensors, summary".into(),
        ];
        if let Some((_, Some(free))) = &self.pcap_sensors {
            lines.push(format!("spool    {:.1} GiB free", *free as f64 / (1u64 << 30) as f64));
        }
        if let Some(jobs) = &self.pcap_jobs {
            let running = jobs.iter().filter(|j| !j.state.is_final()).count();
            lines.push(format!("jobs     {} ({running} running)", jobs.len()));
        }
        lines
    }

    fn capture_lines(&self) -> Vec<String> {
        let Some(Detail::Capture { id }) = &self.detail else { return Vec::new() };
        let Some(job) = self.capture_job() else { return vec![format!("job {id}"), "loading".into()] };
        let mut lines = vec![format!("job      {}", job.id), format!("state    {}", job.state), format!("query    {}", job.query)];
        for (sensor, r) in &job.requests {
            lines.push(format!("sensor   {sensor}: {} ({})", r.state, r.message));
        }
        match self.captures.get(&job.id) {
            Some(s) => {
                lines.push(format!("packets  {}   bytes {}", s.packets, s.bytes));
                if let (Some(a), Some(b)) = (s.first, s.last) {
                    lines.push(format!(
                        "span     {} – {} ({:.1} s)",
                        a.format("%Y-%m-%d %H:%M:%S"),
                        b.format("%H:%M:%S"),
                        (b - a).num_milliseconds() as f64 / 1000.0
                    ));
                }
                let protocols: Vec<String> = s.protocols.iter().map(|c| format!("{} {}", c.key, c.packets)).collect();
                lines.push(format!("protos   {}", protocols.join(", ")));
                lines.push("w saves the capture to a file".into());
            }
            None if job.state == JobState::Completed && job.merged.is_none() => lines.push("no packets matched".into()),
            None if job.state == JobState::Completed => lines.push("summarizing".into()),
            None => {}
        }
        lines.extend(job.events.iter().rev().take(3).map(|e| format!("{}  {}", e.time.format("%H:%M:%S"), e.message)));
        lines
    }

    fn attacker_lines(&self) -> Vec<String> {
        let Some(Detail::Attacker { ip }) = &self.detail else { return Vec::new() };
        let graph = self.panels().into_iter().find(|p| p.shape == Shape::Chart).and_then(|p| self.chart(&p));
        let total: f64 = graph.iter().flat_map(|c| c.series.iter().flat_map(|s| s.values.iter())).sum();
        let mut lines = vec![format!("address   {ip}"), format!("incidents {total:.0} in the last {}", self.period.label().to_lowercase())];
        match self.attacker_ip().and_then(|a| self.geo.get(&a)) {
            None => lines.push("GeoIP     looking up".into()),
            Some((info, sources)) => {
                let country = match (&info.country, &info.country_name) {
                    (Some(c), Some(n)) => format!("{c} ({n})"),
                    (Some(c), None) => c.clone(),
                    _ => "unknown".into(),
                };
                lines.push(format!("country   {country}{}", info.city.as_ref().map(|c| format!(", {c}")).unwrap_or_default()));
                lines.push(format!("ASN       {}", info.asn.map_or("unknown".into(), |a| format!("AS{a} {}", info.as_org.as_deref().unwrap_or("")))));
                lines.push(format!("GeoIP     {}", if sources.is_empty() { "no databases (put .mmdb files in geoip_dir)".into() } else { sources.join(", ") }));
            }
        }
        lines.push("greylist  not built yet (statistics greylist)".into());
        lines.push(format!("pcap      n requests a capture (Docket /api/uri/host/{ip}/)"));
        lines
    }

    /// Export file name stem: resource, period and parameter (a password only as its hash).
    fn stem(&self, p: &Panel) -> String {
        match &p.source {
            Source::Resource { name, params } => {
                let mut stem = format!("{name}-{}", self.period);
                if let Some(ip) = &params.ip {
                    stem.push_str(&format!("-{}", ip.replace(':', "_")));
                }
                if let Some(pw) = &params.password {
                    stem.push_str(&format!("-pw{}", service::short_hash(pw)));
                }
                stem
            }
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

/// A device token shown without giving it away.
fn mask(token: &str) -> String {
    let head: String = token.chars().take(4).collect();
    format!("{head}{}", "*".repeat(12))
}
