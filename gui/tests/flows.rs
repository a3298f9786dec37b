//! The Flows view on the demo's flows day, on both backends, with a `[flows]` section naming
//! the internal ranges and a reputation list, driven through egui_kittest: the suspicious
//! connections with their network graph, a threat IP's peers with their chord diagram, a
//! connection scored from the toolbar leaving the list, its capture request pre-filled in the
//! PCAP request window, and a two-line storyboard saved from the editor and read back through
//! the engine.

#[macro_use]
mod support;

use std::net::IpAddr;

use eframe::egui::{Key, Role};
use egui_kittest::kittest::Queryable;
use vantage_core::engine::{Engine, Parts};
use vantage_gui::widgets::{chord, network};
use vantage_views::keys::Mode;
use vantage_views::panels::{Panel, Tab};
use vantage_views::tabs::flows::graph;

use support::{App, Backend, DEMO, Deployment, click, loaded_panel, open_tab, rows, shows, type_and_submit, until};

on_both_backends!(flows_view: flows_view_sqlite, flows_view_postgres);

/// The internal ranges and the reputation list (the demo's beacon server is a known C2).
const TOML: &str = "[flows]\ninternal = [\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\"]\nreputation = [\"reputation.csv\"]\n";

/// The rank of every listed connection.
fn ranks(h: &App, p: &Panel) -> Vec<String> {
    rows(h, p).into_iter().map(|r| r[0].clone()).collect()
}

/// The listed address with the most distinct peers among the listed connections.
fn busiest(h: &App) -> IpAddr {
    let listed = h.state().session.app.flows.rows().expect("the list").to_vec();
    let mut ips: Vec<&str> = listed.iter().flat_map(|s| [s.srcip.as_str(), s.dstip.as_str()]).collect();
    ips.sort_unstable();
    ips.dedup();
    let most = ips.into_iter().max_by_key(|ip| (graph::peers(&listed, ip), std::cmp::Reverse(*ip))).expect("an address");
    most.parse().expect("an address")
}

