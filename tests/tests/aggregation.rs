//! Aggregation on Sentinel View's development data, on both backends: the quarterly, hourly
//! and daily tables hold the sums derived by hand from statistics.md, and every window is
//! aggregated exactly once — re-runs, concurrent runs and late rows included.
//!
//! Data NOW = 2024-06-15 12:34:56 UTC. Hand derivation (raw rows of testdata.sql):
//! - incidents: 59 rows, six of them with raw_count 2 → total 65; passwords 10 rows → 10;
//!   ports 16 rows → 16.
//! - quarter 12:30 on 06-15 holds the three NOW() incidents: (ftp, 192.0.2.1) 1,
//!   (ftp, 198.51.100.10) 1, (smtp, 192.0.2.12) 2 → 3 rows, sum 4.
//! - hour 12:00: NOW() 4 + 12:29:56 1 + 12:24:56 2 + 12:14:56 1 = 8;
//!   hour 11:00: two rows at 11:54:56 + one at 11:34:56 = 3.
//! - day 06-15: 4+1+2+1+2+1 (last hour) + 1 (−3 h) + 3 (−6 h) + 3 (−7 h) + 2 (−10 h) + 2 (−12 h) = 22;
//!   day 06-14: −15 h 2 + −20 h 2 + −1 d 1 = 5; day 06-10: three identical telnet rows → 1 row of 3;
//!   day 04-06 (−70 d): 2 rows of 3; day 2023-12-15 (−6 months): 192.0.2.2 ×3 + five single IPs → 6 rows, 8.
//! - passwords day 06-15: 5 (NOW ×2, −5 min, −20 min, −2 h); ports day 06-15: 11.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use vantage_core::progress::NoProgress;
use vantage_core::statistics::aggregation::{self, Precision};
use vantage_core::statistics::ingest::{self, IngestOptions, Source};
use vantage_core::statistics::model::{DataType, Level, StoredRow};
use vantage_core::store::Store;
use vantage_tests::{BOTH, sview, t};

/// The clock for aggregation: after midnight, so 2024-06-15 is a complete day.
const NOW: &str = "2024-06-16T00:10:00Z";

async fn backfill(store: &dyn Store, now: DateTime<Utc>, days: u32) -> Vec<aggregation::AggregationReport> {
    let mut reports = Vec::new();
    for p in Precision::ALL {
        let windows = aggregation::backfill_windows(p, now, days);
        reports.push(aggregation::aggregate(store, p, windows, false, now, Arc::new(NoProgress)).await.expect("aggregate"));
    }
    reports
}

fn sum_at(rows: &[StoredRow], at: &str) -> (usize, i64) {
    let at = t(at);
    let hits: Vec<&StoredRow> = rows.iter().filter(|r| r.time == at).collect();
    (hits.len(), hits.iter().map(|r| r.raw_count.unwrap_or(0)).sum())
}

fn total(rows: &[StoredRow]) -> i64 {
    rows.iter().map(|r| r.raw_count.unwrap_or(0)).sum()
}

async fn all_tables(store: &dyn Store) -> Vec<Vec<StoredRow>> {
    let mut out = Vec::new();
    for d in DataType::ALL {
        for l in [Level::Raw, Level::Quarterly, Level::Hourly, Level::Daily] {
            out.push(store.table_rows(d, l).await.expect("rows"));
        }
    }
    out
}

