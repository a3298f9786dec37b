//! The Ports view: port scans, traps and actions graphs, top ports and incident types.

use vantage_views::panels::Tab;

use super::{MINUTELY, Layout, View};

/// The Ports view.
pub const VIEW: View = View { tab: Tab::Ports, actions: &[], refresh: MINUTELY, layout: Layout::Columns(2) };
