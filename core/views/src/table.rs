//! Tables as the dashboard shows them: contents, and the sort, filter and selection an
//! analyst applies to one.

/// A table's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableData {
    /// Column names.
    pub header: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

/// Sort, filter and selection of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableState {
    /// Selected row among the visible ones.
    pub selected: usize,
    /// Sort column and descending flag; None: the source order.
    pub sort: Option<(usize, bool)>,
    /// Case-insensitive text a row must contain.
    pub filter: String,
}

impl TableData {
    /// A table with the given column names.
    pub fn new(header: &[&str], rows: Vec<Vec<String>>) -> TableData {
        TableData { header: header.iter().map(|s| s.to_string()).collect(), rows }
    }

    /// The rows `state` lets through, sorted as it says (numbers numerically).
    pub fn shown(mut self, state: &TableState) -> TableData {
        if !state.filter.is_empty() {
            let needle = state.filter.to_lowercase();
            self.rows.retain(|r| r.iter().any(|c| c.to_lowercase().contains(&needle)));
        }
        if let Some((c, desc)) = state.sort {
            self.rows.sort_by(|a, b| {
                let (x, y) = (a.get(c).map_or("", String::as_str), b.get(c).map_or("", String::as_str));
                let order = match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => x.cmp(y),
                };
                if desc { order.reverse() } else { order }
            });
        }
        self
    }
}