#[tokio::test]
async fn sview_data_aggregates_to_hand_derived_sums_on_both_backends() {
    let now = t(NOW);
    let mut dumps = Vec::new();
    for kind in BOTH {
        let ts = sview::load(kind, now).await;
        let store = ts.store.as_ref();
        backfill(store, now, 400).await;

        let q = store.table_rows(DataType::Incidents, Level::Quarterly).await.expect("rows");
        assert_eq!(sum_at(&q, "2024-06-15T12:30:00Z"), (3, 4), "{kind:?} quarter 12:30");
        assert_eq!(sum_at(&q, "2024-06-15T12:15:00Z"), (2, 3), "{kind:?} quarter 12:15");
        assert_eq!(total(&q), 65, "{kind:?}");
        let twelve_thirty: Vec<_> = q.iter().filter(|r| r.time == t("2024-06-15T12:30:00Z")).collect();
        assert!(twelve_thirty.iter().any(|r| r.dims[1].as_deref() == Some("minipot_smtp") && r.dims[3].as_deref() == Some("192.0.2.12") && r.raw_count == Some(2)));
        assert!(twelve_thirty.iter().all(|r| r.dims[0].as_deref() == Some("0000000000000001/1000000000000000000000000000000000000000000000000000000000000001")));

        let h = store.table_rows(DataType::Incidents, Level::Hourly).await.expect("rows");
        assert_eq!(sum_at(&h, "2024-06-15T12:00:00Z").1, 8, "{kind:?} hour 12");
        assert_eq!(sum_at(&h, "2024-06-15T11:00:00Z").1, 3, "{kind:?} hour 11");
        assert_eq!(total(&h), 65);

        let d = store.table_rows(DataType::Incidents, Level::Daily).await.expect("rows");
        assert_eq!(sum_at(&d, "2024-06-15T00:00:00Z").1, 22, "{kind:?} day 06-15");
        assert_eq!(sum_at(&d, "2024-06-14T00:00:00Z").1, 5, "{kind:?} day 06-14");
        assert_eq!(sum_at(&d, "2024-06-10T00:00:00Z"), (1, 3), "{kind:?} day 06-10");
        assert_eq!(sum_at(&d, "2024-04-06T00:00:00Z"), (2, 6), "{kind:?} day 04-06");
        assert_eq!(sum_at(&d, "2023-12-15T00:00:00Z"), (6, 8), "{kind:?} day 2023-12-15");
        assert_eq!(total(&d), 65);

        let pd = store.table_rows(DataType::Passwords, Level::Daily).await.expect("rows");
        assert_eq!((sum_at(&pd, "2024-06-15T00:00:00Z").1, total(&pd)), (5, 10), "{kind:?} passwords");
        let sd = store.table_rows(DataType::Ports, Level::Daily).await.expect("rows");
        assert_eq!((sum_at(&sd, "2024-06-15T00:00:00Z").1, total(&sd)), (11, 16), "{kind:?} ports");

        dumps.push(all_tables(store).await);
        ts.finish().await;
    }
    assert_eq!(dumps[0], dumps[1], "SQLite and PostgreSQL hold identical tables");
}

#[tokio::test]
async fn current_window_only_aggregates_that_window() {
    // At 12:50 the last complete quarter is [12:30, 12:45): the three NOW() incidents.
    let now = t("2024-06-15T12:50:00Z");
    for kind in BOTH {
        let ts = sview::load(kind, now).await;
        let w = aggregation::current_window(Precision::Quarterly, now);
        let r = aggregation::aggregate(ts.store.as_ref(), Precision::Quarterly, vec![w], false, now, Arc::new(NoProgress)).await.expect("run");
        assert_eq!((r.inserted, r.rows_written), (3, 7), "{kind:?}: all three types; 3 incident + 2 password + 2 port rows");
        let q = ts.store.table_rows(DataType::Incidents, Level::Quarterly).await.expect("rows");
        assert_eq!((q.len(), total(&q)), (3, 4), "{kind:?}");
        ts.finish().await;
    }
}

#[tokio::test]
async fn rerun_and_concurrent_runs_change_nothing() {
    let now = t(NOW);
    for kind in BOTH {
        let ts = sview::load(kind, now).await;
        backfill(ts.store.as_ref(), now, 30).await;
        let once = all_tables(ts.store.as_ref()).await;

        // the same windows again: everything is skipped, nothing written
        let again = backfill(ts.store.as_ref(), now, 30).await;
        for r in &again {
            assert_eq!((r.inserted, r.replaced, r.rows_written), (0, 0, 0), "{kind:?} {:?}", r.precision);
        }
        assert_eq!(all_tables(ts.store.as_ref()).await, once, "{kind:?}: re-run changed tables");

        // a fresh store doing 30 then 40 days in one process is the reference
        let single = sview::load(kind, now).await;
        backfill(single.store.as_ref(), now, 30).await;
        let reference = backfill(single.store.as_ref(), now, 40).await;

        // two "processes" aggregating the same 40 days at once, on top of the 30 done
        let (a, b) = (ts.reopen().await, ts.reopen().await);
        for (p, expected) in Precision::ALL.into_iter().zip(&reference) {
            let windows = aggregation::backfill_windows(p, now, 40);
            let (ra, rb) = tokio::join!(
                aggregation::aggregate(a.as_ref(), p, windows.clone(), false, now, Arc::new(NoProgress)),
                aggregation::aggregate(b.as_ref(), p, windows, false, now, Arc::new(NoProgress)),
            );
            let (ra, rb) = (ra.expect("a"), rb.expect("b"));
            assert_eq!(ra.inserted + rb.inserted, expected.inserted, "{kind:?} {p}: each new window written by exactly one run");
            assert_eq!(ra.rows_written + rb.rows_written, expected.rows_written, "{kind:?} {p}");
            assert_eq!(ra.replaced + rb.replaced, 0);
        }
        a.close().await;
        b.close().await;
        assert_eq!(all_tables(ts.store.as_ref()).await, all_tables(single.store.as_ref()).await, "{kind:?}: concurrent runs differ from one run");
        single.finish().await;
        ts.finish().await;
    }
}

