//! The Overview view: incidents and attackers graphs, top countries and passwords.

use vantage_views::panels::Tab;

use super::{MINUTELY, Layout, View};

/// The Overview view.
pub const VIEW: View = View { tab: Tab::Overview, actions: &[], refresh: MINUTELY, layout: Layout::Columns(2) };
