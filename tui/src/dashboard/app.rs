//! Dashboard state and its pure transitions: keys map to [`Action`]s, actions change
//! [`App`], engine events fill it. Nothing here touches the terminal or does I/O, so every
//! transition is testable.

use std::collections::HashMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use vantage_core::engine::{Event, Request};
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::Params;
use vantage_core::statistics::service::ResourceRead;

/// The tabs, in number-key order (0 = Operations comes last on screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    /// Incidents and attackers graphs, top countries and passwords.
    Overview,
    /// Attackers graph and top attackers.
    Attackers,
    /// Top passwords, usernames and combinations.
    Passwords,
    /// Port scans, incident types, traps and actions.
    Ports,
    /// Jobs and cache state.
    Operations,
}

impl Tab {
    /// Tabs in display order.
    pub const ALL: [Tab; 5] = [Tab::Overview, Tab::Attackers, Tab::Passwords, Tab::Ports, Tab::Operations];

    /// Title with its key.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "1 Overview",
            Tab::Attackers => "2 Attackers",
            Tab::Passwords => "3 Passwords",
            Tab::Ports => "4 Ports",
            Tab::Operations => "0 Operations",
        }
    }

    /// Resources the tab shows.
    pub fn resources(self) -> &'static [&'static str] {
        match self {
            Tab::Overview => &["all_incidents_graph", "all_attackers_graph", "top_countries_by_incidents_list", "top_passwords_by_usages_list"],
            Tab::Attackers => &["all_attackers_graph", "top_attackers_by_incidents_list_long", "top_countries_by_attackers_list"],
            Tab::Passwords => &["top_passwords_by_usages_list_long", "top_usernames_by_usages_list_long", "top_combinations_by_usages_list_long"],
            Tab::Ports => &["all_ports_by_scans_graph", "top_ports_by_scans_list_long", "top_incident_types_by_incidents_list"],
            Tab::Operations => &[],
        }
    }
}

/// Everything a key can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Switch tab.
    Tab(Tab),
    /// Next / previous period.
    Period(i32),
    /// Toggle the help overlay.
    Help,
    /// Re-request the tab's data.
    Refresh,
    /// Leave.
    Quit,
}

/// Maps a key to an action (None: the key does nothing here).
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    Some(match key.code {
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('1') => Action::Tab(Tab::Overview),
        KeyCode::Char('2') => Action::Tab(Tab::Attackers),
        KeyCode::Char('3') => Action::Tab(Tab::Passwords),
        KeyCode::Char('4') => Action::Tab(Tab::Ports),
        KeyCode::Char('0') => Action::Tab(Tab::Operations),
        KeyCode::Char('.') | KeyCode::Char('>') => Action::Period(1),
        KeyCode::Char(',') | KeyCode::Char('<') => Action::Period(-1),
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('r') => Action::Refresh,
        _ => return None,
    })
}

/// The keys the help overlay lists.
pub const KEYS: &[(&str, &str)] = &[
    ("1 2 3 4 0", "switch tab"),
    (", .", "previous / next period (1h 6h 1d 1w 1m 3m 1y)"),
    ("r", "refresh the tab's data"),
    ("?", "this help"),
    ("q Esc Ctrl-C", "quit"),
];

/// Dashboard state.
#[derive(Debug)]
pub struct App {
    /// Current tab.
    pub tab: Tab,
    /// Current period.
    pub period: Period,
    /// Help overlay shown.
    pub help: bool,
    /// Set when the user quits.
    pub quit: bool,
    /// Latest value of each (resource, period).
    pub data: HashMap<(String, Period), ResourceRead>,
    /// Store / cache description once ready.
    pub backend: Option<String>,
    /// Last error, one line.
    pub error: Option<String>,
    /// Queue counts for Operations: (queued, running, failed).
    pub jobs: Option<(usize, usize, usize)>,
}

impl Default for App {
    fn default() -> Self {
        App { tab: Tab::Overview, period: Period::Day, help: false, quit: false, data: HashMap::new(), backend: None, error: None, jobs: None }
    }
}

impl App {
    /// Applies an action; returns the engine requests it needs.
    pub fn apply(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Tab(t) => {
                self.tab = t;
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
            Action::Refresh => self.requests(),
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
        }
    }

    /// Requests for the current tab and period.
    pub fn requests(&self) -> Vec<Request> {
        if self.tab == Tab::Operations {
            return vec![Request::Jobs];
        }
        self.tab
            .resources()
            .iter()
            .map(|n| Request::Resource { name: (*n).to_string(), period: self.period, params: Params::default() })
            .collect()
    }

    /// Takes an engine event; true when the screen must be redrawn.
    pub fn on_event(&mut self, event: Event) -> bool {
        match event {
            Event::Ready { store, cache } => self.backend = Some(format!("{store} + {cache}")),
            Event::Resource { name, period, read, .. } => {
                self.data.insert((name, period), read);
            }
            Event::Jobs(s) => self.jobs = Some((s.queued.iter().map(|(_, j)| j.len()).sum(), s.running.len(), s.failed.len())),
            Event::Error { message, .. } => self.error = Some(message),
            _ => return false,
        }
        true
    }

    /// The value of a resource for the current period.
    pub fn value(&self, name: &str) -> Option<&ResourceRead> {
        self.data.get(&(name.to_string(), self.period))
    }

    /// True while any resource of the tab is being refreshed.
    pub fn refreshing(&self) -> bool {
        self.tab.resources().iter().any(|n| self.value(n).is_none_or(|r| r.refreshing))
    }
}
