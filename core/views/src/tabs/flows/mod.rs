//! The Flows tab's own state (flows.md "Analyst workflow"): the day shown and the IP filter,
//! the engine's answers for them — the suspicious connections nobody scored yet, the raw flows
//! of the selected one, the selected IP's peers (chord rows) and storyboard, the flows per
//! minute, the beacons — and the analyst's actions: stepping the day, scoring the selected
//! connection, writing the storyboard, requesting a capture of the connection's pair and minute.
//!
//! The view follows the selection: after every action and answer the router asks
//! [`TabModel::wanted`] for what the view now shows and nobody has asked for yet (a new
//! selection's raw flows, say). The *selected IP* (peers, storyboard) is the IP filter when one
//! is set, else the end of the selected connection with more distinct peers among the listed
//! connections (the source on a tie). Tables, texts and pictures are in [`tables`], [`story`]
//! and [`graph`].

pub mod graph;
pub mod story;
pub mod tables;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use vantage_core::engine::channel::flows::{FlowsRequest, FlowsUpdate};
use vantage_core::engine::flows::Pattern;
use vantage_core::engine::{Request, RequestKind, Update};
use vantage_core::export::ChartData;
use vantage_core::flows::beacon::BeaconReport;
use vantage_core::flows::oa::{FlowChord, FlowEdge, FlowScore, IngestMinute, TIME};
use vantage_core::flows::storyboard::Storyboard;

use super::{Ctx, Reply, TabModel, Taken};
use crate::effect::Effect;
use crate::keys::{Action, Mode};
use crate::panels::{Panel, Source};
use crate::table::TableData;

/// The panels whose data the model asks for, in the order it asks.
const SOURCES: [Source; 7] =
    [Source::FlowsDay, Source::FlowsSuspicious, Source::FlowsIngest, Source::FlowsBeacons, Source::FlowsEdges, Source::FlowsChord, Source::FlowsStoryboard];

/// The Flows tab's model.
#[derive(Debug, Default)]
pub struct Flows {
    /// The day shown; None until the engine said which (the latest with an OA run).
    pub date: Option<NaiveDate>,
    /// Only the connections from or to this address.
    pub ip: Option<IpAddr>,
    suspicious: HashMap<(NaiveDate, Option<IpAddr>), Vec<FlowScore>>,
    edges: HashMap<(String, IpAddr, IpAddr), Vec<FlowEdge>>,
    chords: HashMap<(NaiveDate, IpAddr), Vec<FlowChord>>,
    ingest: HashMap<NaiveDate, Vec<IngestMinute>>,
    beacons: HashMap<NaiveDate, BeaconReport>,
    stories: HashMap<(NaiveDate, IpAddr), Storyboard>,
    /// Reads sent and not answered yet.
    pending: Vec<FlowsRequest>,
    /// Reads that failed: not asked again until the view is refreshed.
    failed: Vec<FlowsRequest>,
    /// The storyboard title typed, while its text is typed.
    title: Option<String>,
}

/// An address the OA run stored (it wrote canonical text).
fn address(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

/// Whether a request only reads (and so is worth remembering as pending or failed).
fn is_read(r: &FlowsRequest) -> bool {
    !matches!(r, FlowsRequest::Score { .. } | FlowsRequest::Storyboard { write: Some(_), .. })
}

/// Sends `request`, saying so.
fn asking(notice: String, request: FlowsRequest) -> Reply {
    Reply { notice: Some(notice), ..Reply::effects(vec![Effect::Engine(Request::Flows(request))]) }
}

/// The severity's name.
fn severity(sev: u8) -> &'static str {
    match sev {
        1 => "1 (high)",
        2 => "2 (medium)",
        _ => "3 (low, benign)",
    }
}

impl Flows {
    /// The suspicious connections of the day and IP shown, once they arrived.
    pub fn rows(&self) -> Option<&[FlowScore]> {
        self.suspicious.get(&(self.date?, self.ip)).map(Vec::as_slice)
    }

