//! The DynFW view: the feed's label (the demo's in orange: not Sentinel's list) and health
//! beside the blocked set's size over time (an egui_plot line), then the last deltas and events
//! beside the countries (a bar chart above their table). The toolbar searches an address in
//! the list and the greylist. The engine pushes the feed's status as it changes, so the view
//! needs no ticks of its own.

use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use super::{Layout, MINUTELY, View};

/// The DynFW view: two panels a row.
pub const VIEW: View = View {
    tab: Tab::Dynfw,
    actions: &[("Search address…", Action::FilterIp)],
    refresh: MINUTELY,
    layout: Layout::Columns(2),
};
