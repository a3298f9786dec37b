//! The dashboard without a screen: the models behind every tab, shared by the terminal
//! dashboard (`vantage`, ratatui) and the desktop app (`vantage-gui`, egui). Nothing here
//! draws, reads keys from a terminal, or touches the network; files only in [`export`].
//!
//! - [`app`]: the [`app::App`] router — navigation, input line, status line, table states —
//!   owning one model per tab ([`tabs`]) and returning [`effect::Effect`]s for the front end
//!   to carry out;
//! - [`panels`]: what each view shows (tabs, panels, detail views);
//! - [`keys`]: the key → [`keys::Action`] map over a UI-neutral [`keys::Key`];
//! - [`palette`]: the `:` command palette, parsed by the CLI's own definitions ([`cli`]);
//! - [`export`]: the export files both front ends write (on their helper threads).

pub mod app;
pub mod cli;
pub mod effect;
pub mod export;
pub mod keys;
pub mod palette;
pub mod panels;
pub mod table;
pub mod tabs;

#[cfg(test)]
mod tests;
