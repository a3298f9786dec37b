//! The Passwords view: top passwords, usernames and combinations (double-click: password
//! detail), the masked leak check and the most seen leaked hashes.

use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use super::{MINUTELY, Layout, View};

/// The Passwords view.
pub const VIEW: View = View { tab: Tab::Passwords, actions: &[("Check a password…", Action::CheckPassword)], refresh: MINUTELY, layout: Layout::Columns(2) };
