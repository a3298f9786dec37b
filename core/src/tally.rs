//! Counts by key and by day, the shape every capability's part of an IP dossier reports
//! (`engine::dossier`): sorted largest first, ties by key.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

/// How often one key was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// The key (a trap, a country, a taxonomy, `23/TCP`, …; `-` for none).
    pub key: String,
    /// Its count.
    pub count: i64,
}

/// A count on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayTally {
    /// The day.
    pub day: NaiveDate,
    /// Its count.
    pub count: i64,
}

/// Sums `(key, count)` pairs per key: largest first, ties by key.
pub fn by_key(pairs: impl IntoIterator<Item = (String, i64)>) -> Vec<Tally> {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for (key, count) in pairs {
        let sum = sums.entry(key).or_default();
        *sum = sum.saturating_add(count);
    }
    let mut out: Vec<Tally> = sums.into_iter().map(|(key, count)| Tally { key, count }).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out
}

/// Sums `(day, count)` pairs per day, by day.
pub fn by_day(pairs: impl IntoIterator<Item = (NaiveDate, i64)>) -> Vec<DayTally> {
    let mut sums: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (day, count) in pairs {
        let sum = sums.entry(day).or_default();
        *sum = sum.saturating_add(count);
    }
    sums.into_iter().map(|(day, count)| DayTally { day, count }).collect()
}

/// The text of an optional key (`-` for none or empty).
pub fn key_text(key: Option<&str>) -> String {
    match key {
        Some(k) if !k.is_empty() => k.to_string(),
        _ => "-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sum_and_sort_largest_first_then_by_key() {
        let t = by_key([("b".to_string(), 2), ("a".to_string(), 2), ("c".to_string(), 5), ("a".to_string(), 1)]);
        assert_eq!(t.iter().map(|t| (t.key.as_str(), t.count)).collect::<Vec<_>>(), [("c", 5), ("a", 3), ("b", 2)]);
        let d: NaiveDate = "2024-06-15".parse().expect("day");
        assert_eq!(by_day([(d, 1), (d, 2)]), [DayTally { day: d, count: 3 }]);
        assert_eq!(key_text(Some("")), "-");
    }
}
