//! The x axis of a chart: which labels, formatted by the span they cover.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// Approximate width of one label character at the tick label font size, in pixels.
const CHAR_WIDTH: usize = 8;

/// Free space between two x labels, in pixels.
const LABEL_GAP: usize = 28;

/// A label `YYYY-MM-DD HH:MM` (resource buckets) or `YYYY-MM-DD` (days, at midnight).
pub fn parse_time(label: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(label, "%Y-%m-%d %H:%M")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(label, "%Y-%m-%d").ok().map(|d| d.and_time(NaiveTime::MIN)))
}

/// Spacing of time ticks.
#[derive(Debug, Clone, Copy)]
enum Step {
    Minutes(i64),
    Days(i64),
    Months(i32),
}

/// Tick spacings, finest first.
const STEPS: [Step; 26] = [
    Step::Minutes(1),
    Step::Minutes(5),
    Step::Minutes(10),
    Step::Minutes(15),
    Step::Minutes(30),
    Step::Minutes(60),
    Step::Minutes(120),
    Step::Minutes(180),
    Step::Minutes(360),
    Step::Minutes(720),
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Days(14),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(24),
    Step::Months(60),
    Step::Months(120),
    Step::Months(240),
    Step::Months(600),
    Step::Months(1200),
    Step::Months(12_000),
];

/// A Monday, the origin of day steps (so 7-day ticks fall on Mondays).
const MONDAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 3) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

impl Step {
    /// The label format of ticks this far apart, over a span of `span`.
    fn format(self, span: Duration) -> &'static str {
        match self {
            Step::Minutes(_) if span <= Duration::days(1) => "%H:%M",
            Step::Minutes(_) => "%m-%d %H:%M",
            Step::Days(_) => "%Y-%m-%d",
            Step::Months(m) if m < 12 => "%Y-%m",
            Step::Months(_) => "%Y",
        }
    }

    /// Every tick time from `from` to `to`, both included, stopping after `limit + 1`.
    fn ticks(self, from: NaiveDateTime, to: NaiveDateTime, limit: usize) -> Vec<NaiveDateTime> {
        let mut ticks = Vec::new();
        let mut push = |t: NaiveDateTime| {
            if t >= from && t <= to {
                ticks.push(t);
            }
            t <= to && ticks.len() <= limit
        };
        match self {
            Step::Minutes(m) => {
                let minute = i64::from(from.hour_minute());
                let mut t = from.date().and_time(NaiveTime::MIN) + Duration::minutes(minute - minute % m);
                while push(t) {
                    t += Duration::minutes(m);
                }
            }
            Step::Days(d) => {
                let offset = (from.date() - MONDAY).num_days().rem_euclid(d);
                let mut t = from.date().and_time(NaiveTime::MIN) - Duration::days(offset);
                while push(t) {
                    t += Duration::days(d);
                }
            }
            Step::Months(m) => {
                let months = from.year() * 12 + from.month0() as i32;
                let mut k = months - months.rem_euclid(m);
                while let Some(t) = NaiveDate::from_ymd_opt(k.div_euclid(12), k.rem_euclid(12) as u32 + 1, 1) {
                    if !push(t.and_time(NaiveTime::MIN)) {
                        break;
                    }
                    k += m;
                }
            }
        }
        ticks
    }
}

/// Minutes since midnight.
trait HourMinute {
    fn hour_minute(&self) -> u32;
}

impl HourMinute for NaiveDateTime {
    fn hour_minute(&self) -> u32 {
        use chrono::Timelike;
        self.hour() * 60 + self.minute()
    }
}

