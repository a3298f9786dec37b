//! What the dashboard asks its front end to do: engine requests, export files, saving the
//! device tokens. Models return them as values; the front end's loop carries them out.

use vantage_core::engine::{Request, RequestKind};
use vantage_core::export::{ChartData, ImageFormat};

/// Something the loop must do for the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a request to the engine.
    Engine(Request),
    /// Cancel the engine's running requests of a kind (`Channel::cancel`).
    Cancel(RequestKind),
    /// Write an export file (off the UI thread).
    Export(Export),
    /// Store the device tokens (0600).
    SaveDevices(Vec<String>),
}

/// A file to write: its name stem (the loop adds directory, time and extension) and content.
#[derive(Debug, Clone, PartialEq)]
pub enum Export {
    /// The focused table as shown (filtered and sorted).
    Csv {
        /// File name stem.
        stem: String,
        /// Column names.
        header: Vec<String>,
        /// Rows.
        rows: Vec<Vec<String>>,
    },
    /// A capture copied to a file (a relative name goes to the export directory).
    Pcap {
        /// The merged capture.
        from: std::path::PathBuf,
        /// The file name typed.
        to: String,
    },
    /// A report (Markdown) for a ticket.
    Report {
        /// File name stem.
        stem: String,
        /// The report.
        text: String,
    },
    /// A chart.
    Chart {
        /// File name stem.
        stem: String,
        /// The data.
        chart: ChartData,
        /// PNG or SVG.
        format: ImageFormat,
    },
}
