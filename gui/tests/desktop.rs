//! The desktop app on a small demo year with the clock pinned, driven through egui_kittest
//! as a user would: clicking the sidebar, the period bar, table headers and rows, typing a
//! filter and palette commands — checking the models' state and the labels drawn.

use std::path::Path;
use std::time::{Duration, Instant};

use eframe::egui::{self, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vantage_core::config::Overrides;
use vantage_core::engine::Engine;
use vantage_core::statistics::periods::Period;
use vantage_gui::demo::DemoOptions;
use vantage_gui::desktop::Desktop;
use vantage_gui::views;
use vantage_views::keys::Mode;
use vantage_views::panels::{Detail, Panel, Shape, Tab};

/// The pinned clock of every test.
const NOW: &str = "2024-06-15T12:40:00Z";

/// How long the engine may take for anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(60);

/// The app on a fresh embedded store in `dir`, filled with a small demo year.
fn harness(dir: &Path) -> Harness<'static, Desktop> {
    let config_file = dir.join("vantage.toml");
    std::fs::write(&config_file, "").expect("config file");
    let config = Engine::load_config(Overrides {
        config_file: Some(config_file),
        data_dir: Some(dir.join("data")),
        now: Some(NOW.into()),
        ..Overrides::default()
    })
    .expect("config");
    let demo = Some(DemoOptions { seed: 7, scale: 0.02 });
    Harness::builder().with_size([1400.0, 1000.0]).build_eframe(move |cc| Desktop::new(&cc.egui_ctx, config, demo).expect("desktop app"))
}

/// Draws frames and takes what the engine sends until `done` holds.
fn until(h: &mut Harness<'_, Desktop>, what: &str, done: impl Fn(&Harness<'_, Desktop>) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let _ = h.run_ok();
        if done(h) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.state_mut().session.wait_for_engine(Duration::from_millis(250));
    }
}

/// Some label reads exactly `text`.
fn shows(h: &Harness<'_, Desktop>, text: &str) -> bool {
    h.query_all_by_label(text).next().is_some()
}

/// The current view's panel titled `title`.
fn panel(h: &Harness<'_, Desktop>, title: &str) -> Panel {
    h.state().session.app.panels().into_iter().find(|p| p.title == title).unwrap_or_else(|| panic!("no panel {title}"))
}

/// The panel has its data (a chart with buckets, a table with rows, text).
fn loaded(h: &Harness<'_, Desktop>, p: &Panel) -> bool {
    let app = &h.state().session.app;
    match p.shape {
        Shape::Chart => app.chart(p).is_some_and(|c| !c.x_labels.is_empty()),
        Shape::Table => app.table(p).is_some_and(|t| !t.rows.is_empty()),
        Shape::Text => !app.text(p).is_empty(),
    }
}

fn click(h: &mut Harness<'_, Desktop>, label: &str) {
    h.get_by_label(label).click();
    let _ = h.run_ok();
}

/// The demo has been generated and the engine is answering.
fn demo_ready(h: &mut Harness<'_, Desktop>) {
    until(h, "the demo fill", |h| h.state().session.demo.is_some() && h.state().session.app.backend.is_some());
    let summary = h.state().session.demo.clone().unwrap_or_default();
    assert!(summary.starts_with("demo data: "), "{summary}");
    assert!(h.state().session.app.error.is_none(), "{:?}", h.state().session.app.error);
}

#[test]
fn every_view_of_the_sidebar_draws_its_panels_from_the_demo_year() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(dir.path());
    demo_ready(&mut h);
    // the panel of each view that must show demo data, and a cell or line of it that is drawn
    let expected: [(Tab, &str); 8] = [
        (Tab::Overview, "Top countries"),
        (Tab::Attackers, "Top attackers"),
        (Tab::Passwords, "Leak check"),
        (Tab::Ports, "Incident types"),
        (Tab::Devices, "Device tokens"),
        (Tab::Events, "Filters"),
        (Tab::Pcap, "Capture request"),
        (Tab::Operations, "Deployment"),
    ];
    for (tab, title) in expected {
        click(&mut h, &views::entry(tab));
        assert_eq!(h.state().session.app.tab, tab);
        assert!(h.state().session.app.detail.is_none());
        assert!(shows(&h, tab.name()), "{tab:?}: its heading");
        let p = panel(&h, title);
        until(&mut h, &format!("{title} on {tab:?}"), |h| loaded(h, &p));
        let first = match p.shape {
            Shape::Table => h.state().session.app.visible(&p).and_then(|t| t.rows.first().and_then(|r| r.first().cloned())),
            _ => h.state().session.app.text(&p).first().cloned(),
        };
        if let Some(first) = first {
            assert!(shows(&h, &first), "{tab:?}: {title} draws {first:?}");
        }
        for p in h.state().session.app.panels() {
            assert!(shows(&h, &p.title) || h.query_by_role_and_label(Role::TextInput, &p.title).is_some(), "{tab:?}: panel {} drawn", p.title);
        }
    }
    // My devices holds the demo token the fill registered, and its personal graphs
    assert_eq!(h.state().session.app.devices.tokens.len(), 1);
    click(&mut h, &views::entry(Tab::Devices));
    assert!(shows(&h, "My incidents"));
}

