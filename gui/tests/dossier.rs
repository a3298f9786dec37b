//! The IP dossier in the desktop app through egui_kittest, on both backends, on the demo
//! (its DynFW feed replayed): opened from the context menu of a row in three views — the top
//! attackers, the DynFW feed's recent changes, the Flows view's suspicious connections — each
//! answered by the engine with the parts the demo has (incidents; the DynFW history of the
//! address the feed changed); and pivoted out of from its toolbar: a capture request
//! pre-filled with the address, its flows on the Flows view, the report's save dialog.

#[macro_use]
mod support;

use vantage_core::dynfw::feed::RecentKind;
use vantage_views::keys::Mode;
use vantage_views::panels::{Detail, Tab};

use support::{App, Backend, DEMO, Deployment, click, loaded_panel, open_tab, rows, shows, until};

on_both_backends!(dossier_view: dossier_view_sqlite, dossier_view_postgres);

/// Right-clicks the cell showing `cell` and picks "Open dossier of `target`"; waits for the
/// engine's answer and returns it.
fn open_from_menu(h: &mut App, cell: &str, target: &str) -> vantage_core::engine::dossier::Dossier {
    h.query_all_by_label(cell).next().unwrap_or_else(|| panic!("{cell} drawn")).click_secondary();
    let _ = h.run_ok();
    click(h, &format!("Open dossier of {target}"));
    assert_eq!(h.state().session.app.detail, Some(Detail::Dossier { target: target.into() }));
    until(h, "the dossier", |h| h.state().session.app.dossier.answers.contains_key(target));
    assert!(shows(h, &format!("Dossier of {target}")), "its heading");
    h.state().session.app.dossier.answers[target].clone()
}

use egui_kittest::kittest::Queryable;

fn dossier_view(backend: Backend) {
    let d = Deployment::new(backend);
    let mut h = d.app("", Some(DEMO));
    support::demo_ready(&mut h);

    // 1. the top attackers: the busiest one has incidents in the year
    open_tab(&mut h, Tab::Attackers);
    let top = loaded_panel(&mut h, "Top attackers");
    let ip = rows(&h, &top)[0][0].clone();
    let dossier = open_from_menu(&mut h, &ip, &ip);
    let incidents = dossier.incidents.present().expect("statistics are always there");
    assert!(incidents.incidents > 0 && !incidents.by_trap.is_empty(), "{incidents:?}");
    assert!(dossier.dynfw.present().is_some(), "the demo's feed runs");
    assert!(dossier.passwords.present().is_none(), "no Sentinel password row names an attacker");
    assert!(shows(&h, "Honeypot and firewall incidents") && shows(&h, &incidents.by_trap[0].key), "the incidents drawn");

    // its toolbar pivots out: a capture request, its flows, the report
    click(&mut h, "Request a capture…");
    let app = &h.state().session.app;
    assert_eq!((app.mode, app.input.as_str()), (Mode::PcapQuery, format!("host {ip} ").as_str()));
    click(&mut h, "Cancel");
    click(&mut h, "Save the report…");
    assert!(shows(&h, "Save the dossier report (Markdown)"), "the save dialog");
    click(&mut h, "Cancel");
    click(&mut h, "Score its flows");
    let app = &h.state().session.app;
    assert_eq!((app.tab, app.flows.ip.map(|i| i.to_string())), (Tab::Flows, Some(ip.clone())), "the Flows view filtered to it");

    // 2. the DynFW feed: the newest change's address has it in its history
    open_tab(&mut h, Tab::Dynfw);
    let delta = |s: &vantage_core::dynfw::service::FeedStatus| s.recent.iter().any(|r| matches!(r.kind, RecentKind::Added | RecentKind::Removed));
    until(&mut h, "a delta of the demo feed", |h| h.state().session.app.dynfw.feed().is_some_and(delta));
    let recent = loaded_panel(&mut h, "Recent deltas and events");
    let changed = rows(&h, &recent).into_iter().find(|r| r[1] == "added" || r[1] == "removed").map(|r| r[2].clone()).expect("a delta");
    let dossier = open_from_menu(&mut h, &changed, &changed);
    let dynfw = dossier.dynfw.present().expect("the feed runs");
    assert!(dynfw.history.iter().any(|c| c.ip.to_string() == changed), "its add/remove history: {dynfw:?}");
    assert!(dynfw.demo);

    // 3. the Flows view: a suspicious connection's source
    h.state_mut().session.app.flows.ip = None;
    open_tab(&mut h, Tab::Flows);
    let list = loaded_panel(&mut h, "Suspicious connections (* internal)");
    let src = rows(&h, &list)[0][2].clone();
    let address = src.trim_end_matches('*').to_string();
    let dossier = open_from_menu(&mut h, &src, &address);
    let flows = dossier.flows.present().expect("the demo imported flows");
    assert!(flows.flows > 0 && !flows.suspicious.is_empty(), "its flows and the OA's rows naming it: {} flows", flows.flows);
}
