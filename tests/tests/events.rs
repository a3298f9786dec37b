//! Incident events on both backends: the 409 real IntelMQ events aggregated exactly like
//! stats-portal's SQL, SQLite equal to PostgreSQL, incremental aggregation equal to a full
//! rebuild, exact distinct IPs over ranges, located rejections that leave stored data alone,
//! the questions, an existing IntelMQ eventDB, and the Grafana dashboard's SQL.

use vantage_core::config::SecretUrl;
use vantage_core::events::aggregate::{self, Scope};
use vantage_core::events::grafana;
use vantage_core::events::import::{ImportOptions, import_eventdb};
use vantage_core::events::model::{AggTable, Field};
use vantage_core::events::query::{Filter, Taxonomy};
use vantage_core::events::questions;
use vantage_core::events::table::{Cell, Table};
use vantage_core::progress::NoProgress;
use vantage_tests::events::{AGGREGATE, INTELMQ_DDL, event, expand_grafana, fixture_lines, import_text, insert_into_eventdb, stats_portal_baseline, tables};
use vantage_tests::{BOTH, Kind, TestPg, TestStore, t};

const NOW: &str = "2024-06-15T12:40:00Z";

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().expect("day")
}

/// Every stored day of the fixture: 2009 … 2026.
fn everything() -> Filter {
    Filter { from: Some(day("2000-01-01")), to: Some(day("2030-12-31")), taxonomy: Taxonomy::Any, ..Filter::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn intelmq_events_aggregate_like_stats_portal_and_sqlite_equals_postgres() {
    let text = fixture_lines().join("\n");
    let mut per_backend = Vec::new();
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        let report = import_text(ts.store.as_ref(), "intelmq-events.jsonl", &text, AGGREGATE).await;
        assert_eq!((report.lines, report.imported, report.rejected_lines, report.without_time_source), (409, 409, 0, 37), "{kind:?}");
        assert_eq!(report.days.len(), 90);
        let aggregation = report.aggregation.expect("aggregated after the import");
        assert_eq!((aggregation.outcome.days.len(), aggregation.outcome.without_time_source), (90, 37), "NULL time.source counted separately");
        let stored = tables(ts.store.as_ref()).await;
        if let Some(pg) = ts.pg() {
            let (baseline, null_date) = stats_portal_baseline(pg).await;
            for (i, table) in AggTable::ALL.into_iter().enumerate() {
                assert!(!baseline[i].is_empty());
                assert_eq!(stored[i], baseline[i], "{} equals stats-portal's CREATE TABLE AS", table.name());
            }
            assert_eq!(null_date, 37, "stats-portal puts the events without time.source in a NULL date group");
        }
        // NULL is its own group value, distinct from ''
        let identifiers: Vec<Option<String>> = stored[2].iter().map(|r| r[4].clone()).collect();
        assert!(identifiers.contains(&None));
        per_backend.push(stored);
        ts.finish().await;
    }
    assert_eq!(per_backend[0], per_backend[1], "SQLite's tables equal PostgreSQL's");
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_aggregation_equals_a_full_rebuild_on_both_backends() {
    let lines = fixture_lines();
    let extra = [
        event("2010-02-10T23:59:59Z", "192.0.2.1", 64512, "vulnerable", "vulnerable-service", "shadowserver"),
        event("2010-02-11T00:00:00Z", "192.0.2.1", 64512, "vulnerable", "vulnerable-service", "shadowserver"),
        event("2021-03-01T10:00:00+05:00", "2001:db8::1", 64513, "malicious-code", "infected-system", "spamhaus"),
    ];
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        let store = ts.store.as_ref();
        // three imports over overlapping days, aggregated after each; a fourth only marked
        import_text(store, "a.jsonl", &lines[..150].join("\n"), AGGREGATE).await;
        import_text(store, "b.jsonl", &lines[100..300].join("\n"), AGGREGATE).await;
        let third = import_text(store, "c.jsonl", &[&lines[250..], &extra[..]].concat().join("\n"), AGGREGATE).await;
        assert!(third.aggregation.expect("aggregated").outcome.days.len() < 90, "{kind:?}: only the touched days");
        let marked = import_text(store, "d.jsonl", &extra.join("\n"), ImportOptions { strict: false, aggregate: false }).await;
        assert_eq!(marked.days, [day("2010-02-10"), day("2010-02-11"), day("2021-03-01")]);
        assert_eq!(store.events_status().await.expect("status").pending_days, marked.days);
        let pending = aggregate::aggregate(store, Scope::Pending).await.expect("aggregate");
        assert_eq!(pending.outcome.days, marked.days);
        assert!(store.events_status().await.expect("status").pending_days.is_empty(), "marks cleared with the aggregation");
        let again = aggregate::aggregate(store, Scope::Pending).await.expect("aggregate");
        assert_eq!((again.outcome.days.len(), again.outcome.rows_written), (0, [0, 0, 0]), "nothing pending: nothing written");

        let incremental = tables(store).await;
        let full = aggregate::aggregate(store, Scope::Full).await.expect("full rebuild");
        assert!(full.outcome.full && full.outcome.rows_written[0] > 0);
        assert_eq!(tables(store).await, incremental, "{kind:?}: incremental = full rebuild");
        // events of one more day: that day's rows appear, every other row stays as it was
        let new_day = event("2024-01-05T08:00:00Z", "198.51.100.7", 64514, "vulnerable", "vulnerable-service", "shadowserver");
        import_text(store, "e.jsonl", &new_day, AGGREGATE).await;
        for (before, after) in incremental.iter().zip(&tables(store).await) {
            let (added, kept): (Vec<_>, Vec<_>) = after.iter().cloned().partition(|r| r[0].as_deref().is_some_and(|d| d.starts_with("2024-01-05")));
            assert_eq!(&kept, before, "{kind:?}: other days untouched");
            assert_eq!(added.len(), 1, "{kind:?}: {added:?}");
        }
        let incremental = tables(store).await;
        aggregate::aggregate(store, Scope::Full).await.expect("full rebuild");
        assert_eq!(tables(store).await, incremental, "{kind:?}: still equal to a full rebuild");
        // a range of days re-aggregated on request (rows written behind Vantage's back) changes nothing here
        aggregate::aggregate(store, Scope::Days(day("2010-02-01"), day("2010-02-28"))).await.expect("days");
        assert_eq!(tables(store).await, incremental);
        assert!(aggregate::aggregate(store, Scope::Days(day("2010-02-28"), day("2010-02-01"))).await.is_err());
        ts.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn distinct_ips_over_a_range_are_exact_not_a_sum_of_days() {
    // 192.0.2.1 on three days, 192.0.2.2 on two, 192.0.2.3 once: 6 per-day IPs, 3 distinct
    let lines = [
        event("2024-06-01T01:00:00Z", "192.0.2.1", 64500, "vulnerable", "vulnerable-service", "p"),
        event("2024-06-01T02:00:00Z", "192.0.2.1", 64500, "vulnerable", "vulnerable-service", "p"),
        event("2024-06-01T03:00:00Z", "192.0.2.2", 64501, "malicious-code", "infected-system", "q"),
        event("2024-06-02T01:00:00Z", "192.0.2.1", 64500, "vulnerable", "vulnerable-service", "p"),
        event("2024-06-02T01:00:00Z", "192.0.2.2", 64500, "vulnerable", "vulnerable-service", "p"),
        event("2024-06-03T23:59:59Z", "192.0.2.1", 64502, "test", "test", "p"),
        event("2024-06-03T23:00:00Z", "192.0.2.3", 64502, "vulnerable", "vulnerable-service", "p"),
    ];
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        import_text(ts.store.as_ref(), "ips.jsonl", &lines.join("\n"), AGGREGATE).await;
        let filter = Filter { from: Some(day("2024-06-01")), to: Some(day("2024-06-03")), taxonomy: Taxonomy::Any, ..Filter::default() };
        let table = questions::distinct_ips(ts.store.as_ref(), &filter).await.expect("distinct ips");
        let per_day: Vec<i64> = table.rows.iter().map(|r| if let Cell::Int(n) = r[1] { n } else { -1 }).collect();
        assert_eq!(per_day, [2, 2, 2], "{kind:?}");
        assert_eq!(table.facts, [("distinct_ips_in_range".to_string(), Cell::Int(3))]);
        // "all" leaves out the test taxonomy: 192.0.2.1's only event on the 3rd is a test
        let all = questions::distinct_ips(ts.store.as_ref(), &Filter { taxonomy: Taxonomy::AllButTest, ..filter.clone() }).await.expect("distinct ips");
        assert_eq!(all.rows.last().map(|r| r[1].clone()), Some(Cell::Int(1)));
        let one_asn = questions::distinct_ips(ts.store.as_ref(), &Filter { asns: vec![64500], ..filter }).await.expect("distinct ips");
        assert_eq!(one_asn.facts[0].1, Cell::Int(2));
        // the netobject table counts distinct IPs per group and day
        let net = ts.store.events_table_rows(AggTable::Netobject).await.expect("rows");
        assert!(net.iter().any(|r| r[0].as_deref() == Some("2024-06-01") && r[1].as_deref() == Some("1")));
        ts.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_lines_are_located_and_leave_stored_events_alone() {
    let good = event("2024-06-01T01:00:00Z", "192.0.2.1", 64500, "vulnerable", "vulnerable-service", "p");
    let bad = [
        good.clone(),
        r#"{"time.source": "2024-06-01T01:00:00Z", "source.ip": "192.0.2.300"}"#.to_string(),
        "not json".to_string(),
        String::new(),
        r#"{"source.asn": "sixty", "source.port": 65536, "source.geolocation.cc": "AUT", "source.network": "10.0.0.0/40", "time.source": "tomorrow"}"#
            .to_string(),
        good.replace("2024-06-01", "2024-06-02"),
    ]
    .join("\n");
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        let store = ts.store.as_ref();
        import_text(store, "first.jsonl", &good, AGGREGATE).await;
        let before = (store.events_status().await.expect("status"), tables(store).await);

        let strict = import_text(store, "bad.jsonl", &bad, ImportOptions { strict: true, aggregate: true }).await;
        assert!(!strict.committed && strict.imported == 0 && strict.rejected_lines == 3, "{kind:?}: {strict:?}");
        assert_eq!((store.events_status().await.expect("status"), tables(store).await), before, "strict: nothing stored");

        let report = import_text(store, "bad.jsonl", &bad, AGGREGATE).await;
        let messages: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(messages[0], "bad.jsonl:2: source.ip: `192.0.2.300` is not an IP address");
        assert!(messages[1].starts_with("bad.jsonl:3: invalid JSON"), "{messages:?}");
        for (field, reason) in [
            ("time.source", "`tomorrow` is not a date-time"),
            ("source.network", "`10.0.0.0/40` is not an IP network"),
            ("source.asn", "`sixty` is not an integer"),
            ("source.port", "port 65536 is outside 0 … 65535"),
            ("source.geolocation.cc", "`AUT` is not a two-letter country code"),
        ] {
            assert!(messages.iter().any(|m| m.starts_with(&format!("bad.jsonl:5: {field}: {reason}"))), "{field}: {messages:?}");
        }
        assert_eq!((report.lines, report.imported, report.rejected_lines, report.committed), (5, 2, 3, true), "blank line skipped");
        let status = store.events_status().await.expect("status");
        assert_eq!((status.events, status.last_day), (3, Some(day("2024-06-02"))));
        ts.finish().await;
    }
}

/// Every question over the fixture, as JSON.
async fn all_answers(store: &dyn vantage_core::store::Store) -> Vec<Table> {
    let all = everything();
    let not_test = Filter { taxonomy: Taxonomy::AllButTest, ..everything() };
    let us = Filter { country: Some("US".into()), ..not_test.clone() };
    let operator = Filter { asns: vec![64512, 5678], ..not_test.clone() };
    let recent = Filter { from: Some(day("2010-02-01")), to: Some(day("2010-02-20")), ..not_test.clone() };
    vec![
        questions::per_day(store, &not_test, Some(Field::Taxonomy)).await.expect("per day"),
        questions::per_day(store, &all, None).await.expect("per day"),
        questions::distinct_ips(store, &all).await.expect("distinct ips"),
        questions::asn_feeds(store, &not_test).await.expect("asn feeds"),
        questions::top_asns(store, &not_test, Field::Taxonomy, 2).await.expect("top asns"),
        questions::rising_asns(store, &recent, 5, 1).await.expect("rising"),
        questions::top_problems(store, &us, 3).await.expect("top problems"),
        questions::feed_health(store, &recent, false).await.expect("feed health"),
        questions::operator(store, &operator, None).await.expect("operator"),
        questions::operator(store, &operator, Some(Field::Malware)).await.expect("operator malware"),
        questions::values(store, &all, Field::Taxonomy).await.expect("values"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn questions_answer_the_same_on_both_backends() {
    let text = fixture_lines().join("\n");
    let mut answers = Vec::new();
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        import_text(ts.store.as_ref(), "intelmq-events.jsonl", &text, AGGREGATE).await;
        let a = all_answers(ts.store.as_ref()).await;
        // pick-list values come from the data (IntelMQ 3 spelling), test included in `values`
        let taxonomies: Vec<String> = a[10].rows.iter().map(|r| r[0].display()).collect();
        assert_eq!(&taxonomies[..3], ["vulnerable", "malicious-code", "other"], "{kind:?}");
        assert!(taxonomies.contains(&"test".to_string()));
        // per day per taxonomy leaves out test and sums to the non-test events with a time
        let sum: i64 = a[0].rows.iter().map(|r| if let Cell::Int(n) = r[2] { n } else { 0 }).sum();
        assert_eq!(sum, 372 - 2);
        assert!(a[0].rows.iter().all(|r| r[1] != Cell::Text("test".into())));
        // top ASNs per taxonomy: AS64512 leads vulnerable with 102 events
        assert!(a[4].rows.contains(&vec![Cell::Text("vulnerable".into()), Cell::Int(1), Cell::Text("64512".into()), Cell::Int(102)]), "{:?}", a[4].rows);
        assert!(a[4].rows.len() <= 2 * 9);
        assert_eq!(a[6].rows.len(), 3);
        assert_eq!(a[6].rows[0][4], Cell::Int(3), "top problem in the US: {:?}", a[6].rows);
        assert!(a[8].title.contains("AS 64512, 5678") && a[8].facts.len() == 2);
        assert!(a[7].rows.iter().all(|r| matches!(&r[6], Cell::Text(f) if ["ok", "missing", "high", "low"].contains(&f.as_str()))));
        answers.push(serde_json::to_value(&a).expect("json"));
        ts.finish().await;
    }
    assert_eq!(answers[0], answers[1], "every question answers the same on SQLite and PostgreSQL");
}

#[tokio::test(flavor = "multi_thread")]
async fn rising_asns_and_feed_health_flag_what_they_should() {
    let mut lines = Vec::new();
    for d in 1..=20u32 {
        let time = format!("2024-06-{d:02}T12:00:00Z");
        // AS64500 grows by one event a day; AS64501 is flat; the feed "q" skips day 10 and spikes on day 15
        for i in 0..d {
            lines.push(event(&time, &format!("198.51.100.{i}"), 64500, "vulnerable", "vulnerable-service", "p"));
        }
        lines.push(event(&time, "203.0.113.1", 64501, "vulnerable", "vulnerable-service", "p"));
        let q = match d {
            10 => 0,
            15 => 60,
            _ => 5,
        };
        for _ in 0..q {
            lines.push(event(&time, "203.0.113.9", 64502, "malicious-code", "infected-system", "q"));
        }
    }
    let filter = Filter { from: Some(day("2024-06-01")), to: Some(day("2024-06-20")), taxonomy: Taxonomy::AllButTest, ..Filter::default() };
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        import_text(ts.store.as_ref(), "trend.jsonl", &lines.join("\n"), AGGREGATE).await;
        let rising = questions::rising_asns(ts.store.as_ref(), &filter, 10, 10).await.expect("rising");
        assert_eq!(rising.rows.len(), 1, "{kind:?}: only the growing ASN: {:?}", rising.rows);
        assert_eq!(rising.rows[0][1], Cell::Text("64500".into()));
        assert_eq!(rising.rows[0][3], Cell::Float(1.0), "slope one event a day");
        assert!(matches!(&rising.rows[0][6], Cell::Text(s) if s.starts_with("1 2 3")));
        let health = questions::feed_health(ts.store.as_ref(), &filter, true).await.expect("health");
        let flagged: Vec<(String, String, String)> = health.rows.iter().map(|r| (r[1].display(), r[2].display(), r[6].display())).collect();
        assert_eq!(flagged, [("q feed".into(), "2024-06-10".into(), "missing".into()), ("q feed".into(), "2024-06-15".into(), "high".into())], "{kind:?}");
        let chart = health.chart().expect("a per-day series");
        assert_eq!(chart.x_labels.len(), 20);
        ts.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_intelmq_eventdb_is_imported_incrementally() {
    let lines = fixture_lines();
    let eventdb = TestPg::create().await;
    eventdb.execute(INTELMQ_DDL.to_string()).await;
    insert_into_eventdb(&eventdb, &lines[..300]).await;
    let url = SecretUrl::new(eventdb.url.clone());
    let mut per_backend = Vec::new();
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        let first = import_eventdb(ts.store.as_ref(), &url, AGGREGATE, std::sync::Arc::new(NoProgress)).await.expect("eventdb import");
        assert_eq!((first.lines, first.imported, first.rejected_lines), (300, 300, 0), "{kind:?}");
        let none = import_eventdb(ts.store.as_ref(), &url, AGGREGATE, std::sync::Arc::new(NoProgress)).await.expect("again");
        assert_eq!(none.imported, 0, "only rows added since the last import");
        per_backend.push(ts);
    }
    insert_into_eventdb(&eventdb, &lines[300..]).await;
    let (baseline, _) = stats_portal_baseline(&eventdb).await;
    let mut stored = Vec::new();
    for ts in per_backend {
        let next = import_eventdb(ts.store.as_ref(), &url, AGGREGATE, std::sync::Arc::new(NoProgress)).await.expect("rest");
        assert_eq!(next.imported, 109);
        let rows = tables(ts.store.as_ref()).await;
        assert_eq!(rows, baseline, "{:?}: equal to stats-portal's SQL run on the eventDB itself", ts.kind);
        stored.push(rows);
        ts.finish().await;
    }
    assert_eq!(stored[0], stored[1]);
    eventdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grafana_dashboard_panels_run_on_the_production_tables() {
    let dashboard = grafana::dashboard();
    let text = serde_json::to_string(&dashboard).expect("serialise");
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let titles: Vec<&str> = parsed["panels"].as_array().expect("panels").iter().filter_map(|p| p["title"].as_str()).collect();
    for expected in ["Taxonomy", "Type", "Identifier", "Application", "Feed name", "Feed provider", "Malware", "Countries"] {
        assert!(titles.contains(&format!("{expected} over time").as_str()), "{titles:?}");
    }
    assert!(titles.contains(&"Top 10 ASNs") && titles.contains(&"Distinct source IPs per day"));
    let variables: Vec<&str> = parsed["templating"]["list"].as_array().expect("variables").iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(variables, ["taxonomy", "asn"]);

    let ts = TestStore::new(Kind::Postgres, t(NOW)).await;
    import_text(ts.store.as_ref(), "intelmq-events.jsonl", &fixture_lines().join("\n"), AGGREGATE).await;
    let pg = ts.pg().expect("postgres");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg.url).await.expect("connect");
    for v in parsed["templating"]["list"].as_array().expect("variables") {
        let rows = sqlx::query(sqlx::AssertSqlSafe(v["query"].as_str().expect("query").to_string())).fetch_all(&mut conn).await.expect("variable query");
        assert!(!rows.is_empty());
    }
    for panel in parsed["panels"].as_array().expect("panels") {
        let sql = panel["targets"][0]["rawSql"].as_str().expect("rawSql");
        for (taxonomy, asn) in [(grafana::ALL_TAXONOMIES, grafana::ALL_ASNS), ("'vulnerable','malicious-code'", "'64512','5678'")] {
            let expanded = expand_grafana(sql, taxonomy, asn);
            assert!(!expanded.contains('$'), "{expanded}");
            let rows = sqlx::query(sqlx::AssertSqlSafe(expanded)).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{}: {e}", panel["title"]));
            assert!(!rows.is_empty(), "{} returns rows", panel["title"]);
        }
    }
    let taxonomy_sql = expand_grafana(&grafana::panels()[0].1, grafana::ALL_TAXONOMIES, grafana::ALL_ASNS);
    let total: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT sum(value)::bigint FROM ({taxonomy_sql}) p"))).fetch_one(&mut conn).await.expect("sum");
    assert_eq!(total, 370, "All taxonomies = every event with a time but the test ones");
    drop(conn);
    ts.finish().await;
}
