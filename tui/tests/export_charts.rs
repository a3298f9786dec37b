//! Exported charts: series never drawn outside the plot area (decoded PNG pixels), a legend
//! entry per series, titles and axis captions; `vantage resource … --csv --png --svg` writes
//! the `--json` data as a table and draws graphs.

use std::path::Path;
use std::process::Output;

use vantage_core::export::{ChartData, ChartKind, ImageFormat, PALETTE, Series, chart_kind, layout, write_chart};
use vantage_tests::events::fixture;
use vantage_tests::process::vantage;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vantage")
}

fn run(dir: &Path, now: &str, args: &[&str]) -> Output {
    vantage(bin(), now, &[&["--data-dir", dir.to_str().expect("utf8")], args].concat()).current_dir(dir).output().expect("run vantage")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Width, height and RGB pixels of a PNG.
fn decode(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let file = std::fs::File::open(path).expect("open PNG");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("decode PNG");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    (info.width, info.height, buf[..info.buffer_size()].chunks(3).map(|c| [c[0], c[1], c[2]]).collect())
}

/// Checks a chart PNG: no pixel in a series colour outside the plot area and the legend, series
/// pixels inside the plot, and a legend swatch for each of the first `series` colours.
fn assert_clipped_with_legend(path: &Path, series: usize) {
    let (width, height, pixels) = decode(path);
    let layout = layout(width, height);
    let palette: Vec<[u8; 3]> = PALETTE.iter().map(|&(r, g, b)| [r, g, b]).collect();
    let mut outside = Vec::new();
    let mut inside = 0;
    let mut legend = vec![0; palette.len()];
    for (i, px) in pixels.iter().enumerate() {
        let Some(colour) = palette.iter().position(|c| c == px) else { continue };
        let (x, y) = ((i % width as usize) as i32, (i / width as usize) as i32);
        if layout.plot.contains(x, y) {
            inside += 1;
        } else if layout.legend.contains(x, y) {
            legend[colour] += 1;
        } else {
            outside.push((x, y));
        }
    }
    assert!(outside.is_empty(), "{}: {} series pixels outside the plot area {:?}, e.g. {:?}", path.display(), outside.len(), layout.plot, &outside[..outside.len().min(10)]);
    assert!(inside > 0, "{}: no series drawn", path.display());
    for (i, count) in legend.iter().enumerate().take(series) {
        assert!(*count > 20, "{}: no legend swatch for series {i}", path.display());
    }
}

/// A crude well-formedness check: every element opened is closed, in order.
fn assert_well_formed(svg: &str) {
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let mut open: Vec<&str> = Vec::new();
    for tag in svg.split('<').skip(1).map(|t| t.split('>').next().expect("tag")) {
        let name = tag.trim_start_matches('/').split([' ', '\n', '/']).next().expect("name");
        if tag.starts_with('/') {
            assert_eq!(open.pop(), Some(name), "closing </{name}>");
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed {open:?}");
}

#[test]
fn intelmq_per_day_charts_stay_inside_the_plot_with_titles_captions_and_legends() {
    let dir = tempfile::tempdir().expect("dir");
    let now = "2024-06-15T12:00:00Z";
    ok(run(dir.path(), now, &["events", "import", fixture().to_str().expect("utf8")]));
    let range = ["--from", "2015-01-01", "--to", "2024-06-15"];
    let png = dir.path().join("per-day.png");
    let svg = dir.path().join("per-day.svg");
    ok(run(dir.path(), now, &[&["events", "per-day", "--png", png.to_str().expect("utf8"), "--svg", svg.to_str().expect("utf8")], &range[..]].concat()));
    assert_clipped_with_legend(&png, 1);
    let text = std::fs::read_to_string(&svg).expect("SVG");
    assert_well_formed(&text);
    for expected in ["Events per day, 2015-01-01 – 2024-06-15", "UTC date", "events / day", "\n2016\n", "\n2024\n"] {
        assert!(text.contains(expected), "SVG without {expected:?}");
    }
    assert!(!text.contains("\n2020-11-1\n"), "x labels are years over nine years, never wrapped days");

    let by = dir.path().join("by.png");
    let by_svg = dir.path().join("by.svg");
    ok(run(dir.path(), now, &[&["events", "per-day", "--by", "taxonomy", "--png", by.to_str().expect("utf8"), "--svg", by_svg.to_str().expect("utf8")], &range[..]].concat()));
    let json: serde_json::Value = serde_json::from_str(&ok(run(dir.path(), now, &[&["events", "per-day", "--by", "taxonomy", "--json"], &range[..]].concat()))).expect("JSON");
    // the chart draws the 8 largest taxonomies by events
    let mut totals: Vec<(String, i64)> = Vec::new();
    for row in json["rows"].as_array().expect("rows") {
        let key = row[1].as_str().unwrap_or("(null)").to_string();
        match totals.iter_mut().find(|(k, _)| *k == key) {
            Some(t) => t.1 += row[2].as_i64().expect("count"),
            None => totals.push((key, row[2].as_i64().expect("count"))),
        }
    }
    totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let taxonomies: Vec<String> = totals.into_iter().take(PALETTE.len()).map(|(k, _)| k).collect();
    assert!(taxonomies.len() >= 3, "{taxonomies:?}");
    assert_clipped_with_legend(&by, taxonomies.len());
    let text = std::fs::read_to_string(&by_svg).expect("SVG");
    for taxonomy in &taxonomies {
        assert!(text.contains(&format!("\n{taxonomy}\n")), "legend entry {taxonomy}");
    }
}

fn days(from: &str, values: &[&[f64]]) -> ChartData {
    let from: chrono::NaiveDate = from.parse().expect("day");
    let n = values.first().map_or(0, |v| v.len());
    ChartData {
        title: "synthetic".into(),
        x_axis: "UTC date".into(),
        y_axis: "events / day".into(),
        x_labels: from.iter_days().take(n).map(|d| d.to_string()).collect(),
        series: values.iter().enumerate().map(|(i, v)| Series { label: format!("series {i}"), values: v.to_vec() }).collect(),
    }
}

#[test]
fn synthetic_lines_and_bars_with_gaps_spikes_and_negatives_stay_inside() {
    let dir = tempfile::tempdir().expect("dir");
    // sparse over nine years: one spike every ~90 days (bars)
    let sparse: Vec<f64> = (0..3300).map(|i| if i % 89 == 0 { f64::from(i % 7 + 1) * 40.0 } else { 0.0 }).collect();
    let other: Vec<f64> = (0..3300).map(|i| if i % 97 == 0 { 300.0 } else { 0.0 }).collect();
    // dense zigzag with gaps (NaN), a negative value and an infinite one (lines)
    let zigzag: Vec<f64> = (0..200).map(|i| if i % 17 == 0 { f64::NAN } else if i % 2 == 0 { 0.0 } else { f64::from(i) }).collect();
    let mut second: Vec<f64> = (0..200).map(|i| f64::from(200 - i)).collect();
    second[5] = -50.0;
    second[6] = f64::INFINITY;
    for (name, chart, kind) in
        [("sparse", days("2015-01-01", &[&sparse, &other]), ChartKind::Bars), ("zigzag", days("2024-01-01", &[&zigzag, &second]), ChartKind::Line)]
    {
        assert_eq!(chart_kind(&chart, 1200), kind, "{name}");
        let path = dir.path().join(format!("{name}.png"));
        write_chart(&chart, ImageFormat::Png, &path, 1200, 600).expect("write PNG");
        assert_clipped_with_legend(&path, 2);
    }
}

#[test]
fn resource_command_exports_csv_png_and_svg_of_the_json_data() {
    let dir = tempfile::tempdir().expect("dir");
    let now = "2024-06-15T12:40:00Z";
    ok(run(dir.path(), now, &["demo", "--no-tui", "--seed", "5", "--scale", "0.02"]));
    for (name, period, svg_texts) in [
        ("top_traps_by_incidents_graph", "1y", &["top traps by incidents, 1y: ", "incidents / 14 days", "UTC time (bucket end)"][..]),
        ("all_incidents_graph", "1d", &["all incidents, 1d: 2024-06-14 12:30 – 2024-06-15 12:30 UTC", "incidents / 30 min"][..]),
        ("top_countries_by_incidents_list", "1w", &[][..]),
    ] {
        let json: serde_json::Value = serde_json::from_str(&ok(run(dir.path(), now, &["resource", name, period, "--json"]))).expect("JSON");
        let data = &json["data"];
        let (csv, png, svg) = (dir.path().join(format!("{name}.csv")), dir.path().join(format!("{name}.png")), dir.path().join(format!("{name}.svg")));
        let paths = [&csv, &png, &svg].map(|p| p.to_str().expect("utf8").to_string());
        let graph = !svg_texts.is_empty();
        let args = if graph {
            vec!["resource", name, period, "--csv", &paths[0], "--png", &paths[1], "--svg", &paths[2]]
        } else {
            vec!["resource", name, period, "--csv", &paths[0]]
        };
        ok(run(dir.path(), now, &args));

        let mut reader = csv::Reader::from_path(&csv).expect("CSV");
        let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
        let rows: Vec<Vec<String>> = reader.records().map(|r| r.expect("record").iter().map(str::to_string).collect()).collect();
        let cell = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let (want_header, want_rows): (Vec<String>, Vec<Vec<String>>) = if let Some(labels) = data.get("labels").and_then(|l| l.as_array()) {
            let keys: Vec<String> = data["ykeys"].as_array().expect("ykeys").iter().map(cell).collect();
            let header = std::iter::once("bucket".to_string()).chain(labels.iter().map(cell)).collect();
            let rows = data["data"].as_array().expect("data").iter().map(|p| std::iter::once(cell(&p["bucket"])).chain(keys.iter().map(|k| cell(&p[k]))).collect()).collect();
            (header, rows)
        } else {
            let points = data.as_array().expect("a list");
            let mut header: Vec<String> = points[0].as_object().expect("object").keys().filter(|k| *k != "count").cloned().collect();
            header.push("count".into());
            let rows = points.iter().map(|p| header.iter().map(|h| cell(&p[h])).collect()).collect();
            (header, rows)
        };
        assert!(!want_rows.is_empty(), "{name}: demo data");
        assert_eq!((&header, &rows), (&want_header, &want_rows), "{name} {period}");
        if graph {
            assert_clipped_with_legend(&png, want_header.len() - 1);
            let text = std::fs::read_to_string(&svg).expect("SVG");
            assert_well_formed(&text);
            for expected in svg_texts {
                assert!(text.contains(expected), "{name}: SVG without {expected:?}");
            }
        }
    }

    // a list is no chart: refused in one line before any file is written
    let csv = dir.path().join("refused.csv");
    let out = run(dir.path(), now, &["resource", "top_countries_by_incidents_list", "1w", "--csv", csv.to_str().expect("utf8"), "--png", "x.png"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!((out.status.code(), err.trim().lines().count()), (Some(1), 1), "{err}");
    assert!(err.contains("--png: `top_countries_by_incidents_list` is not a per-day series or a graph"), "{err}");
    assert!(!csv.exists() && !dir.path().join("x.png").exists());
}
