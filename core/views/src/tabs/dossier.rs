//! The IP dossier detail view's model: the dossier of the open target, its sections as tables
//! (the same ones `vantage ip` prints and the report holds), its timeline, and the keys that
//! pivot out of it — `n` a capture of it, `v` its flows to score, `b` its storyboard, `y` the
//! report written for a ticket. Which address a row of any table names is [`address_in`].

use std::collections::HashMap;

use vantage_core::engine::dossier::{Dossier as Answer, Target, report};
use vantage_core::engine::{Request, RequestKind, Update};
use vantage_core::export::ChartData;
use vantage_core::pcap::named;

use super::{Ctx, Reply, TabModel, Taken};
use crate::effect::{Effect, Export};
use crate::keys::{Action, Mode};
use crate::panels::{Detail, Panel, Source, Tab};
use crate::table::TableData;

/// The columns that name an address (or an ASN), in the order they are tried.
const ADDRESS_COLUMNS: [&str; 8] = ["ip", "address", "peer", "srcip", "dstip", "source.ip", "source.asn", "query"];

/// The target a table row names: the first address (or ASN) column holding one; a capture
/// job's query gives its first host or network.
pub fn address_in(header: &[String], row: &[String]) -> Option<String> {
    for column in ADDRESS_COLUMNS {
        let Some(cell) = header.iter().position(|h| h == column).and_then(|i| row.get(i)) else { continue };
        let cell = cell.trim_end_matches('*').trim();
        let text = match column {
            "query" => named::networks(cell).first().and_then(|n| Target::parse(&n.to_string()).ok()).map(|t| t.to_string()),
            "source.asn" => cell.trim_start_matches("AS").parse::<u32>().ok().map(|a| format!("AS{a}")),
            _ => Target::parse(cell).ok().map(|t| t.to_string()),
        };
        if text.is_some() {
            return text;
        }
    }
    None
}

/// The dossier view's model.
#[derive(Debug, Default)]
pub struct Dossier {
    /// The dossiers received, by target as asked.
    pub answers: HashMap<String, Answer>,
    /// Targets asked and not answered yet.
    waiting: Vec<String>,
}

/// The target of the open dossier.
pub fn target(ctx: &Ctx) -> Option<String> {
    match ctx.detail {
        Some(Detail::Dossier { target }) => Some(target.clone()),
        _ => None,
    }
}

impl Dossier {
    fn shown(&self, ctx: &Ctx) -> Option<&Answer> {
        self.answers.get(&target(ctx)?)
    }

    /// The open dossier's single address (None for a network or an ASN).
    fn address(&self, ctx: &Ctx) -> Option<std::net::IpAddr> {
        match Target::parse(&target(ctx)?).ok()? {
            Target::Address(ip) => Some(ip),
            _ => None,
        }
    }

    /// The report an analyst attaches to a ticket, as an export.
    fn report(&self, ctx: &Ctx) -> Option<Effect> {
        let d = self.shown(ctx)?;
        Some(Effect::Export(Export::Report { stem: report::stem(d), text: report::markdown(d) }))
    }
}

impl TabModel for Dossier {
    fn requests(&self, ctx: &Ctx, source: &Source) -> Vec<Request> {
        match (source, target(ctx)) {
            (Source::DossierSummary, Some(target)) => vec![Request::Dossier { target }],
            _ => Vec::new(),
        }
    }

    fn sent(&mut self, request: &Request) {
        if let Request::Dossier { target } = request {
            self.waiting.push(target.clone());
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::Dossier { target, dossier } => {
                self.waiting.retain(|t| *t != target);
                self.answers.insert(target, *dossier);
                Taken::Mine(Reply::default())
            }
            other => Taken::NotMine(other),
        }
    }

    fn failed(&mut self, kind: RequestKind) {
        if kind == RequestKind::Dossier {
            self.waiting.clear();
        }
    }

    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        let need_address = |what: &str| Reply::notice(format!("{what} works on one address's dossier, not a network's or an ASN's"));
        Some(match action {
            Action::NewCapture => match self.address(ctx) {
                Some(ip) => Reply::typing(Mode::PcapQuery, format!("host {ip} ")),
                None => match target(ctx).and_then(|t| Target::parse(&t).ok()) {
                    Some(Target::Network(n)) => Reply::typing(Mode::PcapQuery, format!("net {n} ")),
                    _ => need_address("n (a capture)"),
                },
            },
            Action::CopyReport => match self.report(ctx) {
                Some(effect) => Reply { effects: vec![effect], ..Reply::notice("writing the report (Markdown) to the export directory…") },
                None => Reply::notice("the dossier has not arrived yet"),
            },
            _ => return None,
        })
    }

    /// A section as a table; an absent one as its reason.
    fn table(&self, ctx: &Ctx, panel: &Panel) -> Option<TableData> {
        let Source::DossierSection(key) = panel.source else { return None };
        let s = report::sections(self.shown(ctx)?).into_iter().find(|s| s.key == key)?;
        Some(match s.absent {
            Some(why) => TableData::new(&["absent"], vec![vec![why]]),
            None => TableData { header: s.header, rows: s.rows },
        })
    }

    /// The summary (`field: value`) and the keys.
    fn text(&self, ctx: &Ctx, panel: &Panel) -> Vec<String> {
        if panel.source != Source::DossierSummary {
            return Vec::new();
        }
        match self.shown(ctx) {
            None if target(ctx).is_some_and(|t| self.waiting.contains(&t)) => vec!["asking every capability…".into()],
            None => Vec::new(),
            Some(d) => {
                let summary = report::sections(d).into_iter().next().map(|s| s.rows).unwrap_or_default();
                summary.into_iter().map(|r| format!("{:<14}{}", r.first().cloned().unwrap_or_default(), r.get(1).cloned().unwrap_or_default())).chain([String::new(), KEYS.to_string()]).collect()
            }
        }
    }

    fn chart(&self, ctx: &Ctx, panel: &Panel) -> Option<ChartData> {
        (panel.source == Source::DossierTimeline).then(|| self.shown(ctx).map(report::timeline)).flatten()
    }
}

/// The dossier's keys, for the help and the status line.
pub const KEYS: &str = "n capture · v score its flows · b storyboard · y report · d / Enter on an address: its dossier";

/// Where the dossier's flow pivots go: the Flows tab filtered to the address.
pub fn flows_pivot(ip: std::net::IpAddr) -> Reply {
    Reply { goto: Some(Tab::Flows), ..Reply::notice(format!("flows of {ip}: v scores the selected connection, b edits its storyboard")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(header: &[&str], cells: &[&str]) -> Option<String> {
        address_in(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>(), &cells.iter().map(|c| c.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn rows_name_addresses_asns_and_a_query_host() {
        assert_eq!(row(&["rank", "tstart", "srcip", "dstip"], &["0", "t", "10.0.0.5*", "203.0.113.9"]), Some("10.0.0.5".into()), "the internal mark is dropped");
        assert_eq!(row(&["source.asn", "events"], &["64500", "3"]), Some("AS64500".into()));
        assert_eq!(row(&["id", "query"], &["1", "net 198.51.100.0/24 and port 22"]), Some("198.51.100.0/24".into()));
        assert_eq!(row(&["id", "query"], &["1", "host 192.0.2.9"]), Some("192.0.2.9".into()));
        assert_eq!(row(&["password", "count"], &["123456", "9"]), None);
        assert_eq!(row(&["ip"], &["not an address"]), None);
    }
}
