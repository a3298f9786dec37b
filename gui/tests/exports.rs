//! Exports through the save dialog drawn by egui, and the tables' context menus, on a small
//! demo year with the clock pinned, driven through egui_kittest as a user would: the CSV, PNG
//! and SVG buttons, going to a folder by its entries or by typing it, Save, Cancel, replacing a
//! file, a folder that cannot be written, the demo capture's "Save capture…"; copying cells
//! and rows, opening a detail and requesting a capture from a row.

mod support;

use std::path::{Path, PathBuf};

use eframe::egui::{self, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vantage_core::export::ImageFormat;
use vantage_gui::desktop::Desktop;
use vantage_gui::views;

use vantage_views::app::Export;
use vantage_views::keys::Mode;
use vantage_views::panels::{Detail, Panel, Tab};

use support::{click, shows, until};

/// The export files' time stamp for [`NOW`].
const STAMP: &str = "20240615T124000";

/// The app on a fresh embedded store in `dir`, filled with a small demo year, exporting to
/// `<dir>/out`.
fn harness(dir: &Path) -> Harness<'static, Desktop> {
    let config = support::config_in(dir, None, "");
    let demo = Some(support::DEMO);
    let mut h = Harness::builder().with_size([1400.0, 1000.0]).build_eframe(move |cc| Desktop::new(&cc.egui_ctx, config, demo).expect("desktop app"));
    h.state_mut().session.export_dir = dir.join("out");
    until(&mut h, "the demo fill", |h| h.state().session.demo.is_some() && h.state().session.app.backend.is_some());
    h
}

/// The current view's panel titled `title`, once its table or chart has data.
fn loaded(h: &mut Harness<'static, Desktop>, title: &str) -> Panel {
    let p = h.state().session.app.panels().into_iter().find(|p| p.title == title).unwrap_or_else(|| panic!("no panel {title}"));
    until(h, title, |h| {

        let app = &h.state().session.app;
        app.table(&p).is_some_and(|t| !t.rows.is_empty()) || app.chart(&p).is_some_and(|c| !c.x_labels.is_empty())
    });
    p
}

/// Replaces the text of the field labelled `label`.
fn retype(h: &mut Harness<'static, Desktop>, label: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, label).focus();
    let _ = h.run_ok();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    let _ = h.run_ok();
    h.get_by_role_and_label(Role::TextInput, label).type_text(text);
    let _ = h.run_ok();
}

/// Saves through the open dialog and waits for the file; its path.
fn save(h: &mut Harness<'static, Desktop>) -> PathBuf {
    click(h, "Save");
    until(h, "the export written", |h| h.state().session.dialog.is_none());
    let notice = h.state().session.app.notice.clone().unwrap_or_default();
    assert!(shows(h, &notice), "the status line says {notice:?}");
    PathBuf::from(notice.strip_prefix("exported ").unwrap_or_else(|| panic!("{notice:?}; error {:?}", h.state().session.app.error)))
}

