//! The Flows tab's tables and its chart, from the engine's answers: the suspicious
//! connections (internal addresses marked `*`, the highest reputation of either end in `rep`,
//! which the front ends colour rows by), a pair's raw flows, the selected IP's top pairs, the
//! flagged beacons, and the flows of each minute of the day.

use vantage_core::export::{ChartData, Series};
use vantage_core::flows::beacon::BeaconReport;
use vantage_core::flows::oa::{FlowChord, FlowEdge, FlowScore, IngestMinute};

use crate::table::TableData;

/// The column of a reputation level ([`reputation_of_cell`]).
pub const REP: &str = "rep";

/// Minutes in a day: the chart's buckets.
const MINUTES: usize = 24 * 60;

/// The highest value in `service:LABEL:value` reputation strings (several joined with `::`;
/// −1 unknown, 0 none, 1 low, 2 medium, 3 high); None when no service said anything.
pub fn highest_reputation<'a>(reps: impl IntoIterator<Item = &'a str>) -> Option<i32> {
    reps.into_iter().flat_map(|r| r.split("::")).filter_map(|one| one.rsplit(':').next()?.trim().parse::<i32>().ok()).max()
}

/// How a reputation level reads in the `rep` column.
pub fn reputation_cell(level: Option<i32>) -> String {
    match level {
        None => "-".into(),
        Some(3) => "3 high".into(),
        Some(2) => "2 medium".into(),
        Some(1) => "1 low".into(),
        Some(0) => "0 none".into(),
        Some(v) if v < 0 => format!("{v} unknown"),
        Some(v) => v.to_string(),
    }
}

/// The reputation level a `rep` cell shows (None: no service said anything).
pub fn reputation_of_cell(cell: &str) -> Option<i32> {
    cell.split_whitespace().next()?.parse().ok()
}

/// An address with `*` when it is internal.
fn marked(ip: &str, internal: i32) -> String {
    if internal == 1 { format!("{ip}*") } else { ip.to_string() }
}

/// `HH:MM:SS` of a `YYYY-MM-DD HH:MM:SS` time (the day is the one shown).
fn time_of(tstart: &str) -> String {
    tstart.get(11..).unwrap_or(tstart).to_string()
}

/// The suspicious connections, by rank.
pub fn suspicious(rows: &[FlowScore]) -> TableData {
    let rows = rows
        .iter()
        .map(|s| {
            vec![
                s.rank.to_string(),
                time_of(&s.tstart),
                marked(&s.srcip, s.srcip_internal),
                marked(&s.dstip, s.dstip_internal),
                format!("{}->{}", s.sport, s.dport),
                s.proto.clone(),
                s.ibyt.to_string(),
                format!("{:.2e}", s.score),
                reputation_cell(highest_reputation([s.src_rep.as_str(), s.dst_rep.as_str()])),
            ]
        })
        .collect();
    TableData::new(&["rank", "tstart", "srcip", "dstip", "ports", "proto", "bytes", "score", REP], rows)
}

/// The raw flows of a pair in a minute.
pub fn edges(rows: &[FlowEdge]) -> TableData {
    let rows = rows
        .iter()
        .map(|e| {
            vec![
                time_of(&e.tstart),
                e.srcip.clone(),
                e.dstip.clone(),
                e.sport.to_string(),
                e.dport.to_string(),
                e.proto.clone(),
                e.flags.clone(),
                e.ibyt.to_string(),
                e.ipkt.to_string(),
            ]
        })
        .collect();
    TableData::new(&["tstart", "srcip", "dstip", "sport", "dport", "proto", "flags", "bytes", "packets"], rows)
}

/// The selected IP's pairs, most bytes first, with their share of its bytes.
pub fn pairs(rows: &[FlowChord]) -> TableData {
    let total: i64 = rows.iter().map(|c| c.ibyt).sum();
    let mut sorted: Vec<&FlowChord> = rows.iter().collect();
    sorted.sort_by(|a, b| b.ibyt.cmp(&a.ibyt).then_with(|| (&a.srcip, &a.dstip).cmp(&(&b.srcip, &b.dstip))));
    let rows = sorted
        .into_iter()
        .map(|c| {
            let share = if total > 0 { c.ibyt as f64 * 100.0 / total as f64 } else { 0.0 };
            vec![c.srcip.clone(), c.dstip.clone(), c.ibyt.to_string(), c.ipkt.to_string(), format!("{share:.0}%")]
        })
        .collect();
    TableData::new(&["srcip", "dstip", "bytes", "packets", "share"], rows)
}

/// The flagged beacons (score at or above the threshold), highest first.
pub fn beacons(report: &BeaconReport) -> TableData {
    let rows = report
        .beacons
        .iter()
        .filter(|b| b.level != "none")
        .map(|b| {
            let parts = [b.score, b.ts, b.ds, b.dur, b.hist].map(|x| format!("{x:.3}"));
            [vec![b.src.to_string(), b.dst.to_string(), b.connections.to_string(), b.level.to_string()], parts.to_vec()].concat()
        })
        .collect();
    TableData::new(&["src", "dst", "conns", "level", "score", "ts", "ds", "dur", "hist"], rows)
}

/// The flows of every minute of the day (`HH:MM` buckets, 0 where none started); no buckets
/// when the day has no counts (no OA run).
pub fn per_minute(title: &str, minutes: &[IngestMinute]) -> Option<ChartData> {
    let minute = |m: &IngestMinute| {
        let (h, mm) = (m.tdate.get(11..13)?.parse::<usize>().ok()?, m.tdate.get(14..16)?.parse::<usize>().ok()?);
        (h < 24 && mm < 60).then_some(h * 60 + mm)
    };
    let mut values = vec![0.0; MINUTES];
    let mut any = false;
    for m in minutes {
        if let Some(i) = minute(m) {
            values[i] += m.total as f64;
            any = true;
        }
    }
    let x_labels = if any { (0..MINUTES).map(|i| format!("{:02}:{:02}", i / 60, i % 60)).collect() } else { Vec::new() };
    let series = if any { vec![Series { label: "flows".into(), values }] } else { Vec::new() };
    Some(ChartData { title: title.to_string(), x_axis: "UTC time".into(), y_axis: "flows / minute".into(), x_labels, series })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_reputation_of_both_ends_is_shown_and_read_back() {
        assert_eq!(highest_reputation(["gti:LOW:1::fb:HIGH:3", "list:MEDIUM:2"]), Some(3));
        assert_eq!(highest_reputation(["", "svc:UNVERIFIED:-1"]), Some(-1));
        assert_eq!(highest_reputation(["", ""]), None);
        for level in [None, Some(-1), Some(0), Some(1), Some(2), Some(3)] {
            assert_eq!(reputation_of_cell(&reputation_cell(level)), level, "{level:?}");
        }
    }

    #[test]
    fn minutes_fill_a_whole_day_and_an_empty_day_has_no_buckets() {
        let m = |tdate: &str, total| IngestMinute { tdate: tdate.into(), total };
        let chart = per_minute("f", &[m("2024-06-14 00:01", 3), m("2024-06-14 23:59", 5), m("bad", 9)]).expect("a chart");
        assert_eq!((chart.x_labels.len(), chart.x_labels[1].as_str()), (1440, "00:01"));
        let values = &chart.series[0].values;
        assert_eq!((values[1], values[1439], values.iter().sum::<f64>()), (3.0, 5.0, 8.0));
        assert!(per_minute("f", &[]).expect("a chart").x_labels.is_empty());
    }
}
