//! The My devices view: the registered device tokens and their personal graphs.

use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use super::{MINUTELY, Layout, View};

/// The My devices view.
pub const VIEW: View = View {
    tab: Tab::Devices,
    actions: &[("Add a device token…", Action::AddToken), ("Remove the selected token", Action::RemoveToken)],
    refresh: MINUTELY,
    layout: Layout::Columns(2),
};
