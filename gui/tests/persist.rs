//! The theme, the last view and period are kept between runs in `<data_dir>/gui.json`: changed
//! through the sidebar and the period bar, restored when the app opens again on the same data
//! directory; a corrupt file means the defaults and a notice, never a failed start.

mod support;

use std::path::Path;

use eframe::egui::Theme;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vantage_core::statistics::periods::Period;
use vantage_gui::desktop::Desktop;
use vantage_gui::{persist, views};
use vantage_views::panels::Tab;

use support::click;

/// The app on the embedded store in `dir` (no demo: what is kept needs no data).
fn harness(dir: &Path) -> Harness<'static, Desktop> {
    let config = support::config_in(dir, None, "");
    let mut h = Harness::builder().with_size([1200.0, 800.0]).build_eframe(move |cc| Desktop::new(&cc.egui_ctx, config, None).expect("desktop app"));
    let _ = h.run_ok();
    h
}

#[test]
fn theme_view_and_period_are_restored_on_the_same_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(dir.path());
    assert_eq!(h.ctx.theme(), Theme::Dark, "dark by default");
    click(&mut h, "Light theme");
    assert_eq!(h.ctx.theme(), Theme::Light);
    click(&mut h, &views::entry(Tab::Events));
    click(&mut h, "1w");
    assert_eq!((h.state().session.app.tab, h.state().session.app.period), (Tab::Events, Period::Week));
    drop(h);
    let kept = persist::path(&dir.path().join("data"));
    let text = std::fs::read_to_string(&kept).expect("gui.json written at exit");
    assert!(text.contains("\"light\"") && text.contains("\"Events\"") && text.contains("\"1w\""), "{text}");

    let mut h = harness(dir.path());
    assert_eq!(h.ctx.theme(), Theme::Light, "the theme restored");
    assert_eq!((h.state().session.app.tab, h.state().session.app.period), (Tab::Events, Period::Week), "view and period restored");
    assert!(h.query_by_label("Dark theme").is_some(), "the switch offers the other theme");
    assert!(h.query_by_label("Events per day by taxonomy").is_some(), "the Events view is drawn");
    assert!(h.state().session.app.notice.is_none(), "{:?}", h.state().session.app.notice);
    click(&mut h, "Dark theme");
    drop(h);
    assert!(std::fs::read_to_string(&kept).expect("kept").contains("\"dark\""));
}

#[test]
fn a_corrupt_settings_file_means_defaults_and_a_notice() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
    let kept = persist::path(&dir.path().join("data"));
    std::fs::write(&kept, "{\"theme\": \"light\", \"tab\": ").expect("corrupt file");
    let h = harness(dir.path());
    assert_eq!(h.ctx.theme(), Theme::Dark);
    assert_eq!((h.state().session.app.tab, h.state().session.app.period), (Tab::Overview, Period::Day));
    let notice = h.state().session.app.notice.clone().unwrap_or_default();
    assert!(notice.contains("gui.json") && notice.contains("default settings"), "{notice}");
    assert!(h.query_by_label(&notice).is_some(), "on the status line");
    drop(h);
    let (settings, warning) = persist::load(&dir.path().join("data"));
    let default = persist::Settings::default();
    assert_eq!((settings.theme, settings.tab, settings.period, warning), (default.theme, default.tab, default.period, None), "replaced by the defaults at exit");
}