    /// The connection selected in the suspicious table (its state in `ctx.tables`).
    pub fn selected(&self, ctx: &Ctx) -> Option<&FlowScore> {
        let rows = self.rows()?;
        let state = ctx.tables.get(&Panel::key_of(&Source::FlowsSuspicious)).cloned().unwrap_or_default();
        let shown = tables::suspicious(rows).shown(&state);
        let row = shown.rows.get(state.selected.min(shown.rows.len().saturating_sub(1)))?;
        let rank: i32 = row.first()?.parse().ok()?;
        rows.iter().find(|s| s.rank == rank)
    }

    /// The selected IP: the IP filter, else the selected connection's end with more peers.
    pub fn subject(&self, ctx: &Ctx) -> Option<IpAddr> {
        if self.ip.is_some() {
            return self.ip;
        }
        let s = self.selected(ctx)?;
        let peers = |ip: &str| graph::peers(self.rows().unwrap_or_default(), ip);
        address(if peers(&s.dstip) > peers(&s.srcip) { &s.dstip } else { &s.srcip })
    }

    /// The selected IP's chord rows, once they arrived.
    pub fn chord_rows(&self, ctx: &Ctx) -> Option<&[FlowChord]> {
        self.chords.get(&(self.date?, self.subject(ctx)?)).map(Vec::as_slice)
    }

    /// The selected IP's storyboard, once it arrived.
    pub fn storyboard(&self, ctx: &Ctx) -> Option<&Storyboard> {
        self.stories.get(&(self.date?, self.subject(ctx)?))
    }

    /// The raw flows of the selected connection's pair in its minute, once they arrived.
    fn edge_rows(&self, ctx: &Ctx) -> Option<&[FlowEdge]> {
        let FlowsRequest::Edges { tstart, src, dst } = self.need(ctx, &Source::FlowsEdges)? else { return None };
        self.edges.get(&(tstart, src, dst)).map(Vec::as_slice)
    }

    /// The network of the listed connections (the GUI's graph), once they arrived.
    pub fn network(&self) -> Option<graph::Network> {
        Some(graph::Network::of(self.rows()?))
    }

    /// The selected IP's chord diagram (the GUI's), once its rows arrived.
    pub fn chord(&self, ctx: &Ctx) -> Option<graph::Chord> {
        Some(graph::Chord::of(&self.subject(ctx)?.to_string(), self.chord_rows(ctx)?))
    }

    /// The read a panel needs in the current state (None: nothing to ask).
    fn need(&self, ctx: &Ctx, source: &Source) -> Option<FlowsRequest> {
        if *source == Source::FlowsDay {
            return self.date.is_none().then_some(FlowsRequest::LatestDay);
        }
        let date = self.date?;
        Some(match source {
            Source::FlowsSuspicious => FlowsRequest::Suspicious { date, ip: self.ip },
            Source::FlowsIngest => FlowsRequest::Ingest { date },
            Source::FlowsBeacons => FlowsRequest::Beacons { date },
            Source::FlowsEdges => {
                let s = self.selected(ctx)?;
                FlowsRequest::Edges { tstart: s.tstart.clone(), src: address(&s.srcip)?, dst: address(&s.dstip)? }
            }
            Source::FlowsChord => FlowsRequest::Chords { date, ip: self.subject(ctx)? },
            Source::FlowsStoryboard => FlowsRequest::Storyboard { date, ip: self.subject(ctx)?, write: None },
            _ => return None,
        })
    }