#[tokio::test]
async fn late_rows_replace_their_window_and_propagate() {
    let now = t(NOW);
    for kind in BOTH {
        let ts = sview::load(kind, now).await;
        backfill(ts.store.as_ref(), now, 10).await;
        // a late incident for 06-14 10:05, already aggregated at every precision
        let file = ts.data_dir().join("late.jsonl");
        std::fs::write(&file, r#"{"time":"2024-06-14T10:05:00Z","raw_count":7,"sn":"0000000000000009","device_token":"late","trap":"fwlogs","action":"big_port_scan","ip":"192.0.2.99","country":"CZ"}"#).expect("write");
        ingest::ingest(ts.store.as_ref(), vec![Source::File(file)], IngestOptions::default(), Arc::new(NoProgress)).await.expect("late");

        let reports = backfill(ts.store.as_ref(), now, 10).await;
        for r in &reports {
            assert_eq!(r.replaced, 1, "{kind:?} {:?}: exactly the affected window is replaced", r.precision);
            assert_eq!(r.inserted, 0);
        }
        let d = ts.store.table_rows(DataType::Incidents, Level::Daily).await.expect("rows");
        assert_eq!(sum_at(&d, "2024-06-14T00:00:00Z").1, 5 + 7, "{kind:?}");
        let q = ts.store.table_rows(DataType::Incidents, Level::Quarterly).await.expect("rows");
        assert_eq!(sum_at(&q, "2024-06-14T10:00:00Z").1, 7, "{kind:?}");
        ts.finish().await;
    }
}

#[tokio::test]
async fn dry_run_lists_pending_windows_and_writes_nothing() {
    let now = t(NOW);
    for kind in BOTH {
        let ts = sview::load(kind, now).await;
        let windows = aggregation::backfill_windows(Precision::Quarterly, now, 1);
        let r = aggregation::aggregate(ts.store.as_ref(), Precision::Quarterly, windows, true, now, Arc::new(NoProgress)).await.expect("dry");
        assert!(r.dry_run);
        assert_eq!(r.windows, 96);
        assert!(r.pending.iter().any(|p| p.window.start == t("2024-06-15T12:30:00Z")), "{kind:?}");
        assert!(ts.store.table_rows(DataType::Incidents, Level::Quarterly).await.expect("rows").is_empty());
        ts.finish().await;
    }
}

#[tokio::test]
async fn an_overflowing_window_is_named_and_the_later_windows_are_still_aggregated() {
    let now = t("2024-06-15T12:40:00Z");
    for kind in BOTH {
        let ts = vantage_tests::TestStore::new(kind, now).await;
        // rows past any ingest limit (raw SQL): 1 + i64::MAX in the quarter 10:30 overflows its sum
        let rows = [("2024-06-15T10:05:00Z", 3), ("2024-06-15T10:35:00Z", 1), ("2024-06-15T10:40:00Z", i64::MAX), ("2024-06-15T11:05:00Z", 2)];
        let values = |time: &dyn Fn(&str) -> String| rows.iter().map(|(at, n)| format!("({}, {n}, 'root', 'pw')", time(at))).collect::<Vec<_>>().join(", ");
        ts.raw_sql(
            &format!("INSERT INTO passwords (time, raw_count, username, password) VALUES {}", values(&|at| t(at).timestamp_micros().to_string())),
            &format!("INSERT INTO passwords (time, raw_count, username, password) VALUES {}", values(&|at| format!("'{at}'"))),
        )
        .await;
        let windows = aggregation::backfill_windows(Precision::Quarterly, now, 1);
        let r = aggregation::aggregate_windows(ts.store.as_ref(), Precision::Quarterly, windows.clone(), false, now, Arc::new(NoProgress)).await.expect("runs");
        let bad = aggregation::Window { start: t("2024-06-15T10:30:00Z"), end: t("2024-06-15T10:45:00Z") };
        assert_eq!(r.failed.iter().map(|f| f.window).collect::<Vec<_>>(), [bad], "{kind:?}: exactly that window failed");
        let error = &r.failed[0].error;
        assert!(error.starts_with("quarterly window [2024-06-15 10:30, 2024-06-15 10:45): table passwords: "), "{kind:?}: {error}");
        assert_eq!(r.windows, 95, "{kind:?}: every other window was examined");
        let q = ts.store.table_rows(DataType::Passwords, Level::Quarterly).await.expect("rows");
        assert_eq!((sum_at(&q, "2024-06-15T10:00:00Z"), sum_at(&q, "2024-06-15T11:00:00Z")), ((1, 3), (1, 2)), "{kind:?}: windows before and after were aggregated");
        assert_eq!(sum_at(&q, "2024-06-15T10:30:00Z"), (0, 0), "{kind:?}: nothing of the failed window written");

        // the plain entry point still fails, naming the window once the others are done
        let err = aggregation::aggregate(ts.store.as_ref(), Precision::Quarterly, windows, false, now, Arc::new(NoProgress)).await.expect_err("fails");
        assert_eq!(err.to_string(), format!("aggregation: {error}"), "{kind:?}");
        ts.finish().await;
    }
}
