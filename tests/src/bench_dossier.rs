//! The IP dossier benchmark of `vantage-bench` (`dossier`; `scripts/bench.sh dossier`, issue
//! 17): the dossiers of random attacker addresses of a demo year, built in process through the
//! engine as `vantage ip` and `GET /api/ip/{target}` build them, beside a baseline measured in
//! the same run on the same addresses — the one statistics resource that asks the same store
//! about one address, `selected_attacker_incidents_graph` over 1y, computed uncached.

use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use vantage_core::config::{Config, SecretUrl};
use vantage_core::engine::Engine;
use vantage_core::engine::dossier::{DossierApi, Range, Target};
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};

/// p50, p99 and max of `lat` in milliseconds (sorts it).
fn quantiles(lat: &mut [Duration]) -> (f64, f64, f64) {
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: usize| lat[(lat.len() * q / 100).min(lat.len() - 1)];
    (ms(at(50)), ms(at(99)), ms(lat[lat.len() - 1]))
}

/// `vantage-bench dossier STORE NOW N`: STORE is a PostgreSQL URL or a SQLite data directory
/// (as `vantage --data-dir`) holding a demo year; N random addresses among the attackers of
/// the year's window at NOW (seeded, so both backends get the same draw from the same data).
/// Prints one Markdown table row per measurement: the dossier, the baseline, and their ratio.
pub async fn dossier(store: &str, now: &str, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let now = vantage_core::clock::parse_instant(now)?;
    let (backend, config) = if store.starts_with("postgres") {
        let mut config = Config::embedded(std::env::temp_dir(), vantage_core::Clock::Fixed(now));
        config.database_url = Some(SecretUrl::new(store.to_string()));
        ("postgres", config)
    } else {
        ("sqlite", Config::embedded(store, vantage_core::Clock::Fixed(now)))
    };
    let engine = Engine::open(&config).await?;
    let stats_store = vantage_core::store::open(&config).await?;
    let year = Period::Year.window(now);
    let mut attackers: Vec<String> = stats_store.ip_activity(year.start, year.finish, None).await?.into_iter().map(|a| a.ip).collect();
    attackers.sort();
    attackers.dedup();
    attackers.shuffle(&mut ChaCha8Rng::seed_from_u64(17));
    attackers.truncate(n);
    if attackers.is_empty() {
        return Err("no attackers in the year's window: load a demo year first (vantage demo --no-tui)".into());
    }
    let range = Range::days(None, None, now)?;
    let graph = resources::find("selected_attacker_incidents_graph")?;
    let (mut dossier_lat, mut base_lat) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut with_events, mut with_flows, mut incidents) = (0usize, 0usize, 0i64);
    for ip in &attackers {
        let target: Target = DossierApi::target(ip)?;
        let t = Instant::now();
        let d = engine.dossier().of(target, range).await?;
        dossier_lat.push(t.elapsed());
        with_events += usize::from(d.events.present().is_some_and(|e| e.events > 0));
        with_flows += usize::from(d.flows.present().is_some_and(|f| f.flows > 0));
        incidents += d.incidents.present().map_or(0, |i| i.incidents);
        let params = Params { ip: Some(ip.clone()), ..Params::default() };
        let t = Instant::now();
        resources::compute(stats_store.as_ref(), graph, Period::Year, &params, now).await?;
        base_lat.push(t.elapsed());
    }
    let (dp50, dp99, dmax) = quantiles(&mut dossier_lat);
    let (bp50, bp99, bmax) = quantiles(&mut base_lat);
    let count = attackers.len();
    println!("| baseline: resource selected_attacker_incidents_graph 1y --ip A, uncached | {backend} | {count} | {bp50:.1} | {bp99:.1} | {bmax:.1} | - |");
    println!(
        "| dossier of A, 1y (incidents {incidents} in all; {with_events} with events, {with_flows} with flows) | {backend} | {count} | {dp50:.1} | {dp99:.1} | {dmax:.1} | {:.2}× / {:.2}× |",
        dp50 / bp50,
        dp99 / bp99
    );
    stats_store.close().await;
    engine.close().await;
    Ok(())
}
