//! PNG and SVG line charts.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::ChartData;
use crate::{Error, Result};

/// DejaVu Sans, the only font charts use (licence: `assets/fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Largest accepted width or height, in pixels.
const MAX_SIDE: u32 = 16_384;

/// Smallest accepted width or height, in pixels: below it the axes do not fit.
const MIN_SIDE: u32 = 200;

/// Line colours, in series order (Tableau 10 without its yellow and grey, readable on white).
const COLORS: [RGBColor; 8] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(89, 161, 79),
    RGBColor(176, 122, 161),
    RGBColor(118, 183, 178),
    RGBColor(156, 117, 95),
    RGBColor(255, 157, 167),
];

/// Image formats for chart export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// A PNG bitmap, text rendered with the embedded font.
    Png,
    /// An SVG document; its text stays text, shown in the viewer's sans-serif font.
    Svg,
}

impl ImageFormat {
    /// The usual file extension, without the dot: `png` or `svg`.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

/// Draws a line chart (title, axes with first/last/intermediate x labels, y axis from 0, legend when >1 series)
/// to `path`, in `format` whatever the path's extension. Width and height are in pixels, each
/// within 200..=16384; a chart without x labels or series is refused.
pub fn write_chart(chart: &ChartData, format: ImageFormat, path: &Path, width: u32, height: u32) -> Result<()> {
    if chart.x_labels.is_empty() || chart.series.is_empty() {
        return Err(Error::InvalidArgument(format!("chart {:?} has no data", chart.title)));
    }
    if ![width, height].iter().all(|side| (MIN_SIDE..=MAX_SIDE).contains(side)) {
        return Err(Error::InvalidArgument(format!("chart size {width}x{height}: each side must be within {MIN_SIDE}..={MAX_SIDE} pixels")));
    }
    register_font()?;
    match format {
        ImageFormat::Png => {
            let mut rgb = vec![0; width as usize * height as usize * 3];
            draw(BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area(), chart).map_err(drawing_error)?;
            write_png(path, &rgb, width, height)
        }
        ImageFormat::Svg => {
            let mut svg = String::new();
            draw(SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area(), chart).map_err(drawing_error)?;
            std::fs::write(path, svg).map_err(|e| Error::io(path, e))
        }
    }
}

/// Registers the embedded font as plotters' `sans-serif`, once per process.
fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    if *REGISTERED.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()) {
        Ok(())
    } else {
        Err(Error::Export("the embedded chart font could not be loaded".into()))
    }
}

/// Draws `chart` on `root` and presents it.
fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &ChartData) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let n = chart.x_labels.len();
    let last = n - 1;
    // evenly spaced labelled points, first and last included, about one per 160 pixels
    let labelled = (root.dim_in_pixel().0 as usize / 160).max(2).min(n);
    let key_points = (0..labelled).map(|i| i * last / (labelled - 1).max(1)).collect();
    let max = chart.max();
    let top = if max > 0.0 { max * 1.1 } else { 1.0 };

    // a title over the whole width: a chart caption would be centred between unequal margins
    let plot = root.margin(12, 0, 0, 0).titled(&chart.title, ("sans-serif", 22))?;
    let mut ctx = ChartBuilder::on(&plot)
        .margin(12)
        .margin_right(56)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d((0..last.max(1)).with_key_points(key_points), 0.0..top)?;
    ctx.configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|i| chart.x_labels.get(*i).cloned().unwrap_or_default())
        .y_label_formatter(&|v| format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string())
        .draw()?;

    let legend = chart.series.len() > 1;
    for (i, series) in chart.series.iter().enumerate() {
        let style = COLORS[i % COLORS.len()].filled().stroke_width(2);
        let points = series.values.iter().take(n).enumerate().map(|(x, &y)| (x, y));
        // a lone point has no line to show it: mark it
        let drawn = ctx.draw_series(LineSeries::new(points, style).point_size(if n == 1 { 4 } else { 0 }))?;
        if legend {
            drawn.label(series.label.as_str()).legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
    }
    if legend {
        ctx.configure_series_labels().position(SeriesLabelPosition::UpperLeft).background_style(WHITE.mix(0.85)).border_style(BLACK.mix(0.4)).draw()?;
    }
    root.present()
}

