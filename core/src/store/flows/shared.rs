//! The flow storage written once for both backends, instantiated per backend by
//! [`flow_store`]: multi-row INSERTs inside one transaction, reads by start time. Only the
//! time codec ([`crate::store::codec::Codec`]) and how a transaction begins differ.

use super::model::RawFlow;

/// The stored columns, in INSERT and SELECT order (Spot's raw flow table).
pub(crate) const COLUMNS: &str = "treceived, unix_tstamp, tryear, trmonth, trday, trhour, trminute, trsec, tdur, sip, dip, sport, dport, \
     proto, flag, fwd, stos, ipkt, ibyt, opkt, obyt, input, output, sas, das, dtos, dir, rip";

/// Flows per INSERT (28 parameters each: 28,000, below SQLite's 32,766).
pub(crate) const FLOWS_PER_INSERT: usize = 1000;

/// Which flows of a time range a read wants.
pub(crate) enum Filter<'a> {
    /// All of them.
    All,
    /// Those between the two addresses of one pair (either way).
    Pairs(&'a [(std::net::IpAddr, std::net::IpAddr)]),
    /// Those from or to one address.
    Touching(std::net::IpAddr),
}

/// A stored address back as an address (the store wrote it; a foreign row reads as 0.0.0.0).
pub(crate) fn address(text: &str) -> std::net::IpAddr {
    text.parse().unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// A stored port back as a port.
pub(crate) fn port(n: i32) -> u16 {
    u16::try_from(n).unwrap_or(0)
}

/// The integer columns of a flow after its start time, in [`COLUMNS`] order up to `tdur`.
pub(crate) fn calendar(f: &RawFlow) -> [i32; 6] {
    f.calendar().map(|n| n as i32)
}

/// Implements [`super::FlowStore`] for `$store` on database `$db`, whose transactions
/// begin with `$begin` (SQLite: `BEGIN IMMEDIATE`, taking the write lock up front).
macro_rules! flow_store {
    ($store:ty, $db:ty, $session:ident, begin: $begin:literal) => {
        /// A flow import: multi-row INSERTs inside one transaction.
        struct $session {
            tx: sqlx::Transaction<'static, $db>,
        }

        #[async_trait::async_trait]
        impl $crate::store::flows::FlowSession for $session {
            async fn write(&mut self, flows: &[$crate::store::flows::model::RawFlow]) -> $crate::error::Result<()> {
                use $crate::store::codec::Codec;
                use $crate::store::flows::shared::{COLUMNS, FLOWS_PER_INSERT, calendar};
                for chunk in flows.chunks(FLOWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO flows_raw ({COLUMNS}) "));
                    q.push_values(chunk, |mut b, f| {
                        b.push_bind(<$db as Codec>::encode_time(f.treceived)).push_bind(f.unix_tstamp());
                        for n in calendar(f) {
                            b.push_bind(n);
                        }
                        b.push_bind(f.tdur).push_bind(f.sip.to_string()).push_bind(f.dip.to_string());
                        b.push_bind(i32::from(f.sport)).push_bind(i32::from(f.dport)).push_bind(f.proto.clone()).push_bind(f.flag.clone());
                        b.push_bind(f.fwd).push_bind(f.stos).push_bind(f.ipkt).push_bind(f.ibyt).push_bind(f.opkt).push_bind(f.obyt);
                        b.push_bind(f.input).push_bind(f.output).push_bind(f.sas).push_bind(f.das).push_bind(f.dtos).push_bind(f.dir);
                        b.push_bind(f.rip.clone());
                    });
                    q.build().execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn commit(self: Box<Self>) -> $crate::error::Result<()> {
                self.tx.commit().await?;
                Ok(())
            }

            async fn rollback(self: Box<Self>) -> $crate::error::Result<()> {
                self.tx.rollback().await?;
                Ok(())
            }
        }

        impl $store {
            /// The flows that started in `[from, to)` that `filter` wants, by start time then
            /// import order.
            async fn flows_where(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                filter: $crate::store::flows::shared::Filter<'_>,
            ) -> $crate::error::Result<Vec<$crate::store::flows::model::RawFlow>> {
                use $crate::store::flows::shared::Filter;
                use sqlx::Row;
                use $crate::store::codec::Codec;
                use $crate::store::flows::shared::{COLUMNS, address, port};
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {COLUMNS} FROM flows_raw WHERE treceived >= "));
                q.push_bind(<$db as Codec>::encode_time(from)).push(" AND treceived < ").push_bind(<$db as Codec>::encode_time(to));
                match filter {
                    Filter::All => {}
                    Filter::Pairs(pairs) => {
                        for (i, (a, b)) in pairs.iter().enumerate() {
                            let (a, b) = (a.to_string(), b.to_string());
                            q.push(if i == 0 { " AND ((" } else { " OR (" });
                            q.push("sip = ").push_bind(a.clone()).push(" AND dip = ").push_bind(b.clone()).push(") OR (");
                            q.push("sip = ").push_bind(b).push(" AND dip = ").push_bind(a).push(")");
                        }
                        q.push(")");
                    }
                    Filter::Touching(ip) => {
                        q.push(" AND (sip = ").push_bind(ip.to_string()).push(" OR dip = ").push_bind(ip.to_string()).push(")");
                    }
                }
                q.push(" ORDER BY treceived, id");
                // decoded as they stream in: a day of flows is never held twice (rows and flows)
                let mut rows = q.build().fetch(self.pool());
                let decode = |r: &<$db as sqlx::Database>::Row| -> std::result::Result<$crate::store::flows::model::RawFlow, sqlx::Error> {
                    Ok($crate::store::flows::model::RawFlow {
                        treceived: <$db as Codec>::decode_time(r.try_get(0)?),
                        tdur: r.try_get(8)?,
                        sip: address(&r.try_get::<String, _>(9)?),
                        dip: address(&r.try_get::<String, _>(10)?),
                        sport: port(r.try_get(11)?),
                        dport: port(r.try_get(12)?),
                        proto: r.try_get(13)?,
                        flag: r.try_get(14)?,
                        fwd: r.try_get(15)?,
                        stos: r.try_get(16)?,
                        ipkt: r.try_get(17)?,
                        ibyt: r.try_get(18)?,
                        opkt: r.try_get(19)?,
                        obyt: r.try_get(20)?,
                        input: r.try_get(21)?,
                        output: r.try_get(22)?,
                        sas: r.try_get(23)?,
                        das: r.try_get(24)?,
                        dtos: r.try_get(25)?,
                        dir: r.try_get(26)?,
                        rip: r.try_get(27)?,
                    })
                };
                let mut flows = Vec::new();
                while let Some(row) = futures::TryStreamExt::try_next(&mut rows).await? {
                    flows.push(decode(&row)?);
                }
                Ok(flows)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::flows::FlowStore for $store {
            async fn begin_flows_import(&self) -> $crate::error::Result<Box<dyn $crate::store::flows::FlowSession>> {
                Ok(Box::new($session { tx: self.pool().begin_with($begin).await? }))
            }

            async fn flows_between(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::store::flows::model::RawFlow>> {
                self.flows_where(from, to, $crate::store::flows::shared::Filter::All).await
            }

            async fn flows_between_pairs(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                pairs: &[(std::net::IpAddr, std::net::IpAddr)],
            ) -> $crate::error::Result<Vec<$crate::store::flows::model::RawFlow>> {
                if pairs.is_empty() {
                    return Ok(Vec::new());
                }
                self.flows_where(from, to, $crate::store::flows::shared::Filter::Pairs(pairs)).await
            }

            async fn flows_touching(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                ip: std::net::IpAddr,
            ) -> $crate::error::Result<Vec<$crate::store::flows::model::RawFlow>> {
                self.flows_where(from, to, $crate::store::flows::shared::Filter::Touching(ip)).await
            }

            async fn flows_status(&self) -> $crate::error::Result<$crate::store::flows::FlowsStatus> {
                use $crate::store::codec::Codec;
                type Time = <$db as Codec>::Time;
                let (flows, first, last): (i64, Option<Time>, Option<Time>) =
                    sqlx::query_as("SELECT count(*), min(treceived), max(treceived) FROM flows_raw").fetch_one(self.pool()).await?;
                Ok($crate::store::flows::FlowsStatus { flows, first: first.map(<$db as Codec>::decode_time), last: last.map(<$db as Codec>::decode_time) })
            }

            async fn flows_stored(&self) -> $crate::error::Result<bool> {
                Ok(sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM flows_raw)").fetch_one(self.pool()).await?)
            }
        }
    };
}

pub(crate) use flow_store;
