//! `--csv`, `--png`, `--svg`: the files the table commands (`vantage events …`,
//! `vantage resource`) also write, through one helper.

use anyhow::Context as _;
use vantage_core::export::{ChartData, ImageFormat, write_chart, write_csv};

use crate::cli::ExportArgs;

/// Chart size of `--png` / `--svg`, in pixels.
pub const CHART_SIZE: (u32, u32) = (1200, 600);

/// Writes the requested files: the table as CSV, `chart` as PNG / SVG. A chart asked for but
/// missing (`what` is not a series, or has no rows) is refused before any file is written.
pub fn write(args: &ExportArgs, header: &[String], rows: &[Vec<String>], chart: Option<ChartData>, what: &str) -> anyhow::Result<()> {
    let images = [(&args.png, ImageFormat::Png), (&args.svg, ImageFormat::Svg)];
    let images: Vec<_> = images.into_iter().filter_map(|(path, format)| Some((path.as_ref()?, format))).collect();
    if let (Some((_, format)), None) = (images.first(), &chart) {
        anyhow::bail!("--{}: `{what}` is not a per-day series or a graph (or has no rows) to draw", format.extension());
    }
    if let Some(path) = &args.csv {
        write_csv(header, rows, path).with_context(|| format!("--csv {}", path.display()))?;
    }
    if let Some(chart) = &chart {
        for (path, format) in images {
            write_chart(chart, format, path, CHART_SIZE.0, CHART_SIZE.1).with_context(|| format!("--{} {}", format.extension(), path.display()))?;
        }
    }
    Ok(())
}
