//! [`super::oa::FlowOaStore`] written once for both backends, instantiated per backend by
//! [`flow_oa_store`]: a run's outputs replace its date's rows in one transaction; the two
//! raw-flow aggregates are single GROUP BY statements.

/// `flow_scores` columns after `date`, in INSERT and SELECT order.
pub(crate) const SCORES: &str = "rank, tstart, srcip, dstip, sport, dport, proto, ipkt, ibyt, opkt, obyt, score, srcip_internal, dstip_internal, \
     src_geoloc, dst_geoloc, src_domain, dst_domain, src_rep, dst_rep";
/// `flow_edges` columns after `date`.
pub(crate) const EDGES: &str = "tstart, srcip, dstip, sport, dport, proto, flags, tos, ibyt, ipkt, input, output, rip, obyt, opkt, hh, mn";
/// `flow_chords` columns after `date`.
pub(crate) const CHORDS: &str = "ip_threat, srcip, dstip, ibyt, ipkt";

/// `flow_feedback` columns.
pub(crate) const FEEDBACK: &str = "date, sev, tstart, srcip, dstip, sport, dport, proto, ipkt, ibyt";

/// Rows per INSERT (at most 21 parameters a row: 21,000, below SQLite's 32,766).
pub(crate) const ROWS_PER_INSERT: usize = 1000;

