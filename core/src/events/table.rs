//! The typed table every events question answers with (UI-free: the CLI prints it, the TUI
//! will show it, exports write it).

use chrono::NaiveDate;
use serde::Serialize;

use crate::export::{ChartData, Series};

/// Most series a chart draws (the largest by total; the palette has eight colours).
pub const MAX_SERIES: usize = 8;

/// One cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    /// SQL NULL (distinct from the empty text).
    Null,
    /// An integer (counts, ASNs, ports).
    Int(i64),
    /// A real number (trend statistics).
    Float(f64),
    /// Text (days as `YYYY-MM-DD`).
    Text(String),
}

impl Cell {
    /// A nullable text key as a cell.
    pub fn key(key: &Option<String>) -> Cell {
        key.as_ref().map_or(Cell::Null, |k| Cell::Text(k.clone()))
    }

    /// A day as a cell.
    pub fn day(day: NaiveDate) -> Cell {
        Cell::Text(day.format("%Y-%m-%d").to_string())
    }

    /// The cell for CSV and plain text: NULL is empty, reals get three decimals.
    pub fn display(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format!("{f:.3}"),
            Cell::Text(t) => t.clone(),
        }
    }

    fn as_f64(&self) -> f64 {
        match self {
            Cell::Int(i) => *i as f64,
            Cell::Float(f) => *f,
            _ => 0.0,
        }
    }
}

/// Which columns make a per-day series (for charts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeriesColumns {
    /// The day column.
    pub day: usize,
    /// The column naming the series (`None`: one series).
    pub key: Option<usize>,
    /// The value column.
    pub value: usize,
}

/// A question's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// What the table shows.
    pub title: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Single figures about the whole table (e.g. exact distinct IPs over the range).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<(String, Cell)>,
    /// Set when the table is a per-day series that can be drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesColumns>,
    /// The first and last day the table covers (charts fill missing days with 0).
    #[serde(skip)]
    pub days: Option<(NaiveDate, NaiveDate)>,
}

impl Table {
    /// A table without facts or series.
    pub fn new(title: impl Into<String>, columns: &[&str], rows: Vec<Vec<Cell>>) -> Table {
        Table { title: title.into(), columns: columns.iter().map(ToString::to_string).collect(), rows, facts: Vec::new(), series: None, days: None }
    }

    /// Marks the table as a per-day series over `days`.
    pub fn with_series(mut self, series: SeriesColumns, days: (NaiveDate, NaiveDate)) -> Table {
        self.series = Some(series);
        self.days = Some(days);
        self
    }

    /// Rows as text (for CSV and plain output).
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        self.rows.iter().map(|r| r.iter().map(Cell::display).collect()).collect()
    }

    /// The per-day series as a chart: one series per key (the [`MAX_SERIES`] largest by total),
    /// every day of the range on the x axis (0 where a key has no row), titled with the range
    /// (`Events per day, 2024-06-01 – 2024-06-30`), the y axis `<value column> / day`. None
    /// for tables that are not per-day series, or empty ones.
    pub fn chart(&self) -> Option<ChartData> {
        let (s, (first, last)) = (self.series?, self.days?);
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
        let mut totals: Vec<(String, f64)> = Vec::new();
        for row in &self.rows {
            let key = s.key.map_or_else(|| self.title.clone(), |k| row[k].display());
            match totals.iter_mut().find(|(k, _)| *k == key) {
                Some(t) => t.1 += row[s.value].as_f64(),
                None => totals.push((key, row[s.value].as_f64())),
            }
        }
        totals.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        totals.truncate(MAX_SERIES);
        let series: Vec<Series> = totals
            .iter()
            .map(|(key, _)| {
                let mut values = vec![0.0; days.len()];
                for row in self.rows.iter().filter(|r| s.key.map_or_else(|| self.title.clone(), |k| r[k].display()) == *key) {
                    if let Some(i) = days.iter().position(|d| Cell::day(*d) == row[s.day]) {
                        values[i] += row[s.value].as_f64();
                    }
                }
                Series { label: if key.is_empty() { "(null)".into() } else { key.clone() }, values }
            })
            .collect();
        if series.is_empty() || days.is_empty() {
            return None;
        }
        let mut title = self.title.clone();
        if let Some(first) = title.get(..1) {
            title.replace_range(..1, &first.to_uppercase());
        }
        Some(ChartData {
            title: format!("{title}, {first} – {last}"),
            x_axis: "UTC date".into(),
            y_axis: format!("{} / day", self.columns[s.value].replace('_', " ")),
            x_labels: days.iter().map(|d| d.format("%Y-%m-%d").to_string()).collect(),
            series,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_fills_missing_days_and_keeps_the_largest_series() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("day");
        let rows = vec![
            vec![Cell::day(d("2024-06-01")), Cell::Text("scan".into()), Cell::Int(3)],
            vec![Cell::day(d("2024-06-03")), Cell::Text("scan".into()), Cell::Int(1)],
            vec![Cell::day(d("2024-06-02")), Cell::Null, Cell::Int(9)],
        ];
        let t = Table::new("per day", &["date", "type", "events"], rows)
            .with_series(SeriesColumns { day: 0, key: Some(1), value: 2 }, (d("2024-06-01"), d("2024-06-03")));
        let chart = t.chart().expect("chart");
        assert_eq!(chart.x_labels, ["2024-06-01", "2024-06-02", "2024-06-03"]);
        assert_eq!((chart.title.as_str(), chart.x_axis.as_str(), chart.y_axis.as_str()), ("Per day, 2024-06-01 – 2024-06-03", "UTC date", "events / day"));
        assert_eq!(chart.series[0], Series { label: "(null)".into(), values: vec![0.0, 9.0, 0.0] });
        assert_eq!(chart.series[1], Series { label: "scan".into(), values: vec![3.0, 0.0, 1.0] });
        assert_eq!(serde_json::to_value(&t.rows[2]).expect("json"), serde_json::json!(["2024-06-02", null, 9]));
        assert_eq!(Table::new("x", &["a"], vec![]).chart(), None);
    }
}
