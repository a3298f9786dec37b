//! Tables as shown — the models' rows filtered and sorted — kept between frames: a table is
//! built, filtered and sorted again only when the models changed ([`App::revision`]) or its
//! filter or sort did, so scrolling a 100k-row table costs only the rows on screen.
//!
//! [`App::revision`]: vantage_views::app::App::revision

use std::collections::HashMap;
use std::sync::Arc;

use vantage_views::app::{TableData, TableState};

/// One table as last shown.
#[derive(Debug)]
struct Entry {
    revision: u64,
    filter: String,
    sort: Option<(usize, bool)>,
    total: usize,
    shown: Arc<TableData>,
}

/// The shown tables, by panel key.
#[derive(Debug, Default)]
pub struct ShownTables {
    entries: HashMap<String, Entry>,
}

impl ShownTables {
    /// Table `key` as `state` shows it and its row count before the filter: the kept one when
    /// `revision`, the filter and the sort are those it was made for, else `build()` filtered
    /// and sorted (`None` when the models have no data for it).
    pub fn get(&mut self, key: &str, revision: u64, state: &TableState, build: impl FnOnce() -> Option<TableData>) -> Option<(usize, Arc<TableData>)> {
        if let Some(e) = self.entries.get(key)
            && e.revision == revision
            && e.filter == state.filter
            && e.sort == state.sort
        {
            return Some((e.total, Arc::clone(&e.shown)));
        }
        let Some(full) = build() else {
            self.entries.remove(key);
            return None;
        };
        let total = full.rows.len();
        let shown = Arc::new(full.shown(state));
        let entry = Entry { revision, filter: state.filter.clone(), sort: state.sort, total, shown: Arc::clone(&shown) };
        self.entries.insert(key.to_string(), entry);
        Some((total, shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_rebuilt_only_when_the_models_its_filter_or_its_sort_change() {
        let mut tables = ShownTables::default();
        let builds = std::cell::Cell::new(0);
        let table = || {
            builds.set(builds.get() + 1);
            Some(TableData::new(&["ip", "count"], vec![vec!["10.0.0.2".into(), "9".into()], vec!["10.0.0.1".into(), "10".into()]]))
        };
        let mut state = TableState::default();
        assert_eq!(tables.get("t", 1, &state, table).map(|(n, t)| (n, t.rows.len())), Some((2, 2)));
        assert!(tables.get("t", 1, &state, table).is_some());
        assert_eq!(builds.get(), 1, "kept while nothing changed");
        state.sort = Some((1, false));
        let (_, sorted) = tables.get("t", 1, &state, table).expect("rows");
        assert_eq!((builds.get(), sorted.rows[0][1].as_str()), (2, "9"), "sorted numerically on a new sort");
        state.filter = "10.0.0.1".into();
        let (total, filtered) = tables.get("t", 1, &state, table).expect("rows");
        assert_eq!((builds.get(), total, filtered.rows.len()), (3, 2, 1));
        assert!(tables.get("t", 2, &state, table).is_some());
        assert_eq!(builds.get(), 4, "the models changed");
        assert!(tables.get("t", 3, &state, || None).is_none(), "no data any more");
        assert!(tables.get("t", 3, &state, table).is_some());
        assert_eq!(builds.get(), 5, "nothing kept for data that went away");
    }
}
