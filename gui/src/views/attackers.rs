//! The Attackers view: the attackers graph, top attackers (double-click: the attacker's
//! detail) and their countries.

use vantage_views::panels::Tab;

use super::{MINUTELY, Layout, View};

/// The Attackers view.
pub const VIEW: View = View { tab: Tab::Attackers, actions: &[], refresh: MINUTELY, layout: Layout::Columns(2) };