    /// Whether the answer to a read is here.
    fn known(&self, r: &FlowsRequest) -> bool {
        match r {
            FlowsRequest::LatestDay => self.date.is_some(),
            FlowsRequest::Suspicious { date, ip } => self.suspicious.contains_key(&(*date, *ip)),
            FlowsRequest::Edges { tstart, src, dst } => self.edges.contains_key(&(tstart.clone(), *src, *dst)),
            FlowsRequest::Chords { date, ip } => self.chords.contains_key(&(*date, *ip)),
            FlowsRequest::Ingest { date } => self.ingest.contains_key(date),
            FlowsRequest::Beacons { date } => self.beacons.contains_key(date),
            FlowsRequest::Storyboard { date, ip, .. } => self.stories.contains_key(&(*date, *ip)),
            FlowsRequest::Score { .. } => true,
        }
    }

    /// An answer arrived: it is no longer pending nor failed.
    fn answered(&mut self, r: &FlowsRequest) {
        self.pending.retain(|p| p != r);
        self.failed.retain(|p| p != r);
    }

    /// Scores the selected connection with `sev`: every suspicious connection of the day with
    /// its addresses and ports.
    fn score(&self, ctx: &Ctx, sev: u8) -> Reply {
        let (Some(date), Some(s)) = (self.date, self.selected(ctx)) else { return Reply::notice("select a suspicious connection to score") };
        let pattern = Pattern {
            src: address(&s.srcip),
            dst: address(&s.dstip),
            sport: u16::try_from(s.sport).ok(),
            dport: u16::try_from(s.dport).ok(),
        };
        asking(format!("scoring {} to {} as {}", s.srcip, s.dstip, severity(sev)), FlowsRequest::Score { date, sev, pattern })
    }

    /// Saves the selected IP's storyboard.
    fn save(&self, ctx: &Ctx, title: String, text: String) -> Reply {
        let (Some(date), Some(ip)) = (self.date, self.subject(ctx)) else { return Reply::notice("select a connection or an IP for its storyboard") };
        asking(format!("saving the storyboard of {ip}"), FlowsRequest::Storyboard { date, ip, write: Some((title, text)) })
    }

    /// The capture request of the selected connection's pair and minute, for the PCAP form.
    fn capture(&self, ctx: &Ctx) -> Option<String> {
        let s = self.selected(ctx)?;
        let minute = NaiveDateTime::parse_from_str(&s.tstart, TIME).ok()?.format("%Y-%m-%dT%H:%M:00Z");
        Some(format!("host {} host {} after {minute} before {minute}", s.srcip, s.dstip))
    }

    /// Takes the answer to one of its requests.
    fn take_flows(&mut self, update: FlowsUpdate) -> Reply {
        match update {
            FlowsUpdate::LatestDay(day) => {
                self.answered(&FlowsRequest::LatestDay);
                self.date.get_or_insert(day);
            }
            FlowsUpdate::Suspicious { date, ip, rows } => {
                self.answered(&FlowsRequest::Suspicious { date, ip });
                self.suspicious.insert((date, ip), rows);
            }
            FlowsUpdate::Edges { tstart, src, dst, edges } => {
                self.answered(&FlowsRequest::Edges { tstart: tstart.clone(), src, dst });
                self.edges.insert((tstart, src, dst), edges);
            }
            FlowsUpdate::Chords { date, ip, chords } => {
                self.answered(&FlowsRequest::Chords { date, ip });
                self.chords.insert((date, ip), chords);
            }
            FlowsUpdate::Ingest { date, minutes } => {
                self.answered(&FlowsRequest::Ingest { date });
                self.ingest.insert(date, minutes);
            }
            FlowsUpdate::Beacons { date, report } => {
                self.answered(&FlowsRequest::Beacons { date });
                self.beacons.insert(date, report);
            }
            FlowsUpdate::Scored { date, sev, rows } => {
                // the scored connections leave every list of the day at once
                for ((day, _), list) in &mut self.suspicious {
                    if *day == date {
                        list.retain(|s| !rows.iter().any(|r| (&r.srcip, &r.dstip, r.sport, r.dport) == (&s.srcip, &s.dstip, s.sport, s.dport)));
                    }
                }
                return Reply::notice(match rows.len() {
                    0 => "no connection matched: nothing scored".to_string(),
                    n => format!("{n} connection{} of {date} scored {}", if n == 1 { "" } else { "s" }, severity(sev)),
                });
            }
            FlowsUpdate::Storyboard { story, saved } => {
                let (date, ip) = (story.date, story.ip);
                self.answered(&FlowsRequest::Storyboard { date, ip, write: None });
                self.stories.insert((date, ip), *story);
                if saved {
                    return Reply::notice(format!("storyboard of {ip} on {date} saved"));
                }
            }
        }
        Reply::default()
    }