/// The files in `dir`.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).map(|d| d.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_table_as_csv_and_a_chart_as_png_and_svg_through_the_dialog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let picked = dir.path().join("picked");
    std::fs::create_dir_all(out.join("charts")).expect("charts folder");
    std::fs::create_dir_all(&picked).expect("picked folder");
    std::fs::write(out.join(".hidden"), "").expect("hidden file");
    let mut h = harness(dir.path());
    click(&mut h, &views::entry(Tab::Attackers));
    let top = loaded(&mut h, "Top attackers");
    let chart = loaded(&mut h, "Attackers");

    // CSV: the first table's button; the dialog opens in the export folder on the terminal's name
    h.query_all_by_label("CSV").next().expect("a CSV button").click();
    let _ = h.run_ok();
    let csv_name = format!("top_attackers_by_incidents_list_long-1d-{STAMP}.csv");
    {
        let dialog = h.state().session.dialog.as_ref().expect("the save dialog");
        assert!(matches!(&dialog.export, Export::Csv { .. }));
        assert_eq!((dialog.dir(), dialog.name.as_str()), (out.as_path(), csv_name.as_str()));
    }
    assert!(shows(&h, "Save the table as CSV") && shows(&h, &out.display().to_string()));
    assert!(shows(&h, "charts/") && shows(&h, ".."), "folders and the way up are listed");
    assert!(!shows(&h, ".hidden"), "hidden files are not");
    // typing a folder goes there (the name stays), Save writes there
    retype(&mut h, "File name", &picked.display().to_string());
    click(&mut h, "Save");
    let dialog = h.state().session.dialog.as_ref().expect("still open");
    assert_eq!((dialog.dir(), dialog.name.as_str()), (picked.as_path(), csv_name.as_str()));
    let path = save(&mut h);
    assert_eq!(path, picked.join(&csv_name));
    let shown = h.state().session.app.visible(&top).expect("the table");
    let mut reader = csv::Reader::from_path(&path).expect("CSV");
    assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), shown.header);
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    assert!(!rows.is_empty());
    assert_eq!(rows, shown.rows, "the rows as shown");

    // PNG: into a folder picked from the entries
    click(&mut h, "PNG");
    assert_eq!(h.state().session.app.panels()[h.state().session.app.focus], chart, "the chart's own button");
    click(&mut h, "charts/");
    assert_eq!(h.state().session.dialog.as_ref().expect("open").dir(), out.join("charts"));
    let png = save(&mut h);
    assert_eq!(png, out.join("charts").join(format!("all_attackers_graph-1d-{STAMP}.png")));
    let bytes = std::fs::read(&png).expect("PNG");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("decodable");
    assert_eq!((info.width, info.height), (1200, 600));

    // SVG: the default folder; a second one asks before replacing the first
    click(&mut h, "SVG");
    let svg = save(&mut h);
    assert_eq!(svg, out.join(format!("all_attackers_graph-1d-{STAMP}.svg")));
    let text = std::fs::read_to_string(&svg).expect("SVG");
    assert!(text.contains("<svg") && text.contains("</svg>"), "{}", &text[..text.len().min(200)]);
    std::fs::write(&svg, "old").expect("overwritten by hand");
    click(&mut h, "SVG");
    click(&mut h, "Save");
    assert!(shows(&h, &format!("{} exists.", svg.display())), "asks before replacing");
    assert_eq!(std::fs::read_to_string(&svg).expect("SVG"), "old", "nothing written yet");
    click(&mut h, "Replace");
    until(&mut h, "the SVG replaced", |h| h.state().session.dialog.is_none());
    assert!(std::fs::read_to_string(&svg).expect("SVG").contains("<svg"));

    // the terminal's keys open the same dialog: p saves the focused chart
    h.event(egui::Event::Text("p".into()));
    let _ = h.run_ok();
    let dialog = h.state().session.dialog.as_ref().expect("p opens the dialog");
    assert!(matches!(&dialog.export, Export::Chart { format: ImageFormat::Png, .. }));
}

#[test]
fn cancel_writes_nothing_a_big_folder_saves_and_an_unwritable_one_shows_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut h = harness(dir.path());
    click(&mut h, &views::entry(Tab::Attackers));
    loaded(&mut h, "Top attackers");

    h.query_all_by_label("CSV").next().expect("a CSV button").click();
    let _ = h.run_ok();
    assert!(h.state().session.dialog.is_some());
    assert!(out.is_dir(), "the export folder is made");
    click(&mut h, "Cancel");
    assert!(h.state().session.dialog.is_none());
    assert_eq!(files(&out), Vec::<String>::new());
    assert!(shows(&h, "export cancelled: nothing written"));

    // a folder with many entries (a scrolled list) saves as well
    let big = dir.path().join("big");
    for i in 0..300 {
        std::fs::create_dir_all(big.join(format!("d{i}"))).expect("folder");
    }
    h.query_all_by_label("CSV").next().expect("a CSV button").click();
    let _ = h.run_ok();
    retype(&mut h, "File name", &big.display().to_string());
    click(&mut h, "Save");
    assert!(shows(&h, "d0/") && shows(&h, "d1/"));
    assert_eq!(save(&mut h), big.join(format!("top_attackers_by_incidents_list_long-1d-{STAMP}.csv")));

    // sysfs takes no new files, not even from root
    h.query_all_by_label("CSV").next().expect("a CSV button").click();
    let _ = h.run_ok();
    retype(&mut h, "File name", "/sys/fs");
    click(&mut h, "Save");
    assert_eq!(h.state().session.dialog.as_ref().expect("open").dir(), Path::new("/sys/fs"));
    click(&mut h, "Save");
    until(&mut h, "the write to fail", |h| h.state().session.dialog.as_ref().is_some_and(|d| d.error().is_some()));
    let error = h.state().session.dialog.as_ref().and_then(|d| d.error()).expect("error").to_string();
    assert!(error.contains("/sys/fs/top_attackers"), "{error}");
    assert!(shows(&h, &error), "the dialog shows it");
    let status = h.state().session.app.error.clone().unwrap_or_default();
    assert_eq!(status, format!("export failed: {error}"));
    click(&mut h, "Cancel");
    assert!(h.state().session.dialog.is_none());
    assert_eq!(files(&out), Vec::<String>::new());
}

