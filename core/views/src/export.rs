//! Export files as both front ends write them, through [`vantage_core::export`]: the terminal
//! dashboard to `<dir>/<stem>-<time>.<ext>` at once, the desktop app to the path its file
//! dialog chose. The only module of this crate that touches files; the front ends call it on
//! a helper thread, never on their UI thread.

use std::path::{Path, PathBuf};

use vantage_core::{Error, Result, export};

use crate::effect::Export;

/// Width and height of an exported chart image, in pixels.
pub const CHART_SIZE: (u32, u32) = (1200, 600);

/// The time in export file names, e.g. `20240615T124000`.
pub fn stamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y%m%dT%H%M%S").to_string()
}

/// The file name an export gets by default: `<stem>-<stamp>.<ext>` (a capture: the name typed).
pub fn file_name(stamp: &str, x: &Export) -> String {
    match x {
        Export::Csv { stem, .. } => format!("{stem}-{stamp}.csv"),
        Export::Chart { stem, format, .. } => format!("{stem}-{stamp}.{}", format.extension()),
        Export::Report { stem, .. } => format!("{stem}-{stamp}.md"),
        Export::Pcap { to, .. } => to.clone(),
    }
}

/// Writes an export as `<dir>/<stem>-<stamp>.<ext>` (a capture: to the path typed, relative
/// to `dir`), creating `dir`, and returns its path.
pub fn write_export(dir: &Path, stamp: &str, x: &Export) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(file_name(stamp, x)); // an absolute capture name replaces `dir`
    write_to(&path, x)?;
    Ok(path)
}

/// Writes an export to exactly `path` (replacing a file there), creating its directory.
pub fn write_to(path: &Path, x: &Export) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    match x {
        Export::Csv { header, rows, .. } => export::write_csv(header, rows, path),
        Export::Chart { chart, format, .. } => export::write_chart(chart, *format, path, CHART_SIZE.0, CHART_SIZE.1),
        Export::Pcap { from, .. } => std::fs::copy(from, path).map(drop).map_err(|e| Error::io(path, e)),
        Export::Report { text, .. } => std::fs::write(path, text).map_err(|e| Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use vantage_core::export::{ChartData, ImageFormat};

    use super::*;

    #[test]
    fn default_names_carry_stem_stamp_and_extension() {
        let csv = Export::Csv { stem: "top-1d".into(), header: vec![], rows: vec![] };
        assert_eq!(file_name("20240615T124000", &csv), "top-1d-20240615T124000.csv");
        let chart = Export::Chart { stem: "graph-1w".into(), chart: ChartData { title: String::new(), x_axis: String::new(), y_axis: String::new(), x_labels: vec![], series: vec![] }, format: ImageFormat::Svg };
        assert_eq!(file_name("T", &chart), "graph-1w-T.svg");
        let pcap = Export::Pcap { from: "merged.pcap".into(), to: "job.pcap".into() };
        assert_eq!(file_name("T", &pcap), "job.pcap");
    }
}