/// Implements [`super::oa::FlowOaStore`] for `$store` on database `$db`, whose transactions
/// begin with `$begin`.
macro_rules! flow_oa_store {
    ($store:ty, $db:ty, begin: $begin:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::flows::oa::FlowOaStore for $store {
            async fn replace_oa(&self, date: chrono::NaiveDate, out: &$crate::store::flows::oa::OaOutputs) -> $crate::error::Result<()> {
                use $crate::store::codec::Codec;
                use $crate::store::flows::oa_shared::{CHORDS, EDGES, ROWS_PER_INSERT, SCORES};
                let day = date.to_string();
                let mut tx = self.pool().begin_with($begin).await?;
                let p = <$db as Codec>::DIALECT.param(1);
                for table in ["flow_scores", "flow_edges", "flow_chords", "flow_ingest_summary"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE date = {p}"))).bind(&day).execute(&mut *tx).await?;
                }
                for chunk in out.scores.chunks(ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO flow_scores (date, {SCORES}) "));
                    q.push_values(chunk, |mut b, s| {
                        b.push_bind(&day).push_bind(s.rank).push_bind(&s.tstart).push_bind(&s.srcip).push_bind(&s.dstip).push_bind(s.sport).push_bind(s.dport);
                        b.push_bind(&s.proto).push_bind(s.ipkt).push_bind(s.ibyt).push_bind(s.opkt).push_bind(s.obyt).push_bind(s.score);
                        b.push_bind(s.srcip_internal).push_bind(s.dstip_internal).push_bind(&s.src_geoloc).push_bind(&s.dst_geoloc);
                        b.push_bind(&s.src_domain).push_bind(&s.dst_domain).push_bind(&s.src_rep).push_bind(&s.dst_rep);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                for chunk in out.edges.chunks(ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO flow_edges (date, {EDGES}) "));
                    q.push_values(chunk, |mut b, e| {
                        b.push_bind(&day).push_bind(&e.tstart).push_bind(&e.srcip).push_bind(&e.dstip).push_bind(e.sport).push_bind(e.dport).push_bind(&e.proto);
                        b.push_bind(&e.flags).push_bind(e.tos).push_bind(e.ibyt).push_bind(e.ipkt).push_bind(e.input).push_bind(e.output).push_bind(&e.rip);
                        b.push_bind(e.obyt).push_bind(e.opkt).push_bind(e.hh).push_bind(e.mn);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                for chunk in out.chords.chunks(ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO flow_chords (date, {CHORDS}) "));
                    q.push_values(chunk, |mut b, c| {
                        b.push_bind(&day).push_bind(&c.ip_threat).push_bind(&c.srcip).push_bind(&c.dstip).push_bind(c.ibyt).push_bind(c.ipkt);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                for chunk in out.ingest.chunks(ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO flow_ingest_summary (date, tdate, total) ");
                    q.push_values(chunk, |mut b, m| {
                        b.push_bind(&day).push_bind(&m.tdate).push_bind(m.total);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn oa_outputs(&self, date: chrono::NaiveDate) -> $crate::error::Result<$crate::store::flows::oa::OaOutputs> {
                use sqlx::Row;
                use $crate::store::codec::Codec;
                use $crate::store::flows::oa::{FlowChord, FlowEdge, FlowScore, IngestMinute, OaOutputs};
                use $crate::store::flows::oa_shared::{CHORDS, EDGES, SCORES};
                let (day, p) = (date.to_string(), <$db as Codec>::DIALECT.param(1));
                let rows = |sql: String| sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day.clone()).fetch_all(self.pool());
                let scores = rows(format!("SELECT {SCORES} FROM flow_scores WHERE date = {p} ORDER BY rank")).await?;
                let edges = rows(format!("SELECT {EDGES} FROM flow_edges WHERE date = {p} ORDER BY tstart, srcip, dstip, sport, dport")).await?;
                let chords = rows(format!("SELECT {CHORDS} FROM flow_chords WHERE date = {p} ORDER BY ip_threat, srcip, dstip")).await?;
                let ingest = rows(format!("SELECT tdate, total FROM flow_ingest_summary WHERE date = {p} ORDER BY tdate")).await?;
                type R = <$db as sqlx::Database>::Row;
                let score = |r: &R| -> std::result::Result<FlowScore, sqlx::Error> {
                    Ok(FlowScore {
                        rank: r.try_get(0)?,
                        tstart: r.try_get(1)?,
                        srcip: r.try_get(2)?,
                        dstip: r.try_get(3)?,
                        sport: r.try_get(4)?,
                        dport: r.try_get(5)?,
                        proto: r.try_get(6)?,
                        ipkt: r.try_get(7)?,
                        ibyt: r.try_get(8)?,
                        opkt: r.try_get(9)?,
                        obyt: r.try_get(10)?,
                        score: r.try_get(11)?,
                        srcip_internal: r.try_get(12)?,
                        dstip_internal: r.try_get(13)?,
                        src_geoloc: r.try_get(14)?,
                        dst_geoloc: r.try_get(15)?,
                        src_domain: r.try_get(16)?,
                        dst_domain: r.try_get(17)?,
                        src_rep: r.try_get(18)?,
                        dst_rep: r.try_get(19)?,
                    })
                };
                let edge = |r: &R| -> std::result::Result<FlowEdge, sqlx::Error> {
                    Ok(FlowEdge {
                        tstart: r.try_get(0)?,
                        srcip: r.try_get(1)?,
                        dstip: r.try_get(2)?,
                        sport: r.try_get(3)?,
                        dport: r.try_get(4)?,
                        proto: r.try_get(5)?,
                        flags: r.try_get(6)?,
                        tos: r.try_get(7)?,
                        ibyt: r.try_get(8)?,
                        ipkt: r.try_get(9)?,
                        input: r.try_get(10)?,
                        output: r.try_get(11)?,
                        rip: r.try_get(12)?,
                        obyt: r.try_get(13)?,
                        opkt: r.try_get(14)?,
                        hh: r.try_get(15)?,
                        mn: r.try_get(16)?,
                    })
                };
                let chord = |r: &R| -> std::result::Result<FlowChord, sqlx::Error> {
                    Ok(FlowChord { ip_threat: r.try_get(0)?, srcip: r.try_get(1)?, dstip: r.try_get(2)?, ibyt: r.try_get(3)?, ipkt: r.try_get(4)? })
                };
                let minute = |r: &R| -> std::result::Result<IngestMinute, sqlx::Error> { Ok(IngestMinute { tdate: r.try_get(0)?, total: r.try_get(1)? }) };
                Ok(OaOutputs {
                    scores: scores.iter().map(score).collect::<std::result::Result<_, _>>()?,
                    edges: edges.iter().map(edge).collect::<std::result::Result<_, _>>()?,
                    chords: chords.iter().map(chord).collect::<std::result::Result<_, _>>()?,
                    ingest: ingest.iter().map(minute).collect::<std::result::Result<_, _>>()?,
                })
            }

            async fn flows_per_minute(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::store::flows::oa::IngestMinute>> {
                use $crate::store::codec::Codec;
                let (a, b) = (<$db as Codec>::DIALECT.param(1), <$db as Codec>::DIALECT.param(2));
                let sql = format!(
                    "SELECT tryear, trmonth, trday, trhour, trminute, count(*) FROM flows_raw \
                     WHERE treceived >= {a} AND treceived < {b} AND sip <> '' AND dip <> '' \
                     GROUP BY tryear, trmonth, trday, trhour, trminute ORDER BY tryear, trmonth, trday, trhour, trminute"
                );
                let rows: Vec<(i32, i32, i32, i32, i32, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(<$db as Codec>::encode_time(from))
                    .bind(<$db as Codec>::encode_time(to))
                    .fetch_all(self.pool())
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(y, mo, d, h, mi, total)| $crate::store::flows::oa::IngestMinute { tdate: format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}"), total })
                    .collect())
            }

            async fn flow_pair_sums(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                ips: &[std::net::IpAddr],
            ) -> $crate::error::Result<Vec<$crate::store::flows::oa::PairSum>> {
                use $crate::store::codec::Codec;
                use $crate::store::flows::shared::address;
                if ips.is_empty() {
                    return Ok(Vec::new());
                }
                let texts: Vec<String> = ips.iter().map(ToString::to_string).collect();
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT sip, dip, CAST(sum(ibyt) AS BIGINT), CAST(sum(ipkt) AS BIGINT) FROM flows_raw WHERE treceived >= ");
                q.push_bind(<$db as Codec>::encode_time(from)).push(" AND treceived < ").push_bind(<$db as Codec>::encode_time(to));
                for (i, column) in ["sip", "dip"].into_iter().enumerate() {
                    q.push(if i == 0 { " AND (" } else { " OR " }).push(column).push(" IN (");
                    let mut list = q.separated(", ");
                    for t in &texts {
                        list.push_bind(t.clone());
                    }
                    q.push(")");
                }
                q.push(") GROUP BY sip, dip");
                let rows: Vec<(String, String, i64, i64)> = q.build_query_as().fetch_all(self.pool()).await?;
                Ok(rows.into_iter().map(|(s, d, ibyt, ipkt)| $crate::store::flows::oa::PairSum { sip: address(&s), dip: address(&d), ibyt, ipkt }).collect())
            }

            async fn latest_oa_date(&self) -> $crate::error::Result<Option<chrono::NaiveDate>> {
                let latest: Option<String> = sqlx::query_scalar("SELECT max(date) FROM flow_scores").fetch_one(self.pool()).await?;
                Ok(latest.and_then(|d| d.parse().ok()))
            }

            async fn add_feedback(&self, rows: &[$crate::store::flows::oa::FeedbackRow]) -> $crate::error::Result<()> {
                use $crate::store::flows::oa_shared::{FEEDBACK, ROWS_PER_INSERT};
                let mut tx = self.pool().begin_with($begin).await?;
                for chunk in rows.chunks(ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO flow_feedback ({FEEDBACK}) "));
                    q.push_values(chunk, |mut b, f| {
                        b.push_bind(&f.date).push_bind(f.sev).push_bind(&f.tstart).push_bind(&f.srcip).push_bind(&f.dstip);
                        b.push_bind(f.sport).push_bind(f.dport).push_bind(&f.proto).push_bind(f.ipkt).push_bind(f.ibyt);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn feedback(&self) -> $crate::error::Result<Vec<$crate::store::flows::oa::FeedbackRow>> {
                use $crate::store::flows::oa_shared::FEEDBACK;
                type Row = (String, i32, String, String, String, i32, i32, String, i64, i64);
                let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {FEEDBACK} FROM flow_feedback ORDER BY id"))).fetch_all(self.pool()).await?;
                Ok(rows
                    .into_iter()
                    .map(|(date, sev, tstart, srcip, dstip, sport, dport, proto, ipkt, ibyt)| $crate::store::flows::oa::FeedbackRow {
                        date,
                        sev,
                        tstart,
                        srcip,
                        dstip,
                        sport,
                        dport,
                        proto,
                        ipkt,
                        ibyt,
                    })
                    .collect())
            }

            async fn save_storyboard(&self, date: chrono::NaiveDate, ip: std::net::IpAddr, title: &str, body: &str) -> $crate::error::Result<()> {
                use $crate::store::codec::Codec;
                let p = |n| <$db as Codec>::DIALECT.param(n);
                let sql = format!(
                    "INSERT INTO flow_storyboards (date, ip, title, body) VALUES ({}, {}, {}, {}) \
                     ON CONFLICT (date, ip) DO UPDATE SET title = excluded.title, body = excluded.body",
                    p(1),
                    p(2),
                    p(3),
                    p(4)
                );
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(date.to_string()).bind(ip.to_string()).bind(title).bind(body).execute(self.pool()).await?;
                Ok(())
            }

            async fn storyboard(&self, date: chrono::NaiveDate, ip: std::net::IpAddr) -> $crate::error::Result<Option<(String, String)>> {
                use $crate::store::codec::Codec;
                let p = |n| <$db as Codec>::DIALECT.param(n);
                let sql = format!("SELECT title, body FROM flow_storyboards WHERE date = {} AND ip = {}", p(1), p(2));
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(date.to_string()).bind(ip.to_string()).fetch_optional(self.pool()).await?)
            }

            async fn reset_storyboards(&self, date: chrono::NaiveDate) -> $crate::error::Result<u64> {
                use $crate::store::codec::Codec;
                let sql = format!("DELETE FROM flow_storyboards WHERE date = {}", <$db as Codec>::DIALECT.param(1));
                Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(date.to_string()).execute(self.pool()).await?.rows_affected())
            }
        }
    };
}

pub(crate) use flow_oa_store;