/// Wraps a plotters error.
fn drawing_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::Export(format!("drawing the chart: {e}"))
}

/// Encodes an 8-bit RGB buffer as a PNG file.
fn write_png(path: &Path, rgb: &[u8], width: u32, height: u32) -> Result<()> {
    let to_error = |e: png::EncodingError| match e {
        png::EncodingError::IoError(e) => Error::io(path, e),
        e => Error::Export(format!("{}: encoding PNG: {e}", path.display())),
    };
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(to_error)?;
    writer.write_image_data(rgb).map_err(to_error)?;
    writer.finish().map_err(to_error)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::io::BufReader;

    use super::*;
    use crate::export::Series;

    fn chart(series: &[(&str, &[f64])]) -> ChartData {
        let n = series.first().map_or(0, |(_, v)| v.len());
        ChartData {
            title: "Attacks per hour".into(),
            x_labels: (0..n).map(|h| format!("2024-06-15 {h:02}:00")).collect(),
            series: series.iter().map(|(label, values)| Series { label: (*label).into(), values: values.to_vec() }).collect(),
        }
    }

    #[test]
    fn png_is_a_real_non_blank_image_of_the_requested_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        // the extension does not choose the format
        let path = dir.path().join("chart.out");
        let data = chart(&[("CN", &[3.0, 8.0, 2.0, 5.0, 0.0, 7.0]), ("US", &[1.0, 0.0, 4.0, 4.0, 6.0, 2.0])]);
        write_chart(&data, ImageFormat::Png, &path, 640, 360).expect("write PNG");

        let bytes = std::fs::read(&path).expect("read PNG");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes")), 640);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes")), 360);

        let mut reader = png::Decoder::new(BufReader::new(File::open(&path).expect("open PNG"))).read_info().expect("PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut pixels).expect("decode PNG");
        assert_eq!((info.width, info.height, info.color_type), (640, 360, png::ColorType::Rgb));
        let colours: HashSet<&[u8]> = pixels[..info.buffer_size()].chunks(3).collect();
        assert!(colours.contains([78u8, 121, 167].as_slice()), "first series colour drawn");
        assert!(colours.len() > 10, "only {} colours", colours.len());
    }

    #[test]
    fn svg_is_text_with_the_title_and_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chart.svg");
        write_chart(&chart(&[("Attacks", &[3.0, 8.0, 2.0])]), ImageFormat::Svg, &path, 800, 400).expect("write SVG");

        let svg = std::fs::read_to_string(&path).expect("SVG is UTF-8 text");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("Attacks per hour"));
        assert!(svg.contains("<polyline") || svg.contains("<path"));
        assert!(svg.contains("2024-06-15 00:00") && svg.contains("2024-06-15 02:00"), "first and last x labels");
    }

    #[test]
    fn a_single_point_is_drawn() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("one.svg");
        write_chart(&chart(&[("Attacks", &[0.0])]), ImageFormat::Svg, &path, 400, 300).expect("write SVG");
        assert!(std::fs::read_to_string(&path).expect("SVG").contains("<circle"));
    }

    #[test]
    fn refuses_empty_charts_and_bad_sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chart.png");
        for (data, width, height) in [(chart(&[]), 640, 360), (chart(&[("a", &[1.0])]), 0, 360), (chart(&[("a", &[1.0])]), 640, 100_000)] {
            let err = write_chart(&data, ImageFormat::Png, &path, width, height).expect_err("refused");
            assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        }
        assert!(!path.exists());
    }

    #[test]
    fn extensions() {
        assert_eq!((ImageFormat::Png.extension(), ImageFormat::Svg.extension()), ("png", "svg"));
    }
}
