//! The Overview view: incidents and attackers graphs, top countries and passwords.

use vantage_views::panels::Tab;

use super::{MINUTELY, View};

/// The Overview view.
pub const VIEW: View = View { tab: Tab::Overview, actions: &[], refresh: MINUTELY, columns: 2 };
