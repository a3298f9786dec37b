//! crossterm's key events as the dashboard's UI-neutral keys ([`vantage_views::keys`]).

use ratatui::crossterm::event::{KeyCode as Term, KeyEvent, KeyModifiers};
use vantage_views::keys::{self, Action, Key, KeyCode, Mode};

/// The dashboard's key for a terminal key (None: a key the dashboard does not use).
pub fn key(event: KeyEvent) -> Option<Key> {
    let code = match event.code {
        Term::Char(c) => KeyCode::Char(c),
        Term::Enter => KeyCode::Enter,
        Term::Esc => KeyCode::Esc,
        Term::Backspace => KeyCode::Backspace,
        Term::Delete => KeyCode::Delete,
        Term::Tab => KeyCode::Tab,
        Term::BackTab => KeyCode::BackTab,
        Term::Left => KeyCode::Left,
        Term::Right => KeyCode::Right,
        Term::Up => KeyCode::Up,
        Term::Down => KeyCode::Down,
        Term::PageUp => KeyCode::PageUp,
        Term::PageDown => KeyCode::PageDown,
        _ => return None,
    };
    Some(Key { code, ctrl: event.modifiers.contains(KeyModifiers::CONTROL) })
}

/// Maps a terminal key to an action in `mode` (None: the key does nothing).
pub fn action_for(event: KeyEvent, mode: Mode) -> Option<Action> {
    keys::action_for(key(event)?, mode)
}
