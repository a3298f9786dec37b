//! A deterministic generator of a realistic year of Sentinel statistics.
//!
//! Same `seed` and `now` → the same rows. The data has the shape analysts know from real
//! honeypots: a diurnal rhythm (busier in the European night), a weekly rhythm (busier on
//! weekdays), a slow upward trend, heavy-tailed attacker activity (a few IPs cause most
//! incidents), countries weighted like real botnet origins, passwords drawn from a real
//! leaked-password list, and port scans concentrated on the usual service ports.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::aggregation::{self, AggregationReport, Precision};
use super::model::{Action, Incident, PasswordAttempt, PortScan, Protocol, ReportBatch, Trap};
use crate::error::Result;
use crate::progress::Progress;
use crate::store::Store;
use crate::timebucket::floor;

/// Days of data generated: enough for the 1y display period (378 days) and its first bucket.
pub const DEMO_DAYS: i64 = 392;

const PASSWORDS: &str = include_str!("../../../assets/demo/common-passwords.txt");

const USERNAMES: &[(&str, u32)] = &[
    ("root", 40), ("admin", 25), ("user", 6), ("ubnt", 4), ("support", 4), ("guest", 3), ("pi", 3),
    ("test", 3), ("oracle", 2), ("ftp", 2), ("postgres", 2), ("administrator", 2), ("default", 2),
    ("telnet", 1), ("mother", 1), ("Admin", 1), ("nobody", 1), ("git", 1), ("ubuntu", 1), ("", 1),
];

const COUNTRIES: &[(&str, u32)] = &[
    ("CN", 200), ("US", 150), ("RU", 90), ("BR", 60), ("IN", 50), ("VN", 40), ("KR", 40), ("DE", 35),
    ("NL", 35), ("FR", 30), ("GB", 28), ("ID", 28), ("TW", 25), ("UA", 20), ("IR", 18), ("CZ", 15),
    ("SG", 15), ("HK", 15), ("JP", 14), ("TR", 12), ("AR", 10), ("MX", 10), ("PL", 10), ("RO", 9),
    ("TH", 9), ("EG", 8), ("PK", 7), ("BG", 6), ("SK", 5), ("CA", 5),
];

const INCIDENT_KINDS: &[((Trap, Action), u32)] = &[
    ((Trap::MinipotTelnet, Action::Connect), 25), ((Trap::MinipotTelnet, Action::Login), 20),
    ((Trap::MinipotFtp, Action::Connect), 6), ((Trap::MinipotFtp, Action::Login), 4),
    ((Trap::MinipotSmtp, Action::Connect), 5), ((Trap::MinipotSmtp, Action::Login), 3),
    ((Trap::MinipotSmtp, Action::Message), 1), ((Trap::MinipotHttp, Action::Connect), 8),
    ((Trap::MinipotHttp, Action::Login), 4), ((Trap::MinipotHttp, Action::Message), 2),
    ((Trap::MinipotHttp, Action::Invalid), 2), ((Trap::Fwlogs, Action::SmallPortScan), 12),
    ((Trap::Fwlogs, Action::BigPortScan), 8),
];

const PORTS: &[(u16, u32)] = &[
    (23, 30), (22, 25), (80, 14), (443, 10), (445, 9), (3389, 8), (8080, 7), (2323, 5), (21, 5),
    (25, 4), (1433, 4), (3306, 4), (5900, 3), (7547, 3), (8443, 3), (5555, 3), (6379, 2),
    (53, 3), (123, 2), (161, 2), (1900, 2), (5060, 2), (9200, 1), (11211, 1),
];

/// What the demo wrote.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Raw rows per kind.
    pub rows: super::ingest::RowCounts,
    /// Identities (devices) created.
    pub devices: u64,
    /// A device token of the demo data, for trying "My devices".
    pub demo_device_token: String,
    /// The three aggregation back-fills.
    pub aggregations: Vec<AggregationReport>,
}

/// Picks from a weighted table.
struct Weighted<T> {
    items: Vec<T>,
    cumulative: Vec<u32>,
}

