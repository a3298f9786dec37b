//! PNG and SVG line charts.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::x_ticks;
use super::{ChartData, Series};
use crate::{Error, Result};

/// DejaVu Sans, the only font charts use (licence: `assets/fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Largest accepted width or height, in pixels.
const MAX_SIDE: u32 = 16_384;

/// Smallest accepted width or height, in pixels: below it the axes and the legend do not fit.
pub(super) const MIN_SIDE: u32 = 320;

/// Series colours, in series order (Tableau 10 without its yellow and grey, readable on white;
/// a ninth series reuses the first). Nothing else in a chart is drawn in these colours.
pub const PALETTE: [(u8, u8, u8); 8] =
    [(78, 121, 167), (242, 142, 43), (225, 87, 89), (89, 161, 79), (176, 122, 161), (118, 183, 178), (156, 117, 95), (255, 157, 167)];

/// Space around the chart, in pixels.
const MARGIN: i32 = 12;
/// Height of the title band at the top.
const TITLE_AREA: i32 = 48;
/// Width of the y tick labels and the y axis caption.
const Y_LABEL_AREA: i32 = 84;
/// Height of the x tick labels and the x axis caption.
const X_LABEL_AREA: i32 = 56;
/// Space between the plot and the legend.
const LEGEND_GAP: i32 = 16;
/// Height of one legend entry.
const LEGEND_ROW: i32 = 20;
/// Font sizes of the title, the tick labels and legend, and the axis captions.
const TITLE_FONT: u32 = 20;
const LABEL_FONT: u32 = 13;
const CAPTION_FONT: u32 = 14;

/// A pixel rectangle: `left..right` × `top..bottom` (right and bottom excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    /// First column.
    pub left: i32,
    /// First row.
    pub top: i32,
    /// Column after the last.
    pub right: i32,
    /// Row after the last.
    pub bottom: i32,
}

impl PixelRect {
    /// Whether the pixel lies inside.
    pub fn contains(&self, x: i32, y: i32) -> bool {
        (self.left..self.right).contains(&x) && (self.top..self.bottom).contains(&y)
    }

    /// Width in pixels.
    pub fn width(&self) -> i32 {
        self.right - self.left
    }

    /// The nearest pixel inside.
    fn clamp(&self, (x, y): (i32, i32)) -> (i32, i32) {
        (x.clamp(self.left, self.right - 1), y.clamp(self.top, self.bottom - 1))
    }
}

/// Where a chart of a given size draws: series only inside `plot`, the legend inside `legend`
/// (to the right of the plot); title, axes and labels around them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The plot area, the only place series are drawn.
    pub plot: PixelRect,
    /// The legend area: one colour swatch and label per series, top down.
    pub legend: PixelRect,
}

/// The layout of a `width` × `height` chart (it does not depend on the data).
pub fn layout(width: u32, height: u32) -> Layout {
    let (w, h) = (width as i32, height as i32);
    let legend_width = (w / 5).clamp(80, 260);
    let plot = PixelRect { left: MARGIN + Y_LABEL_AREA, top: TITLE_AREA, right: w - MARGIN - legend_width - LEGEND_GAP, bottom: h - MARGIN - X_LABEL_AREA };
    Layout { plot, legend: PixelRect { left: plot.right + LEGEND_GAP, top: plot.top, right: w - MARGIN, bottom: plot.bottom } }
}

/// Fewest pixels per point a line is drawn with; denser series are bars.
pub const MIN_LINE_PIXELS_PER_POINT: usize = 3;

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// One polyline per series, broken where a value is missing (NaN).
    Line,
    /// One bar per point; several series are stacked.
    Bars,
}

