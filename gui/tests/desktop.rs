//! The desktop app on a small demo year with the clock pinned, on both backends, driven
//! through egui_kittest as a user would: clicking the sidebar, the period bar, table headers
//! and rows, typing a filter and palette commands — checking the models' state and the labels
//! drawn.

#[macro_use]
mod support;

use eframe::egui::{self, Role};
use egui_kittest::kittest::Queryable;
use vantage_core::statistics::periods::Period;
use vantage_gui::views;
use vantage_views::keys::Mode;
use vantage_views::panels::{Detail, Shape, Tab};

use support::{App, Backend, Deployment, click, panel, shows, until, until_loaded};

on_both_backends!(every_view: every_view_sqlite, every_view_postgres);
on_both_backends!(period_sort_filter_and_attacker_detail: period_sort_filter_and_attacker_detail_sqlite, period_sort_filter_and_attacker_detail_postgres);
on_both_backends!(palette_and_shortcuts: palette_and_shortcuts_sqlite, palette_and_shortcuts_postgres);

/// Every view of the sidebar draws its panels from the demo year.
fn every_view(backend: Backend) {
    let d = Deployment::new(backend);
    let mut h = d.demo_app();
    // the panel of each view that must show demo data, and a cell or line of it that is drawn
    let expected: [(Tab, &str); 10] = [
        (Tab::Overview, "Top countries"),
        (Tab::Attackers, "Top attackers"),
        (Tab::Passwords, "Leak check"),
        (Tab::Ports, "Incident types"),
        (Tab::Devices, "Device tokens"),
        (Tab::Events, "Filters"),
        (Tab::Pcap, "Capture request"),
        (Tab::Flows, "Suspicious connections (* internal)"),
        (Tab::Dynfw, "Recent deltas and events"),
        (Tab::Operations, "Deployment"),
    ];
    for (tab, title) in expected {
        click(&mut h, &views::entry(tab));
        assert_eq!(h.state().session.app.tab, tab);
        assert!(h.state().session.app.detail.is_none());
        assert!(shows(&h, tab.name()), "{tab:?}: its heading");
        let p = panel(&h, title);
        until_loaded(&mut h, &p);
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

/// The period bar changes the charts' buckets; a table sorts both ways and filters; a row
/// opens the attacker's detail, and Back returns.
fn period_sort_filter_and_attacker_detail(backend: Backend) {
    let d = Deployment::new(backend);
    let mut h = d.demo_app();
    assert_eq!(h.state().session.app.period, Period::Day);
    let incidents = panel(&h, "Incidents");
    until_loaded(&mut h, &incidents);
    let day = h.state().session.app.chart(&incidents).expect("day chart");

    click(&mut h, "1w");
    assert_eq!(h.state().session.app.period, Period::Week);
    until_loaded(&mut h, &incidents);
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
    until_loaded(&mut h, &graph);
    assert!(shows(&h, &format!("Attacker {ip}")));
    assert!(shows(&h, "Request a capture for this IP…"));
    click(&mut h, "< Back");
    assert!(h.state().session.app.detail.is_none());
    assert_eq!(h.state().session.app.tab, Tab::Attackers);
}

/// The palette runs the CLI's commands (and names a bad one on the status line); the
/// shortcuts window lists the keys.
fn palette_and_shortcuts(backend: Backend) {
    let d = Deployment::new(backend);
    let mut h = d.demo_app();

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
    h.key_press(egui::Key::Escape);
    let _ = h.run_ok();
    assert!(!h.state().session.app.help, "Esc closes the shortcuts");

    // an import from the palette: its progress on the status line, *Cancel* stops it and it
    // stores nothing; a small one reports what it stored
    let big = d.path("big.jsonl");
    let lines: Vec<String> = (0..150_000).map(|i| vantage_tests::events::event("2024-06-14T10:00:00Z", &format!("10.9.{}.{}", i >> 8 & 255, i & 255), 64512, "abusive-content", "spam", "gui")).collect();
    std::fs::write(&big, lines.join("\n")).expect("big file");
    let palette = |h: &mut App, line: &str| {
        click(h, "Command palette");
        support::type_and_submit(h, Role::TextInput, "Command", line);
    };
    palette(&mut h, &format!("events import {}", big.display()));
    until(&mut h, "the import's progress bar", |h| h.state().session.app.progress.as_ref().is_some_and(|(_, done, _)| *done > 0));
    click(&mut h, "Cancel");
    until(&mut h, "the cancelled import", |h| h.state().session.app.working.is_none());
    assert_eq!(h.state().session.app.notice.as_deref(), Some("cancelled: the import stored nothing"));
    let small = d.path("small.jsonl");
    std::fs::write(&small, lines[..3].join("\n")).expect("small file");
    palette(&mut h, &format!("events import {}", small.display()));
    until(&mut h, "the small import", |h| h.state().session.app.notice.as_deref().is_some_and(|n| n.starts_with("events import: ")));
    let notice = h.state().session.app.notice.clone().unwrap_or_default();
    assert!(notice.starts_with("events import: 3 stored, 0 lines rejected"), "{notice}");
    assert!(shows(&h, &notice), "on the status line");
}