    /// The day picker's lines: the day, the IP filter, what is listed, the beacons, the
    /// selected IP and the keys (short: the panel is narrow on a small terminal).
    fn day_lines(&self, ctx: &Ctx) -> Vec<String> {
        let Some(date) = self.date else {
            let why = if self.failed.contains(&FlowsRequest::LatestDay) { "unknown: r tries again" } else { "looking for the last OA run" };
            return vec![format!("day      {why}")];
        };
        let listed = match self.rows() {
            None => "loading".to_string(),
            Some([]) => "none (no OA run, or all scored)".to_string(),
            Some(rows) => format!("{} not scored yet", rows.len()),
        };
        let beacons = self.beacons.get(&date).map_or("loading".to_string(), |r| {
            format!("{} flagged, {} long", r.beacons.iter().filter(|b| b.level != "none").count(), r.long_connections.len())
        });
        vec![
            format!("day      {date}  [ ]"),
            format!("IP       {}  (i)", self.ip.map_or("all".to_string(), |ip| ip.to_string())),
            format!("listed   {listed}"),
            format!("beacons  {beacons}"),
            format!("selected {}", self.subject(ctx).map_or("-".to_string(), |ip| ip.to_string())),
            "keys     v 1/2/3, b story, n capture".into(),
        ]
    }

    /// A table about the selection: its rows once they arrived, none when nothing is selected
    /// in a list that arrived.
    fn about_selection<T>(&self, rows: Option<&[T]>, needed: bool, table: impl Fn(&[T]) -> TableData) -> Option<TableData> {
        match rows {
            Some(rows) => Some(table(rows)),
            None if !needed && self.rows().is_some() => Some(table(&[])),
            None => None,
        }
    }
}

impl TabModel for Flows {
    fn requests(&self, ctx: &Ctx, source: &Source) -> Vec<Request> {
        self.need(ctx, source).map(Request::Flows).into_iter().collect()
    }

    fn wanted(&self, ctx: &Ctx) -> Vec<Request> {
        SOURCES
            .iter()
            .filter_map(|s| self.need(ctx, s))
            .filter(|r| !self.known(r) && !self.pending.contains(r) && !self.failed.contains(r))
            .map(Request::Flows)
            .collect()
    }

    fn sent(&mut self, request: &Request) {
        if let Request::Flows(r) = request
            && is_read(r)
        {
            self.failed.retain(|f| f != r);
            if !self.pending.contains(r) {
                self.pending.push(r.clone());
            }
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::Flows(update) => Taken::Mine(self.take_flows(update)),
            other => Taken::NotMine(other),
        }
    }

