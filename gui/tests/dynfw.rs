//! The DynFW view through egui_kittest, on both backends: with `--demo` the demo's replayed
//! feed (over the greylisted demo attackers) runs from the start, labelled as demo, with its
//! recent changes, size line and countries; an address searched from the toolbar is found in
//! the list's feed and on the greylist; the attacker detail says whether the attacker is
//! blocked and greylisted. Without `--demo` and without `[dynfw]` the view says how to
//! configure a feed.

#[macro_use]
mod support;

use eframe::egui::Role;
use vantage_views::keys::{Action, Mode};
use vantage_views::panels::{Detail, Tab};
use vantage_views::tabs::dynfw::{DEMO_LABEL, NOT_CONFIGURED};

use support::{Backend, DEMO, Deployment, click, drawn_containing, engine_ready, loaded_panel, open_tab, rows, shows, type_and_submit, until};

on_both_backends!(dynfw_view: dynfw_view_sqlite, dynfw_view_postgres);

fn dynfw_view(backend: Backend) {
    let d = Deployment::new(backend);
    let mut h = d.app("", Some(DEMO));
    support::demo_ready(&mut h);
    open_tab(&mut h, Tab::Dynfw);
    until(&mut h, "the demo feed's list and changes", |h| h.state().session.app.dynfw.feed().is_some_and(|s| s.health.lists == 1 && s.recent.len() >= 3));
    let status = h.state().session.app.dynfw.feed().expect("the status").clone();
    assert!(status.demo && status.size > 0, "{status:?}");
    assert!(shows(&h, DEMO_LABEL), "the demo feed is labelled as such");
    assert!(shows(&h, "Blocked addresses") && h.state().session.app.chart(&support::panel(&h, "Blocked addresses")).is_some_and(|c| !c.x_labels.is_empty()));
    let countries = loaded_panel(&mut h, "Blocked per country");
    let top = rows(&h, &countries)[0].clone();
    assert!(shows(&h, &top[0]), "the top country drawn: {top:?}");

    // search the address of the newest change from the toolbar
    let recent = loaded_panel(&mut h, "Recent deltas and events");
    let ip = rows(&h, &recent)[0][2].clone();
    click(&mut h, "Search address…");
    assert_eq!(h.state().session.app.mode, Mode::DynfwIp);
    type_and_submit(&mut h, Role::TextInput, "Address", &ip);
    until(&mut h, "the search's answer", |h| h.state().session.app.dynfw.searched().is_some());
    let found = h.state().session.app.dynfw.searched().expect("the answer").clone();
    assert_eq!(found.ip.to_string(), ip);
    assert!(found.dynfw.is_some() && found.demo, "the feed runs: {found:?}");
    assert!(found.greylist.is_some(), "the demo replays greylisted attackers: {found:?}");
    assert!(!drawn_containing(&h, &format!("search    {ip}  DynFW ")).is_empty(), "the answer drawn");
    assert!(!drawn_containing(&h, "greylist listed (").is_empty());

    // the same address's attacker detail says it too
    h.state_mut().session.app.detail = Some(Detail::Attacker { ip: ip.clone() });
    h.state_mut().session.apply(Action::Refresh);
    until(&mut h, "the attacker's membership", |h| !drawn_containing(h, "greylist  listed (").is_empty());
    assert!(!drawn_containing(&h, "DynFW     ").iter().any(|l| l.contains("looking up") || l.contains("feed not running")), "{:?}", drawn_containing(&h, "DynFW"));
}

#[test]
fn without_a_feed_the_view_says_how_to_configure_one() {
    let d = Deployment::new(Backend::Sqlite);
    let mut h = d.app("", None);
    engine_ready(&mut h);
    open_tab(&mut h, Tab::Dynfw);
    until(&mut h, "the engine's answer", |h| h.state().session.app.dynfw.not_running());
    assert!(shows(&h, NOT_CONFIGURED), "{:?}", drawn_containing(&h, "DynFW"));
    assert!(!shows(&h, DEMO_LABEL));
}
