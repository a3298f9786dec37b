//! The Events view: incident events per day, top and rising ASNs (double-click: the ASN's
//! operator view), country problems and feed health, filtered from the pick-lists.

use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use super::{MINUTELY, Layout, View};

/// The Events view.
pub const VIEW: View = View {
    tab: Tab::Events,
    actions: &[("Next taxonomy", Action::NextTaxonomy), ("Next country", Action::NextCountry), ("Filter ASNs…", Action::FilterAsns)],
    refresh: MINUTELY,
    layout: Layout::Columns(2),
};