/// The x labels to draw: `(position, text)` with positions in point indices (0 = first label,
/// fractional between points), at most as many as fit in `plot_width` pixels without
/// overlapping. Labels that are all UTC times or days get round ticks formatted by the span:
/// `HH:MM`, `MM-DD HH:MM`, `YYYY-MM-DD`, `YYYY-MM`, `YYYY`; other labels are spread evenly.
pub fn x_ticks(labels: &[String], plot_width: usize) -> Vec<(f64, String)> {
    let fits = |chars: usize| (plot_width / (chars * CHAR_WIDTH + LABEL_GAP)).max(1);
    let times: Option<Vec<NaiveDateTime>> = labels.iter().map(|l| parse_time(l)).collect();
    let (Some(times), Some(first)) = (times, labels.first()) else { return spread(labels, fits) };
    let (from, to) = (times[0], times[times.len() - 1]);
    let span = to - from;
    if span <= Duration::zero() {
        return vec![(0.0, first.clone())];
    }
    let last = (labels.len() - 1) as f64;
    let position = |t: NaiveDateTime| (t - from).num_seconds() as f64 / span.num_seconds() as f64 * last;
    for step in STEPS {
        let format = step.format(span);
        let limit = fits(from.format(format).to_string().chars().count());
        let ticks = step.ticks(from, to, limit);
        if ticks.len() <= limit {
            return ticks.into_iter().map(|t| (position(t), t.format(format).to_string())).collect();
        }
    }
    spread(labels, fits)
}

/// Evenly spaced labels, first and last included.
fn spread(labels: &[String], fits: impl Fn(usize) -> usize) -> Vec<(f64, String)> {
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    let count = fits(widest).max(2).min(labels.len());
    let last = labels.len().saturating_sub(1);
    (0..count)
        .map(|i| i * last / (count - 1).max(1))
        .filter_map(|i| Some((i as f64, labels.get(i)?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(from: &str, count: usize) -> Vec<String> {
        let from: NaiveDate = from.parse().expect("day");
        from.iter_days().take(count).map(|d| d.to_string()).collect()
    }

    fn texts(ticks: &[(f64, String)]) -> Vec<&str> {
        ticks.iter().map(|(_, t)| t.as_str()).collect()
    }

    #[test]
    fn ticks_are_formatted_by_span_and_fit() {
        // nine years of days: whole years
        let long = days("2015-01-01", 3454);
        let ticks = x_ticks(&long, 800);
        assert_eq!(texts(&ticks), ["2015", "2016", "2017", "2018", "2019", "2020", "2021", "2022", "2023", "2024"]);
        assert_eq!(ticks[0].0, 0.0);
        assert!((ticks[1].0 - 365.0).abs() < 1e-9, "2016-01-01 is day 365: {}", ticks[1].0);
        // a year: months, every third one when 12 do not fit
        assert_eq!(texts(&x_ticks(&days("2020-01-01", 366), 1100)).len(), 12);
        assert_eq!(texts(&x_ticks(&days("2020-01-01", 366), 500)), ["2020-01", "2020-04", "2020-07", "2020-10"]);
        // 30 days: days
        let month = x_ticks(&days("2020-11-01", 30), 800);
        assert!(texts(&month).iter().all(|t| t.len() == 10 && t.starts_with("2020-11-")), "{month:?}");
        // an hour of minutes: HH:MM
        let hour: Vec<String> = (0..=60).map(|m| format!("2024-06-15 {:02}:{:02}", 11 + m / 60, m % 60)).collect();
        assert_eq!(texts(&x_ticks(&hour, 800)), ["11:00", "11:10", "11:20", "11:30", "11:40", "11:50", "12:00"]);
        // every tick fits: labels never overlap
        for width in [200, 400, 836, 2000] {
            for labels in [&long, &hour] {
                let ticks = x_ticks(labels, width);
                let widest = ticks.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
                assert!(ticks.len() * (widest * CHAR_WIDTH + LABEL_GAP) <= width.max(widest * CHAR_WIDTH + LABEL_GAP), "{width}: {ticks:?}");
            }
        }
    }

    #[test]
    fn other_labels_are_spread_evenly() {
        let labels: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
        assert_eq!(texts(&x_ticks(&labels, 90)), ["p0", "p9"]);
        assert_eq!(x_ticks(&labels[..1], 800), [(0.0, "p0".to_string())]);
    }
}
