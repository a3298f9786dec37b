//! What each view shows: the tabs, their panels (a chart, a table or a text box over one
//! data source) and the detail views a table row opens. Later capabilities add a tab here and
//! a model in [`crate::tabs`] and a layout in each front end's view; nothing else needs to know.

use vantage_core::events::model::Field;
use vantage_core::events::questions::View;
use vantage_core::statistics::resources::{self, Kind, Params};

/// The tabs, in display order; the number key selects them (`0` is Operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    /// Incidents and attackers graphs, top countries and passwords.
    Overview,
    /// Attackers graph, top attackers (Enter: detail) and their countries.
    Attackers,
    /// Top passwords (Enter: detail), usernames and combinations; leak check.
    Passwords,
    /// Port scans, traps and actions graphs, top ports and incident types.
    Ports,
    /// The analyst's registered device tokens and their personal graphs.
    Devices,
    /// Incident events (IntelMQ): events per day, top and rising ASNs, country problems, feed
    /// health, with taxonomy / country / ASN filters (Enter on an ASN: its operator view).
    Events,
    /// Packet captures: request form, jobs with per-sensor state (Enter: capture), sensor health.
    Pcap,
    /// Flow analytics of a day: suspicious connections (scored by the analyst), their raw
    /// flows, a threat's peers, flows per minute, beacons, the storyboard of an address.
    Flows,
    /// The DynFW feed live: its recent deltas and events, the blocked set's size over time and
    /// countries, its health, and an address searched in it and in the greylist.
    Dynfw,
    /// Jobs, workers, timeouts, cache entries; planner, aggregation and cache actions.
    Operations,
}

impl Tab {
    /// Tabs in display order.
    pub const ALL: [Tab; 10] =
        [Tab::Overview, Tab::Attackers, Tab::Passwords, Tab::Ports, Tab::Devices, Tab::Events, Tab::Pcap, Tab::Flows, Tab::Dynfw, Tab::Operations];

    /// The number key that selects the tab.
    pub fn key(self) -> char {
        match self {
            Tab::Overview => '1',
            Tab::Attackers => '2',
            Tab::Passwords => '3',
            Tab::Ports => '4',
            Tab::Devices => '5',
            Tab::Events => '6',
            Tab::Pcap => '7',
            Tab::Flows => '8',
            Tab::Dynfw => '9',
            Tab::Operations => '0',
        }
    }

    /// Title shown in the tab bar.
    pub fn name(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Attackers => "Attackers",
            Tab::Passwords => "Passwords",
            Tab::Ports => "Ports & incidents",
            Tab::Devices => "My devices",
            Tab::Events => "Events",
            Tab::Pcap => "PCAP",
            Tab::Flows => "Flows",
            Tab::Dynfw => "DynFW",
            Tab::Operations => "Operations",
        }
    }

    /// Title for narrow terminals (under 100 columns: ten tabs in 80).
    pub fn short_name(self) -> &'static str {
        match self {
            Tab::Attackers => "Attack",
            Tab::Passwords => "Pwd",
            Tab::Ports => "Ports",
            Tab::Devices => "Devs",
            Tab::Operations => "Ops",
            other => other.name(),
        }
    }

    /// The tab selected by a number key.
    pub fn from_key(c: char) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.key() == c)
    }
}

/// A drill-down view opened from a table row (Enter), closed with Esc / Backspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// One attacker: its incident graph, country, GeoIP/ASN, pcap query.
    Attacker {
        /// The address.
        ip: String,
    },
    /// One password: its usage graph and the usernames tried with it.
    Password {
        /// The password.
        password: String,
    },
    /// One autonomous system's incident events (the network-operator view).
    EventsAsn {
        /// The ASN.
        asn: i64,
    },
    /// One packet-capture job: its state per sensor and, once merged, the capture's summary.
    Capture {
        /// The job id.
        id: String,
    },
    /// The IP dossier of an address, a network or an ASN: every capability's part.
    Dossier {
        /// `192.0.2.1`, `192.0.2.0/24` or `AS64500`.
        target: String,
    },
    /// Any resource by name (the palette's `resource` command).
    Resource {
        /// Resource name.
        name: &'static str,
        /// Its parameters.
        params: Params,
    },
}