fn flows_view(backend: Backend) {
    let d = Deployment::new(backend);
    std::fs::write(d.path("reputation.csv"), "203.0.113.80,C2,3\n").expect("reputation list");
    let mut h = d.app(TOML, Some(DEMO));
    support::demo_ready(&mut h);
    open_tab(&mut h, Tab::Flows);
    let list = loaded_panel(&mut h, "Suspicious connections (* internal)");
    let shown = rows(&h, &list);
    assert!(shown.len() > 100, "the demo day's connections: {}", shown.len());
    assert!(shows(&h, &shown[0][2]) && shown[0][2].ends_with('*'), "the first row drawn, its internal source marked: {:?}", shown[0]);
    let c2 = shown.iter().find(|r| r[3] == "203.0.113.80").expect("the beacon's server among the connections");
    assert_eq!(c2[8], "3 high", "coloured by its reputation");

    // the network graph of the listed connections
    let net = h.state().session.app.flows.network().expect("the network");
    assert!(net.nodes.len() >= 3 && net.links.len() >= 2 && net.nodes.iter().any(|n| n.internal) && net.nodes.iter().any(|n| !n.internal));
    assert!(shows(&h, &network::summary(&net)), "the graph is drawn: {}", network::summary(&net));
    // the raw flows of the first connection, in its minute
    let edges = loaded_panel(&mut h, "Edge details");
    let (src, dst) = (shown[0][2].trim_end_matches('*').to_string(), shown[0][3].trim_end_matches('*').to_string());
    assert!(rows(&h, &edges).iter().all(|r| [&r[1], &r[2]] == [&src, &dst] || [&r[1], &r[2]] == [&dst, &src]));

    // a threat IP's peers and chord diagram, through the IP filter
    let threat = busiest(&h);
    click(&mut h, "Filter IP…");
    assert_eq!(h.state().session.app.mode, Mode::FlowsIp);
    type_and_submit(&mut h, Role::TextInput, "IP address", &threat.to_string());
    assert_eq!(h.state().session.app.flows.ip, Some(threat));
    until(&mut h, "the threat's connections", |h| rows(h, &list).iter().all(|r| r[2..4].iter().any(|c| c.trim_end_matches('*') == threat.to_string())) && !rows(h, &list).is_empty());
    let pairs = loaded_panel(&mut h, "Top pairs");
    assert!(rows(&h, &pairs).len() >= 2, "{:?}", rows(&h, &pairs));
    let diagram = h.state().session.app.flows.chord(&h.state().session.app.ctx()).expect("the diagram");
    assert!(diagram.arcs.len() >= 3 && diagram.arcs[0].ip == threat.to_string(), "{diagram:?}");
    assert!(shows(&h, &chord::summary(&threat.to_string(), &diagram)), "the chord diagram is drawn");
    // the window opens on the filter: erased, it shows every connection
    click(&mut h, "Filter IP…");
    assert_eq!(h.get_by_role_and_label(Role::TextInput, "IP address").value(), Some(threat.to_string()));
    for _ in 0..threat.to_string().len() {
        h.key_press(Key::Backspace);
        let _ = h.run_ok();
    }
    h.key_press(Key::Enter);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.flows.ip, None);
    until(&mut h, "every connection again", |h| rows(h, &list).len() == shown.len());

    // scored benign from the toolbar: the selected row leaves the list
    let first = shown[0][0].clone();
    click(&mut h, "Score 3 (benign)");
    until(&mut h, "the score", |h| h.state().session.app.notice.as_deref().is_some_and(|n| n.contains("scored 3 (low, benign)")));
    assert!(!ranks(&h, &list).contains(&first), "rank {first} left the list");

    // the capture request of the selected connection, pre-filled in the PCAP request window
    let selected = h.state().session.app.flows.selected(&h.state().session.app.ctx()).expect("a selected row").clone();
    let minute = format!("{}T{}:00Z", &selected.tstart[..10], &selected.tstart[11..16]);
    let request = format!("host {} host {} after {minute} before {minute}", selected.srcip, selected.dstip);
    click(&mut h, "Request capture…");
    assert_eq!((h.state().session.app.mode, h.state().session.app.input.as_str()), (Mode::PcapQuery, request.as_str()));
    assert_eq!(h.get_by_role_and_label(Role::TextInput, "Capture request").value().as_deref(), Some(request.as_str()), "the request window shows it");
    h.key_press(Key::Enter);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.tab, Tab::Pcap, "the PCAP view follows the request");
    until(&mut h, "the sensors' answer", |h| h.state().session.app.error.as_deref().is_some_and(|e| e.contains("no Stenographer sensors configured")));

    // a storyboard of two lines, saved from the editor
    open_tab(&mut h, Tab::Flows);
    let subject = h.state().session.app.flows.subject(&h.state().session.app.ctx()).expect("a selected IP");
    until(&mut h, "the storyboard editor", |h| h.query_by_role_and_label(Role::MultilineTextInput, "Storyboard text").is_some());
    let title = h.get_by_role_and_label(Role::TextInput, "Storyboard title");
    title.focus();
    title.type_text("Port scan from the lab");
    let _ = h.run_ok();
    let text = h.get_by_role_and_label(Role::MultilineTextInput, "Storyboard text");
    text.focus();
    text.type_text("nmap SYN scan");
    let _ = h.run_ok();
    h.key_press(Key::Enter);
    h.get_by_role_and_label(Role::MultilineTextInput, "Storyboard text").type_text("every port of one host");
    let _ = h.run_ok();
    // the editor is at the bottom of the view, scrolled into sight as a user would
    h.get_by_label("Save storyboard").scroll_to_me();
    let _ = h.run_ok();
    click(&mut h, "Save storyboard");
    until(&mut h, "the save", |h| h.state().session.app.notice.as_deref().is_some_and(|n| n.starts_with(&format!("storyboard of {subject} on "))));
    let date = h.state().session.app.flows.date.expect("the day");
    let config = d.config(TOML);
    let story = d.runtime.block_on(async {
        let engine = Engine::open_parts(&config, Parts::StoreOnly).await.expect("engine");
        let story = engine.flows().storyboard(date, subject, None).await.expect("the storyboard");
        engine.close().await;
        story
    });
    assert_eq!((story.title.as_str(), story.text.as_str()), ("Port scan from the lab", "nmap SYN scan\nevery port of one host"));
}
