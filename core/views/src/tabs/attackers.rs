//! The Attackers tab's own state: what GeoIP knows about the attacker of the detail view,
//! whether it is blocked by the DynFW feed and on the greylist, and the detail's "request a
//! capture of this address".

use std::collections::HashMap;
use std::net::IpAddr;

use vantage_core::engine::channel::dynfw::{DynfwRequest, DynfwUpdate, Membership};
use vantage_core::engine::{Request, RequestKind, Update};
use vantage_core::geo::GeoInfo;

use super::{Ctx, Reply, TabModel, Taken};
use crate::keys::{Action, Mode};
use crate::panels::{self, Detail, Panel, Shape, Source};

/// The Attackers tab's model (its resource panels are [`super::statistics::Statistics`]').
#[derive(Debug, Default)]
pub struct Attackers {
    /// GeoIP answers and the databases consulted.
    pub geo: HashMap<IpAddr, (GeoInfo, Vec<String>)>,
    /// DynFW and greylist membership, by address.
    pub membership: HashMap<IpAddr, Membership>,
    /// The membership could not be read (the error is on the status line).
    membership_failed: bool,
}

/// The address of the open attacker detail.
pub fn attacker_ip(ctx: &Ctx) -> Option<IpAddr> {
    match ctx.detail {
        Some(Detail::Attacker { ip }) => ip.parse().ok(),
        _ => None,
    }
}

impl TabModel for Attackers {
    fn requests(&self, ctx: &Ctx, source: &Source) -> Vec<Request> {
        match (source, attacker_ip(ctx)) {
            (Source::AttackerInfo, Some(ip)) => vec![Request::Geo { ip }, Request::Dynfw(DynfwRequest::Membership { ip })],
            _ => Vec::new(),
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::Geo { ip, info, sources } => {
                self.geo.insert(ip, (info, sources));
                Taken::Mine(Reply::default())
            }
            Update::Dynfw(DynfwUpdate::Membership(m)) => {
                self.membership_failed = false;
                self.membership.insert(m.ip, m);
                Taken::Mine(Reply::default())
            }
            other => Taken::NotMine(other),
        }
    }

    fn sent(&mut self, request: &Request) {
        if matches!(request, Request::Dynfw(DynfwRequest::Membership { .. })) {
            self.membership_failed = false;
        }
    }

    fn failed(&mut self, kind: RequestKind) {
        if kind == RequestKind::DynfwMembership {
            self.membership_failed = true;
        }
    }

    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        match action {
            Action::NewCapture => Some(Reply::typing(Mode::PcapQuery, format!("host {} ", attacker_ip(ctx)?))),
            _ => None,
        }
    }

    fn text(&self, ctx: &Ctx, p: &Panel) -> Vec<String> {
        let (Source::AttackerInfo, Some(detail @ Detail::Attacker { ip })) = (&p.source, ctx.detail) else { return Vec::new() };
        let graph = panels::detail_panels(detail).into_iter().find(|p| p.shape == Shape::Chart).and_then(|p| ctx.statistics.chart(ctx, &p));
        let total: f64 = graph.iter().flat_map(|c| c.series.iter().flat_map(|s| s.values.iter())).sum();
        let mut lines = vec![format!("address   {ip}"), format!("incidents {total:.0} in the last {}", ctx.period.label().to_lowercase())];
        match attacker_ip(ctx).and_then(|a| self.geo.get(&a)) {
            None => lines.push("GeoIP     looking up".into()),
            Some((info, sources)) => {
                let country = match (&info.country, &info.country_name) {
                    (Some(c), Some(n)) => format!("{c} ({n})"),
                    (Some(c), None) => c.clone(),
                    _ => "unknown".into(),
                };
                lines.push(format!("country   {country}{}", info.city.as_ref().map(|c| format!(", {c}")).unwrap_or_default()));
                lines.push(format!("ASN       {}", info.asn.map_or("unknown".into(), |a| format!("AS{a} {}", info.as_org.as_deref().unwrap_or("")))));
                lines.push(format!("GeoIP     {}", if sources.is_empty() { "no databases (put .mmdb files in geoip_dir)".into() } else { sources.join(", ") }));
            }
        }
        match attacker_ip(ctx).and_then(|a| self.membership.get(&a)) {
            Some(m) => {
                lines.push(format!("DynFW     {}", super::dynfw::dynfw_words(m)));
                lines.push(format!("greylist  {}", super::dynfw::greylist_words(m)));
            }
            None if self.membership_failed => lines.push("DynFW     unknown: the lookup failed (r tries again)".into()),
            None => lines.push("DynFW     looking up (and the greylist)".into()),
        }
        lines.push(format!("pcap      n requests a capture (Docket /api/uri/host/{ip}/)"));
        lines
    }
}
