//! Keys → [`Action`]s over a UI-neutral [`Key`] (the terminal converts crossterm's key
//! events into it, the desktop app egui's). Every key is listed in [`KEYS`], which the help
//! overlay shows.

use vantage_core::export::ImageFormat;

use crate::panels::Tab;

/// A key, as far as the dashboard tells keys apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCode {
    /// A printable character (upper case for shifted letters).
    Char(char),
    /// Enter / Return.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Delete.
    Delete,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
}

/// A key press: the key and whether Control was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Control held.
    pub ctrl: bool,
}

impl Key {
    /// A key pressed without Control.
    pub fn plain(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }
}

/// What the keyboard is typing into, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keys are commands.
    Normal,
    /// Typing the focused table's filter (`/`).
    Filter,
    /// Typing a command (`:`).
    Palette,
    /// Typing a device token (`a` on My devices), shown masked.
    AddToken,
    /// Typing a password to check against the leaked store (`c` on Passwords), shown masked.
    CheckPassword,
    /// Typing a capture request (`n` on PCAP or an attacker's detail).
    PcapQuery,
    /// Typing the file to save a capture to (`w` on a capture).
    SaveCapture,
    /// Typing the events ASN filter (`f` on Events).
    EventsAsns,
    /// Typing the flows IP filter (`i` on Flows).
    FlowsIp,
    /// Waiting for the severity of the selected connection (`v` on Flows): one key, 1 2 or 3.
    FlowsScore,
    /// Typing the storyboard's title (`b` on Flows).
    StoryTitle,
    /// Typing the storyboard's text after its title, `\n` for a new line.
    StoryText,
    /// Typing an address to search in the DynFW list and the greylist (`i` on DynFW).
    DynfwIp,
}

impl Mode {
    /// Whether one key typed finishes the typing (no Enter needed).
    pub fn one_key(self) -> bool {
        self == Mode::FlowsScore
    }
}

/// Everything a key can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Switch tab.
    Tab(Tab),
    /// Next (+1) / previous (-1) period.
    Period(i32),
    /// Toggle the help overlay.
    Help,
    /// Re-request the view's data.
    Refresh,
    /// Leave.
    Quit,
    /// Focus the next (+1) / previous (-1) panel.
    Focus(i32),
    /// Move the selection of the focused table by n rows.
    Move(i32),
    /// Sort the focused table by its next column.
    Sort,
    /// Reverse the sort order.
    Reverse,
    /// Open the detail of the selected row.
    Open,
    /// Close the detail view (or the help overlay).
    Back,
    /// Start typing a filter for the focused table.
    Filter,
    /// Start typing a command.
    Palette,
    /// Start typing a device token.
    AddToken,
    /// Remove the selected device token.
    RemoveToken,
    /// Cancel the running back-fill or aggregation.
    CancelWork,
    /// Start typing a password to check.
    CheckPassword,
    /// Start typing a capture request.
    NewCapture,
    /// Start typing the file to save the open capture to.
    SaveCapture,
    /// Events: the next taxonomy of the pick-list.
    NextTaxonomy,
    /// Events: the next country of the pick-list.
    NextCountry,
    /// Events: start typing the ASN filter.
    FilterAsns,
    /// Flows: the day before (-1) / after (+1) the one shown.
    Day(i32),
    /// Flows: start typing the IP filter; DynFW: start typing an address to search.
    FilterIp,
    /// Flows: wait for one key, the severity of the selected connection.
    StartScoring,
    /// Flows: score the selected connection (1 high, 2 medium, 3 low/benign).
    ScoreFlow(u8),
    /// Flows: start typing the storyboard of the selected IP (title, then text).
    EditStoryboard,
    /// Flows: save the storyboard of the selected IP.
    SaveStoryboard {
        /// Its title.
        title: String,
        /// Its text (any characters, several lines).
        text: String,
    },
    /// A character typed into the input line.
    Input(char),
    /// Delete the last character of the input line.
    Erase,
    /// Finish typing (apply filter, run command, add token).
    Submit,
    /// Abandon typing (a filter is cleared).
    Cancel,
    /// Export the focused table as CSV.
    ExportCsv,
    /// Open the dossier of the address the selected row names (or the open attacker's).
    Dossier,
    /// Write the open dossier's report (Markdown) to the export directory.
    CopyReport,
    /// Export the focused (or the view's first) chart.
    ExportChart(ImageFormat),
    /// Operations: run the refresh planner.
    RunPlanner,
    /// Operations: aggregate the last complete window of every precision.
    AggregateNow,
    /// Operations: back-fill every precision over its default days.
    Migrate,
    /// Operations: delete cached resources.
    ClearCache,
    /// Time passes (the loop sends one every 2 s): keeps Operations live.
    Tick,
}

