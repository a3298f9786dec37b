//! The PCAP view: the capture request form, sensor health and the capture jobs with their live
//! per-sensor state (double-click: the capture's summary); *Cancel job* (X) stops the selected
//! running job.

use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use super::{LIVE, Layout, View};

/// The PCAP view.
pub const VIEW: View = View { tab: Tab::Pcap, actions: &[("Request a capture…", Action::NewCapture), ("Cancel job", Action::CancelWork)], refresh: LIVE, layout: Layout::Columns(1) };
