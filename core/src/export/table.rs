//! CSV tables.

use std::fs::File;
use std::path::Path;

use crate::{Error, Result};

/// Writes a CSV file (header + rows), RFC 4180 quoting. Every row must have as many fields
/// as the header.
pub fn write_csv(header: &[String], rows: &[Vec<String>], path: &Path) -> Result<()> {
    if let Some((i, row)) = rows.iter().enumerate().find(|(_, row)| row.len() != header.len()) {
        return Err(Error::InvalidArgument(format!("CSV row {} has {} fields, the header {}", i + 1, row.len(), header.len())));
    }
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = csv::Writer::from_writer(file);
    for record in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        writer.write_record(record).map_err(|e| Error::io(path, e.into()))?;
    }
    writer.flush().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_fields_that_need_quoting() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("table.csv");
        let header = vec!["bucket".to_string(), "note".to_string()];
        let rows = vec![vec!["2024-06-15 12:00".to_string(), "a, \"quoted\"\nsecond line".to_string()], vec!["2024-06-15 13:00".to_string(), String::new()]];
        write_csv(&header, &rows, &path).expect("write CSV");

        let mut reader = csv::Reader::from_path(&path).expect("open CSV");
        assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), header);
        let read: Vec<Vec<String>> = reader.records().map(|r| r.expect("record").iter().map(str::to_string).collect()).collect();
        assert_eq!(read, rows);
    }

    #[test]
    fn rejects_ragged_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = write_csv(&["a".to_string()], &[vec!["1".to_string(), "2".to_string()]], &dir.path().join("t.csv")).expect_err("ragged");
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }
}