/// Lines or bars: bars when there are fewer than 3 points, fewer than
/// [`MIN_LINE_PIXELS_PER_POINT`] pixels of plot width per point (a long daily series), or when
/// at most half of the points have a non-zero value in some series (a sparse series, where a
/// line is mostly a zigzag to 0); lines otherwise. `width` is the image width in pixels.
pub fn chart_kind(chart: &ChartData, width: u32) -> ChartKind {
    let n = chart.x_labels.len();
    let plot_width = layout(width, MIN_SIDE).plot.width() as usize;
    let filled = (0..n).filter(|&i| chart.series.iter().any(|s| s.values.get(i).is_some_and(|v| v.is_finite() && *v != 0.0))).count();
    if n < 3 || n * MIN_LINE_PIXELS_PER_POINT > plot_width || filled * 2 <= n {
        ChartKind::Bars
    } else {
        ChartKind::Line
    }
}

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

/// Draws a chart (see [`layout`]): the title, axes with captions and x labels that fit, the
/// series as lines or bars ([`chart_kind`]) clipped to the plot area, and a legend. Written to
/// `path`, in `format` whatever the path's extension. Width and height are in pixels, each
/// within 320..=16384; a chart without x labels or series is refused.
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
/// Returns the plot area plotters laid out (the same as [`layout`]'s).
fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &ChartData) -> Result<PixelRect, DrawingAreaErrorKind<DB::ErrorType>> {
    let (width, height) = root.dim_in_pixel();
    let layout = layout(width, height);
    root.fill(&WHITE)?;
    let centred = Pos::new(HPos::Center, VPos::Center);
    root.draw_text(&chart.title, &("sans-serif", TITLE_FONT).into_font().color(&BLACK).pos(centred), (width as i32 / 2, TITLE_AREA / 2))?;

    let kind = chart_kind(chart, width);
    let n = chart.x_labels.len();
    let (low, high) = y_range(chart, kind);
    let ticks = x_ticks(&chart.x_labels, layout.plot.width() as usize);
    // x in thousandths of a point (plotters formats integer axes, not f64 ones with key points)
    let milli = |x: f64| (x * 1000.0).round() as i64;
    let ticks: Vec<(i64, String)> = ticks.into_iter().map(|(x, t)| (milli(x), t)).collect();
    let positions: Vec<i64> = ticks.iter().map(|(x, _)| *x).collect();
    let area = root.clone().shrink((MARGIN, layout.plot.top), (layout.plot.right - MARGIN, height as i32 - MARGIN - layout.plot.top));
    let mut ctx = ChartBuilder::on(&area)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d((milli(-0.5)..milli(n as f64 - 0.5)).with_key_points(positions), low..high)?;
    let x_label = |x: &i64| ticks.iter().find(|(p, _)| p == x).map(|(_, t)| t.clone()).unwrap_or_default();
    ctx.configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.08))
        .x_label_formatter(&x_label)
        .y_labels(8)
        .y_label_formatter(&|v| format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string())
        .label_style(("sans-serif", LABEL_FONT))
        .x_desc(chart.x_axis.as_str())
        .y_desc(chart.y_axis.as_str())
        .axis_desc_style(("sans-serif", CAPTION_FONT))
        .draw()?;

    // every series pixel is computed here and clamped to the plot area: plotters does not clip
    let (xs, ys) = ctx.plotting_area().get_pixel_range();
    let plot = PixelRect { left: xs.start, top: ys.start, right: xs.end, bottom: ys.end };
    let at = |x: f64, y: f64| plot.clamp(ctx.backend_coord(&(milli(x), y)));
    match kind {
        ChartKind::Line => draw_lines(&root, chart, plot, &at)?,
        ChartKind::Bars => draw_bars(&root, chart, plot, &at)?,
    }
    draw_legend(&root, chart, layout.legend)?;
    root.present()?;
    Ok(plot)
}