/// Where a panel's data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A statistics resource for the current period.
    Resource {
        /// Resource name.
        name: &'static str,
        /// Its parameters.
        params: Params,
    },
    /// Queued, running and failed jobs.
    Jobs,
    /// Refresh timeouts.
    Timeouts,
    /// Cached resources.
    Cache,
    /// Registered device tokens.
    Devices,
    /// What is known about the attacker of the detail view.
    AttackerInfo,
    /// Deployment, workers and the Operations keys.
    Deployment,
    /// The password leak check (`c`) and its answer.
    LeakCheck,
    /// The most often seen leaked-password hashes.
    LeakedTop,
    /// An incident-events question (the filters are the dashboard's).
    Events(View),
    /// The events filters, their keys and the exact distinct IPs of the range.
    EventsFilters,
    /// How to request a capture (`n`) and the last request's answer.
    PcapRequest,
    /// Packet-capture jobs.
    PcapJobs,
    /// Stenographer sensors' health.
    PcapSensors,
    /// The capture detail's job: state, per-sensor results, totals, events.
    CaptureInfo,
    /// The capture's top talkers.
    CaptureTalkers,
    /// The capture's top ports.
    CapturePorts,
    /// The capture's first packets.
    CapturePackets,
    /// The flows day shown, the IP filter, the keys.
    FlowsDay,
    /// The day's suspicious connections nobody scored yet, by rank.
    FlowsSuspicious,
    /// The raw flows of the selected connection's pair in its minute.
    FlowsEdges,
    /// The selected IP's peers: bytes and packets each way (the chord rows).
    FlowsChord,
    /// Raw flows per minute of the day.
    FlowsIngest,
    /// The day's beacons.
    FlowsBeacons,
    /// The selected IP's storyboard.
    FlowsStoryboard,
    /// The DynFW feed: demo / not configured label, health, link, the address searched.
    DynfwFeed,
    /// The feed's last deltas and events, newest first.
    DynfwRecent,
    /// The blocked set's size over time.
    DynfwSizes,
    /// Blocked addresses per country.
    DynfwCountries,
    /// The dossier's summary and keys.
    DossierSummary,
    /// Every source of the dossier per day.
    DossierTimeline,
    /// One section of the dossier (a key of `engine::dossier::report::SECTIONS`).
    DossierSection(&'static str),
}

/// How a panel draws its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A line chart (one or more series).
    Chart,
    /// A sortable, filterable table.
    Table,
    /// Lines of text.
    Text,
}

/// What Enter on a table row opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opens {
    /// The attacker detail of the row's `ip`.
    Attacker,
    /// The password detail of the row's `password`.
    Password,
    /// The capture detail of the row's job `id`.
    Capture,
    /// The operator view of the row's `source.asn`.
    Asn,
    /// The dossier of the address the row names (`tabs::dossier::address_in`).
    Dossier,
}

/// One box on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    /// Title.
    pub title: String,
    /// Data source.
    pub source: Source,
    /// Drawing.
    pub shape: Shape,
    /// Drill-down of its rows.
    pub opens: Option<Opens>,
}

impl Panel {
    fn resource(name: &'static str, title: &str, params: Params) -> Panel {
        let shape = match resources::find(name).map(|r| r.kind) {
            Ok(Kind::Graph { .. } | Kind::Multiline { .. }) => Shape::Chart,
            _ => Shape::Table,
        };
        Panel { title: title.to_string(), source: Source::Resource { name, params }, shape, opens: None }
    }

    fn opening(mut self, opens: Opens) -> Panel {
        self.opens = Some(opens);
        self
    }

    fn local(title: &str, source: Source, shape: Shape) -> Panel {
        Panel { title: title.to_string(), source, shape, opens: None }
    }