/// The keys the help overlay lists.
pub const KEYS: &[(&str, &str)] = &[
    ("1-9 0", "tabs: overview attackers passwords ports devices events pcap flows dynfw, ops"),
    (", .", "previous / next period (1h 6h 1d 1w 1m 3m 1y)"),
    ("Tab S-Tab", "focus next / previous panel"),
    ("↑ ↓ j k PgUp PgDn", "move in the focused table"),
    ("Enter", "open the selected attacker / password / ASN / capture job / address's dossier"),
    ("d", "IP dossier of the selected row's address / ASN, or of the open attacker"),
    ("y", "dossier: write its report (Markdown) to the export directory"),
    ("Esc Backspace", "back from a detail view, close help"),
    ("s S", "sort by next column / reverse order"),
    ("/", "filter the focused table (Enter keeps, Esc clears)"),
    (":", "command, e.g. migrate-period daily --days 30"),
    ("e", "export the focused table as CSV"),
    ("p P", "export the focused chart as PNG / SVG"),
    ("a x", "my devices: add / remove a device token"),
    ("c", "passwords: check a password against the leaked store (typed masked)"),
    ("t g f", "events: next taxonomy / next country / type ASNs"),
    ("n", "pcap, attacker detail, flows: request a packet capture"),
    ("[ ] i v b", "flows: day, one IP, score (v, then 1 2 3), storyboard; dynfw: i searches an IP"),
    ("w", "capture detail: save the capture to a file"),
    ("F A M C", "operations: planner, aggregate, migrate, clear cache"),
    ("X", "cancel the back-fill / import running; on PCAP the selected job"),
    ("r", "refresh the view's data"),
    ("?", "this help"),
    ("q Ctrl-C", "quit"),
];

/// Maps a key to an action in `mode` (None: the key does nothing).
pub fn action_for(key: Key, mode: Mode) -> Option<Action> {
    if key.ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if mode != Mode::Normal {
        return Some(match key.code {
            KeyCode::Char(c) => Action::Input(c),
            KeyCode::Backspace => Action::Erase,
            KeyCode::Enter => Action::Submit,
            KeyCode::Esc => Action::Cancel,
            _ => return None,
        });
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char(c @ ('0'..='9')) => Action::Tab(Tab::from_key(c)?),
        KeyCode::Char('.' | '>') => Action::Period(1),
        KeyCode::Char(',' | '<') => Action::Period(-1),
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('r') => Action::Refresh,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => Action::Focus(1),
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => Action::Focus(-1),
        KeyCode::Down | KeyCode::Char('j') => Action::Move(1),
        KeyCode::Up | KeyCode::Char('k') => Action::Move(-1),
        KeyCode::PageDown => Action::Move(10),
        KeyCode::PageUp => Action::Move(-10),
        KeyCode::Char('s') => Action::Sort,
        KeyCode::Char('S') => Action::Reverse,
        KeyCode::Enter => Action::Open,
        KeyCode::Esc | KeyCode::Backspace => Action::Back,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char(':') => Action::Palette,
        KeyCode::Char('a') => Action::AddToken,
        KeyCode::Char('c') => Action::CheckPassword,
        KeyCode::Char('n') => Action::NewCapture,
        KeyCode::Char('w') => Action::SaveCapture,
        KeyCode::Char('t') => Action::NextTaxonomy,
        KeyCode::Char('g') => Action::NextCountry,
        KeyCode::Char('f') => Action::FilterAsns,
        KeyCode::Char('x') | KeyCode::Delete => Action::RemoveToken,
        KeyCode::Char('e') => Action::ExportCsv,
        KeyCode::Char('d') => Action::Dossier,
        KeyCode::Char('y') => Action::CopyReport,
        KeyCode::Char('p') => Action::ExportChart(ImageFormat::Png),
        KeyCode::Char('P') => Action::ExportChart(ImageFormat::Svg),
        KeyCode::Char('F') => Action::RunPlanner,
        KeyCode::Char('A') => Action::AggregateNow,
        KeyCode::Char('M') => Action::Migrate,
        KeyCode::Char('C') => Action::ClearCache,
        KeyCode::Char('X') => Action::CancelWork,
        KeyCode::Char('[') => Action::Day(-1),
        KeyCode::Char(']') => Action::Day(1),
        KeyCode::Char('i') => Action::FilterIp,
        KeyCode::Char('v') => Action::StartScoring,
        KeyCode::Char('b') => Action::EditStoryboard,
        _ => return None,
    })
}
