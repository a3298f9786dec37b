//! egui's key events as the dashboard's UI-neutral keys ([`vantage_views::keys::Key`]), so
//! the desktop app answers the terminal's keys.

use eframe::egui::{self, Event};
use vantage_views::keys::{Key, KeyCode};

/// Ctrl+K: open the command palette (the terminal's `:`, which works here too).
pub const PALETTE: Key = Key { code: KeyCode::Char('k'), ctrl: true };

/// The keys pressed this frame: typed characters as they were typed (shifted letters upper
/// case), the other keys by name, Control noted.
pub fn pressed(input: &egui::InputState) -> Vec<Key> {
    let mut out = Vec::new();
    for event in &input.events {
        match event {
            Event::Text(text) if !input.modifiers.ctrl => out.extend(text.chars().map(|c| Key::plain(KeyCode::Char(c)))),
            Event::Key { key, pressed: true, modifiers, .. } => {
                use egui::Key as E;
                let code = match key {
                    E::Enter => KeyCode::Enter,
                    E::Escape => KeyCode::Esc,
                    E::Backspace => KeyCode::Backspace,
                    E::Delete => KeyCode::Delete,
                    E::Tab if modifiers.shift => KeyCode::BackTab,
                    E::Tab => KeyCode::Tab,
                    E::ArrowLeft => KeyCode::Left,
                    E::ArrowRight => KeyCode::Right,
                    E::ArrowUp => KeyCode::Up,
                    E::ArrowDown => KeyCode::Down,
                    E::PageUp => KeyCode::PageUp,
                    E::PageDown => KeyCode::PageDown,
                    E::C if modifiers.ctrl => KeyCode::Char('c'),
                    E::K if modifiers.ctrl => KeyCode::Char('k'),
                    _ => continue,
                };
                out.push(Key { code, ctrl: modifiers.ctrl });
            }
            _ => {}
        }
    }
    out
}