    /// A stable key for the panel's table state (sort, filter, selection).
    pub fn key(&self) -> String {
        Panel::key_of(&self.source)
    }

    /// The table-state key of a panel showing `source` ([`Panel::key`]).
    pub fn key_of(source: &Source) -> String {
        match source {
            Source::Resource { name, .. } => (*name).to_string(),
            other => format!("{other:?}"),
        }
    }

    /// The resource it shows, if any.
    pub fn resource_name(&self) -> Option<&'static str> {
        match self.source {
            Source::Resource { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// The panels of a tab; `tokens` are the registered device tokens (My devices).
pub fn tab_panels(tab: Tab, tokens: &[String]) -> Vec<Panel> {
    let none = Params::default;
    match tab {
        Tab::Overview => vec![
            Panel::resource("all_incidents_graph", "Incidents", none()),
            Panel::resource("all_attackers_graph", "Attackers", none()),
            Panel::resource("top_countries_by_incidents_list", "Top countries", none()),
            Panel::resource("top_passwords_by_usages_list", "Top passwords", none()).opening(Opens::Password),
        ],
        Tab::Attackers => vec![
            Panel::resource("all_attackers_graph", "Attackers", none()),
            Panel::resource("top_attackers_by_incidents_list_long", "Top attackers", none()).opening(Opens::Attacker),
            Panel::resource("top_countries_by_attackers_list", "Countries by attackers", none()),
        ],
        Tab::Passwords => vec![
            Panel::resource("top_passwords_by_usages_list_long", "Passwords", none()).opening(Opens::Password),
            Panel::resource("top_usernames_by_usages_list_long", "Usernames", none()),
            Panel::resource("top_combinations_by_usages_list_long", "Combinations", none()).opening(Opens::Password),
            Panel::local("Leak check", Source::LeakCheck, Shape::Text),
            Panel::local("Most seen leaked passwords (hashes)", Source::LeakedTop, Shape::Table),
        ],
        Tab::Ports => vec![
            Panel::resource("all_ports_by_scans_graph", "Port scans", none()),
            Panel::resource("top_traps_by_incidents_graph", "Traps", none()),
            Panel::resource("top_actions_by_incidents_graph", "Actions", none()),
            Panel::resource("top_ports_by_scans_list_long", "Top ports", none()),
            Panel::resource("top_incident_types_by_incidents_list", "Incident types", none()),
        ],
        Tab::Devices => {
            let mut panels = vec![Panel::local("Device tokens", Source::Devices, Shape::Table)];
            if !tokens.is_empty() {
                let mine = || Params { device_tokens: sorted(tokens), ..Params::default() };
                panels.push(Panel::resource("my_all_incidents_graph", "My incidents", mine()));
                panels.push(Panel::resource("my_top_countries_by_incidents_graph", "My countries", mine()));
                panels.push(Panel::resource("my_top_traps_by_incidents_graph", "My traps", mine()));
            }
            panels
        }
        Tab::Events => vec![
            Panel::local("Events per day by taxonomy", Source::Events(View::PerDay(Some(Field::Taxonomy))), Shape::Chart),
            Panel::local("Filters", Source::EventsFilters, Shape::Text),
            Panel::local("Top ASNs per taxonomy", Source::Events(View::TopAsns(Field::Taxonomy)), Shape::Table).opening(Opens::Asn),
            Panel::local("Top problems in the country", Source::Events(View::TopProblems), Shape::Table),
            Panel::local("Rising ASNs", Source::Events(View::RisingAsns), Shape::Table).opening(Opens::Asn),
            Panel::local("Feed health (flagged days)", Source::Events(View::FeedHealth), Shape::Table),
        ],
        Tab::Pcap => vec![
            Panel::local("Capture request", Source::PcapRequest, Shape::Text),
            Panel::local("Sensors", Source::PcapSensors, Shape::Table),
            Panel::local("Capture jobs", Source::PcapJobs, Shape::Table).opening(Opens::Capture),
        ],
        Tab::Flows => vec![
            Panel::local("Suspicious connections (* internal)", Source::FlowsSuspicious, Shape::Table).opening(Opens::Dossier),
            Panel::local("Day", Source::FlowsDay, Shape::Text),
            Panel::local("Flows per minute", Source::FlowsIngest, Shape::Chart),
            Panel::local("Edge details", Source::FlowsEdges, Shape::Table),
            Panel::local("Top pairs", Source::FlowsChord, Shape::Table),
            Panel::local("Beacons", Source::FlowsBeacons, Shape::Table),
            Panel::local("Storyboard", Source::FlowsStoryboard, Shape::Text),
        ],
        Tab::Dynfw => vec![
            Panel::local("DynFW feed", Source::DynfwFeed, Shape::Text),
            Panel::local("Blocked addresses", Source::DynfwSizes, Shape::Chart),
            Panel::local("Recent deltas and events", Source::DynfwRecent, Shape::Table).opening(Opens::Dossier),
            Panel::local("Blocked per country", Source::DynfwCountries, Shape::Table),
        ],
        Tab::Operations => vec![
            Panel::local("Jobs", Source::Jobs, Shape::Table),
            Panel::local("Deployment", Source::Deployment, Shape::Text),
            Panel::local("Timeouts", Source::Timeouts, Shape::Table),
            Panel::local("Cache", Source::Cache, Shape::Table),
        ],
    }
}

/// The panels of a detail view.
pub fn detail_panels(detail: &Detail) -> Vec<Panel> {
    match detail {
        Detail::Attacker { ip } => vec![
            Panel::local(&format!("Attacker {ip}"), Source::AttackerInfo, Shape::Text),
            Panel::resource("selected_attacker_incidents_graph", &format!("Incidents of {ip}"), Params { ip: Some(ip.clone()), ..Params::default() }),
        ],
        Detail::Password { password } => {
            let params = || Params { password: Some(password.clone()), ..Params::default() };
            let shown = password.escape_debug().to_string();
            vec![
                Panel::resource("selected_password_by_usages_graph", &format!("Uses of {shown}"), params()),
                Panel::resource("logins_of_password_by_usages_list", &format!("Usernames tried with {shown}"), params()),
            ]
        }
        Detail::EventsAsn { asn } => vec![
            Panel::local(&format!("Events per day in AS{asn}"), Source::Events(View::Operator(None)), Shape::Chart),
            Panel::local("per taxonomy", Source::Events(View::Operator(Some(Field::Taxonomy))), Shape::Chart),
            Panel::local("types", Source::Events(View::Operator(Some(Field::Type))), Shape::Chart),
            Panel::local("malware names", Source::Events(View::Operator(Some(Field::Malware))), Shape::Chart),
        ],
        Detail::Capture { id } => vec![
            Panel::local(&format!("Capture {}", &id[..id.len().min(12)]), Source::CaptureInfo, Shape::Text),
            Panel::local("Top talkers", Source::CaptureTalkers, Shape::Table).opening(Opens::Dossier),
            Panel::local("Top ports", Source::CapturePorts, Shape::Table),
            Panel::local("Packets", Source::CapturePackets, Shape::Table),
        ],
        Detail::Dossier { target } => {
            let mut panels = vec![Panel::local(&format!("Dossier of {target}"), Source::DossierSummary, Shape::Text), Panel::local("Every source per day", Source::DossierTimeline, Shape::Chart)];
            for (key, title) in &vantage_core::engine::dossier::report::SECTIONS[1..] {
                let panel = Panel::local(title, Source::DossierSection(key), Shape::Table);
                panels.push(if matches!(*key, "addresses" | "peers" | "greylist" | "dynfw") { panel.opening(Opens::Dossier) } else { panel });
            }
            panels
        }
        Detail::Resource { name, params } => vec![Panel::resource(name, name, params.clone())],
    }
}

fn sorted(tokens: &[String]) -> Vec<String> {
    let mut t = tokens.to_vec();
    t.sort();
    t.dedup();
    t
}