/// The colour of series `i`.
fn colour(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// The y axis range: from 0 (or the lowest value) to a little above the highest value (of the
/// stacks, for bars), so that every finite value lies inside.
fn y_range(chart: &ChartData, kind: ChartKind) -> (f64, f64) {
    let finite = |i: usize| chart.series.iter().filter_map(move |s| s.values.get(i).copied().filter(|v| v.is_finite()));
    let (mut low, mut high) = (0.0_f64, 0.0_f64);
    for i in 0..chart.x_labels.len() {
        match kind {
            ChartKind::Bars => {
                high = high.max(finite(i).filter(|v| *v > 0.0).sum());
                low = low.min(finite(i).filter(|v| *v < 0.0).sum());
            }
            ChartKind::Line => {
                high = finite(i).fold(high, f64::max);
                low = finite(i).fold(low, f64::min);
            }
        }
    }
    let span = if high > low { high - low } else { 1.0 };
    (low, low + span * 1.06)
}

/// One polyline per series (two pixels thick: a second one a pixel higher), broken at
/// missing values; a point with no neighbour is a small square.
fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartData,
    plot: PixelRect,
    at: &dyn Fn(f64, f64) -> (i32, i32),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (i, series) in chart.series.iter().enumerate() {
        let points: Vec<Option<(i32, i32)>> =
            (0..chart.x_labels.len()).map(|x| series.values.get(x).filter(|v| v.is_finite()).map(|v| at(x as f64, *v))).collect();
        for run in points.split(Option::is_none) {
            let run: Vec<(i32, i32)> = run.iter().flatten().copied().collect();
            if let &[(x, y)] = run.as_slice() {
                fill(root, plot.clamp((x - 2, y - 2)), plot.clamp((x + 2, y + 2)), colour(i))?;
            } else {
                for dy in [0, -1] {
                    let path: Vec<(i32, i32)> = run.iter().map(|&(x, y)| plot.clamp((x, y + dy))).collect();
                    root.draw(&PathElement::new(path, colour(i).stroke_width(1)))?;
                }
            }
        }
    }
    Ok(())
}

/// One bar per point, the series stacked (negative values below 0). Where points are
/// narrower than a pixel, each pixel column shows the point with the highest stack.
fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartData,
    plot: PixelRect,
    at: &dyn Fn(f64, f64) -> (i32, i32),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = chart.x_labels.len();
    let value = |s: &Series, i: usize| s.values.get(i).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
    let total = |i: usize| chart.series.iter().map(|s| value(s, i).abs()).sum::<f64>();
    let column = |i: usize| {
        let (left, right) = (at(i as f64 - 0.5, 0.0).0, at(i as f64 + 0.5, 0.0).0 - 1);
        (left, if right - left >= 4 { right - 1 } else { right.max(left) })
    };
    let mut shown: Vec<(i32, i32, usize)> = Vec::new();
    for i in 0..n {
        let (left, right) = column(i);
        match shown.last_mut() {
            Some(last) if last.0 == left && total(i) > total(last.2) => *last = (left, right, i),
            Some(last) if last.0 == left => {}
            _ => shown.push((left, right, i)),
        }
    }
    for (left, right, i) in shown {
        let (mut up, mut down) = (0.0, 0.0);
        for (k, series) in chart.series.iter().enumerate() {
            let v = value(series, i);
            if v == 0.0 {
                continue;
            }
            let base = if v > 0.0 { &mut up } else { &mut down };
            let (from, to) = (at(i as f64, *base).1, at(i as f64, *base + v).1);
            *base += v;
            fill(root, plot.clamp((left, from.min(to))), plot.clamp((right, from.max(to))), colour(k))?;
        }
    }
    Ok(())
}

/// Fills the pixels from `first` to `last`, both included (plotters' backends take the
/// bottom-right corner as excluded).
fn fill<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, first: (i32, i32), last: (i32, i32), colour: RGBColor) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.draw(&Rectangle::new([first, (last.0 + 1, last.1 + 1)], colour.filled()))
}

/// The legend: a swatch and the label of each series, as many as fit (the last row then says
/// how many more there are).
fn draw_legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &ChartData, legend: PixelRect) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = ("sans-serif", LABEL_FONT).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let rows = ((legend.bottom - legend.top - 8) / LEGEND_ROW).max(1) as usize;
    let shown = if chart.series.len() > rows { rows - 1 } else { chart.series.len() };
    let text_width = (legend.width() - 38).max(0) as u32;
    let entries = chart.series.len().min(rows) as i32;
    root.draw(&Rectangle::new([(legend.left, legend.top), (legend.right - 1, legend.top + entries * LEGEND_ROW + 8)], BLACK.mix(0.3)))?;
    for (i, series) in chart.series.iter().enumerate().take(shown) {
        let y = legend.top + 4 + i as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        fill(root, (legend.left + 8, y - 5), (legend.left + 24, y + 5), colour(i))?;
        root.draw_text(&fit(root, &series.label, &style, text_width)?, &style, (legend.left + 32, y))?;
    }
    if shown < chart.series.len() {
        let y = legend.top + 4 + shown as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        root.draw_text(&format!("… {} more", chart.series.len() - shown), &style, (legend.left + 32, y))?;
    }
    Ok(())
}

