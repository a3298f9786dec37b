//! A Grafana dashboard (PostgreSQL datasource) over the production tables, with
//! stats-portal's panels — taxonomy, type, identifier, application, feed name, feed provider,
//! malware and countries over time — filtered by the `taxonomy` and `asn` template variables,
//! plus the top ASNs and the exact distinct source IPs per day.
//!
//! The SQL uses Grafana's macros `$__timeGroupAlias` and `$__timeFilter` and the variables
//! `$taxonomy` (All = every taxonomy but `test`) and `$asn` (All = every ASN).

use serde_json::{Value, json};

/// Datasource reference, resolved by Grafana's import dialog (`__inputs`).
const DATASOURCE: &str = "${DS_VANTAGE}";

/// The `All` value of the `$taxonomy` variable (inserted raw into the SQL).
pub const ALL_TAXONOMIES: &str = "'__all__'";

/// The `All` value of the `$asn` variable.
pub const ALL_ASNS: &str = "-1";

/// The WHERE conditions of the two variables.
fn variables_filter() -> String {
    format!(
        "(({ALL_TAXONOMIES} IN ($taxonomy) AND \"classification.taxonomy\" IS DISTINCT FROM 'test') OR \"classification.taxonomy\" IN ($taxonomy)) \
         AND ({ALL_ASNS} IN ($asn) OR \"source.asn\" IN ($asn))"
    )
}

/// A panel of events per day per value of `column` (NULL shown as `(null)`).
fn over_time(title: &str, column: &str) -> (String, String, &'static str) {
    let sql = format!(
        "SELECT $__timeGroupAlias(\"date\", 1d), coalesce(\"{column}\"::text, '(null)') AS metric, sum(\"count\") AS value\n\
         FROM agg_ndim_day_all_tags\nWHERE $__timeFilter(\"date\") AND {}\nGROUP BY 1, 2\nORDER BY 1, 2",
        variables_filter()
    );
    (format!("{title} over time"), sql, "time_series")
}

/// Every panel: (title, SQL, Grafana result format).
pub fn panels() -> Vec<(String, String, &'static str)> {
    let mut panels: Vec<(String, String, &'static str)> = [
        ("Taxonomy", "classification.taxonomy"),
        ("Type", "classification.type"),
        ("Identifier", "classification.identifier"),
        ("Application", "protocol.application"),
        ("Feed name", "feed.name"),
        ("Feed provider", "feed.provider"),
        ("Malware", "malware.name"),
        ("Countries", "source.geolocation.cc"),
    ]
    .into_iter()
    .map(|(title, column)| over_time(title, column))
    .collect();
    panels.push((
        "Top 10 ASNs".into(),
        format!(
            "SELECT \"source.asn\"::text AS asn, sum(\"count\") AS events\nFROM agg_ndim_day_all_tags\n\
             WHERE $__timeFilter(\"date\") AND \"source.asn\" IS NOT NULL AND {}\nGROUP BY 1\nORDER BY 2 DESC, 1\nLIMIT 10",
            variables_filter()
        ),
        "table",
    ));
    panels.push((
        "Distinct source IPs per day".into(),
        format!(
            "SELECT $__timeGroupAlias(\"time.source\", 1d), count(DISTINCT \"source.ip\") AS \"distinct IPs\"\nFROM events\n\
             WHERE $__timeFilter(\"time.source\") AND {}\nGROUP BY 1\nORDER BY 1",
            variables_filter()
        ),
        "time_series",
    ));
    panels
}

fn variable(name: &str, label: &str, sql: &str, all: &str) -> Value {
    json!({
        "name": name, "label": label, "type": "query", "datasource": {"type": "grafana-postgresql-datasource", "uid": DATASOURCE},
        "query": sql, "definition": sql, "refresh": 2, "multi": true, "includeAll": true, "allValue": all,
        "current": {"text": ["All"], "value": ["$__all"]}, "sort": 1,
    })
}

/// The dashboard JSON, ready for Grafana's import.
pub fn dashboard() -> Value {
    let panels: Vec<Value> = panels()
        .into_iter()
        .enumerate()
        .map(|(i, (title, sql, format))| {
            json!({
                "id": i + 1, "title": title, "type": if format == "table" { "table" } else { "timeseries" },
                "datasource": {"type": "grafana-postgresql-datasource", "uid": DATASOURCE},
                "gridPos": {"h": 9, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 9},
                "targets": [{"refId": "A", "rawQuery": true, "editorMode": "code", "format": format, "rawSql": sql}],
                "fieldConfig": {"defaults": {"custom": {"stacking": {"mode": "normal"}, "fillOpacity": 20}}, "overrides": []},
                "options": {"legend": {"displayMode": "table", "placement": "right", "calcs": ["sum"]}},
            })
        })
        .collect();
    json!({
        "__inputs": [{"name": "DS_VANTAGE", "label": "Vantage PostgreSQL", "type": "datasource", "pluginId": "grafana-postgresql-datasource"}],
        "title": "Vantage incident events (stats-portal)",
        "uid": "vantage-events",
        "tags": ["vantage", "intelmq", "stats-portal"],
        "timezone": "utc",
        "schemaVersion": 39,
        "time": {"from": "now-90d", "to": "now"},
        "templating": {"list": [
            variable("taxonomy", "Taxonomy", "SELECT DISTINCT \"classification.taxonomy\" FROM agg_ndim_day_feed_tags WHERE \"classification.taxonomy\" IS NOT NULL ORDER BY 1", ALL_TAXONOMIES),
            variable("asn", "ASN", "SELECT DISTINCT \"source.asn\" FROM agg_ndim_day_all_tags WHERE \"source.asn\" IS NOT NULL ORDER BY 1", ALL_ASNS),
        ]},
        "panels": panels,
    })
}