impl<T: Clone> Weighted<T> {
    fn new(table: &[(T, u32)]) -> Self {
        let mut acc = 0;
        let cumulative = table.iter().map(|(_, w)| {
            acc += w;
            acc
        });
        let cumulative: Vec<u32> = cumulative.collect();
        Weighted { items: table.iter().map(|(t, _)| t.clone()).collect(), cumulative }
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> T {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let x = rng.random_range(0..total);
        let i = self.cumulative.partition_point(|c| *c <= x);
        self.items[i.min(self.items.len() - 1)].clone()
    }
}

/// Index in `0..n` with a heavy tail towards 0 (a few items are picked very often).
fn heavy_tail(rng: &mut ChaCha8Rng, n: usize, skew: i32) -> usize {
    let u: f64 = rng.random();
    ((u.powi(skew) * n as f64) as usize).min(n - 1)
}

struct Attacker {
    ip: IpAddr,
    country: Option<String>,
}

/// Deterministic generator state.
pub struct Generator {
    rng: ChaCha8Rng,
    now: DateTime<Utc>,
    scale: f64,
    devices: Vec<(String, String)>,
    attackers: Vec<Attacker>,
    passwords: Vec<&'static str>,
    usernames: Weighted<&'static str>,
    kinds: Weighted<(Trap, Action)>,
    ports: Weighted<u16>,
}

impl Generator {
    /// A generator for data ending at `now`; `scale` multiplies the volume (1.0 ≈ 1M rows).
    pub fn new(seed: u64, now: DateTime<Utc>, scale: f64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let hex = |rng: &mut ChaCha8Rng, n: usize| -> String {
            (0..n).map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)])).collect()
        };
        let devices: Vec<(String, String)> = (0..40).map(|_| (hex(&mut rng, 16).to_uppercase(), hex(&mut rng, 64))).collect();
        let countries = Weighted::new(COUNTRIES);
        let attackers = (0..6000)
            .map(|_| {
                let first = loop {
                    let o: u8 = rng.random_range(1..224);
                    if ![10, 100, 127, 169, 172, 192, 198, 203].contains(&o) {
                        break o;
                    }
                };
                let ip = IpAddr::V4(Ipv4Addr::new(first, rng.random(), rng.random(), rng.random_range(1..255)));
                let country = (rng.random_range(0..100) >= 3).then(|| countries.pick(&mut rng).to_string());
                Attacker { ip, country }
            })
            .collect();
        Generator {
            rng,
            now,
            scale,
            devices,
            attackers,
            passwords: PASSWORDS.lines().filter(|l| !l.is_empty()).collect(),
            usernames: Weighted::new(USERNAMES),
            kinds: Weighted::new(INCIDENT_KINDS),
            ports: Weighted::new(PORTS),
        }
    }

    /// The device token of the first demo device.
    pub fn demo_device_token(&self) -> &str {
        &self.devices[0].1
    }

    /// Relative activity at `t`: diurnal × weekly × slow growth over the year.
    fn intensity(&self, t: DateTime<Utc>) -> f64 {
        let hour = f64::from(t.hour()) + f64::from(t.minute()) / 60.0;
        let diurnal = 1.0 + 0.45 * ((hour - 2.0) / 24.0 * std::f64::consts::TAU).cos();
        let weekly = if t.weekday().num_days_from_monday() >= 5 { 0.8 } else { 1.05 };
        let age_days = (self.now - t).num_minutes() as f64 / 1440.0;
        let trend = 1.0 + 0.5 * (1.0 - age_days / DEMO_DAYS as f64);
        diurnal * weekly * trend
    }

    fn count(&mut self, mean: f64) -> usize {
        let jitter: f64 = self.rng.random_range(0.6..1.4);
        (mean * jitter).round().max(0.0) as usize
    }

    fn raw_count(&mut self) -> i64 {
        if self.rng.random_range(0..100) < 85 { 1 } else { 1 + heavy_tail(&mut self.rng, 40, 3) as i64 }
    }

    /// Rows of the quarter hour starting at `start` (only times before `now`).
    fn quarter(&mut self, start: DateTime<Utc>, batch: &mut ReportBatch) {
        let f = self.intensity(start) * self.scale;
        let (n_inc, n_pw, n_port) = (self.count(16.0 * f), self.count(6.0 * f), self.count(5.0 * f));
        let time = |rng: &mut ChaCha8Rng| start + Duration::microseconds(rng.random_range(0..900_000_000));
        for _ in 0..n_inc {
            let t = time(&mut self.rng);
            if t >= self.now {
                continue;
            }
            let attacker = &self.attackers[heavy_tail(&mut self.rng, self.attackers.len(), 4)];
            let (sn, token) = &self.devices[heavy_tail(&mut self.rng, self.devices.len(), 2)];
            let (trap, action) = self.kinds.pick(&mut self.rng);
            let (ip, country) = (attacker.ip, attacker.country.clone());
            let (sn, device_token) = (sn.clone(), token.clone());
            let raw_count = self.raw_count();
            batch.incidents.push(Incident { time: t, raw_count, sn, device_token, trap, action, ip, country });
        }
        for _ in 0..n_pw {
            let t = time(&mut self.rng);
            if t >= self.now {
                continue;
            }
            let username = self.usernames.pick(&mut self.rng).to_string();
            let password = self.passwords[heavy_tail(&mut self.rng, self.passwords.len(), 3)].to_string();
            let raw_count = self.raw_count();
            batch.passwords.push(PasswordAttempt { time: t, raw_count, username, password });
        }
        for _ in 0..n_port {
            let t = time(&mut self.rng);
            if t >= self.now {
                continue;
            }
            let port = if self.rng.random_range(0..100) < 15 { self.rng.random_range(1024..=65535) } else { self.ports.pick(&mut self.rng) };
            let protocol = match self.rng.random_range(0..100) {
                0..85 => Protocol::Tcp,
                85..98 => Protocol::Udp,
                _ => Protocol::Other,
            };
            let raw_count = self.raw_count();
            batch.ports.push(PortScan { time: t, raw_count, port, protocol });
        }
    }

    /// Generates one day of data starting at `day_start` into a batch.
    pub fn day(&mut self, day_start: DateTime<Utc>) -> ReportBatch {
        let mut batch = ReportBatch::default();
        for q in 0..96 {
            let start = day_start + Duration::minutes(15 * q);
            if start < self.now {
                self.quarter(start, &mut batch);
            }
        }
        batch
    }
}