/// `text`, shortened with `…` until it is at most `width` pixels wide.
fn fit<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, text: &str, style: &TextStyle, width: u32) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chars: Vec<char> = text.chars().collect();
    let mut shown = text.to_string();
    while !chars.is_empty() && root.estimate_text_size(&shown, style)?.0 > width {
        chars.pop();
        shown = chars.iter().collect::<String>() + "…";
    }
    Ok(shown)
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
            x_axis: "UTC time".into(),
            y_axis: "attacks / h".into(),
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
        assert!(svg.contains("UTC time") && svg.contains("attacks / h"), "axis captions");
        assert!(svg.contains("\n00:00\n") && svg.contains("\n02:00\n"), "first and last x labels, by the span: times of the day");
    }

    #[test]
    fn a_single_point_is_a_bar() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("one.svg");
        write_chart(&chart(&[("Attacks", &[2.0])]), ImageFormat::Svg, &path, 400, 320).expect("write SVG");
        let svg = std::fs::read_to_string(&path).expect("SVG");
        assert!(svg.contains(r#"<rect x="#) && svg.contains("fill=\"#4E79A7\""), "{svg}");
    }

    #[test]
    fn plotters_lays_the_plot_out_where_layout_says() {
        register_font().expect("font");
        for (width, height) in [(1200, 600), (320, 320), (2000, 900)] {
            let mut rgb = vec![0; width as usize * height as usize * 3];
            let data = chart(&[("CN", &[3.0, 8.0, 2.0, 5.0]), ("US", &[1.0, 0.0, 4.0, 4.0])]);
            let plot = draw(BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area(), &data).expect("draw");
            let layout = layout(width, height);
            assert_eq!(plot, layout.plot, "{width}x{height}");
            assert!(layout.plot.right < layout.legend.left && layout.legend.right <= width as i32 && layout.plot.width() > 100);
        }
    }

    #[test]
    fn refuses_empty_charts_and_bad_sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chart.png");
        for (data, width, height) in [(chart(&[]), 640, 360), (chart(&[("a", &[1.0])]), 0, 360), (chart(&[("a", &[1.0])]), 319, 360), (chart(&[("a", &[1.0])]), 640, 100_000)] {
            let err = write_chart(&data, ImageFormat::Png, &path, width, height).expect_err("refused");
            assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        }
        assert!(!path.exists());
    }

    #[test]
    fn extensions() {
        assert_eq!((ImageFormat::Png.extension(), ImageFormat::Svg.extension()), ("png", "svg"));
    }

    #[test]
    fn sparse_long_and_short_series_are_bars() {
        let chart = |values: Vec<f64>| ChartData {
            title: "t".into(),
            x_axis: String::new(),
            y_axis: String::new(),
            x_labels: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("day").iter_days().take(values.len()).map(|d| d.to_string()).collect(),
            series: vec![Series { label: "a".into(), values }],
        };
        assert_eq!(chart_kind(&chart((1..=30).map(f64::from).collect()), 1200), ChartKind::Line);
        assert_eq!(chart_kind(&chart(vec![1.0, 2.0]), 1200), ChartKind::Bars);
        assert_eq!(chart_kind(&chart((0..30).map(|i| f64::from(i % 2)).collect()), 1200), ChartKind::Bars, "half zero");
        assert_eq!(chart_kind(&chart(vec![1.0; 400]), 1200), ChartKind::Bars, "400 points in ~840 px");
        assert_eq!(chart_kind(&chart(vec![1.0; 400]), 3000), ChartKind::Line);
    }
}