#[test]
fn the_demo_capture_is_saved_as_its_merged_pcap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(dir.path());
    click(&mut h, &views::entry(Tab::Pcap));
    loaded(&mut h, "Capture jobs");
    let job = h.state().session.app.pcap.jobs.iter().flatten().find(|j| j.merged.is_some()).cloned().expect("the demo capture");
    h.get_by_label(&job.id[..12]).click();
    let _ = h.run_ok();
    click(&mut h, "Open");
    assert_eq!(h.state().session.app.detail, Some(Detail::Capture { id: job.id.clone() }));
    click(&mut h, "Save capture…");
    assert_eq!(h.state().session.app.mode, Mode::Normal, "no name to type first: the dialog asks");
    assert_eq!(h.state().session.dialog.as_ref().expect("the save dialog").name, format!("{}.pcap", job.id));
    assert!(shows(&h, "Save the capture"));
    let path = save(&mut h);
    assert_eq!(path, dir.path().join("out").join(format!("{}.pcap", job.id)));
    let merged = job.merged.expect("merged");
    assert_eq!(std::fs::read(&path).expect("saved"), std::fs::read(&merged).expect("merged"), "the very capture");
}

#[test]
fn row_context_menus_copy_open_and_request_a_capture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(dir.path());
    click(&mut h, &views::entry(Tab::Attackers));
    let top = loaded(&mut h, "Top attackers");
    let row = h.state().session.app.visible(&top).expect("rows").rows[1].clone();
    let ip = row[0].clone();

    // copy a cell and the row: what reaches the clipboard
    for (item, copied) in [("Copy cell", ip.clone()), ("Copy row", row.join("\t"))] {
        h.get_by_label(&ip).click_secondary();
        let _ = h.run_ok();
        h.get_by_label(item).click();
        h.step();
        let commands = &h.output().platform_output.commands;
        assert!(commands.contains(&egui::OutputCommand::CopyText(copied.clone())), "{item}: {commands:?}");
        let _ = h.run_ok();
    }
    assert_eq!(h.state().session.app.tables[&top.key()].selected, 1, "the row clicked is selected");

    h.get_by_label(&ip).click_secondary();
    let _ = h.run_ok();
    click(&mut h, "Open detail");
    assert_eq!(h.state().session.app.detail, Some(Detail::Attacker { ip: ip.clone() }));
    click(&mut h, "< Back");

    // a capture request for the row's address, pre-filled as from the attacker's detail
    h.get_by_label(&ip).click_secondary();
    let _ = h.run_ok();
    click(&mut h, &format!("Request capture for {ip}"));
    let app = &h.state().session.app;
    assert_eq!((app.tab, app.mode, app.input.as_str()), (Tab::Pcap, Mode::PcapQuery, format!("host {ip} ").as_str()));
    click(&mut h, "Cancel");

    // rows that are neither addresses nor passwords offer copying only
    click(&mut h, &views::entry(Tab::Attackers));
    let countries = loaded(&mut h, "Countries by attackers");
    let country = h.state().session.app.visible(&countries).expect("rows").rows[0][0].clone();
    h.query_all_by_label(&country).next().expect("drawn").click_secondary();
    let _ = h.run_ok();
    assert!(shows(&h, "Copy row") && !shows(&h, "Open detail") && !shows(&h, "Check password"));
    assert!(h.query_all_by_label_contains("Request capture").next().is_none());
}
