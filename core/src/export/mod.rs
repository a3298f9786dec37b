//! Export of statistics resource values and events tables to files: CSV tables and PNG/SVG
//! charts (lines, or bars for long and sparse series; see [`chart_kind`]).
//!
//! Charts are drawn with plotters and an embedded DejaVu Sans font, so no system font
//! or fontconfig is needed at run time.

mod axis;
mod image;
mod table;

use chrono::Duration;
use serde_json::Value;

pub use image::{ChartKind, ImageFormat, Layout, PALETTE, PixelRect, chart_kind, layout, write_chart};
pub use table::write_csv;

/// The x axis caption of resource graphs: their points carry the bucket's end time.
pub const RESOURCE_X_AXIS: &str = "UTC time (bucket end)";

/// A chart ready to draw: x labels shared by every series.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    /// The chart title, drawn above the plot (callers put the period or day range in it).
    pub title: String,
    /// The x axis caption with its unit, e.g. `UTC date`.
    pub x_axis: String,
    /// The y axis caption with its unit, e.g. `events / day`.
    pub y_axis: String,
    /// One label per x position (the bucket of each point).
    pub x_labels: Vec<String>,
    /// The lines of the chart, each with one value per x label.
    pub series: Vec<Series>,
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The name shown in the legend.
    pub label: String,
    /// One value per x label of the chart.
    pub values: Vec<f64>,
}

impl ChartData {
    /// From a resource value. Two shapes: a graph `[{"bucket": "2024-06-15 12:00", "count": 3}, …]`
    /// (one series, labelled with `title`), or a multi-line graph
    /// `{"labels": ["CN","US"], "ykeys": [0,1], "data": [{"bucket": "…", "0": 5, "1": 2}, …]}`
    /// (one series per label, read from the data key its `ykeys` entry names; missing values count as 0).
    /// Any other shape, including the empty list `[]` (which could as well be an empty list resource): None.
    /// The axes read [`RESOURCE_X_AXIS`] and `count / <bucket width>` (the width taken from the first two labels).
    pub fn from_resource(title: &str, value: &Value) -> Option<ChartData> {
        let chart = |x_labels: Vec<String>, series| {
            let y_axis = format!("count / {}", bucket_width(&x_labels).map_or_else(|| "bucket".to_string(), per_duration));
            ChartData { title: title.to_string(), x_axis: RESOURCE_X_AXIS.to_string(), y_axis, x_labels, series }
        };
        match value {
            Value::Array(points) if !points.is_empty() => {
                let x_labels = points.iter().map(bucket).collect::<Option<Vec<_>>>()?;
                let values = points.iter().map(|p| p.get("count").and_then(Value::as_f64)).collect::<Option<Vec<_>>>()?;
                Some(chart(x_labels, vec![Series { label: title.to_string(), values }]))
            }
            Value::Object(graph) => {
                let labels = graph.get("labels")?.as_array()?;
                let ykeys = graph.get("ykeys")?.as_array()?;
                let data = graph.get("data")?.as_array()?;
                if ykeys.len() != labels.len() {
                    return None;
                }
                let x_labels = data.iter().map(bucket).collect::<Option<Vec<_>>>()?;
                let series = labels
                    .iter()
                    .zip(ykeys)
                    .map(|(label, key)| {
                        let key = match key {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => return None,
                        };
                        let values = data.iter().map(|p| p.get(&key).and_then(Value::as_f64).unwrap_or(0.0)).collect();
                        Some(Series { label: label.as_str()?.to_string(), values })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(chart(x_labels, series))
            }
            _ => None,
        }
    }

    /// Largest value over all series (0 when empty; never below 0, the bottom of the y axis).
    pub fn max(&self) -> f64 {
        self.series.iter().flat_map(|s| &s.values).fold(0.0, |m, &v| m.max(v))
    }
}

/// The `bucket` label of one data point.
fn bucket(point: &Value) -> Option<String> {
    Some(point.get("bucket")?.as_str()?.to_string())
}

/// The time between the first two labels, when both are UTC times or days.
fn bucket_width(labels: &[String]) -> Option<Duration> {
    let [a, b] = [labels.first()?, labels.get(1)?].map(|l| axis::parse_time(l));
    Some(b? - a?).filter(|d| *d > Duration::zero())
}

/// A duration for an axis unit: `1 min`, `15 min`, `3 h`, `day`, `14 days`.
pub fn per_duration(d: Duration) -> String {
    let minutes = d.num_minutes();
    match minutes {
        m if m < 60 || m % 60 != 0 => format!("{m} min"),
        m if m < 24 * 60 || m % (24 * 60) != 0 => format!("{} h", m / 60),
        m if m == 24 * 60 => "day".to_string(),
        m => format!("{} days", m / (24 * 60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_is_one_series_named_after_the_title() {
        let value = json!([{"bucket": "2024-06-15 12:00", "count": 3}, {"bucket": "2024-06-15 13:00", "count": 0}]);
        let chart = ChartData::from_resource("Attacks", &value).expect("a graph");
        assert_eq!(
            chart,
            ChartData {
                title: "Attacks".into(),
                x_axis: RESOURCE_X_AXIS.into(),
                y_axis: "count / 1 h".into(),
                x_labels: vec!["2024-06-15 12:00".into(), "2024-06-15 13:00".into()],
                series: vec![Series { label: "Attacks".into(), values: vec![3.0, 0.0] }],
            }
        );
        assert_eq!(chart.max(), 3.0);
    }

    #[test]
    fn multiline_graph_has_one_series_per_label_missing_values_zero() {
        let value = json!({
            "labels": ["CN", "US"],
            "ykeys": [0, 1],
            "data": [{"bucket": "06-15", "0": 5, "1": 2}, {"bucket": "06-16", "0": 7}],
        });
        let chart = ChartData::from_resource("Countries", &value).expect("a multi-line graph");
        assert_eq!(chart.title, "Countries");
        assert_eq!(chart.x_labels, ["06-15", "06-16"]);
        assert_eq!(chart.series, [Series { label: "CN".into(), values: vec![5.0, 7.0] }, Series { label: "US".into(), values: vec![2.0, 0.0] }]);
        assert_eq!(chart.max(), 7.0);
        assert_eq!(chart.y_axis, "count / bucket", "labels that are not times");
    }

    #[test]
    fn durations_for_units() {
        let texts: Vec<String> = [1, 15, 90, 180, 24 * 60, 14 * 24 * 60].iter().map(|m| per_duration(Duration::minutes(*m))).collect();
        assert_eq!(texts, ["1 min", "15 min", "90 min", "3 h", "day", "14 days"]);
    }

    #[test]
    fn other_shapes_are_not_charts() {
        for value in [
            json!([{"country": "CN", "count": 3}]),
            json!([]),
            json!({"CN": 3, "US": 1}),
            json!({"labels": ["CN"], "ykeys": [], "data": []}),
            json!("text"),
            json!(null),
        ] {
            assert_eq!(ChartData::from_resource("x", &value), None, "{value}");
        }
    }

    #[test]
    fn max_of_an_empty_chart_is_zero() {
        let chart = ChartData { title: "t".into(), x_axis: String::new(), y_axis: String::new(), x_labels: Vec::new(), series: Vec::new() };
        assert_eq!(chart.max(), 0.0);
    }
}
