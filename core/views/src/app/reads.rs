//! What the views read from the dashboard: a panel's chart, table (as shown: filtered and
//! sorted), text or resource read, whether the view is refreshing, how old its data is, an
//! Events answer, and the file name stem of an export.

use vantage_core::events::questions::View;
use vantage_core::events::table::Table as EventsTable;
use vantage_core::export::ChartData;
use vantage_core::statistics::service::{self, ResourceRead};

use super::App;
use crate::panels::{Panel, Shape, Source};
use crate::table::TableData;

impl App {
    /// The answer to an Events question for the current filters and period, once it arrived.
    pub fn events_table(&self, view: View) -> Option<&EventsTable> {
        self.events.answer(&self.ctx(), view)
    }

    /// The latest read of a resource panel for the current period.
    pub fn read(&self, p: &Panel) -> Option<&ResourceRead> {
        self.statistics.read(self.period, p)
    }

    /// True while any resource of the view is missing or being refreshed.
    pub fn refreshing(&self) -> bool {
        self.panels().iter().filter(|p| p.resource_name().is_some()).any(|p| self.read(p).is_none_or(|r| r.refreshing || r.data.is_none()))
    }

    /// When the oldest shown resource was computed.
    pub fn data_age(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.panels().iter().filter_map(|p| self.read(p).and_then(|r| r.computed_at)).min()
    }

    /// A chart panel's data (None: not loaded yet).
    pub fn chart(&self, p: &Panel) -> Option<ChartData> {
        self.owner(&p.source).chart(&self.ctx(), p)
    }

    /// A table panel's full data (None: not loaded yet).
    pub fn table(&self, p: &Panel) -> Option<TableData> {
        self.owner(&p.source).table(&self.ctx(), p)
    }

    /// A table as shown: filtered, then sorted.
    pub fn visible(&self, p: &Panel) -> Option<TableData> {
        let state = self.tables.get(&p.key()).cloned().unwrap_or_default();
        Some(self.table(p)?.shown(&state))
    }

    pub(super) fn focused_table_len(&self) -> Option<(String, usize)> {
        let p = self.focused().filter(|p| p.shape == Shape::Table)?;
        Some((p.key(), self.visible(&p)?.rows.len()))
    }

    /// Lines of a text panel.
    pub fn text(&self, p: &Panel) -> Vec<String> {
        self.owner(&p.source).text(&self.ctx(), p)
    }

    /// Export file name stem: resource, period and parameter (a password only as its hash).
    pub(super) fn stem(&self, p: &Panel) -> String {
        match &p.source {
            Source::Resource { name, params } => {
                let mut stem = format!("{name}-{}", self.period);
                if let Some(ip) = &params.ip {
                    stem.push_str(&format!("-{}", ip.replace(':', "_")));
                }
                if let Some(pw) = &params.password {
                    stem.push_str(&format!("-pw{}", service::short_hash(pw)));
                }
                stem
            }
            other => format!("{other:?}").to_lowercase(),
        }
    }
}