/// Fills `store` with [`DEMO_DAYS`] days of data ending at `now` and aggregates all of it.
pub async fn run(store: &dyn Store, seed: u64, now: DateTime<Utc>, scale: f64, progress: Arc<dyn Progress>) -> Result<DemoReport> {
    let mut generator = Generator::new(seed, now, scale);
    let first_day = floor(now - Duration::days(DEMO_DAYS), Duration::days(1));
    let days = (floor(now, Duration::days(1)) - first_day).num_days() + 1;
    progress.phase("generating demo data (days)", Some(days as u64));
    let mut session = store.begin_ingest().await?;
    let mut rows = super::ingest::RowCounts::default();
    for d in 0..days {
        let batch = generator.day(first_day + Duration::days(d));
        if let Err(e) = session.write(&batch).await {
            session.rollback().await?;
            return Err(e);
        }
        rows.add(&batch);
        progress.advance(1);
    }
    let devices = session.commit().await?;
    progress.finish();
    let mut aggregations = Vec::new();
    for precision in Precision::ALL {
        let windows = aggregation::backfill_windows(precision, now, (DEMO_DAYS + 1) as u32);
        aggregations.push(aggregation::aggregate(store, precision, windows, false, now, progress.clone()).await?);
    }
    Ok(DemoReport { rows, devices, demo_device_token: generator.demo_device_token().to_string(), aggregations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_instant;

    #[test]
    fn same_seed_same_data_different_seed_different_data() {
        let now = parse_instant("2024-06-15T12:40:00Z").expect("instant");
        let day = floor(now, Duration::days(1));
        let a = Generator::new(7, now, 1.0).day(day);
        let b = Generator::new(7, now, 1.0).day(day);
        let c = Generator::new(8, now, 1.0).day(day);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // the day is cut at now, and has every kind of row
        assert!(a.incidents.iter().all(|r| r.time < now && r.time >= day));
        assert!(!a.incidents.is_empty() && !a.passwords.is_empty() && !a.ports.is_empty());
    }
}
