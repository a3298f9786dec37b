//! The Flows view: the suspicious connections of a day with their network graph above them,
//! the day and the flows per minute, the selected connection's raw flows, the selected IP's
//! peers with their chord diagram, the beacons and the storyboard editor. The toolbar steps
//! the day, filters by IP, scores the selected connection (the terminal's `v` then 1/2/3) and
//! requests its capture (the PCAP request, pre-filled with its pair and minute).

use vantage_views::keys::Action;
use vantage_views::panels::Tab;

use super::{Layout, MINUTELY, View};

/// The Flows view: the connections across, then the other panels two by two.
pub const VIEW: View = View {
    tab: Tab::Flows,
    actions: &[
        ("< Day", Action::Day(-1)),
        ("Day >", Action::Day(1)),
        ("Filter IP…", Action::FilterIp),
        ("Score 1 (high)", Action::ScoreFlow(1)),
        ("Score 2 (medium)", Action::ScoreFlow(2)),
        ("Score 3 (benign)", Action::ScoreFlow(3)),
        ("Request capture…", Action::NewCapture),
    ],
    refresh: MINUTELY,
    layout: Layout::Rows(&[1, 2, 2, 2]),
};