    fn failed(&mut self, kind: RequestKind) {
        let (failed, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending).into_iter().partition(|r| r.kind() == kind);
        self.pending = pending;
        self.failed.extend(failed);
    }

    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        Some(match action {
            Action::Day(step) => match self.date {
                Some(date) => {
                    self.date = Some(date + Duration::days(i64::from(*step)));
                    Reply { reset_selection: Some(Source::FlowsSuspicious), ..Reply::default() }
                }
                None => Reply::notice("the day is not known yet"),
            },
            Action::FilterIp => Reply::typing(Mode::FlowsIp, self.ip.map(|ip| ip.to_string()).unwrap_or_default()),
            Action::StartScoring if self.selected(ctx).is_some() => Reply::typing(Mode::FlowsScore, ""),
            Action::StartScoring => Reply::notice("select a suspicious connection to score"),
            Action::ScoreFlow(sev) => self.score(ctx, *sev),
            // the text typed replaces the saved one: only once that is known
            Action::EditStoryboard => match (self.subject(ctx), self.storyboard(ctx)) {
                (Some(_), Some(story)) => Reply::typing(Mode::StoryTitle, story.title.clone()),
                (Some(ip), None) => Reply::notice(format!("the storyboard of {ip} is still loading")),
                (None, _) => Reply::notice("select a connection or an IP for its storyboard"),
            },
            Action::SaveStoryboard { title, text } => self.save(ctx, title.clone(), text.clone()),
            Action::NewCapture => match self.capture(ctx) {
                Some(text) => Reply::typing(Mode::PcapQuery, text),
                None => Reply::notice("select a suspicious connection to request its capture"),
            },
            _ => return None,
        })
    }

    fn submit(&mut self, ctx: &Ctx, mode: Mode, input: String) -> Reply {
        match mode {
            Mode::FlowsIp => match input.trim() {
                "" => {
                    self.ip = None;
                    Reply { reset_selection: Some(Source::FlowsSuspicious), ..Reply::default() }
                }
                text => match text.parse() {
                    Ok(ip) => {
                        self.ip = Some(ip);
                        Reply { reset_selection: Some(Source::FlowsSuspicious), ..Reply::default() }
                    }
                    Err(_) => Reply::error(format!("`{text}` is not an IP address (IPv4 or IPv6); empty shows every connection")),
                },
            },
            Mode::FlowsScore => match input.trim().parse::<u8>() {
                Ok(sev @ 1..=3) => self.score(ctx, sev),
                _ => Reply::error(format!("score with 1 (high), 2 (medium) or 3 (low, benign), not `{}`", input.trim())),
            },
            Mode::StoryTitle => {
                let text = self.storyboard(ctx).map(|s| story::escape(&s.text)).unwrap_or_default();
                self.title = Some(input);
                Reply::typing(Mode::StoryText, text)
            }
            _ => {
                let title = self.title.take().unwrap_or_default();
                self.save(ctx, title, story::unescape(&input))
            }
        }
    }

    fn tick(&self, _: u64, _: Vec<Request>) -> Vec<Request> {
        // a day's outputs change only when its OA run is repeated: r reads them again
        Vec::new()
    }

    fn table(&self, ctx: &Ctx, p: &Panel) -> Option<TableData> {
        match p.source {
            Source::FlowsSuspicious => Some(tables::suspicious(self.rows()?)),
            Source::FlowsEdges => self.about_selection(self.edge_rows(ctx), self.need(ctx, &p.source).is_some(), tables::edges),
            Source::FlowsChord => self.about_selection(self.chord_rows(ctx), self.need(ctx, &p.source).is_some(), tables::pairs),
            Source::FlowsBeacons => Some(tables::beacons(self.beacons.get(&self.date?)?)),
            _ => None,
        }
    }

    fn text(&self, ctx: &Ctx, p: &Panel) -> Vec<String> {
        match p.source {
            Source::FlowsDay => self.day_lines(ctx),
            Source::FlowsStoryboard => match (self.subject(ctx), self.storyboard(ctx)) {
                (None, _) => vec!["select a connection (or i: an IP) for its storyboard".into()],
                (Some(ip), None) => vec![format!("{ip}: loading")],
                (Some(_), Some(s)) => story::lines(s),
            },
            _ => Vec::new(),
        }
    }

    fn chart(&self, _: &Ctx, p: &Panel) -> Option<ChartData> {
        (p.source == Source::FlowsIngest).then(|| tables::per_minute(&p.title, self.ingest.get(&self.date?)?)).flatten()
    }
}