#[test]
fn period_sort_filter_and_attacker_detail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(dir.path());
    demo_ready(&mut h);
    assert_eq!(h.state().session.app.period, Period::Day);
    let incidents = panel(&h, "Incidents");
    until(&mut h, "the day's incidents", |h| loaded(h, &incidents));
    let day = h.state().session.app.chart(&incidents).expect("day chart");

    click(&mut h, "1w");
    assert_eq!(h.state().session.app.period, Period::Week);
    until(&mut h, "the week's incidents", |h| loaded(h, &incidents));
    let week = h.state().session.app.chart(&incidents).expect("week chart");
    assert_ne!(day.x_labels, week.x_labels, "the week has buckets of its own");

    click(&mut h, &views::entry(Tab::Attackers));
    let top = panel(&h, "Top attackers");
    until(&mut h, "top attackers", |h| h.state().session.app.table(&top).is_some_and(|t| t.rows.len() >= 3));
    let key = top.key();

    // sort by ip: ascending, then descending
    click(&mut h, "ip");
    assert_eq!(h.state().session.app.tables[&key].sort, Some((0, false)));
    let ips: Vec<String> = h.state().session.app.visible(&top).expect("rows").rows.into_iter().map(|r| r[0].clone()).collect();
    assert!(ips.windows(2).all(|w| w[0] <= w[1]), "ascending: {ips:?}");
    assert!(shows(&h, &ips[0]), "the first ip is drawn first");
    click(&mut h, "ip ^");
    assert_eq!(h.state().session.app.tables[&key].sort, Some((0, true)));
    let down: Vec<String> = h.state().session.app.visible(&top).expect("rows").rows.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(down.first(), ips.last());

    // filter by one address: only rows containing it remain
    let ip = ips[ips.len() / 2].clone();
    h.get_by_role_and_label(Role::TextInput, "Top attackers").focus();
    let _ = h.run_ok();
    h.get_by_role_and_label(Role::TextInput, "Top attackers").type_text(&ip);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.tables[&key].filter, ip);
    let rows = h.state().session.app.visible(&top).expect("rows").rows;
    let all = h.state().session.app.table(&top).expect("rows").rows;
    assert!(!rows.is_empty() && rows.len() < all.len(), "{} of {}", rows.len(), all.len());
    assert!(rows.iter().all(|r| r.iter().any(|c| c.contains(&ip))));
    assert!(shows(&h, &format!("{} of {} rows", rows.len(), all.len())));

    // select the address's row, open its detail, and come back
    let row = rows.iter().position(|r| r[0] == ip).expect("its row");
    h.get_by_label(&ip).click();
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.tables[&key].selected, row);
    click(&mut h, "Open");
    assert_eq!(h.state().session.app.detail, Some(Detail::Attacker { ip: ip.clone() }));
    let graph = panel(&h, &format!("Incidents of {ip}"));
    until(&mut h, "the attacker's incidents graph", |h| loaded(h, &graph));
    assert!(shows(&h, &format!("Attacker {ip}")));
    assert!(shows(&h, "Request a capture for this IP…"));
    click(&mut h, "< Back");
    assert!(h.state().session.app.detail.is_none());
    assert_eq!(h.state().session.app.tab, Tab::Attackers);
}

#[test]
fn the_palette_runs_the_cli_commands_and_the_shortcuts_window_lists_the_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(dir.path());
    demo_ready(&mut h);

    h.key_press_modifiers(egui::Modifiers::CTRL, egui::Key::K);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.mode, Mode::Palette);
    h.get_by_role_and_label(Role::TextInput, "Command").type_text("view-jobs");
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.input, "view-jobs");
    h.key_press(egui::Key::Enter);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.mode, Mode::Normal);
    assert_eq!(h.state().session.app.tab, Tab::Operations);
    assert_eq!(h.state().session.app.notice.as_deref(), Some(":view-jobs"));

    click(&mut h, "Command palette");
    h.get_by_role_and_label(Role::TextInput, "Command").type_text("frobnicate");
    let _ = h.run_ok();
    h.key_press(egui::Key::Enter);
    let _ = h.run_ok();
    let error = h.state().session.app.error.clone().unwrap_or_default();
    assert!(error.contains("frobnicate"), "{error}");
    assert!(shows(&h, &error), "the error is on the status line");

    click(&mut h, "Shortcuts");
    assert!(h.state().session.app.help);
    assert!(shows(&h, "command palette (as :)"));
    assert!(shows(&h, "previous / next period (1h 6h 1d 1w 1m 3m 1y)"));
}
