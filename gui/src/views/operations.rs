//! The Operations view: jobs, deployment and workers, timeouts and cache entries, and the
//! planner, aggregation, back-fill and cache actions.

use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use super::{LIVE, Layout, View};

/// The Operations view.
pub const VIEW: View = View {
    tab: Tab::Operations,
    actions: &[
        ("Run the planner", Action::RunPlanner),
        ("Aggregate now", Action::AggregateNow),
        ("Back-fill (migrate)", Action::Migrate),
        ("Clear the cache", Action::ClearCache),
    ],
    refresh: LIVE,
    layout: Layout::Columns(2),
};
